/**
 * The sync_file ABI of kernel-abi.md §4.6 (include/uapi/linux/sync_file.h):
 * the ioctls on a sync_file fd (as exported from a DMABUF) to merge fences,
 * read fence status (the only way to see a transfer's error, §2.9) and set a
 * deadline hint, with their structs.
 */

import { CURRENT_IOC_LAYOUT, iow, iowr, type IocLayout } from './ioc.js';
import { chars, defineStruct, s32, u32, u64, type DecodedStruct } from './struct.js';

export const SYNC_IOC_MAGIC = '>';

/** `struct sync_merge_data`: 48 bytes; `fence` is written by the kernel, `flags` and `pad` must be 0. */
export const syncMergeDataStruct = defineStruct('sync_merge_data', 48, {
  name: chars(0, 32),
  fd2: s32(32),
  fence: s32(36),
  flags: u32(40),
  pad: u32(44),
});
export type SyncMergeData = DecodedStruct<typeof syncMergeDataStruct>;

/** `struct sync_fence_info`: 80 bytes; status 1 signalled, 0 active, < 0 the fence's error. */
export const syncFenceInfoStruct = defineStruct('sync_fence_info', 80, {
  objName: chars(0, 32),
  driverName: chars(32, 32),
  status: s32(64),
  flags: u32(68),
  timestampNs: u64(72),
});
export type SyncFenceInfo = DecodedStruct<typeof syncFenceInfoStruct>;

/**
 * `struct sync_file_info`: 56 bytes. With `numFences` 0 the kernel only fills in the
 * count; with `numFences` > 0, `syncFenceInfo` is a user pointer to that many
 * `sync_fence_info` entries for the kernel to fill.
 */
export const syncFileInfoStruct = defineStruct('sync_file_info', 56, {
  name: chars(0, 32),
  status: s32(32),
  flags: u32(36),
  numFences: u32(40),
  pad: u32(44),
  syncFenceInfo: u64(48),
});
export type SyncFileInfo = DecodedStruct<typeof syncFileInfoStruct>;

/** `struct sync_set_deadline`: 16 bytes, an absolute CLOCK_MONOTONIC deadline. */
export const syncSetDeadlineStruct = defineStruct('sync_set_deadline', 16, {
  deadlineNs: u64(0),
  pad: u64(8),
});
export type SyncSetDeadline = DecodedStruct<typeof syncSetDeadlineStruct>;

/** The sync_file request numbers for one `_IOC` layout, keyed by kernel name. */
export function syncFileIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    SYNC_IOC_MERGE: iowr(SYNC_IOC_MAGIC, 3, syncMergeDataStruct, layout),
    SYNC_IOC_FILE_INFO: iowr(SYNC_IOC_MAGIC, 4, syncFileInfoStruct, layout),
    SYNC_IOC_SET_DEADLINE: iow(SYNC_IOC_MAGIC, 5, syncSetDeadlineStruct, layout),
  } as const;
}

const ioctls = syncFileIoctls();
export const SYNC_IOC_MERGE = ioctls.SYNC_IOC_MERGE;
export const SYNC_IOC_FILE_INFO = ioctls.SYNC_IOC_FILE_INFO;
export const SYNC_IOC_SET_DEADLINE = ioctls.SYNC_IOC_SET_DEADLINE;
