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
  /** Its lines, less the fence's own indentation (a fence in a list item is indented). */
  body: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The heading of the innermost section it is in ('' before the first heading). */
  heading: string;
  /** The line before the opening fence, trimmed (where a marker comment goes). */
  before: string;
}

interface Parsed {
  headings: Array<{ heading: string; level: number; index: number }>;
  fences: Fence[];
}

function parse(markdown: string): Parsed {
  const headings: Parsed['headings'] = [];
  const fences: Fence[] = [];
  const lines = markdown.split('\n');
  let open: { lang: string; line: number; indent: string; before: string; body: string[] } | undefined;
  for (const [index, line] of lines.entries()) {
    if (open !== undefined) {
      if (line.trim() === '```') {
        fences.push({ lang: open.lang, body: open.body.join('\n'), line: open.line, heading: headings.at(-1)?.heading ?? '', before: open.before });
        open = undefined;
      } else {
        open.body.push(line.slice(open.indent.length));
      }
      continue;
    }
    const fence = /^(\s*)```(.*)$/.exec(line);
    if (fence !== null) {
      open = { lang: fence[2]!.trim().split(/\s+/)[0] ?? '', line: index + 1, indent: fence[1]!, before: lines[index - 1]?.trim() ?? '', body: [] };
    } else {
      const m = /^(#{1,6}) (.*)$/.exec(line);
      if (m !== null) headings.push({ heading: m[2]!.trim(), level: m[1]!.length, index });
    }
  }
  if (open !== undefined) throw new Error(`line ${open.line}: a fence that is never closed`);
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
