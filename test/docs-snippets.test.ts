// Every code block of README.md and docs/*.md runs, so that none can rot (the conventions are in
// test/support/snippets.ts and docs/development.md). Each runs from a directory outside the
// checkout, as on a user's machine after `npm link` and `npm install iiojs`: sh blocks with `iio`
// on PATH, js and ts blocks importing 'iiojs' (ts compiled by tsc first); each in a sandbox of
// its own (its own loopback: servers take libiio's port 30431 as the docs say) and bounded in
// time. Blocks marked not run are counted as skipped, and still parsed (ts: type-checked).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { IIO_BIN } from './support/cli.js';
import { repo } from './support/imports.js';
import { runSandboxed } from './support/sandbox.js';
import { BASH_OPTIONS, extractSnippets, type Snippet } from './support/snippets.js';

const DOCS = ['README.md', ...readdirSync(join(repo, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const TIME_LIMIT_MS = 90_000; // one block; `iio bench` alone takes 4 s of it
const BESIDE = fileURLToPath(new URL('./support/beside.js', import.meta.url));

// The user's side: a PATH where `npm link` put iio, and for each block a package of its own
// that imports 'iiojs' (installed as a link to this checkout, as `npm install <path>` does).
const work = mkdtempSync(join(tmpdir(), 'iiojs-snippets-'));
after(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'bin'));
chmodSync(IIO_BIN, 0o755); // as npm link makes the package's bin
symlinkSync(IIO_BIN, join(work, 'bin', 'iio'));
// A command that would need a registry (npx of a package not installed) fails instead of fetching.
const env = { ...process.env, PATH: `${join(work, 'bin')}${delimiter}${process.env['PATH'] ?? ''}`, npm_config_offline: 'true' };

const snippets: Snippet[] = [];
const problems: string[] = [];
for (const file of DOCS) {
  try {
    snippets.push(...extractSnippets(file, readFileSync(join(repo, file), 'utf8')));
  } catch (e) {
    problems.push((e as Error).message);
  }
}
/** Every block, a background one's next block included. */
const blocks = snippets.flatMap((s) => (s.beside === undefined ? [s] : [s, s.beside]));
const label = (s: Snippet): string => `${s.file}:${s.line} ${s.lang}`;

/** Each block's file, in a package directory of its own (a background block's next block beside it). */
const files = new Map<Snippet, string>();
for (const s of snippets) {
  const dir = join(work, `${s.file.replace(/\W/g, '_')}-${s.line}`);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(repo, join(dir, 'node_modules', 'iiojs'));
  files.set(s, join(dir, `snippet.${s.lang}`));
  if (s.beside !== undefined) files.set(s.beside, join(dir, 'beside.sh'));
}
for (const [s, file] of files) writeFileSync(file, s.code);

/** tsc over every ts block at once, against the package as installed: errors by block. */
let tsErrors: Map<Snippet, string[]> | undefined;
function compileTs(): Map<Snippet, string[]> {
  if (tsErrors !== undefined) return tsErrors;
  const byFile = new Map(blocks.filter((s) => s.lang === 'ts').map((s) => [files.get(s)!, s]));
  const program = ts.createProgram([...byFile.keys()], {
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    types: ['node'],
    typeRoots: [join(repo, 'node_modules/@types')],
    skipLibCheck: true,
  });
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  tsErrors = new Map([...byFile.values()].map((s) => [s, []]));
  for (const d of diagnostics) {
    const s = d.file === undefined ? undefined : byFile.get(d.file.fileName);
    const where = s === undefined || d.start === undefined ? '' : `${s.file}:${s.line + 1 + d.file!.getLineAndCharacterOfPosition(d.start).line}: `;
    const message = `${where}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    if (s === undefined) throw new Error(`tsc: ${message}`);
    tsErrors.get(s)!.push(message);
  }
  return tsErrors;
}

test('the docs\' code blocks follow the conventions; the README has js, ts and sh blocks that run', (t) => {
  assert.deepEqual(problems, []);
  const readme = blocks.filter((s) => s.file === 'README.md' && s.notRun === undefined);
  for (const lang of ['js', 'ts', 'sh']) assert.ok(readme.some((s) => s.lang === lang), `README.md runs a ${lang} block`);
  const notRun = blocks.filter((s) => s.notRun !== undefined);
  t.diagnostic(`${blocks.length} blocks: ${blocks.length - notRun.length} run or parsed (json), ${notRun.length} checked but not run`);
  for (const s of notRun) t.diagnostic(`not run: ${label(s)}: ${s.notRun}`);
});

test('every code block parses, not-run ones too; ts blocks type-check against the package', () => {
  for (const s of blocks) {
    if (s.lang === 'ts') assert.deepEqual(compileTs().get(s), [], label(s));
    else if (s.lang === 'json') assert.doesNotThrow(() => JSON.parse(s.code), label(s));
    else {
      const check = s.lang === 'js' ? spawnSync(process.execPath, ['--check', files.get(s)!], { encoding: 'utf8' }) : spawnSync('bash', ['-n', files.get(s)!], { encoding: 'utf8' });
      assert.equal(check.status, 0, `${label(s)}: ${check.stderr}`);
    }
  }
});

for (const s of snippets.filter((b) => b.lang !== 'json')) {
  const name = `${label(s)}${s.beside === undefined ? '' : `, with ${label(s.beside)} beside it`} runs`;
  test(name, { skip: s.notRun === undefined ? false : `not run: ${s.notRun}` }, async () => {
    if (s.lang === 'ts') assert.deepEqual(compileTs().get(s), [], 'compiles');
    const file = files.get(s)!;
    const [command, args] =
      s.beside !== undefined ? [process.execPath, [BESIDE, file, files.get(s.beside)!]]
      : s.lang === 'sh' ? ['bash', [...BASH_OPTIONS, file]]
      : [process.execPath, [file.replace(/\.ts$/, '.js')]];
    const run = await runSandboxed(command, args, { cwd: dirname(file), env, timeoutMs: TIME_LIMIT_MS });
    assert.equal(run.status, 0, `${label(s)} ended with ${run.status ?? run.signal}\n--- stderr\n${run.stderr}\n--- stdout (its end)\n${run.stdout.slice(-2000)}`);
  });
}
