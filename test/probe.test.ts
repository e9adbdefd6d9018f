// Feature detection through the Linux port, on a temporary tree laid out like sysfs and /dev.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { probeKernel } from '../src/kernel/probe.js';
import { SimKernel } from '../src/kernel/sim/index.js';

test('lists IIO devices and triggers, and reports each allocator by trying it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iiojs-probe-'));
  try {
    const devices = join(root, 'sys/bus/iio/devices');
    for (const name of ['iio:device1', 'iio:device0', 'trigger0', 'iio_sysfs_trigger']) mkdirSync(join(devices, name), { recursive: true });
    writeFileSync(join(devices, 'iio:device0/name'), 'adc\n');
    // Plain files where the kernel has character devices: opening works, the ioctls do not.
    mkdirSync(join(root, 'dev/dma_heap'), { recursive: true });
    writeFileSync(join(root, 'dev/dma_heap/system'), '');
    writeFileSync(join(root, 'dev/udmabuf'), '');

    const report = await probeKernel(new LinuxKernel(), { sysfs: join(root, 'sys'), dev: join(root, 'dev') });
    assert.deepEqual(report.iio.devices, [
      { id: 'iio:device0', name: 'adc' },
      { id: 'iio:device1', name: undefined },
    ]);
    assert.deepEqual(report.iio.triggers, [{ id: 'trigger0', name: undefined }]);
    assert.equal(report.iio.ok, true);
    assert.deepEqual(report.dmaHeaps.heaps.map((h) => h.name), ['system']);
    const alloc = report.dmaHeaps.heaps[0]!.alloc;
    assert.equal(alloc.ok, false);
    assert.equal(!alloc.ok && alloc.code, 'ENOTTY');
    assert.match(!alloc.ok ? alloc.message : '', /ioctl\(DMA_HEAP_IOCTL_ALLOC\)/);
    assert.equal(!report.udmabuf.ok && report.udmabuf.code, 'ENOTTY');
    assert.match(!report.udmabuf.ok ? report.udmabuf.message : '', /ioctl\(UDMABUF_CREATE\)/);
    assert.deepEqual(report.memfd, { ok: true, detail: '4096-byte sealed memfd allocated and mapped' });
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('a missing subsystem is reported with its error, not thrown', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iiojs-probe-'));
  try {
    const report = await probeKernel(new LinuxKernel(), { sysfs: join(root, 'sys'), dev: join(root, 'dev') });
    assert.equal(report.iio.ok, false);
    assert.equal(!report.iio.ok && report.iio.code, 'ENOENT');
    assert.deepEqual(report.iio.devices, []);
    assert.equal(!report.dmaHeaps.ok && report.dmaHeaps.code, 'ENOENT');
    assert.equal(!report.udmabuf.ok && report.udmabuf.code, 'ENOENT');
  } finally {
    rmSync(root, { recursive: true });
  }
});

test('the simulated kernel offers its scenario\'s devices and both DMABUF allocators', async () => {
  const report = await probeKernel(new SimKernel());
  assert.deepEqual(report.iio.devices.map((d) => d.name), ['iiojs-adc4', 'iiojs-trx', 'iiojs-sensor', 'iiojs-trx-rx', 'iiojs-trx-tx']);
  assert.deepEqual(report.iio.triggers.map((t) => t.name), ['iiojs-timer0', 'sysfstrig0']);
  assert.deepEqual(report.dmaHeaps.heaps, [{ name: 'system', alloc: { ok: true, detail: '4096-byte DMABUF allocated and mapped' } }]);
  assert.deepEqual(report.udmabuf, { ok: true, detail: '4096-byte DMABUF allocated and mapped' });
  assert.equal(report.memfd.ok, true);
});
