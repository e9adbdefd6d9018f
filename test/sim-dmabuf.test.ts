// The simulated kernel's dma-buf objects with fences a device adds (kernel-abi §2.9, §4.4, §4.6).
// Pending fences can only come from a device, so these cases play the device through the sim's
// importer API and check what userspace sees through the port. Sim-only by nature; the port-level
// conformance cases are in conformance-dmabuf.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  dmaBufImportSyncFileStruct,
  encodeUdmabufCreateList,
  MAP_SHARED,
  POLLIN,
  POLLOUT,
  POLLPRI,
  PROT_READ,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  syncFileInfoStruct,
  syncMergeDataStruct,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  udmabufCreateListStruct,
} from '../src/abi/index.js';
import { nowMs } from '../src/kernel/sim/clock.js';
import { dmaBufGet, type DmaBuf } from '../src/kernel/sim/dma-buf.js';
import { FenceTimeline, ResvUsage, type DmaFence } from '../src/kernel/sim/dma-fence.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import {
  exportSyncFile,
  heapAlloc,
  openUdmabuf,
  pollWithin,
  sealedMemfd,
  session,
  SIZE_64K,
  syncFileInfo,
  udmabufCreate,
  type Session,
  syncArg,
} from './support/dmabuf.js';

// ---- the simulated kernel: fences a device adds --------------------------------------------
// A pending fence can only come from a device (IIO, FunctionFS). These cases play the device:
// they add fences to a DMABUF's reservation object through the sim's importer API (dmaBufGet)
// and check what userspace sees through the port.

describe('DMABUF fences (kernel-abi §2.9, §4.4, §4.6), simulated kernel', () => {
  interface Sim {
    k: SimKernel;
    s: Session;
    /** A heap DMABUF: its fd and the sim's object for it. */
    buffer(): Promise<{ fd: number; buf: DmaBuf }>;
    /** A new unsignalled fence, added to `buf` with `usage`, as the IIO core would. */
    fence(buf: DmaBuf, usage: ResvUsage): DmaFence;
  }

  function sim(t: Parameters<typeof session>[0]): Sim {
    const k = new SimKernel();
    const s = session(t, k);
    const timeline = new FenceTimeline('iio', 'iio');
    return {
      k,
      s,
      async buffer() {
        const fd = await heapAlloc(s);
        return { fd, buf: dmaBufGet(k.context, fd) };
      },
      fence(buf, usage) {
        const fence = timeline.create();
        buf.resv.add(fence, usage);
        return fence;
      },
    };
  }

  test('a WRITE fence (RX) holds both POLLIN and POLLOUT until it signals', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const f = fence(buf, ResvUsage.WRITE);
    assert.equal(await pollWithin(k, fd, POLLIN, 20), 0);
    assert.equal(await pollWithin(k, fd, POLLOUT, 20), 0);
    const sync = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    assert.equal(syncFileInfo(k, sync).status, 0);
    assert.equal(await pollWithin(k, sync, POLLIN, 20), 0);
    const waiting = k.poll(fd, POLLIN); // woken by the signal, not re-polled
    f.signal();
    assert.equal(await waiting, POLLIN);
    assert.equal(await pollWithin(k, fd, POLLOUT, 1000), POLLOUT);
    assert.equal(await pollWithin(k, sync, POLLIN, 1000), POLLIN);
    assert.equal(syncFileInfo(k, sync).status, 1);
  });

  test('a READ fence (TX) leaves POLLIN ready and holds only POLLOUT', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const f = fence(buf, ResvUsage.READ);
    assert.equal(await pollWithin(k, fd, POLLIN, 1000), POLLIN);
    assert.equal(await pollWithin(k, fd, POLLIN | POLLOUT, 20), POLLIN);
    // EXPORT READ snapshots writers only: none, so the stub; WRITE snapshots everything
    const readers = syncFileInfo(k, exportSyncFile(s, fd, DMA_BUF_SYNC_READ));
    assert.equal(readers.fences[0]!.driverName, 'stub');
    const all = syncFileInfo(k, exportSyncFile(s, fd, DMA_BUF_SYNC_WRITE));
    assert.equal(all.status, 0);
    assert.equal(all.fences[0]!.driverName, 'iio');
    assert.equal(all.fences[0]!.objName, 'iio');
    assert.equal(all.name, `iio-iio${f.context}-${f.seqno}`);
    f.signal();
    assert.equal(await pollWithin(k, fd, POLLOUT, 1000), POLLOUT);
  });

  test('imported fences get READ usage, or WRITE usage with DMA_BUF_SYNC_WRITE', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const a = await buffer();
    const f = fence(a.buf, ResvUsage.WRITE);
    const sync = exportSyncFile(s, a.fd, DMA_BUF_SYNC_RW);
    const reader = await buffer();
    const writer = await buffer();
    k.ioctl(reader.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_READ, fd: sync }));
    k.ioctl(writer.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_RW, fd: sync }));
    assert.equal(await pollWithin(k, reader.fd, POLLIN | POLLOUT, 20), POLLIN);
    assert.equal(await pollWithin(k, writer.fd, POLLIN | POLLOUT, 20), 0);
    const writerOut = k.poll(writer.fd, POLLOUT);
    f.signal();
    assert.equal(await writerOut, POLLOUT);
    assert.equal(await pollWithin(k, reader.fd, POLLOUT, 1000), POLLOUT);
  });

  test('a failed fence shows its error through a sync_file exported before it signalled', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const f = fence(buf, ResvUsage.WRITE);
    const before = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    f.signal(-4); // aborted: -EINTR
    const info = syncFileInfo(k, before);
    assert.equal(info.status, -4);
    assert.equal(info.foldedStatus, -4);
    assert.equal(info.fences[0]!.status, -4);
    assert.ok(info.fences[0]!.timestampNs > 0n);
    assert.equal(await pollWithin(k, fd, POLLIN, 1000), POLLIN, 'poll cannot tell an error');
    // exported after the signal: signalled fences are skipped, the stub comes back, the error is lost
    assert.equal(syncFileInfo(k, exportSyncFile(s, fd, DMA_BUF_SYNC_READ)).status, 1);
  });

  test('several pending fences export as one array fence, signalled when all are, with the first error', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const rx = fence(buf, ResvUsage.WRITE);
    const tx = fence(buf, ResvUsage.READ);
    const sync = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    let info = syncFileInfo(k, sync);
    assert.equal(info.numFences, 2);
    assert.match(info.name, /^dma_fence_array-unbound\d+-1$/);
    assert.deepEqual(info.fences.map((x) => x.status), [0, 0]);
    tx.signal(-5);
    info = syncFileInfo(k, sync);
    assert.equal(info.status, 0, 'not all signalled yet');
    assert.equal(info.foldedStatus, 0, 'the first fence is still active');
    assert.deepEqual(info.fences.map((x) => x.status), [0, -5]);
    assert.equal(await pollWithin(k, sync, POLLIN, 20), 0);
    rx.signal();
    info = syncFileInfo(k, sync);
    assert.equal(info.status, -5);
    assert.equal(info.foldedStatus, -5);
    assert.equal(await pollWithin(k, sync, POLLIN, 1000), POLLIN);
    // a fence array imported elsewhere adds its components
    const other = await buffer();
    k.ioctl(other.fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_WRITE, fd: sync }));
    assert.equal(other.buf.resv.pending(ResvUsage.BOOKKEEP).length, 0, 'both components had signalled');
  });

  test('SYNC_IOC_FILE_INFO with too small a num_fences is EINVAL', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    fence(buf, ResvUsage.WRITE);
    fence(buf, ResvUsage.WRITE);
    const sync = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    const arg = syncFileInfoStruct.encode({ numFences: 1 });
    assert.throws(() => k.ioctl(sync, SYNC_IOC_FILE_INFO, arg, [[48, new Uint8Array(80)]]), { code: 'EINVAL' });
  });

  test('SYNC_IOC_MERGE keeps the unsignalled fences, one per context', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const first = fence(buf, ResvUsage.WRITE);
    const a = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    const other = new FenceTimeline('functionfs', 'ep1').create();
    buf.resv.add(other, ResvUsage.READ);
    const b = exportSyncFile(s, fd, DMA_BUF_SYNC_RW); // first + other
    const arg = syncMergeDataStruct.encode({ name: 'a+b', fd2: b });
    k.ioctl(a, SYNC_IOC_MERGE, arg);
    const merged = s.keep(syncMergeDataStruct.decode(arg).fence);
    const info = syncFileInfo(k, merged);
    assert.equal(info.name, 'a+b');
    assert.deepEqual(info.fences.map((x) => x.driverName).sort(), ['functionfs', 'iio']);
    first.signal();
    other.signal();
    assert.equal(await pollWithin(k, merged, POLLIN, 1000), POLLIN);
  });

  test('SYNC START waits for the fences its direction needs, running the device meanwhile', async (t) => {
    const { k, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const reader = fence(buf, ResvUsage.READ); // never signalled here
    // START|READ waits for writers only: returns at once despite the pending reader
    assert.equal(k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)), 0);
    const writer = fence(buf, ResvUsage.WRITE);
    const start = nowMs();
    k.context.scheduler.at(start + 40, () => writer.signal());
    assert.equal(k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)), 0);
    assert.ok(writer.signaled);
    assert.ok(nowMs() - start >= 35, 'START blocked until the device signalled');
    // START|WRITE also waits for the reader, which nothing will ever signal: EINTR, as if a
    // signal ended the endless wait
    assert.throws(() => k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE)), { code: 'EINTR' });
    reader.signal();
    assert.equal(k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW)), 0);
  });

  test('dmaBufGet finds DMABUFs for importers: EBADF for no fd, EINVAL for another file', async (t) => {
    const { k, s, buffer } = sim(t);
    const { fd, buf } = await buffer();
    assert.equal(buf.size, SIZE_64K);
    assert.equal(buf.exporterName, 'system');
    assert.throws(() => dmaBufGet(k.context, 999), { code: 'EBADF' });
    assert.throws(() => dmaBufGet(k.context, -1), { code: 'EBADF' });
    const memfd = sealedMemfd(s);
    assert.throws(() => dmaBufGet(k.context, memfd), { code: 'EINVAL' });
    const importer = {};
    const attachment = buf.attach(importer);
    s.close(fd); // the attachment keeps the DMABUF
    assert.deepEqual(buf.attachments.map((a) => a.importer), [importer]);
    buf.write(0, new Uint8Array([9]));
    attachment.detach();
    attachment.detach(); // once is enough
    assert.equal(buf.attachments.length, 0);
  });

  test('what a device writes into a udmabuf is in the memfd, with no copy', async (t) => {
    const { k, s } = sim(t);
    const memfd = sealedMemfd(s);
    const viaMemfd = k.mmap(memfd, SIZE_64K, PROT_READ, MAP_SHARED);
    const fd = udmabufCreate(s, await openUdmabuf(s), memfd);
    const buf = dmaBufGet(k.context, fd);
    assert.equal(buf.exporterName, 'udmabuf');
    buf.bytes(100, 2).set([0xab, 0xcd]);
    assert.deepEqual([...viaMemfd.subarray(100, 102)], [0xab, 0xcd]);
    k.munmap(viaMemfd);
    buf.write(200, new Uint8Array([1])); // still reachable after every mapping is gone
    const again = k.mmap(memfd, SIZE_64K, PROT_READ, MAP_SHARED);
    assert.equal(again[200], 1);
    k.munmap(again);
  });

  test('a udmabuf over two memfds is two segments; one mapping cannot span them', async (t) => {
    // a documented sim limitation: Linux maps such a range, the sim refuses with ENOMEM
    const { k, s } = sim(t);
    const page = k.pageSize;
    const m1 = sealedMemfd(s, page);
    const m2 = sealedMemfd(s, page);
    const list = encodeUdmabufCreateList({ items: [{ memfd: m1, offset: 0, size: page }, { memfd: m2, offset: 0, size: page }] });
    const fd = s.keep(k.ioctl(await openUdmabuf(s), UDMABUF_CREATE_LIST, list));
    const buf = dmaBufGet(k.context, fd);
    assert.deepEqual(buf.segments().map((v) => v.length), [page, page]);
    buf.write(page - 1, new Uint8Array([7, 8]));
    const one = k.mmap(m1, page, PROT_READ, MAP_SHARED);
    const two = k.mmap(m2, page, PROT_READ, MAP_SHARED);
    assert.equal(one[page - 1], 7);
    assert.equal(two[0], 8);
    const second = k.mmap(fd, page, PROT_READ, MAP_SHARED, page);
    assert.equal(second[0], 8);
    assert.throws(() => k.mmap(fd, 2 * page, PROT_READ, MAP_SHARED), { code: 'ENOMEM' });
    assert.throws(() => buf.bytes(page - 1, 2), RangeError);
    for (const m of [one, two, second]) k.munmap(m);
  });

  test('UDMABUF_CREATE with a number argument is a TypeError, a list short of its items a RangeError (as on Linux)', async (t) => {
    const { k, s } = sim(t);
    const dev = await openUdmabuf(s);
    assert.throws(() => k.ioctl(dev, UDMABUF_CREATE, 0), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    // a CREATE_LIST whose items run past the caller's bytes
    const header = udmabufCreateListStruct.encode({ count: 2 });
    assert.throws(() => k.ioctl(dev, UDMABUF_CREATE_LIST, header), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: /holds 8 bytes but request 0x[0-9a-f]{8} needs 56/,
    });
  });

  test('export with a deadline hint through POLLPRI does not change readiness', async (t) => {
    const { k, s, buffer, fence } = sim(t);
    const { fd, buf } = await buffer();
    const f = fence(buf, ResvUsage.WRITE);
    const sync = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    assert.equal(await pollWithin(k, sync, POLLIN | POLLPRI, 20), 0);
    f.signal();
    assert.equal(await pollWithin(k, sync, POLLIN | POLLPRI, 1000), POLLIN);
  });
});
