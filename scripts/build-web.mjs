// Builds the scope's page into dist/web/scope (served by src/scope/server.ts): type-checks
// web/scope with its own tsconfig (DOM, no Node), bundles it with esbuild into one script, and
// copies the HTML and CSS. Everything comes from the package's dependencies: no CDN at run time.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const web = `${root}web/scope/`;
const out = `${root}dist/web/scope/`;
execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${web}tsconfig.json`], { stdio: 'inherit' });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${web}main.ts`],
  bundle: true,
  format: 'iife',
  target: 'es2022',
  minify: true,
  outfile: `${out}app.js`,
  logLevel: 'warning',
});
for (const file of ['index.html', 'app.css']) copyFileSync(`${web}${file}`, `${out}${file}`);
