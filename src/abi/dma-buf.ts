/**
 * The DMA-BUF fd ABI of kernel-abi.md §4.4–§4.6 (include/uapi/linux/dma-buf.h):
 * `DMA_BUF_IOCTL_SYNC` and its flags for bracketing CPU access to an mmap,
 * `DMA_BUF_SET_NAME` in both pointer-size variants, and the sync-file export and
 * import ioctls used to wait for fences and read their error status.
 */

import { CURRENT_IOC_LAYOUT, iow, iowr, type IocLayout } from './ioc.js';
import { defineStruct, s32, u32, u64, type DecodedStruct } from './struct.js';

export const DMA_BUF_BASE = 'b';

export const DMA_BUF_SYNC_READ = 1 << 0;
export const DMA_BUF_SYNC_WRITE = 2 << 0;
export const DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
export const DMA_BUF_SYNC_START = 0 << 2;
export const DMA_BUF_SYNC_END = 1 << 2;
/** Any other bit → EINVAL (§4.4). */
export const DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;

/** Name buffer size including the NUL: at most 31 characters (§4.5). */
export const DMA_BUF_NAME_LEN = 32;

/**
 * The DMA_BUF_SET_NAME argument (§4.5): the name NUL-terminated in a DMA_BUF_NAME_LEN buffer,
 * so it also covers the pointer-sized length encoded in either request number.
 */
export function encodeDmaBufName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.includes(0) || bytes.length >= DMA_BUF_NAME_LEN) {
    throw new RangeError(`DMABUF name ${JSON.stringify(name)} must be at most ${DMA_BUF_NAME_LEN - 1} bytes without NUL`);
  }
  const buffer = new Uint8Array(DMA_BUF_NAME_LEN);
  buffer.set(bytes);
  return buffer;
}

/** `struct dma_buf_sync` (§4.4): one `__u64`, so flags decode as bigint. */
export const dmaBufSyncStruct = defineStruct('dma_buf_sync', 8, {
  flags: u64(0),
});
export type DmaBufSync = DecodedStruct<typeof dmaBufSyncStruct>;

/** `struct dma_buf_export_sync_file` (§4.6): `fd` is written by the kernel. */
export const dmaBufExportSyncFileStruct = defineStruct('dma_buf_export_sync_file', 8, {
  flags: u32(0),
  fd: s32(4),
});
export type DmaBufExportSyncFile = DecodedStruct<typeof dmaBufExportSyncFileStruct>;

/** `struct dma_buf_import_sync_file` (§4.6): `fd` is a sync_file fd supplied by userspace. */
export const dmaBufImportSyncFileStruct = defineStruct('dma_buf_import_sync_file', 8, {
  flags: u32(0),
  fd: s32(4),
});
export type DmaBufImportSyncFile = DecodedStruct<typeof dmaBufImportSyncFileStruct>;

/** The DMA-BUF request numbers for one `_IOC` layout, keyed by kernel name. */
export function dmaBufIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    DMA_BUF_IOCTL_SYNC: iow(DMA_BUF_BASE, 0, dmaBufSyncStruct, layout),
    // The uapi's _IOW('b', 1, const char *) depends on pointer size; the kernel accepts both.
    DMA_BUF_SET_NAME_A: iow(DMA_BUF_BASE, 1, 4, layout),
    DMA_BUF_SET_NAME_B: iow(DMA_BUF_BASE, 1, 8, layout),
    DMA_BUF_IOCTL_EXPORT_SYNC_FILE: iowr(DMA_BUF_BASE, 2, dmaBufExportSyncFileStruct, layout),
    DMA_BUF_IOCTL_IMPORT_SYNC_FILE: iow(DMA_BUF_BASE, 3, dmaBufImportSyncFileStruct, layout),
  } as const;
}

const ioctls = dmaBufIoctls();
export const DMA_BUF_IOCTL_SYNC = ioctls.DMA_BUF_IOCTL_SYNC;
/** Argument: a pointer to a NUL-terminated name (not a struct). */
export const DMA_BUF_SET_NAME_A = ioctls.DMA_BUF_SET_NAME_A;
export const DMA_BUF_SET_NAME_B = ioctls.DMA_BUF_SET_NAME_B;
export const DMA_BUF_IOCTL_EXPORT_SYNC_FILE = ioctls.DMA_BUF_IOCTL_EXPORT_SYNC_FILE;
export const DMA_BUF_IOCTL_IMPORT_SYNC_FILE = ioctls.DMA_BUF_IOCTL_IMPORT_SYNC_FILE;
