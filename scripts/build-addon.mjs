// Builds the native addon with node-gyp against the running Node's own headers (no download).
// The library works without the addon (only the local backend needs it), so a failed build
// warns instead of failing the install, unless IIOJS_REQUIRE_ADDON=1 (CI) asks for it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.IIOJS_REQUIRE_ADDON === '1';
const prefix = dirname(dirname(process.execPath));

function fail(message) {
  console.error(`iiojs: native addon not built: ${message}`);
  console.error('iiojs: the local: backend needs it; fix the cause and run `npm rebuild iiojs`.');
  process.exit(required ? 1 : 0);
}

if (process.platform !== 'linux') fail(`the addon is Linux-only (this is ${process.platform})`);
if (!existsSync(join(prefix, 'include', 'node', 'node_api.h')))
  fail(`no Node headers under ${prefix}/include/node (install the package that ships them)`);

// npm tells scripts where its bundled node-gyp is; fall back to the copy beside npm.
const nodeGyp =
  process.env.npm_config_node_gyp ??
  join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(nodeGyp)) fail(`node-gyp not found at ${nodeGyp}`);

const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${prefix}`], {
  cwd: root,
  stdio: 'inherit',
});
if (run.status !== 0) fail(`node-gyp exited with ${run.status ?? run.signal}`);
