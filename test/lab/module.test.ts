// The lab's test module (vm/module/iio_vadc_dma.c) on the real kernel: the mixed-format capture
// pattern through DMABUFs, playback received by the DAC, injected transfer failures reported
// through the fence, the null DMA, and removal while streaming. Real-kernel tier only.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE, MAP_SHARED, O_RDWR, POLLOUT,
  PROT_READ, PROT_WRITE,
} from '../../src/abi/index.js';
import { attach, dmabufSync, enqueue, exportSyncFile, getBufferFd, heapBuffer, pollFor, setNonblock, syncFileInfo } from '../support/iio-calls.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { fnv1a } from '../support/checksum.js';

// Each test starts from freshly made devices (and closes what an earlier failure left open).
let k: KernelPort;
const PARAMS = '/sys/module/iio_vadc_dma/parameters';

function sysfsOf(name: string): string {
  const entry = readdirSync('/sys/bus/iio/devices').find(
    (e) => e.startsWith('iio:device') && readFileSync(`/sys/bus/iio/devices/${e}/name`, 'utf8').trim() === name,
  );
  assert.ok(entry, `device ${name}`);
  return `/sys/bus/iio/devices/${entry}`;
}

/**
 * Opens `name`'s buffer 0 with exactly the listed scan elements enabled and `count` DMABUFs of
 * `size` attached. It disables the buffer first, so a failed test leaves nothing for the next.
 */
async function openBuffer(name: string, elements: string[], size: number, count: number) {
  const sys = sysfsOf(name);
  await k.writeText(`${sys}/buffer0/enable`, '0');
  for (const file of readdirSync(`${sys}/buffer0`).filter((f) => f.endsWith('_en'))) {
    await k.writeText(`${sys}/buffer0/${file}`, elements.includes(file.slice(0, -3)) ? '1' : '0');
  }
  const dev = await k.open(`/dev/${sys.split('/').pop()}`, O_RDWR);
  const buffer = getBufferFd(k, dev, 0);
  k.close(dev);
  const dmabufs: number[] = [];
  for (let i = 0; i < count; i++) dmabufs.push(await heapBuffer(k, size));
  for (const fd of dmabufs) attach(k, buffer, fd);
  return { sys, buffer, dmabufs };
}

test('lab-adc: every scan of the mixed formats carries the pattern of its scan number', async () => {
  k = bootUnderTest().kernel;
  writeFileSync(`${PARAMS}/delay_us`, '1000');
  const { sys, buffer, dmabufs } = await openBuffer('lab-adc', ['in_voltage0', 'in_voltage1', 'in_voltage2', 'in_voltage3', 'in_timestamp'], 24 * 512, 2);
  for (const fd of dmabufs) enqueue(k, buffer, fd, 24 * 512);
  await k.writeText(`${sys}/buffer0/enable`, '1');
  let expected: bigint | undefined;
  for (const fd of dmabufs) {
    assert.equal(await pollFor(k, fd, POLLOUT, 5000) & POLLOUT, POLLOUT);
    dmabufSync(k, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
    const map = k.mmap(fd, 24 * 512, PROT_READ, MAP_SHARED);
    const view = new DataView(map.buffer, map.byteOffset, map.byteLength);
    for (let scan = 0; scan < 512; scan++) {
      const o = scan * 24;
      const n = view.getBigUint64(o + 16, true); // the timestamp channel holds n
      if (expected !== undefined) assert.equal(n, expected, `scan ${scan}`);
      expected = n + 1n;
      const small = Number(n & 0xffffn);
      assert.equal(view.getUint16(o, true), small);
      assert.equal(view.getInt16(o + 2, true), -Number(n & 0x7fffn) | 0);
      assert.equal(view.getUint32(o + 4, true), Number((3n * n) & 0xffffffffn));
      assert.equal(view.getInt16(o + 8, false) >> 4, Number(n & 0x7ffn)); // be:s12/16>>4
    }
    k.munmap(map);
    dmabufSync(k, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
  }
  assert.ok(Number(readFileSync(`${sys}/completed_bytes`, 'utf8')) >= 2 * 24 * 512);
  await k.writeText(`${sys}/buffer0/enable`, '0');
  k.close(buffer);
  dmabufs.forEach((fd) => k.close(fd));
});

test('lab-dac: the device receives exactly the bytes played', async () => {
  k = bootUnderTest().kernel;
  const { sys, buffer, dmabufs } = await openBuffer('lab-dac', ['out_voltage0', 'out_voltage1'], 4096, 1);
  const fd = dmabufs[0]!;
  dmabufSync(k, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
  const map = k.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
  for (let i = 0; i < 4096; i++) map[i] = (i * 7) & 0xff;
  const played = map.slice();
  k.munmap(map);
  dmabufSync(k, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
  const before = { bytes: Number(readFileSync(`${sys}/received_bytes`, 'utf8')), checksum: Number(readFileSync(`${sys}/checksum`, 'utf8')) };
  enqueue(k, buffer, fd, 4096);
  await k.writeText(`${sys}/buffer0/enable`, '1');
  assert.equal(await pollFor(k, fd, POLLOUT, 5000) & POLLOUT, POLLOUT); // kernel-abi §2.9: TX waits on POLLOUT
  assert.equal(Number(readFileSync(`${sys}/received_bytes`, 'utf8')) - before.bytes, 4096);
  assert.equal(Number(readFileSync(`${sys}/checksum`, 'utf8')), fnv1a(played, before.checksum));
  await k.writeText(`${sys}/buffer0/enable`, '0');
  k.close(buffer);
  k.close(fd);
});

test('fail_next: a block whose submit fails at enable reports the error through its fence (kernel-abi §2.6, §2.9)', async () => {
  k = bootUnderTest().kernel;
  const { sys, buffer, dmabufs } = await openBuffer('lab-adc', ['in_voltage0'], 4096, 1);
  const fd = dmabufs[0]!;
  assert.equal(enqueue(k, buffer, fd, 4096), 0); // queued: the buffer is disabled
  const sync = exportSyncFile(k, fd, DMA_BUF_SYNC_READ); // the fence is still pending
  writeFileSync(`${PARAMS}/fail_next`, '5'); // EIO
  await k.writeText(`${sys}/buffer0/enable`, '1'); // submitted now, and refused
  assert.equal(await pollFor(k, fd, POLLOUT, 5000) & POLLOUT, POLLOUT);
  assert.equal(syncFileInfo(k, sync).status, -5);
  await k.writeText(`${sys}/buffer0/enable`, '0');
  [sync, buffer, fd].forEach((x) => k.close(x));
});

test('fail_next on an enabled buffer: the fence fails inside ENQUEUE, before any export can see it', async () => {
  // What a library must know: submit errors on an enabled buffer are signalled before the ioctl
  // returns 0, and a sync file exported afterwards gets the stub (signalled fences are skipped).
  k = bootUnderTest().kernel;
  const { sys, buffer, dmabufs } = await openBuffer('lab-adc', ['in_voltage0'], 4096, 1);
  const fd = dmabufs[0]!;
  await k.writeText(`${sys}/buffer0/enable`, '1');
  writeFileSync(`${PARAMS}/fail_next`, '5');
  assert.equal(enqueue(k, buffer, fd, 4096), 0);
  assert.equal(await pollFor(k, fd, POLLOUT, 0) & POLLOUT, POLLOUT, 'already signalled');
  const sync = exportSyncFile(k, fd, DMA_BUF_SYNC_READ);
  assert.equal(syncFileInfo(k, sync).status, 1);
  // The refused block stays ACTIVE (6.12 never takes it back): it cannot be queued again.
  setNonblock(k, buffer, true);
  assert.throws(() => enqueue(k, buffer, fd, 4096), { code: 'EBUSY' });
  await k.writeText(`${sys}/buffer0/enable`, '0');
  assert.throws(() => enqueue(k, buffer, fd, 4096), { code: 'EBUSY' }, 'not even after a disable');
  [sync, buffer, fd].forEach((x) => k.close(x));
});

test('rmmod while streaming: the module goes, the kernel stays healthy', async () => {
  k = bootUnderTest().kernel;
  writeFileSync(`${PARAMS}/delay_us`, '20000');
  const { sys, buffer, dmabufs } = await openBuffer('lab-adc', ['in_voltage0'], 4096, 4);
  for (const fd of dmabufs) enqueue(k, buffer, fd, 4096);
  await k.writeText(`${sys}/buffer0/enable`, '1');
  k.close(buffer); // the buffer keeps streaming (kernel-abi §1.2)
  dmabufs.forEach((fd) => k.close(fd));
  assert.equal(readFileSync(`${sys}/buffer0/enable`, 'utf8').trim(), '1');
  execFileSync('rmmod', ['iio_vadc_dma']);
  assert.equal(existsSync('/sys/module/iio_vadc_dma'), false);
  bootUnderTest(); // the devices come back
  assert.ok(existsSync(sysfsOf('lab-adc')));
});
