// sync_file (kernel-abi §2.9, §4.6): an fd standing for one fence (possibly an array of them),
// made by DMA_BUF_IOCTL_EXPORT_SYNC_FILE or SYNC_IOC_MERGE. poll() gives POLLIN once the fence
// has signalled, success or error; SYNC_IOC_FILE_INFO is the only way to read the error.
//
// SYNC_IOC_FILE_INFO, as modelled:
// * flags or pad non-zero → EINVAL.
// * num_fences 0 in: only the count (of unwrapped fences) and the file's status (the fence's own
//   status: 1 ok, 0 active, <0 error) come back.
// * num_fences > 0 in: fewer than the count → EINVAL; else the sync_fence_info array is written
//   at the user pointer (the port's pointer field at offset 48; none, or too few bytes there →
//   EFAULT, all or nothing). The file's status is then folded over the fences in order: the
//   first one that is active (0) or failed (<0) decides, else 1.
// * name[]: the name given to SYNC_IOC_MERGE, else "<driver>-<timeline><context>-<seqno>" of the
//   fence ("stub-stub0-0" for the stub, "dma_fence_array-unbound<context>-1" for an array),
//   truncated to 31 bytes.
// SYNC_IOC_SET_DEADLINE takes the hint (pad must be 0, else EINVAL); no simulated fence uses it.
import { endianness } from 'node:os';
import {
  O_RDONLY,
  POLLIN,
  POLLPRI,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  SYNC_IOC_SET_DEADLINE,
  syncFenceInfoStruct,
  syncFileInfoStruct,
  syncMergeDataStruct,
  syncSetDeadlineStruct,
} from '../../abi/index.js';
import { nowNs } from './clock.js';
import type { SimContext } from './context.js';
import { mergeFences, unwrapFences } from './dma-fence-array.js';
import type { DmaFence } from './dma-fence.js';
import { kerr } from './errno.js';
import { SimFile, type IoctlArg, type IoctlPointers } from './file.js';
import { putCString, userBytes } from './uaccess.js';

const NAME_LEN = 32;
const LITTLE_ENDIAN = endianness() === 'LE';
/** Offset of the `sync_fence_info` user pointer in struct sync_file_info. */
const FENCE_INFO_POINTER = syncFileInfoStruct.fields.syncFenceInfo.offset;

export class SyncFile extends SimFile {
  readonly name = 'anon_inode:sync_file';
  /** The last deadline hint (CLOCK_MONOTONIC ns), from SYNC_IOC_SET_DEADLINE or a POLLPRI poll. */
  deadlineNs: bigint | undefined;

  constructor(
    private readonly ctx: SimContext,
    readonly fence: DmaFence,
    /** The name given to SYNC_IOC_MERGE (bytes, without NUL); empty for an export. */
    private readonly userName: Uint8Array = new Uint8Array(0),
  ) {
    super(O_RDONLY); // anon_inode_getfile(..., 0)
    fence.onSignal(() => this.waitQueue.wake());
  }

  override poll(events: number): number {
    if (events & POLLPRI) this.deadlineNs = nowNs();
    return this.fence.signaled ? POLLIN : 0;
  }

  override ioctl(request: number, arg: IoctlArg, pointers: IoctlPointers): number {
    switch (request) {
      case SYNC_IOC_MERGE:
        return this.#merge(userBytes(arg, syncMergeDataStruct.size));
      case SYNC_IOC_FILE_INFO:
        return this.#info(userBytes(arg, syncFileInfoStruct.size), pointers);
      case SYNC_IOC_SET_DEADLINE: {
        const { deadlineNs, pad } = syncSetDeadlineStruct.decode(userBytes(arg, syncSetDeadlineStruct.size));
        if (pad !== 0n) throw kerr('EINVAL');
        this.deadlineNs = deadlineNs;
        return 0;
      }
      default:
        throw kerr('ENOTTY');
    }
  }


  /** The name[] field of sync_file_info. */
  get infoName(): Uint8Array | string {
    if (this.userName.length > 0) return this.userName;
    const f = this.fence;
    return (this.#fenceName ??= `${f.driverName}-${f.timelineName}${f.context}-${f.seqno}`);
  }

  #fenceName: string | undefined;

  /** Field by field, as the kernel copies it: FILE_INFO is asked on every block's sync file. */
  #info(bytes: Uint8Array, pointers: IoctlPointers): number {
    const numFences = syncFileInfoStruct.number(bytes, 'numFences');
    if (syncFileInfoStruct.number(bytes, 'flags') !== 0 || syncFileInfoStruct.number(bytes, 'pad') !== 0) throw kerr('EINVAL');
    const fences = unwrapFences(this.fence);
    let status: number;
    if (numFences === 0) {
      status = this.fence.status;
    } else {
      if (numFences < fences.length) throw kerr('EINVAL');
      const size = syncFenceInfoStruct.size;
      const target = pointers.get(FENCE_INFO_POINTER);
      if (target === undefined || target.length < fences.length * size) throw kerr('EFAULT');
      status = 1;
      fences.forEach((fence, i) => {
        const at = target.subarray(i * size, (i + 1) * size);
        syncFenceInfoStruct.encode(
          { status: fence.status, flags: 0, timestampNs: fence.signaled ? fence.timestampNs : 0n },
          at,
        );
        putCString(at, syncFenceInfoStruct.fields.objName.offset, NAME_LEN, fence.timelineName);
        putCString(at, syncFenceInfoStruct.fields.driverName.offset, NAME_LEN, fence.driverName);
        if (status > 0) status = fence.status;
      });
    }
    syncFileInfoStruct.putNumber(bytes, 'status', status);
    syncFileInfoStruct.putNumber(bytes, 'numFences', fences.length);
    putCString(bytes, syncFileInfoStruct.fields.name.offset, NAME_LEN, this.infoName);
    return 0;
  }

  #merge(bytes: Uint8Array): number {
    const data = syncMergeDataStruct.decode(bytes);
    if (data.flags !== 0 || data.pad !== 0) throw kerr('EINVAL');
    const other = this.ctx.fds.lookup(data.fd2);
    if (!(other instanceof SyncFile)) throw kerr('ENOENT');
    // The kernel forces name[31] to NUL: at most 31 bytes of the caller's name survive.
    const raw = bytes.subarray(0, NAME_LEN - 1);
    const nul = raw.indexOf(0);
    const name = raw.slice(0, nul < 0 ? raw.length : nul);
    const merged = new SyncFile(this.ctx, mergeFences([this.fence, other.fence]), name);
    const fd = this.ctx.fds.install(merged, true); // get_unused_fd_flags(O_CLOEXEC)
    new DataView(bytes.buffer, bytes.byteOffset).setInt32(syncMergeDataStruct.fields.fence.offset, fd, LITTLE_ENDIAN);
    return 0;
  }
}

/** sync_file_get_fence: the fence behind a sync_file fd, or undefined for anything else. */
export function syncFileGetFence(ctx: SimContext, fd: number): DmaFence | undefined {
  const file = ctx.fds.lookup(fd);
  return file instanceof SyncFile ? file.fence : undefined;
}
