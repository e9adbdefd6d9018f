// DMABUF helpers for conformance tests, written against the Kernel port only so they run on the
// simulated and the real kernel alike (kernel-abi §4): heap allocations, sealed memfds and
// udmabufs, sync-file export and SYNC_IOC_FILE_INFO, and bounded readiness checks. Every fd a
// test opens through a Session is closed after the test.
import type { TestContext } from 'node:test';
import {
  dmaBufSyncStruct,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_HEAP_IOCTL_ALLOC,
  dmaBufExportSyncFileStruct,
  dmaHeapAllocationDataStruct,
  F_ADD_SEALS,
  F_SEAL_SHRINK,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  O_CLOEXEC,
  O_RDWR,
  SYNC_IOC_FILE_INFO,
  syncFenceInfoStruct,
  syncFileInfoStruct,
  UDMABUF_CREATE,
  udmabufCreateStruct,
  type SyncFenceInfo,
} from '../../src/abi/index.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { kernelUnderTest } from './kernel-under-test.js';

export const SIZE_64K = 65536;

/** A kernel and the fds one test opened on it. */
export interface Session {
  readonly k: KernelPort;
  /** Remembers `fd` for closing after the test; returns it. */
  keep(fd: number): number;
  /** Closes `fd` now. */
  close(fd: number): void;
}

export function session(t: TestContext, k: KernelPort = kernelUnderTest()): Session {
  const fds = new Set<number>();
  t.after(() => {
    for (const fd of [...fds].reverse()) {
      try {
        k.close(fd);
      } catch {
        // already closed by the test
      }
    }
  });
  return {
    k,
    keep: (fd) => (fds.add(fd), fd),
    close: (fd) => {
      fds.delete(fd);
      k.close(fd);
    },
  };
}

/** A dma_heap_allocation_data argument. */
export function allocRequest(len: number | bigint, fdFlags = O_RDWR | O_CLOEXEC, extra: { fd?: number; heapFlags?: bigint } = {}): Uint8Array {
  return dmaHeapAllocationDataStruct.encode({ len, fdFlags, ...extra });
}

/** Opens /dev/dma_heap/<heap> (kept open for the test). */
export async function openHeap(s: Session, heap = 'system'): Promise<number> {
  return s.keep(await s.k.open(`/dev/dma_heap/${heap}`, O_RDWR));
}

/** A DMABUF from a heap: the new fd. */
export async function heapAlloc(s: Session, len = SIZE_64K, fdFlags = O_RDWR | O_CLOEXEC): Promise<number> {
  const heap = await openHeap(s);
  const arg = allocRequest(len, fdFlags);
  s.k.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg);
  return s.keep(dmaHeapAllocationDataStruct.decode(arg).fd);
}

/** A memfd of `size` bytes with `seals` (F_SEAL_SHRINK by default: what udmabuf needs). */
export function sealedMemfd(s: Session, size = SIZE_64K, seals = F_SEAL_SHRINK): number {
  const fd = s.keep(s.k.memfdCreate('iiojs-dmabuf-test', MFD_CLOEXEC | MFD_ALLOW_SEALING));
  s.k.ftruncate(fd, size);
  if (seals !== 0) s.k.fcntl(fd, F_ADD_SEALS, seals);
  return fd;
}

/** Opens /dev/udmabuf (kept open for the test). */
export async function openUdmabuf(s: Session): Promise<number> {
  return s.keep(await s.k.open('/dev/udmabuf', O_RDWR));
}

/** UDMABUF_CREATE on `dev`: the new fd (the ioctl's return value). */
export function udmabufCreate(s: Session, dev: number, memfd: number, options: { offset?: number; size?: number; flags?: number } = {}): number {
  const arg = udmabufCreateStruct.encode({ memfd, flags: options.flags ?? 0, offset: options.offset ?? 0, size: options.size ?? SIZE_64K });
  return s.keep(s.k.ioctl(dev, UDMABUF_CREATE, arg));
}

/** DMA_BUF_IOCTL_EXPORT_SYNC_FILE: the new sync_file fd. */
export function exportSyncFile(s: Session, dmabuf: number, flags: number): number {
  const arg = dmaBufExportSyncFileStruct.encode({ flags });
  s.k.ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
  return s.keep(dmaBufExportSyncFileStruct.decode(arg).fd);
}

export interface SyncFileInfo {
  name: string;
  /** With num_fences 0 in: the fence's status (1 ok, 0 active, < 0 error). */
  status: number;
  numFences: number;
  /** The second call's status (folded over the fences) and its sync_fence_info array. */
  foldedStatus: number;
  fences: SyncFenceInfo[];
}

/** SYNC_IOC_FILE_INFO twice, as userspace does: the count first, then the fence array. */
export function syncFileInfo(k: KernelPort, fd: number): SyncFileInfo {
  const arg = new Uint8Array(syncFileInfoStruct.size);
  k.ioctl(fd, SYNC_IOC_FILE_INFO, arg);
  const first = syncFileInfoStruct.decode(arg);
  const array = new Uint8Array(first.numFences * syncFenceInfoStruct.size);
  const second = syncFileInfoStruct.encode({ numFences: first.numFences });
  k.ioctl(fd, SYNC_IOC_FILE_INFO, second, [[syncFileInfoStruct.fields.syncFenceInfo.offset, array]]);
  const fences: SyncFenceInfo[] = [];
  for (let i = 0; i < first.numFences; i++) fences.push(syncFenceInfoStruct.decode(array.subarray(i * syncFenceInfoStruct.size)));
  return { name: first.name, status: first.status, numFences: first.numFences, foldedStatus: syncFileInfoStruct.decode(second).status, fences };
}

/** poll(fd, events) bounded to `ms`: the revents, or 0 if nothing was ready in time. */
export async function pollWithin(k: KernelPort, fd: number, events: number, ms: number): Promise<number> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await k.poll(fd, events, { signal: abort.signal });
  } catch (e) {
    if ((e as Error).name === 'AbortError') return 0;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** The DMA_BUF_IOCTL_SYNC argument (kernel-abi §4.4). */
export function syncArg(flags: number): Uint8Array {
  return dmaBufSyncStruct.encode({ flags });
}
