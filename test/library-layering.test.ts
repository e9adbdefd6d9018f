// The layering of docs/architecture.md: the core reaches the kernel only through a Backend. No
// module src/core imports, directly or through others, may touch node:fs, node:net, the addon,
// a Kernel port implementation or a particular backend.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const FORBIDDEN = [/^node:(fs|net|child_process)(\/|$)/, /^(fs|net)$/, /src\/kernel\/(linux|sim)\//, /src\/kernel\/open\.ts$/, /src\/backends\/(local|network|open)/];

/** Every module `file` imports, transitively: relative ones as repository paths, others as written. */
function closure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  if (!file.endsWith('.ts')) return seen;
  const source = readFileSync(join(repo, file), 'utf8');
  for (const m of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|^\s*import\s+'([^']+)'|import\('([^']+)'\)/gm)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    const target = spec.startsWith('.') ? relative(repo, resolve(repo, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
    closure(target, seen);
  }
  return seen;
}

test('src/core imports neither fs, net, the addon nor a kernel or backend implementation', () => {
  const core = readdirSync(join(repo, 'src/core')).filter((f) => f.endsWith('.ts')).map((f) => `src/core/${f}`);
  assert.ok(core.length > 5);
  for (const file of core) {
    const bad = [...closure(file)].filter((m) => FORBIDDEN.some((re) => re.test(m)));
    assert.deepEqual(bad, [], `${file} reaches ${bad.join(', ')}`);
  }
});
