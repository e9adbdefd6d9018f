// The syscalls the IIO conformance cases make, written once against the Kernel port: IIO ioctls
// with their int / struct arguments, DMABUF allocation (DMA heap, udmabuf), sync-file status,
// and poll with a timeout.
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  F_GETFL,
  F_SETFL,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL,
  IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL,
  IIO_BUFFER_GET_FD_IOCTL,
  MAP_SHARED,
  MFD_CLOEXEC,
  O_NONBLOCK,
  PROT_READ,
  dmaBufExportSyncFileStruct,
  iioDmabufStruct,
} from '../../src/abi/index.js';
import { dmabufFromHeap, dmabufFromUdmabuf } from '../../src/kernel/dmabuf.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { pollWithin, syncArg, syncFileInfo as fileInfo } from './dmabuf.js';

export function intArg(value: number): Int32Array {
  return Int32Array.of(value);
}

/** IIO_BUFFER_GET_FD_IOCTL: the new buffer fd. */
export function getBufferFd(k: KernelPort, devfd: number, index: number): number {
  const arg = intArg(index);
  k.ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, arg);
  return arg[0]!;
}

export function attach(k: KernelPort, bufferFd: number, dmabufFd: number): number {
  return k.ioctl(bufferFd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, intArg(dmabufFd));
}

export function detach(k: KernelPort, bufferFd: number, dmabufFd: number): number {
  return k.ioctl(bufferFd, IIO_BUFFER_DMABUF_DETACH_IOCTL, intArg(dmabufFd));
}

export function enqueue(k: KernelPort, bufferFd: number, dmabufFd: number, bytesUsed: number, flags = 0): number {
  return k.ioctl(bufferFd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct.encode({ fd: dmabufFd >>> 0, flags: flags >>> 0, bytesUsed }));
}

export function setNonblock(k: KernelPort, fd: number, on: boolean): void {
  const flags = k.fcntl(fd, F_GETFL);
  k.fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/** A DMABUF from the system heap, as the library allocates one (src/kernel/dmabuf.ts). */
export function heapBuffer(k: KernelPort, size: number): Promise<number> {
  return dmabufFromHeap(k, '/dev/dma_heap/system', size);
}

/** A udmabuf over a sealed memfd of `size` bytes (the returned fd is the ioctl's value). */
export function udmabuf(k: KernelPort, size: number): Promise<number> {
  return dmabufFromUdmabuf(k, '/dev/udmabuf', size);
}

/** An fd that is open but not a DMABUF (the probe used a pipe). */
export function notDmabuf(k: KernelPort): number {
  return k.memfdCreate('iiojs-not-a-dmabuf', MFD_CLOEXEC);
}

/** An fd number that is not open. */
export function closedFd(k: KernelPort): number {
  const fd = k.memfdCreate('iiojs-closed', MFD_CLOEXEC);
  k.close(fd);
  return fd;
}

export function exportSyncFile(k: KernelPort, dmabufFd: number, flags: number): number {
  const data = dmaBufExportSyncFileStruct.encode({ flags, fd: 0 });
  k.ioctl(dmabufFd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, data);
  return dmaBufExportSyncFileStruct.decode(data).fd;
}

export interface SyncInfo {
  status: number;
  numFences: number;
  fences: Array<{ status: number; driver: string; timeline: string }>;
}

/** SYNC_IOC_FILE_INFO (support/dmabuf.ts), with each fence's status, driver and timeline. */
export function syncFileInfo(k: KernelPort, syncFd: number): SyncInfo {
  const { status, numFences, fences } = fileInfo(k, syncFd);
  return { status, numFences, fences: fences.map((f) => ({ status: f.status, driver: f.driverName, timeline: f.objName })) };
}

export function dmabufSync(k: KernelPort, dmabufFd: number, flags: number): void {
  k.ioctl(dmabufFd, DMA_BUF_IOCTL_SYNC, syncArg(flags));
}

/** A copy of the first `n` bytes of a DMABUF, read through a fresh mapping between SYNC START/END READ. */
export function mappedBytes(k: KernelPort, dmabufFd: number, n: number): Uint8Array {
  dmabufSync(k, dmabufFd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
  const map = k.mmap(dmabufFd, n, PROT_READ, MAP_SHARED);
  const copy = map.slice();
  k.munmap(map);
  dmabufSync(k, dmabufFd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
  return copy;
}

/** poll(2) with a timeout: the revents, or 0 if nothing became ready in `ms`. */
export const pollFor = pollWithin;

/** How long `body` took, in seconds. */
export function timed<T>(body: () => T): { value: T | undefined; error: unknown; seconds: number } {
  const start = performance.now();
  try {
    const value = body();
    return { value, error: undefined, seconds: (performance.now() - start) / 1000 };
  } catch (error) {
    return { value: undefined, error, seconds: (performance.now() - start) / 1000 };
  }
}

/** The 16-bit counter check of the probe: first and last word, and how many words break the count. */
export function counterCheck(bytes: Uint8Array): { first: number; last: number; mismatches: number } {
  const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  let mismatches = 0;
  for (let i = 1; i < words.length; i++) if (words[i] !== ((words[i - 1]! + 1) & 0xffff)) mismatches++;
  return { first: words[0]!, last: words[words.length - 1]!, mismatches };
}
