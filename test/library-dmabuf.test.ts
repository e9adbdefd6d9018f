// DMABUF blocks at the fd level (src/backends/local/dmabuf-*.ts): allocation with fallback, the
// attach-all-then-enqueue discipline, completion and transfer errors through fences, bounded
// waits, device removal. Against the Kernel port and the lab's controls, so it runs on the sim
// and in the real-kernel lab.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, F_GETFD, FD_CLOEXEC, MAP_SHARED, O_CLOEXEC, O_RDWR, PROT_READ } from '../src/abi/index.js';
import { allocateDmabuf, DmabufUnavailableError, type Dmabuf } from '../src/backends/local/dmabuf-alloc.js';
import { DeviceWatch } from '../src/backends/local/device-watch.js';
import { DmabufNotSupportedError, DmabufQueue } from '../src/backends/local/dmabuf-queue.js';
import type { KernelPort } from '../src/kernel/port.js';
import { probeKernel } from '../src/kernel/probe.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { counterCheck, dmabufSync, getBufferFd } from './support/iio-calls.js';
import { bootUnderTest, type Lab } from './support/kernel-under-test.js';
import { spyPort } from './support/port-spy.js';
import { DUMMY, VADC, probeScenario } from './support/probe-scenario.js';

const SIZE = 65536;

/**
 * A queue on `dev`'s buffer0 with `blocks` DMABUFs, released when the test ends: its transfers
 * end (their sync files closed, the device watch dropped) before the next test's lab reset closes
 * the fds, so nothing of this test acts later on an fd number the next one was given.
 */
async function openQueue(t: TestContext, lab: Lab, dev: { dev: string; sys: string }, blocks: number): Promise<{ q: DmabufQueue; bufs: Dmabuf[]; k: KernelPort }> {
  const k = lab.kernel;
  for (const ch of ['in_voltage0_en', 'in_voltage1_en']) await k.writeText(`${dev.sys}/buffer0/${ch}`, '1').catch(() => undefined);
  const devfd = await k.open(dev.dev, O_RDWR);
  const bfd = getBufferFd(k, devfd, 0);
  k.close(devfd);
  const name = `${dev.sys.split('/').pop()}/buffer0`;
  const q = new DmabufQueue(k, bfd, await DeviceWatch.open(k, dev.sys, name), name);
  const bufs: Dmabuf[] = [];
  t.after(() => {
    for (const b of bufs) q.forget(b);
    for (const fd of [bfd, ...bufs.map((b) => b.fd)]) k.close(fd);
  });
  for (let i = 0; i < blocks; i++) bufs.push(await allocateDmabuf(k, SIZE));
  return { q, bufs, k };
}

function fresh(): Lab {
  const lab = bootUnderTest({ scenario: probeScenario });
  lab.iio.device(VADC.name).buffer(0).delayMs = 5;
  return lab;
}

describe('allocation (kernel-abi §4)', () => {
  test('a DMA heap first, udmabuf when asked, page-rounded, mappable', async () => {
    const k = fresh().kernel;
    const heap = await allocateDmabuf(k, 1000);
    assert.deepEqual({ size: heap.size, source: heap.source }, { size: 4096, source: 'heap' });
    const u = await allocateDmabuf(k, 8192, { sources: ['udmabuf'] });
    assert.equal(u.source, 'udmabuf');
    const map = k.mmap(u.fd, 8192, PROT_READ, MAP_SHARED);
    assert.equal(map.length, 8192);
    k.munmap(map);
    k.close(heap.fd);
    k.close(u.fd);
    await assert.rejects(allocateDmabuf(k, 0), RangeError);
  });

  test('one implementation: the allocator and the probe open the heap and udmabuf nodes O_RDWR | O_CLOEXEC', async () => {
    const k = fresh().kernel;
    const opens: Array<[string, number]> = [];
    const spy = spyPort(k, { open: (open) => (path, flags) => (opens.push([path, flags]), open(path, flags)) });
    const made = [await allocateDmabuf(spy, 4096), await allocateDmabuf(spy, 4096, { sources: ['udmabuf'] })];
    for (const d of made) {
      assert.equal(k.fcntl(d.fd, F_GETFD), FD_CLOEXEC, `${d.source}: the DMABUF is close-on-exec`);
      k.close(d.fd);
    }
    const report = await probeKernel(spy);
    assert.ok(report.udmabuf.ok && report.dmaHeaps.heaps.every((h) => h.alloc.ok), JSON.stringify(report));
    const nodes = opens.filter(([path]) => path.startsWith('/dev/dma_heap/') || path === '/dev/udmabuf');
    assert.ok(nodes.length >= 4, JSON.stringify(opens));
    assert.deepEqual(nodes.filter(([, flags]) => flags !== (O_RDWR | O_CLOEXEC)), []);
  });

  test('no allocator: a typed error naming each source, so the caller falls back to file I/O', async () => {
    const k = new SimKernel({ scenario: { ...probeScenario, dmaHeaps: [], udmabuf: false } });
    await assert.rejects(allocateDmabuf(k, 4096), (e: unknown) => {
      assert.ok(e instanceof DmabufUnavailableError);
      assert.equal(e.code, 'ERR_IIOJS_NO_DMABUF');
      assert.deepEqual(e.causes.map((c) => [c.source, (c.error as Error & { code: string }).code]), [['heap', 'ENOENT'], ['udmabuf', 'ENOENT']]);
      return true;
    });
  });
});

describe('the block queue', () => {
  test('attach all, enqueue all, enable: blocks complete in order with the device pattern', async (t) => {
    const lab = fresh();
    const { q, bufs, k } = await openQueue(t, lab, VADC, 2);
    q.attach(bufs);
    for (const b of bufs) await q.enqueue(b);
    await k.writeText(`${VADC.sys}/buffer0/enable`, '1');
    let last = -1;
    for (let round = 0; round < 3; round++) {
      for (const b of bufs) {
        await q.wait(b, { timeoutMs: 5000 });
        dmabufSync(k, b.fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
        const map = k.mmap(b.fd, SIZE, PROT_READ, MAP_SHARED);
        const c = counterCheck(map);
        k.munmap(map);
        dmabufSync(k, b.fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
        assert.equal(c.mismatches, 0);
        if (last >= 0) assert.equal(c.first, (last + 1) & 0xffff, 'the stream runs on from block to block');
        last = c.last;
        await q.enqueue(b);
      }
    }
    await k.writeText(`${VADC.sys}/buffer0/enable`, '0');
  });

  test('attaching after an enqueue is refused (a later ATTACH drops queued blocks, §2.4)', async (t) => {
    const { q, bufs } = await openQueue(t, fresh(), VADC, 2);
    q.attach([bufs[0]!]);
    await q.enqueue(bufs[0]!);
    assert.throws(() => q.attach([bufs[1]!]), /attach every DMABUF before enqueueing any/);
    await assert.rejects(q.enqueue(bufs[0]!), /already queued/);
    await assert.rejects(q.enqueue(bufs[1]!), /not attached/);
  });

  test('a kfifo buffer answers EPERM: DmabufNotSupportedError, the cue to fall back to file I/O (§2.3)', async (t) => {
    const { q, bufs } = await openQueue(t, fresh(), DUMMY, 1);
    assert.throws(() => q.attach(bufs), (e: unknown) => e instanceof DmabufNotSupportedError && e.code === 'ERR_IIOJS_DMABUF_NOT_SUPPORTED');
  });

  test('disable aborts the transfer in flight: the wait rejects with EINTR (§2.10)', async (t) => {
    const lab = fresh();
    lab.iio.device(VADC.name).buffer(0).delayMs = 2000;
    const { q, bufs, k } = await openQueue(t, lab, VADC, 1);
    q.attach(bufs);
    await q.enqueue(bufs[0]!);
    await k.writeText(`${VADC.sys}/buffer0/enable`, '1');
    // the block takes 2 s: the disable below comes while it is in flight
    const aborted = assert.rejects(q.wait(bufs[0]!, { timeoutMs: 5000 }), { code: 'EINTR', syscall: 'transfer' });
    await k.writeText(`${VADC.sys}/buffer0/enable`, '0');
    await aborted;
  });

  test('a block the driver refuses at enable: the wait rejects with its errno', async (t) => {
    const lab = fresh();
    const { q, bufs, k } = await openQueue(t, lab, VADC, 1);
    q.attach(bufs);
    await q.enqueue(bufs[0]!);
    lab.iio.device(VADC.name).buffer(0).failNext('EIO');
    await k.writeText(`${VADC.sys}/buffer0/enable`, '1');
    await assert.rejects(q.wait(bufs[0]!, { timeoutMs: 5000 }), { code: 'EIO' });
    // 6.12 keeps the refused block ACTIVE: queueing it again is reported as the error it is
    await assert.rejects(q.enqueue(bufs[0]!), { code: 'EIO', message: /refused by the driver/ });
  });

  test('bounded waits: a timeout, an abort, and a removed device never hang', async (t) => {
    const lab = fresh();
    const { q, bufs } = await openQueue(t, lab, VADC, 1);
    q.attach(bufs);
    await q.enqueue(bufs[0]!); // the buffer stays disabled: nothing will complete
    await assert.rejects(q.wait(bufs[0]!, { timeoutMs: 100 }), { code: 'ETIMEDOUT' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(q.wait(bufs[0]!, { signal: controller.signal }), { name: 'AbortError' });
    // Queued blocks on a disabled buffer never signal once the device is gone (§2.10).
    const abandoned = assert.rejects(q.wait(bufs[0]!), { code: 'ENODEV' });
    lab.iio.device(VADC.name).unplug({ likeRmmod: true });
    await abandoned;
    q.detach(bufs[0]!);
  });
});
