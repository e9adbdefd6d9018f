// Making one DMABUF through a Kernel port, from a DMA heap (kernel-abi §4.1) or as a udmabuf over
// a sealed memfd (§4.2). The one implementation: the local backend's allocator
// (backends/local/dmabuf-alloc.ts) chooses the source and the size, feature detection
// (probe.ts) tries each source with one page. It lives at the kernel level because the kernel
// layer never imports a backend.
//
// Open flags of the device nodes: O_RDWR | O_CLOEXEC for /dev/dma_heap/<name> and /dev/udmabuf.
// Neither ioctl checks the node's access mode (§4.1, §4.2 list no such check), so O_RDWR is not
// what makes the DMABUF writable: that is `fd_flags` (§4.1: O_RDWR, or a writable MAP_SHARED mmap
// fails) and, for udmabuf, the kernel's own O_RDWR (§4.2). O_RDWR is still the honest mode for a
// node whose ioctl creates writable memory, is the one the Linux recording opened (heap_open)
// and the one udev's 0660 rules grant. O_CLOEXEC because the node fd must not leak into a child
// exec'd while it is open, for the same reason the new DMABUF fds are made close-on-exec
// (fd_flags O_CLOEXEC, UDMABUF_FLAGS_CLOEXEC).
import {
  DMA_HEAP_IOCTL_ALLOC, dmaHeapAllocationDataStruct, F_ADD_SEALS, F_SEAL_SHRINK, MFD_ALLOW_SEALING, MFD_CLOEXEC,
  O_CLOEXEC, O_RDWR, UDMABUF_CREATE, UDMABUF_FLAGS_CLOEXEC, udmabufCreateStruct,
} from '../abi/index.js';
import type { KernelPort } from './port.js';

/** How the DMABUF device nodes are opened (see the top of this file). */
export const DMABUF_NODE_FLAGS = O_RDWR | O_CLOEXEC;

/** A memfd of `size` bytes sealed against shrinking, as udmabuf requires (§4.2); the caller closes it. */
export function sealedMemfd(port: KernelPort, size: number, name = 'iiojs-dmabuf'): number {
  const fd = port.memfdCreate(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  try {
    port.ftruncate(fd, size);
    port.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
    return fd;
  } catch (e) {
    port.close(fd);
    throw e;
  }
}

/** A DMABUF of `size` bytes (rounded up to pages by the kernel) from the heap node at `heapPath`. */
export async function dmabufFromHeap(port: KernelPort, heapPath: string, size: number): Promise<number> {
  const heap = await port.open(heapPath, DMABUF_NODE_FLAGS);
  try {
    const arg = dmaHeapAllocationDataStruct.encode({ len: size, fdFlags: O_RDWR | O_CLOEXEC });
    port.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg);
    return dmaHeapAllocationDataStruct.decode(arg).fd;
  } finally {
    port.close(heap);
  }
}

/** A udmabuf of `size` bytes (a whole number of pages) over a fresh sealed memfd, through the node at `udmabufPath`. */
export async function dmabufFromUdmabuf(port: KernelPort, udmabufPath: string, size: number): Promise<number> {
  const dev = await port.open(udmabufPath, DMABUF_NODE_FLAGS);
  let memfd = -1;
  try {
    memfd = sealedMemfd(port, size);
    // The ioctl returns the new fd (§4.2). The udmabuf keeps the pages: the memfd can go now.
    return port.ioctl(dev, UDMABUF_CREATE, udmabufCreateStruct.encode({ memfd, flags: UDMABUF_FLAGS_CLOEXEC, size }));
  } finally {
    if (memfd >= 0) port.close(memfd);
    port.close(dev);
  }
}
