// libiio's own tools (Debian's libiio-utils 0.24) on the lab's devices, against what our Linux
// port finds: the same devices and channels, and iio_readdev's bytes carry the device's pattern.
// Real-kernel tier only (run by vm/guest-tests.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { LinuxKernel } from '../../src/kernel/linux/index.js';
import { probeKernel } from '../../src/kernel/probe.js';
import { bootUnderTest } from '../support/kernel-under-test.js';

const lab = bootUnderTest();

test('iio_info lists the devices our probe finds, with the same names', async () => {
  const report = await probeKernel(new LinuxKernel());
  const info = execFileSync('iio_info', ['-u', 'local:'], { encoding: 'utf8' });
  const listed = [...info.matchAll(/^\t(iio:device\d+): (\S+)/gm)].map((m) => ({ id: m[1], name: m[2] }));
  assert.deepEqual(
    listed.sort((a, b) => a.id!.localeCompare(b.id!)),
    report.iio.devices.map((d) => ({ id: d.id, name: d.name })).sort((a, b) => a.id.localeCompare(b.id)),
  );
  assert.match(info, /vadc-dma/);
});

test('iio_attr reads the buffer attributes our port reads', async () => {
  // libiio 0.24 shows data_available and direction as buffer attributes (it hides the rest).
  for (const attr of ['direction', 'data_available']) {
    const theirs = execFileSync('iio_attr', ['-u', 'local:', '-B', 'vadc-dma', attr], { encoding: 'utf8' }).trim();
    assert.equal(theirs, (await lab.kernel.readText(`/sys/bus/iio/devices/iio:device1/buffer0/${attr}`)).trim(), attr);
  }
});

test('iio_readdev captures the vadc-dma counter through the file I/O path', () => {
  // 2 x u16 per scan: words run on as a 16-bit counter, each one the previous plus one.
  const bytes = execFileSync('iio_readdev', ['-u', 'local:', '-b', '256', '-s', '1024', 'vadc-dma', 'voltage0', 'voltage1']);
  assert.equal(bytes.length, 1024 * 4);
  const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  for (let i = 1; i < words.length; i++) assert.equal(words[i], (words[i - 1]! + 1) & 0xffff, `word ${i}`);
});
