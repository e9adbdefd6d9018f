// The parts of a markdown document that tests hold to the code: its sections (by heading) and its
// fenced code blocks. Lines inside a fence are never headings.

export interface Section {
  /** The heading's text, without the `#`s. */
  heading: string;
  level: number;
  /** 1-based line of the heading. */
  line: number;
  /** Everything up to the next heading of the same or a higher level: subsections included. */
  text: string;
}

export interface Fence {
  /** The info string's first word: `json`, `console`, ... ('' for none). */
  lang: string;
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The heading of the innermost section it is in ('' before the first heading). */
  heading: string;
}

interface Parsed {
  headings: Array<{ heading: string; level: number; index: number }>;
  fences: Fence[];
}

function parse(markdown: string): Parsed {
  const headings: Parsed['headings'] = [];
  const fences: Fence[] = [];
  let open: { lang: string; line: number; body: string[] } | undefined;
  for (const [index, line] of markdown.split('\n').entries()) {
    if (open !== undefined) {
      if (line.startsWith('```')) {
        fences.push({ lang: open.lang, body: open.body.join('\n'), line: open.line, heading: headings.at(-1)?.heading ?? '' });
        open = undefined;
      } else {
        open.body.push(line);
      }
    } else if (line.startsWith('```')) {
      open = { lang: line.slice(3).trim().split(/\s+/)[0] ?? '', line: index + 1, body: [] };
    } else {
      const m = /^(#{1,6}) (.*)$/.exec(line);
      if (m !== null) headings.push({ heading: m[2]!.trim(), level: m[1]!.length, index });
    }
  }
  return { headings, fences };
}

export function sections(markdown: string): Section[] {
  const lines = markdown.split('\n');
  const { headings } = parse(markdown);
  return headings.map((h, i) => {
    const next = headings.slice(i + 1).find((o) => o.level <= h.level);
    return { heading: h.heading, level: h.level, line: h.index + 1, text: lines.slice(h.index + 1, next?.index ?? lines.length).join('\n') };
  });
}

export function fences(markdown: string): Fence[] {
  return parse(markdown).fences;
}
