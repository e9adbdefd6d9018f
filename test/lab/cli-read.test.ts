// `iio read -u local:` on the lab's real vadc-dma: the counter in both transfer modes, and what a
// stop leaves behind — after Ctrl-C or a broken pipe the buffer is disabled (closing the fd alone
// would leave it running, kernel-abi §1.2) and free for the next reader. Real-kernel tier only.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { exited, iio, IIO_BIN, spawnIio, u16le } from '../support/cli.js';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { VADC } from '../support/probe-scenario.js';

bootUnderTest();

function assertCounter(words: number[], what: string): void {
  assert.ok(words.length > 0, what);
  for (let k = 1; k < words.length; k++) assert.equal(words[k], (words[k - 1]! + 1) & 0xffff, `${what}: word ${k}`);
}

/** The buffer is disabled and another reader can have it. */
function assertReleased(what: string): void {
  assert.equal(readFileSync(`${VADC.sys}/buffer0/enable`, 'utf8').trim(), '0', `${what}: buffer0 still enabled`);
  const next = iio(['read', '-u', 'local:', '-s', '1024', VADC.name]);
  assert.equal(next.status, 0, `${what}: the next reader: ${next.stderr}`);
  assertCounter(u16le(next.stdout), `${what}: the next reader`);
}

for (const mode of ['dmabuf', 'fileio'] as const) {
  test(`vadc-dma in ${mode} mode: -s samples of the counter`, () => {
    const run = iio(['read', '-u', 'local:', '--mode', mode, '-b', '1024', '-s', '3000', VADC.name]);
    assert.equal(run.stderr, '');
    assert.equal(run.status, 0);
    assert.equal(run.stdout.length, 3000 * 4);
    assertCounter(u16le(run.stdout), mode);
  });
}

test('Ctrl-C mid-capture: exit 130 on its own, whole scans flushed, the buffer released', async () => {
  const child = spawnIio(['read', '-u', 'local:', VADC.name]);
  const chunks: Buffer[] = [];
  let received = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
    if (received >= 256 << 10 && child.exitCode === null && !child.killed) child.kill('SIGINT');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { status } = await exited(child);
  assert.equal(status, 130);
  assert.equal(stderr, '');
  const bytes = Buffer.concat(chunks);
  assert.equal(bytes.length % 4, 0);
  assertCounter(u16le(bytes), 'until Ctrl-C');
  assertReleased('after Ctrl-C');
});

test('a broken pipe (| head -c 100): exit 141 quietly, the buffer released', () => {
  const pipeline = `"${process.execPath}" "${IIO_BIN}" read -u local: ${VADC.name} | head -c 100 | wc -c; echo "\${PIPESTATUS[0]}"`;
  const run = spawnSync('bash', ['-c', pipeline], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.stderr, '');
  assert.deepEqual(run.stdout.trim().split(/\s+/), ['100', '141']);
  assertReleased('after the broken pipe');
});
