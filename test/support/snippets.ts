// The fenced code blocks of a markdown file, as test/docs-snippets.test.ts runs them. The
// conventions (docs/development.md, "Snippets in the docs"):
// - ```js, ```ts and ```sh blocks are code, and run; ```json is data, and parses; ```text and
//   bare ``` blocks are neither (pictures, output); ```console transcripts are allowed where a
//   test of their own runs them (TRANSCRIPTS). Any other language is refused, so that a block
//   cannot escape the test by being spelt ```bash or ```javascript.
// - `<!-- not run: <why> -->` on the line before a fence: the block is only checked (parsed,
//   type-checked), not run; the reason is required.
// - `<!-- background: <what> -->` before an sh block that runs until Ctrl-C (a server): it
//   runs until it prints a line, the next sh block runs beside it, then it is interrupted.

import { fences, type Fence } from './markdown.js';

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
/** Transcripts (`$ command`, then what it prints), run and compared by the document's own test. */
export const TRANSCRIPTS: ReadonlyMap<string, string> = new Map([['docs/sim.md', 'test/sim-doc.test.ts']]);
const MARKER = /^<!--\s*(not run|background):\s*(.*?)\s*-->$/;

/** Every code and data block of `markdown`; throws naming file:line on a broken convention. */
export function extractSnippets(file: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  let background: Snippet | undefined;
  let all: Fence[];
  try {
    all = fences(markdown);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  for (const { lang, body, line, before } of all) {
    const code = body + '\n';
    const where = `${file}:${line}`;
    const marker = MARKER.exec(before);
    if (NOT_CODE.has(lang) || (lang === 'console' && TRANSCRIPTS.has(file))) {
      if (marker !== null) throw new Error(`${where}: a marker on a block that is not code`);
      continue;
    }
    if (lang !== 'js' && lang !== 'ts' && lang !== 'sh' && lang !== 'json') {
      throw new Error(`${where}: fence language '${lang}': use js, ts or sh (run), json (data) or text` +
        (lang === 'console' ? ` (console transcripts only where a test runs them: ${[...TRANSCRIPTS.keys()].join(', ')})` : ''));
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
