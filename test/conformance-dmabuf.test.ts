// Conformance of the DMABUF family (kernel-abi §2.9, §4): DMA heaps, udmabuf, the DMABUF fd and
// sync_file, against the Kernel port only, so the same cases run on the simulated kernel and on
// Linux (IIOJS_KERNEL=linux). Cases named after a probe scenario assert what Linux 6.12.117
// recorded (../shared/fixtures/linux-6.12-probe.txt). Where the recording used a pipe as "not a
// DMABUF" or "not a memfd", these cases use an fd the port can make: a memfd, or an opened sysfs
// attribute. The cases after the recorded ones check §4 and §2.9 rules the probe did not record;
// cases that need pending fences, which only a device makes, are in sim-dmabuf.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  DMA_HEAP_IOCTL_ALLOC,
  dmaBufImportSyncFileStruct,
  dmaHeapAllocationDataStruct,
  encodeDmaBufName,
  encodeUdmabufCreateList,
  F_GETFD,
  F_GETFL,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FD_CLOEXEC,
  io,
  ior,
  iowr,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_CLOEXEC,
  O_ACCMODE,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  POLLIN,
  POLLOUT,
  POLLPRI,
  PROT_READ,
  PROT_WRITE,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  SYNC_IOC_SET_DEADLINE,
  syncFileInfoStruct,
  syncMergeDataStruct,
  syncSetDeadlineStruct,
  UDMABUF_CREATE_LIST,
  UDMABUF_FLAGS_CLOEXEC,
  udmabufCreateItemStruct,
  udmabufCreateListStruct,
} from '../src/abi/index.js';
import type { KernelPort } from '../src/kernel/port.js';
import {
  allocRequest,
  exportSyncFile,
  heapAlloc,
  openHeap,
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
import { scenario } from './support/kernel-under-test.js';

const MiB = 1 << 20;
const PARAMS = '/sys/module/udmabuf/parameters';

/** A fd that is neither a DMABUF nor a memfd (the probe used a pipe). */
async function notAMemfd(s: Session): Promise<number> {
  return s.keep(await s.k.open(`${PARAMS}/size_limit_mb`, O_RDONLY));
}

/** Writes a udmabuf module parameter for the test, restoring its value afterwards. */
async function withParam(k: KernelPort, name: string, value: string, body: () => void | Promise<void>): Promise<void> {
  const old = await k.readText(`${PARAMS}/${name}`);
  await k.writeText(`${PARAMS}/${name}`, value);
  try {
    await body();
  } finally {
    await k.writeText(`${PARAMS}/${name}`, old);
  }
}

// ---- DMA heaps (recorded) ------------------------------------------------------------------

scenario('heap_open', async (t) => {
  // kernel-abi §4.1
  const s = session(t);
  const fd = await openHeap(s);
  assert.ok(fd >= 0);
});

scenario('heap_alloc_ok', async (t) => {
  // kernel-abi §4.1: fd_flags O_RDWR|O_CLOEXEC → a close-on-exec DMABUF fd in the struct
  const s = session(t);
  const heap = await openHeap(s);
  const arg = allocRequest(SIZE_64K);
  assert.equal(s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg), 0);
  const fd = s.keep(dmaHeapAllocationDataStruct.decode(arg).fd);
  assert.ok(fd > heap);
  assert.equal(s.k.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.equal(s.k.lseek(fd, 0, SEEK_END), SIZE_64K);
});

scenario('heap_alloc_fd_nonzero', async (t) => {
  // kernel-abi §4.1: fd is output only and must be 0 on input
  const s = session(t);
  const heap = await openHeap(s);
  assert.throws(() => s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, allocRequest(SIZE_64K, O_RDWR | O_CLOEXEC, { fd: 5 })), { code: 'EINVAL' });
});

scenario('heap_alloc_heap_flags', async (t) => {
  // kernel-abi §4.1: no heap flags are defined
  const s = session(t);
  const heap = await openHeap(s);
  assert.throws(() => s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, allocRequest(SIZE_64K, O_RDWR, { heapFlags: 1n })), { code: 'EINVAL' });
});

scenario('heap_alloc_bad_fd_flags', async (t) => {
  // kernel-abi §4.1: fd_flags may hold only O_CLOEXEC and O_ACCMODE bits
  const s = session(t);
  const heap = await openHeap(s);
  assert.throws(() => s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, allocRequest(SIZE_64K, O_RDWR | O_NONBLOCK)), { code: 'EINVAL' });
});

scenario('heap_alloc_len0', async (t) => {
  // kernel-abi §4.1: a length that rounds to 0 pages
  const s = session(t);
  const heap = await openHeap(s);
  assert.throws(() => s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, allocRequest(0)), { code: 'EINVAL' });
});

scenario('heap_alloc_len_rounding', async (t) => {
  // kernel-abi §4.1: len is rounded up to a whole page
  const s = session(t);
  const fd = await heapAlloc(s, 100);
  assert.equal(s.k.lseek(fd, 0, SEEK_END), 4096);
});

scenario('heap_ioctl_nr1', async (t) => {
  // kernel-abi §4.1: dispatch by _IOC_NR; nr ≥ 1 → EINVAL even with a valid struct
  const s = session(t);
  const heap = await openHeap(s);
  assert.throws(() => s.k.ioctl(heap, iowr('H', 1, dmaHeapAllocationDataStruct), allocRequest(SIZE_64K)), { code: 'EINVAL' });
});

scenario('heap_ioctl_nr0_short_struct', async (t) => {
  // kernel-abi §4.1: nr 0 with a 16-byte struct is ALLOC, heap_flags zero-filled
  const s = session(t);
  const heap = await openHeap(s);
  const arg = allocRequest(SIZE_64K).slice(0, 16);
  assert.equal(s.k.ioctl(heap, iowr('H', 0, 16), arg), 0);
  const fd = s.keep(new DataView(arg.buffer).getUint32(8, true));
  assert.equal(s.k.lseek(fd, 0, SEEK_END), SIZE_64K);
});

scenario('heap_rdonly_writable_mmap', async (t) => {
  // kernel-abi §4.1: fd_flags O_RDONLY gives a read-only file: a writable MAP_SHARED mmap is
  // EACCES, a read-only one works
  const s = session(t);
  const fd = await heapAlloc(s, SIZE_64K, O_RDONLY);
  assert.throws(() => s.k.mmap(fd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED), { code: 'EACCES' });
  const mapping = s.k.mmap(fd, SIZE_64K, PROT_READ, MAP_SHARED);
  assert.equal(mapping.byteLength, SIZE_64K);
  s.k.munmap(mapping);
});

// ---- the DMABUF fd (recorded) --------------------------------------------------------------

scenario('dmabuf_lseek_end', async (t) => {
  // kernel-abi §4.3
  const s = session(t);
  assert.equal(s.k.lseek(await heapAlloc(s), 0, SEEK_END), SIZE_64K);
});

scenario('dmabuf_lseek_set0', async (t) => {
  // kernel-abi §4.3
  const s = session(t);
  assert.equal(s.k.lseek(await heapAlloc(s), 0, SEEK_SET), 0);
});

scenario('dmabuf_lseek_cur0', async (t) => {
  // kernel-abi §4.3: only SEEK_END and SEEK_SET with offset 0
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.lseek(fd, 0, SEEK_CUR), { code: 'EINVAL' });
});

scenario('dmabuf_lseek_end_nonzero', async (t) => {
  // kernel-abi §4.3
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.lseek(fd, 1, SEEK_END), { code: 'EINVAL' });
});

scenario('dmabuf_sync_flags0', async (t) => {
  // kernel-abi §4.4: neither READ nor WRITE
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(0)), { code: 'EINVAL' });
});

scenario('dmabuf_sync_flags_bit8', async (t) => {
  // kernel-abi §4.4: a bit outside 7
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(0x100)), { code: 'EINVAL' });
});

scenario('dmabuf_sync_flags_read_bit8', async (t) => {
  // kernel-abi §4.4: a valid direction does not excuse a bit outside 7
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_READ | 0x100)), { code: 'EINVAL' });
});

scenario('dmabuf_sync_end_no_rw', async (t) => {
  // kernel-abi §4.4: END alone has no direction
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END)), { code: 'EINVAL' });
});

scenario('dmabuf_sync_start_rw', async (t) => {
  // kernel-abi §4.4: START with no fences returns at once
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW)), 0);
});

scenario('dmabuf_sync_end_rw', async (t) => {
  // kernel-abi §4.4
  const s = session(t);
  const fd = await heapAlloc(s);
  s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
  assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)), 0);
});

scenario('dmabuf_unknown_ioctl', async (t) => {
  // kernel-abi §7 item 17: ENOTTY on a DMABUF fd
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => s.k.ioctl(fd, io('b', 0x7f)), { code: 'ENOTTY' });
});

scenario('dmabuf_set_name_31', async (t) => {
  // kernel-abi §4.5: 31 characters plus the NUL fit DMA_BUF_NAME_LEN
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.equal(s.k.ioctl(fd, DMA_BUF_SET_NAME_B, encodeDmaBufName('n'.repeat(31))), 0);
});

scenario('dmabuf_set_name_32', async (t) => {
  // kernel-abi §4.5: 32 characters leave no room for the NUL
  const s = session(t);
  const fd = await heapAlloc(s);
  const name = new Uint8Array(33).fill(0x6e);
  name[32] = 0;
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_SET_NAME_B, name), { code: 'EINVAL' });
});

scenario('dmabuf_set_name_A', async (t) => {
  // kernel-abi §4.5: the u32-sized request number is accepted too
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.equal(s.k.ioctl(fd, DMA_BUF_SET_NAME_A, encodeDmaBufName('probe')), 0);
});

scenario('dmabuf_fdinfo', async (t) => {
  // kernel-abi §4.3: fdinfo shows size, count, exp_name and name (recorded: size 65536,
  // flags 02000002, exp_name system, name probe). The port has no /proc, so this checks what it
  // can see of the same fields on both kernels: the size through lseek, the flags (O_RDWR,
  // close-on-exec) through fcntl, and the name through the fd's /proc/self/fd link, which the
  // dma-buf filesystem renders as "/dmabuf:<name>" and the port reports as the `path` of an
  // error on the fd. exp_name and count are not visible through the port.
  const s = session(t);
  const fd = await heapAlloc(s);
  s.k.ioctl(fd, DMA_BUF_SET_NAME_A, encodeDmaBufName('probe'));
  assert.equal(s.k.lseek(fd, 0, SEEK_END), SIZE_64K);
  assert.equal(s.k.fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
  assert.equal(s.k.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.throws(() => s.k.ioctl(fd, io('b', 0x7f)), { code: 'ENOTTY', path: '/dmabuf:probe' });
});

scenario('export_sync_flags0', async (t) => {
  // kernel-abi §4.6: READ, WRITE or both
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => exportSyncFile(s, fd, 0), { code: 'EINVAL' });
});

scenario('export_sync_flags4', async (t) => {
  // kernel-abi §4.6: any other bit
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.throws(() => exportSyncFile(s, fd, 4), { code: 'EINVAL' });
});

scenario('export_sync_no_fences', async (t) => {
  // kernel-abi §4.6: no fences → the signalled stub; the sync_file fd is O_CLOEXEC
  const s = session(t);
  const sync = exportSyncFile(s, await heapAlloc(s), DMA_BUF_SYNC_RW);
  assert.equal(s.k.fcntl(sync, F_GETFD), FD_CLOEXEC);
  const info = syncFileInfo(s.k, sync);
  assert.equal(info.status, 1);
  assert.equal(info.numFences, 1);
  assert.equal(info.fences[0]!.driverName, 'stub');
  assert.equal(info.fences[0]!.objName, 'stub');
  assert.equal(info.fences[0]!.status, 1);
});

scenario('import_sync_bad_fd', async (t) => {
  // kernel-abi §4.6: a bad sync_file fd is EINVAL (not EBADF)
  const s = session(t);
  const fd = await heapAlloc(s);
  const arg = dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_RW, fd: -1 });
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg), { code: 'EINVAL' });
});

scenario('dmabuf_poll_no_fences', async (t) => {
  // kernel-abi §2.9: with no fences the DMABUF is readable and writable at once
  const s = session(t);
  const fd = await heapAlloc(s);
  assert.equal(await pollWithin(s.k, fd, POLLIN, 1000), POLLIN);
  assert.equal(await pollWithin(s.k, fd, POLLOUT, 1000), POLLOUT);
});

// ---- udmabuf (recorded) --------------------------------------------------------------------

scenario('udmabuf_create_ok', async (t) => {
  // kernel-abi §4.2: the fd is the return value, O_RDWR, close-on-exec as asked
  const s = session(t);
  const dev = await openUdmabuf(s);
  const fd = udmabufCreate(s, dev, sealedMemfd(s), { flags: UDMABUF_FLAGS_CLOEXEC });
  assert.ok(fd >= 0);
  assert.equal(s.k.fcntl(fd, F_GETFD), FD_CLOEXEC);
  assert.equal(s.k.fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
  assert.equal(s.k.lseek(fd, 0, SEEK_END), SIZE_64K);
});

scenario('udmabuf_mmap_private', async (t) => {
  // kernel-abi §4.2: udmabuf needs MAP_SHARED
  const s = session(t);
  const fd = udmabufCreate(s, await openUdmabuf(s), sealedMemfd(s));
  assert.throws(() => s.k.mmap(fd, SIZE_64K, PROT_READ, MAP_PRIVATE), { code: 'EINVAL' });
});

scenario('udmabuf_sync_end_without_start', async (t) => {
  // kernel-abi §4.4: no sg table before the first START
  const s = session(t);
  const fd = udmabufCreate(s, await openUdmabuf(s), sealedMemfd(s));
  assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)), { code: 'EINVAL' });
});

scenario('udmabuf_create_no_cloexec', async (t) => {
  // kernel-abi §4.2: close-on-exec only with UDMABUF_FLAGS_CLOEXEC
  const s = session(t);
  const fd = udmabufCreate(s, await openUdmabuf(s), sealedMemfd(s), { flags: 0 });
  assert.equal(s.k.fcntl(fd, F_GETFD), 0);
});

scenario('udmabuf_unaligned_size', async (t) => {
  // kernel-abi §4.2
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s), { size: 100 }), { code: 'EINVAL' });
});

scenario('udmabuf_unaligned_offset', async (t) => {
  // kernel-abi §4.2
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s), { offset: 100, size: 4096 }), { code: 'EINVAL' });
});

scenario('udmabuf_size0', async (t) => {
  // kernel-abi §4.2: at least one page
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s), { size: 0 }), { code: 'EINVAL' });
});

scenario('udmabuf_over_64MiB', async (t) => {
  // kernel-abi §4.2: size_limit_mb = 64 (the memfd is big enough, so only the limit refuses it)
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s, 65 * MiB), { size: 65 * MiB }), { code: 'EINVAL' });
});

scenario('udmabuf_no_seal_shrink', async (t) => {
  // kernel-abi §4.2: F_SEAL_SHRINK is required
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s, SIZE_64K, 0)), { code: 'EINVAL' });
});

scenario('udmabuf_seal_write', async (t) => {
  // kernel-abi §4.2: F_SEAL_WRITE is refused
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s, SIZE_64K, F_SEAL_SHRINK | F_SEAL_WRITE)), { code: 'EINVAL' });
});

scenario('udmabuf_not_memfd', async (t) => {
  // kernel-abi §4.2: not shmem → EBADFD (recorded with a pipe; here a sysfs attribute)
  const s = session(t);
  const dev = await openUdmabuf(s);
  const other = await notAMemfd(s);
  assert.throws(() => udmabufCreate(s, dev, other), { code: 'EBADFD' });
});

scenario('udmabuf_closed_memfd', async (t) => {
  // kernel-abi §4.2: an fd that is not open → EBADFD (not EBADF)
  const s = session(t);
  const dev = await openUdmabuf(s);
  const memfd = sealedMemfd(s);
  s.close(memfd);
  assert.throws(() => udmabufCreate(s, dev, memfd), { code: 'EBADFD' });
});

scenario('udmabuf_unknown_ioctl', async (t) => {
  // kernel-abi §4.2
  const s = session(t);
  const dev = await openUdmabuf(s);
  assert.throws(() => s.k.ioctl(dev, io('u', 0x7f)), { code: 'ENOTTY' });
});

scenario('udmabuf_list_count_over_limit', async (t) => {
  // kernel-abi §4.2: list_limit 1024, checked before the items are read (the port wants the
  // bytes of all 1025 items, as it cannot know the limit; they are zero)
  const s = session(t);
  const dev = await openUdmabuf(s);
  const list = new Uint8Array(udmabufCreateListStruct.size + 1025 * udmabufCreateItemStruct.size);
  udmabufCreateListStruct.encode({ flags: 0, count: 1025 }, list);
  assert.throws(() => s.k.ioctl(dev, UDMABUF_CREATE_LIST, list), { code: 'EINVAL' });
});

scenario('udmabuf_create_list_ok', async (t) => {
  // kernel-abi §4.2: two 64 KiB items (from two memfds) make one 128 KiB DMABUF
  const s = session(t);
  const dev = await openUdmabuf(s);
  const list = encodeUdmabufCreateList({
    items: [
      { memfd: sealedMemfd(s), offset: 0, size: SIZE_64K },
      { memfd: sealedMemfd(s), offset: 0, size: SIZE_64K },
    ],
  });
  const fd = s.keep(s.k.ioctl(dev, UDMABUF_CREATE_LIST, list));
  assert.ok(fd >= 0);
  assert.equal(s.k.lseek(fd, 0, SEEK_END), 131072);
});

scenario('udmabuf_size_limit_param', async (t) => {
  // kernel-abi §4.2: the module parameter, 64, mode 0644
  const { k } = session(t);
  assert.equal(await k.readText(`${PARAMS}/size_limit_mb`), '64\n');
  assert.equal((await k.stat(`${PARAMS}/size_limit_mb`)).mode, 0o644);
});

// ---- beyond the recording: the port's argument rules ---------------------------------------

describe('ioctl arguments', () => {
  test('bytes shorter than the size the request encodes are a RangeError, before the kernel sees them', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, new Uint8Array(4)), RangeError);
    // a name without its NUL in the bytes given: the kernel would read on past them
    assert.throws(() => s.k.ioctl(fd, DMA_BUF_SET_NAME_B, new Uint8Array(4).fill(0x6e)), RangeError);
  });

  test('a struct ioctl given a number instead of bytes is a TypeError, before the kernel sees it', async (t) => {
    // kernel-abi §4.4: the argument is copied from the caller's memory, so it must be bytes
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, 0), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });
});

// ---- beyond the recording: heaps -----------------------------------------------------------

describe('DMA heap allocation (kernel-abi §4.1)', () => {
  test('without O_CLOEXEC the DMABUF fd is inherited across exec, and the access mode is the one asked for', async (t) => {
    const s = session(t);
    const rw = await heapAlloc(s, SIZE_64K, O_RDWR);
    assert.equal(s.k.fcntl(rw, F_GETFD), 0);
    assert.equal(s.k.fcntl(rw, F_GETFL) & O_ACCMODE, O_RDWR);
    const ro = await heapAlloc(s, SIZE_64K, O_RDONLY | O_CLOEXEC);
    assert.equal(s.k.fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
  });

  test('a request without _IOC_WRITE copies nothing in: len reads as 0 → EINVAL', async (t) => {
    // the in/out sizes are reconciled with the request's direction bits; missing bytes are zero
    const s = session(t);
    const heap = await openHeap(s);
    const arg = allocRequest(SIZE_64K);
    assert.throws(() => s.k.ioctl(heap, ior('H', 0, dmaHeapAllocationDataStruct), arg), { code: 'EINVAL' });
  });

  test('a longer struct with nr 0 is ALLOC too, and the fd comes back at offset 8', async (t) => {
    const s = session(t);
    const heap = await openHeap(s);
    const arg = new Uint8Array(32);
    allocRequest(8192).forEach((b, i) => (arg[i] = b));
    assert.equal(s.k.ioctl(heap, iowr('H', 0, 32), arg), 0);
    const fd = s.keep(dmaHeapAllocationDataStruct.decode(arg).fd);
    assert.equal(s.k.lseek(fd, 0, SEEK_END), 8192);
  });

  test('heap memory starts zeroed and keeps its bytes from one mapping to the next', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    const first = s.k.mmap(fd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED);
    assert.ok(first.every((b) => b === 0));
    first.set([1, 2, 3], SIZE_64K - 3);
    s.k.munmap(first);
    assert.equal(first.byteLength, 0, 'munmap detaches the mapping');
    const second = s.k.mmap(fd, SIZE_64K, PROT_READ, MAP_SHARED);
    assert.deepEqual([...second.subarray(SIZE_64K - 3)], [1, 2, 3]);
    s.k.munmap(second);
  });

  test('two mappings of one DMABUF are the same memory', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    const a = s.k.mmap(fd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED);
    const b = s.k.mmap(fd, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, SIZE_64K - 4096);
    b[0] = 0x5a;
    assert.equal(a[SIZE_64K - 4096], 0x5a);
    a[SIZE_64K - 1] = 0xa5;
    assert.equal(b[4095], 0xa5);
    s.k.munmap(b);
    s.k.munmap(a);
  });
});

// ---- beyond the recording: the DMABUF fd ----------------------------------------------------

describe('DMABUF fd (kernel-abi §4.3–§4.5, §2.9)', () => {
  test('mmap must stay within the buffer', async (t) => {
    // kernel-abi §4.3: pgoff + pages > size / PAGE_SIZE → EINVAL
    const s = session(t);
    const fd = await heapAlloc(s);
    const page = s.k.pageSize;
    assert.throws(() => s.k.mmap(fd, SIZE_64K + 1, PROT_READ, MAP_SHARED), { code: 'EINVAL' });
    assert.throws(() => s.k.mmap(fd, SIZE_64K, PROT_READ, MAP_SHARED, page), { code: 'EINVAL' });
    assert.throws(() => s.k.mmap(fd, page, PROT_READ, MAP_SHARED, SIZE_64K), { code: 'EINVAL' });
    const last = s.k.mmap(fd, page, PROT_READ, MAP_SHARED, SIZE_64K - page);
    assert.equal(last.byteLength, page);
    s.k.munmap(last);
  });

  test('lseek SEEK_SET to anything but 0 is EINVAL', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.throws(() => s.k.lseek(fd, 4096, SEEK_SET), { code: 'EINVAL' });
  });

  test('a DMABUF has no read(): EINVAL', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    await assert.rejects(s.k.read(fd, new Uint8Array(16)), { code: 'EINVAL' });
  });

  test('every direction of DMA_BUF_IOCTL_SYNC, bracketed START…END, succeeds without fences', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    for (const rw of [DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_RW]) {
      assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | rw)), 0);
      assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END | rw)), 0);
    }
  });

  test('poll() evaluates only POLLIN and POLLOUT: POLLPRI is never ready', async (t) => {
    // kernel-abi §2.9: the kernel masks with the requested events
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.equal(await pollWithin(s.k, fd, POLLPRI, 50), 0);
    assert.equal(await pollWithin(s.k, fd, POLLIN | POLLOUT, 1000), POLLIN | POLLOUT);
  });

  test('the name given by DMA_BUF_SET_NAME shows in the fd link, and can be changed', async (t) => {
    // kernel-abi §4.5; the link text is "/dmabuf:<name>"
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.throws(() => s.k.ioctl(fd, io('b', 0x7f)), { path: '/dmabuf:' });
    s.k.ioctl(fd, DMA_BUF_SET_NAME_B, encodeDmaBufName('rx0'));
    s.k.ioctl(fd, DMA_BUF_SET_NAME_B, encodeDmaBufName('rx1'));
    assert.throws(() => s.k.ioctl(fd, io('b', 0x7f)), { path: '/dmabuf:rx1' });
  });

  test('export and import take READ, WRITE or both, nothing else', async (t) => {
    // kernel-abi §4.6
    const s = session(t);
    const fd = await heapAlloc(s);
    assert.throws(() => exportSyncFile(s, fd, DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END), { code: 'EINVAL' });
    const sync = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    for (const flags of [0, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ | 8]) {
      const arg = dmaBufImportSyncFileStruct.encode({ flags, fd: sync });
      assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, arg), { code: 'EINVAL' });
    }
  });

  test('import of an fd that is not a sync_file is EINVAL; of a signalled one, harmless', async (t) => {
    // kernel-abi §4.6 (a memfd stands for any other file)
    const s = session(t);
    const fd = await heapAlloc(s);
    const memfd = s.keep(s.k.memfdCreate('not-a-sync-file', MFD_CLOEXEC));
    assert.throws(() => s.k.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_WRITE, fd: memfd })), {
      code: 'EINVAL',
    });
    const stub = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, dmaBufImportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_WRITE, fd: stub })), 0);
    assert.equal(await pollWithin(s.k, fd, POLLIN | POLLOUT, 1000), POLLIN | POLLOUT);
  });

  test('each export is a new sync_file fd', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    const a = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    const b = exportSyncFile(s, fd, DMA_BUF_SYNC_READ);
    assert.notEqual(a, b);
    assert.ok(a !== fd && b !== fd);
  });
});

// ---- beyond the recording: sync_file --------------------------------------------------------

describe('sync_file (kernel-abi §4.6)', () => {
  test('the stub is ready for POLLIN and named after its fence', async (t) => {
    const s = session(t);
    const sync = exportSyncFile(s, await heapAlloc(s), DMA_BUF_SYNC_WRITE);
    assert.equal(await pollWithin(s.k, sync, POLLIN, 1000), POLLIN);
    const info = syncFileInfo(s.k, sync);
    assert.equal(info.name, 'stub-stub0-0'); // <driver>-<timeline><context>-<seqno>
    assert.equal(info.foldedStatus, 1);
    assert.equal(info.fences[0]!.flags, 0);
    assert.ok(info.fences[0]!.timestampNs > 0n, 'a signalled fence has a timestamp');
  });

  test('SYNC_IOC_FILE_INFO refuses flags, pad, a short array and a missing array', async (t) => {
    const s = session(t);
    const sync = exportSyncFile(s, await heapAlloc(s), DMA_BUF_SYNC_RW);
    assert.throws(() => s.k.ioctl(sync, SYNC_IOC_FILE_INFO, syncFileInfoStruct.encode({ flags: 1 })), { code: 'EINVAL' });
    assert.throws(() => s.k.ioctl(sync, SYNC_IOC_FILE_INFO, syncFileInfoStruct.encode({ pad: 1 })), { code: 'EINVAL' });
    // num_fences 1 with no array pointer (0): the kernel cannot write the array
    assert.throws(() => s.k.ioctl(sync, SYNC_IOC_FILE_INFO, syncFileInfoStruct.encode({ numFences: 1 })), { code: 'EFAULT' });
  });

  test('SYNC_IOC_SET_DEADLINE takes a deadline; pad must be 0', async (t) => {
    const s = session(t);
    const sync = exportSyncFile(s, await heapAlloc(s), DMA_BUF_SYNC_RW);
    assert.equal(s.k.ioctl(sync, SYNC_IOC_SET_DEADLINE, syncSetDeadlineStruct.encode({ deadlineNs: 1_000_000n })), 0);
    assert.throws(() => s.k.ioctl(sync, SYNC_IOC_SET_DEADLINE, syncSetDeadlineStruct.encode({ deadlineNs: 1n, pad: 1n })), { code: 'EINVAL' });
  });

  test('SYNC_IOC_MERGE makes a new close-on-exec sync_file with the given name', async (t) => {
    const s = session(t);
    const fd = await heapAlloc(s);
    const a = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    const b = exportSyncFile(s, fd, DMA_BUF_SYNC_RW);
    const memfd = s.keep(s.k.memfdCreate('not-a-sync-file', MFD_CLOEXEC));
    assert.throws(() => s.k.ioctl(a, SYNC_IOC_MERGE, syncMergeDataStruct.encode({ name: 'm', fd2: b, flags: 1 })), { code: 'EINVAL' });
    assert.throws(() => s.k.ioctl(a, SYNC_IOC_MERGE, syncMergeDataStruct.encode({ name: 'm', fd2: memfd })), { code: 'ENOENT' });
    const arg = syncMergeDataStruct.encode({ name: 'both', fd2: b });
    assert.equal(s.k.ioctl(a, SYNC_IOC_MERGE, arg), 0);
    const merged = s.keep(syncMergeDataStruct.decode(arg).fence);
    assert.equal(s.k.fcntl(merged, F_GETFD), FD_CLOEXEC);
    const info = syncFileInfo(s.k, merged);
    assert.equal(info.name, 'both');
    assert.equal(info.status, 1); // merging signalled fences leaves a signalled stub
    assert.equal(info.numFences, 1);
  });

  test('a sync_file has no other ioctl: ENOTTY', async (t) => {
    const s = session(t);
    const sync = exportSyncFile(s, await heapAlloc(s), DMA_BUF_SYNC_RW);
    assert.throws(() => s.k.ioctl(sync, io('>', 0x7f)), { code: 'ENOTTY' });
  });
});

// ---- beyond the recording: udmabuf ---------------------------------------------------------

describe('udmabuf (kernel-abi §4.2)', () => {
  test('the udmabuf and its memfd share their pages both ways, with no copy', async (t) => {
    const s = session(t);
    const memfd = sealedMemfd(s);
    const viaMemfd = s.k.mmap(memfd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED);
    viaMemfd[10] = 0x11; // written before the udmabuf exists
    const fd = udmabufCreate(s, await openUdmabuf(s), memfd);
    const viaDmabuf = s.k.mmap(fd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED);
    assert.equal(viaDmabuf[10], 0x11);
    viaDmabuf[20] = 0x22;
    assert.equal(viaMemfd[20], 0x22);
    viaMemfd[30] = 0x33;
    assert.equal(viaDmabuf[30], 0x33);
    s.k.munmap(viaDmabuf);
    assert.equal(viaMemfd[20], 0x22, 'unmapping the udmabuf leaves the memfd mapping alone');
    s.k.munmap(viaMemfd);
    // (the sim detaches shared pages' views when their last mapping goes, so check after both)
    assert.equal(viaDmabuf.byteLength, 0, 'munmap detaches the mapping');
    assert.equal(viaMemfd.byteLength, 0, 'munmap detaches the mapping');
  });

  test('offset selects where in the memfd the DMABUF starts', async (t) => {
    const s = session(t);
    const page = s.k.pageSize;
    const memfd = sealedMemfd(s, 4 * page);
    const viaMemfd = s.k.mmap(memfd, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
    viaMemfd[page] = 0x42;
    const fd = udmabufCreate(s, await openUdmabuf(s), memfd, { offset: page, size: 2 * page });
    assert.equal(s.k.lseek(fd, 0, SEEK_END), 2 * page);
    const viaDmabuf = s.k.mmap(fd, 2 * page, PROT_READ, MAP_SHARED);
    assert.equal(viaDmabuf[0], 0x42);
    s.k.munmap(viaDmabuf);
    s.k.munmap(viaMemfd);
  });

  test('the udmabuf keeps the pages after the memfd fd is closed', async (t) => {
    const s = session(t);
    const memfd = sealedMemfd(s);
    const fd = udmabufCreate(s, await openUdmabuf(s), memfd);
    const before = s.k.mmap(fd, SIZE_64K, PROT_READ | PROT_WRITE, MAP_SHARED);
    before[0] = 0x7e;
    s.k.munmap(before);
    s.close(memfd);
    const after = s.k.mmap(fd, SIZE_64K, PROT_READ, MAP_SHARED);
    assert.equal(after[0], 0x7e);
    s.k.munmap(after);
  });

  test('a range beyond the end of the memfd is refused', async (t) => {
    // not in kernel-abi: shmem does not hand out pages beyond EOF → EINVAL
    const s = session(t);
    const dev = await openUdmabuf(s);
    assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s, SIZE_64K), { offset: s.k.pageSize, size: SIZE_64K }), { code: 'EINVAL' });
  });

  test('F_SEAL_FUTURE_WRITE is refused like F_SEAL_WRITE; a memfd that cannot take seals lacks F_SEAL_SHRINK', async (t) => {
    const s = session(t);
    const dev = await openUdmabuf(s);
    assert.throws(() => udmabufCreate(s, dev, sealedMemfd(s, SIZE_64K, F_SEAL_SHRINK | F_SEAL_FUTURE_WRITE)), { code: 'EINVAL' });
    const unsealable = s.keep(s.k.memfdCreate('no-sealing', MFD_CLOEXEC));
    s.k.ftruncate(unsealable, SIZE_64K);
    assert.throws(() => udmabufCreate(s, dev, unsealable), { code: 'EINVAL' });
  });

  test('SYNC END works once a START has happened', async (t) => {
    // kernel-abi §4.4: START builds the sg table END needs
    const s = session(t);
    const fd = udmabufCreate(s, await openUdmabuf(s), sealedMemfd(s));
    assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ)), 0);
    assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ)), 0);
    assert.equal(s.k.ioctl(fd, DMA_BUF_IOCTL_SYNC, syncArg(DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW)), 0);
  });

  test('CREATE_LIST: contiguous items of one memfd map as one range of it', async (t) => {
    const s = session(t);
    const page = s.k.pageSize;
    const memfd = sealedMemfd(s, 4 * page);
    const viaMemfd = s.k.mmap(memfd, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED);
    viaMemfd.set([1, 2], 2 * page - 1); // straddles the two items
    const list = encodeUdmabufCreateList({
      flags: UDMABUF_FLAGS_CLOEXEC,
      items: [
        { memfd, offset: 0, size: 2 * page },
        { memfd, offset: 2 * page, size: 2 * page },
      ],
    });
    const fd = s.keep(s.k.ioctl(await openUdmabuf(s), UDMABUF_CREATE_LIST, list));
    assert.equal(s.k.fcntl(fd, F_GETFD), FD_CLOEXEC);
    assert.equal(s.k.fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    const viaDmabuf = s.k.mmap(fd, 4 * page, PROT_READ, MAP_SHARED);
    assert.deepEqual([...viaDmabuf.subarray(2 * page - 1, 2 * page + 1)], [1, 2]);
    s.k.munmap(viaDmabuf);
    s.k.munmap(viaMemfd);
  });

  test('CREATE_LIST: alignment is checked for every item before any memfd; an empty list is EINVAL', async (t) => {
    const s = session(t);
    const dev = await openUdmabuf(s);
    const good = sealedMemfd(s);
    const notMemfd = await notAMemfd(s);
    const items = (second: { memfd: number; offset: number; size: number }) =>
      encodeUdmabufCreateList({ items: [{ memfd: notMemfd, offset: 0, size: 4096 }, second] });
    assert.throws(() => s.k.ioctl(dev, UDMABUF_CREATE_LIST, items({ memfd: good, offset: 0, size: 100 })), { code: 'EINVAL' });
    assert.throws(() => s.k.ioctl(dev, UDMABUF_CREATE_LIST, items({ memfd: good, offset: 0, size: 4096 })), { code: 'EBADFD' });
    assert.throws(() => s.k.ioctl(dev, UDMABUF_CREATE_LIST, encodeUdmabufCreateList({ items: [] })), { code: 'EINVAL' });
  });

  test('size_limit_mb is writable and limits the total size', async (t) => {
    const s = session(t);
    const dev = await openUdmabuf(s);
    const memfd = sealedMemfd(s, 2 * MiB);
    await withParam(s.k, 'size_limit_mb', '1', () => {
      assert.throws(() => udmabufCreate(s, dev, memfd, { size: 2 * MiB }), { code: 'EINVAL' });
      assert.ok(udmabufCreate(s, dev, memfd, { size: MiB }) >= 0);
    });
    await assert.rejects(s.k.writeText(`${PARAMS}/size_limit_mb`, 'lots\n'), { code: 'EINVAL' });
    assert.equal(await s.k.readText(`${PARAMS}/size_limit_mb`), '64\n');
  });

  test('list_limit is writable and limits the item count', async (t) => {
    const s = session(t);
    const dev = await openUdmabuf(s);
    assert.equal(await s.k.readText(`${PARAMS}/list_limit`), '1024\n');
    const memfd = sealedMemfd(s);
    const two = encodeUdmabufCreateList({
      items: [
        { memfd, offset: 0, size: 4096 },
        { memfd, offset: 4096, size: 4096 },
      ],
    });
    await withParam(s.k, 'list_limit', '1', () => {
      assert.throws(() => s.k.ioctl(dev, UDMABUF_CREATE_LIST, two), { code: 'EINVAL' });
    });
    assert.ok(s.keep(s.k.ioctl(dev, UDMABUF_CREATE_LIST, two)) >= 0);
  });

  test('a udmabuf fd is a DMABUF fd like any other', async (t) => {
    const s = session(t);
    const fd = udmabufCreate(s, await openUdmabuf(s), sealedMemfd(s));
    assert.equal(await pollWithin(s.k, fd, POLLIN | POLLOUT, 1000), POLLIN | POLLOUT);
    assert.equal(syncFileInfo(s.k, exportSyncFile(s, fd, DMA_BUF_SYNC_RW)).status, 1);
    assert.equal(s.k.ioctl(fd, DMA_BUF_SET_NAME_B, encodeDmaBufName('u')), 0);
  });
});
