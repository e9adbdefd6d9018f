// The fenced code blocks of a markdown file, as test/docs-snippets.test.ts runs them. The
// conventions (docs/development.md, "Snippets in the docs"):
// - ```js, ```ts and ```sh blocks are code, and run; ```json is data, and parses; ```text and
//   bare ``` blocks are neither (pictures, output). Any other language is refused, so that a
//   block cannot escape the test by being spelt ```bash or ```javascript.
// - `<!-- not run: <why> -->` on the line before a fence: the block is only checked (parsed,
//   type-checked), not run; the reason is required.
// - `<!-- background: <what> -->` before an sh block that runs until Ctrl-C (a server): it
//   runs until it prints a line, the next sh block runs beside it, then it is interrupted.

export type Language = 'js' | 'ts' | 'sh' | 'json';

/** How an sh block runs: `bash <these> <file>`, stopping at the first command that fails, in a pipe too. */
export const BASH_OPTIONS = ['-e', '-o', 'pipefail'];

export interface Snippet {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: Language;
  code: string;
  /** Why it is not run, when marked so. */
  notRun?: string;
  /** For a background block: the sh block that runs beside it. */
  beside?: Snippet;
}

const NOT_CODE = new Set(['', 'text']);
const MARKER = /^<!--\s*(not run|background):\s*(.*?)\s*-->$/;

/** Every code and data block of `markdown`; throws naming file:line on a broken convention. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  let background: Snippet | undefined;
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const indent = open[1]!;
    const lang = open[2]!;
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: a fence that is never closed`);
    const code = lines.slice(i + 1, end).map((l) => l.slice(indent.length)).join('\n') + '\n';
    const line = i + 1;
    const where = `${file}:${line}`;
    const marker = MARKER.exec(lines[i - 1]?.trim() ?? '');
    i = end;
    if (NOT_CODE.has(lang)) {
      if (marker !== null) throw new Error(`${where}: a marker on a block that is not code`);
      continue;
    }
    if (lang !== 'js' && lang !== 'ts' && lang !== 'sh' && lang !== 'json') {
      throw new Error(`${where}: fence language '${lang}': use js, ts or sh (run), json (data) or text`);
    }
    const snippet: Snippet = { file, line, lang, code };
    if (marker?.[1] === 'not run') {
      if (marker[2] === '') throw new Error(`${where}: a not-run block must say why`);
      snippet.notRun = marker[2]!;
    }
    if (background !== undefined) {
      if (lang !== 'sh' || snippet.notRun !== undefined) throw new Error(`${background.file}:${background.line}: a background block must be followed by an sh block that runs`);
      background.beside = snippet;
      background = undefined;
      continue; // it runs with its background block
    }
    if (marker?.[1] === 'background') {
      if (lang !== 'sh') throw new Error(`${where}: only an sh block runs in the background`);
      background = snippet;
    }
    snippets.push(snippet);
  }
  if (background !== undefined) throw new Error(`${background.file}:${background.line}: a background block with no sh block after it`);
  return snippets;
}
