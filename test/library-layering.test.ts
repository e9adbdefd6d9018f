// The layering of the README's Architecture picture (the rule is written in the team's
// ../shared/docs/architecture.md, beside the repository: "core never touches fs, net or the
// addon: it only talks to a Backend"). No module src/core imports, directly or through others,
// may touch node:fs, node:net, the addon, a Kernel port implementation or a particular backend.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importClosure, repo } from './support/imports.js';

const FORBIDDEN = [/^node:(fs|net|child_process)(\/|$)/, /^(fs|net)$/, /src\/kernel\/(linux|sim)\//, /src\/kernel\/open\.ts$/, /src\/backends\/(local|network|open)/];

test('src/core imports neither fs, net, the addon nor a kernel or backend implementation', () => {
  const core = readdirSync(join(repo, 'src/core')).filter((f) => f.endsWith('.ts')).map((f) => `src/core/${f}`);
  assert.ok(core.length > 5);
  for (const file of core) {
    const bad = [...importClosure(file)].filter((m) => FORBIDDEN.some((re) => re.test(m)));
    assert.deepEqual(bad, [], `${file} reaches ${bad.join(', ')}`);
  }
});

test('the ip: backend does not reach into the local backend (shared parsers live outside backends/)', () => {
  const network = readdirSync(join(repo, 'src/backends/network')).filter((f) => f.endsWith('.ts')).map((f) => `src/backends/network/${f}`);
  assert.ok(network.length > 3);
  for (const file of network) {
    const bad = [...importClosure(file)].filter((m) => /src\/backends\/local\//.test(m));
    assert.deepEqual(bad, [], `${file} reaches ${bad.join(', ')}`);
  }
});
