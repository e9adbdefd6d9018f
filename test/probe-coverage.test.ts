// Every scenario recorded on Linux 6.12.117 (../shared/fixtures/linux-6.12-probe.txt) has a
// conformance case of the same name, so the suite and the recording can be held side by side.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readShared } from './support/shared.js';

test('every recorded probe scenario has a conformance case named after it', () => {
  const recorded = new Set(
    readShared('fixtures/linux-6.12-probe.txt')
      .split('\n')
      .map((line) => /^SCENARIO ([A-Za-z0-9_]+):/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined),
  );
  assert.ok(recorded.size > 150, `only ${recorded.size} scenarios parsed`);

  const dir = fileURLToPath(new URL('.', import.meta.url));
  const cases = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.startsWith('conformance-') && f.endsWith('.test.js'))) {
    for (const match of readFileSync(dir + file, 'utf8').matchAll(/scenario\(\s*['"`]([A-Za-z0-9_]+)['"`]/g)) {
      cases.add(match[1]!);
    }
  }
  const missing = [...recorded].filter((name) => !cases.has(name));
  assert.deepEqual(missing, [], `${missing.length} recorded scenarios have no conformance case`);
});
