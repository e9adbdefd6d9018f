// The published shape: the package resolves by name through its exports map, with types.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('import "iiojs" resolves through the exports map to the public API', async () => {
  const api = await import('iiojs');
  for (const name of ['LinuxKernel', 'SimKernel', 'openKernel', 'probeKernel', 'parseScanType', 'computeScanLayout', 'ioctlName', 'systemError']) {
    assert.equal(typeof (api as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(api.IIO_BUFFER_GET_FD_IOCTL, 0xc0046991); // kernel-abi §2.1 (generic _IOC layout)
});

test('the exports map names type declarations that exist', () => {
  const root = new URL('../../', import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, { types: string; import: string }> };
  const main = pkg.exports['.']!;
  assert.ok(existsSync(fileURLToPath(new URL(main.types, root))), main.types);
  assert.ok(existsSync(fileURLToPath(new URL(main.import, root))), main.import);
});
