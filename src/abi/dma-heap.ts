/**
 * The DMA heap ABI of kernel-abi.md §4.1 (include/uapi/linux/dma-heap.h):
 * `DMA_HEAP_IOCTL_ALLOC` on `/dev/dma_heap/<name>` with
 * `struct dma_heap_allocation_data`, and the flag masks the kernel validates
 * against (`fd` must be 0 on input, `heap_flags` must be 0).
 */

import { O_ACCMODE, O_CLOEXEC } from './fcntl.js';
import { CURRENT_IOC_LAYOUT, iowr, type IocLayout } from './ioc.js';
import { defineStruct, u32, u64, type DecodedStruct } from './struct.js';

export const DMA_HEAP_IOC_MAGIC = 'H';

/** `fd_flags` may only contain these; pass O_RDWR | O_CLOEXEC, O_RDONLY makes writable mmaps fail. */
export const DMA_HEAP_VALID_FD_FLAGS: number = O_CLOEXEC | O_ACCMODE;
/** No heap flags are defined; bigint because `heap_flags` is a `__u64`. */
export const DMA_HEAP_VALID_HEAP_FLAGS = 0n;

/** `struct dma_heap_allocation_data` (§4.1): 24 bytes; `fd` is output only. */
export const dmaHeapAllocationDataStruct = defineStruct('dma_heap_allocation_data', 24, {
  len: u64(0),
  fd: u32(8),
  fdFlags: u32(12),
  heapFlags: u64(16),
});
export type DmaHeapAllocationData = DecodedStruct<typeof dmaHeapAllocationDataStruct>;

/** The DMA heap request numbers for one `_IOC` layout, keyed by kernel name. */
export function dmaHeapIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    DMA_HEAP_IOCTL_ALLOC: iowr(DMA_HEAP_IOC_MAGIC, 0x0, dmaHeapAllocationDataStruct, layout),
  } as const;
}

export const DMA_HEAP_IOCTL_ALLOC = dmaHeapIoctls().DMA_HEAP_IOCTL_ALLOC;
