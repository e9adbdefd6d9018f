// udmabuf (kernel-abi §4.2): /dev/udmabuf turns ranges of sealed memfds into a DMABUF that
// shares the memfd's pages (no copy: the DMABUF's segments are the memfd's Memory).
//
// UDMABUF_CREATE and UDMABUF_CREATE_LIST, in the kernel's order:
// 1. CREATE_LIST: count > list_limit → EINVAL, before the items are read (they follow the
//    8-byte header in the caller's bytes; too few bytes there → EFAULT).
// 2. Every item: offset and size page aligned, running total ≤ size_limit_mb → else EINVAL;
//    then a total of 0 pages → EINVAL.
// 3. Every item: the fd must be an open memfd (anything else, or nothing → EBADFD), sealed with
//    F_SEAL_SHRINK and without F_SEAL_WRITE/F_SEAL_FUTURE_WRITE (→ EINVAL); the range must lie
//    within the memfd (not in kernel-abi: shmem refuses pages beyond EOF, so EINVAL).
// 4. The new fd is the return value; O_RDWR always, close-on-exec only with UDMABUF_FLAGS_CLOEXEC.
// Other flag bits are ignored. The limits are the module parameters size_limit_mb (default 64)
// and list_limit (default 1024), compared the way C compares them: size_limit_mb * 1 MiB is
// computed in int (it wraps), and a negative limit is a huge unsigned one.
//
// DMA_BUF_IOCTL_SYNC END before any START is EINVAL (no CPU sg table yet); START makes it.
import {
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  O_RDWR,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  UDMABUF_FLAGS_CLOEXEC,
  UDMABUF_LIST_LIMIT,
  udmabufCreateItemStruct,
  udmabufCreateListStruct,
  udmabufCreateStruct,
  type UdmabufCreateItem,
} from '../../abi/index.js';
import type { SimContext } from './context.js';
import { DmaBuf, dmaBufFd, type DmaBufOps, type DmaBufSegment } from './dma-buf.js';
import { kerr } from './errno.js';
import { SimFile, type IoctlArg } from './file.js';
import { MemFdFile } from './memfd.js';
import { userBytes } from './uaccess.js';

/** The module parameters under /sys/module/udmabuf/parameters (both mode 0644). */
export interface UdmabufParams {
  sizeLimitMb: number;
  listLimit: number;
}

export function defaultUdmabufParams(): UdmabufParams {
  return { sizeLimitMb: 64, listLimit: UDMABUF_LIST_LIMIT };
}

/** An open /dev/udmabuf. */
export class UdmabufFile extends SimFile {
  readonly name = '/dev/udmabuf';

  constructor(
    private readonly ctx: SimContext,
    private readonly params: UdmabufParams,
    flags: number,
  ) {
    super(flags);
  }

  override ioctl(request: number, arg: IoctlArg): number {
    switch (request) {
      case UDMABUF_CREATE: {
        const c = udmabufCreateStruct.decode(userBytes(arg, udmabufCreateStruct.size));
        return this.#create(c.flags, [{ memfd: c.memfd, pad: 0, offset: c.offset, size: c.size }]);
      }
      case UDMABUF_CREATE_LIST: {
        const header = udmabufCreateListStruct.size;
        const { flags, count } = udmabufCreateListStruct.decode(userBytes(arg, header));
        if (count > this.params.listLimit >>> 0) throw kerr('EINVAL');
        const item = udmabufCreateItemStruct.size;
        const bytes = userBytes(arg, header + count * item);
        const items: UdmabufCreateItem[] = [];
        for (let i = 0; i < count; i++) items.push(udmabufCreateItemStruct.decode(bytes.subarray(header + i * item)));
        return this.#create(flags, items);
      }
      default:
        throw kerr('ENOTTY');
    }
  }

  #create(flags: number, items: readonly UdmabufCreateItem[]): number {
    const page = BigInt(this.ctx.pageSize);
    const pageLimit = this.#pageLimit();
    let pages = 0n;
    for (const { offset, size } of items) {
      if (offset % page !== 0n || size % page !== 0n) throw kerr('EINVAL');
      pages += size / page;
      if (pages > pageLimit) throw kerr('EINVAL');
    }
    if (pages === 0n) throw kerr('EINVAL');

    const segments: DmaBufSegment[] = [];
    for (const { memfd, offset, size } of items) {
      const file = this.ctx.fds.lookup(memfd);
      if (!(file instanceof MemFdFile)) throw kerr('EBADFD');
      if ((file.seals & F_SEAL_SHRINK) === 0 || (file.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) throw kerr('EINVAL');
      if (offset + size > BigInt(file.size)) throw kerr('EINVAL', 'range beyond the end of the memfd');
      const segment = { memory: file.memory, offset: Number(offset), length: Number(size) };
      const last = segments.at(-1);
      // contiguous ranges of one memfd are one segment, so they map as one
      if (last !== undefined && last.memory === segment.memory && last.offset + last.length === segment.offset) {
        segments[segments.length - 1] = { ...last, length: last.length + segment.length };
      } else {
        segments.push(segment);
      }
    }
    const buffer = new DmaBuf(this.ctx, udmabufOps(), segments, O_RDWR);
    return dmaBufFd(this.ctx, buffer, (flags & UDMABUF_FLAGS_CLOEXEC) !== 0);
  }

  /** (size_limit_mb * 1024 * 1024) >> PAGE_SHIFT, in C's int arithmetic, as an unsigned page count. */
  #pageLimit(): bigint {
    const bytes = Math.imul(Math.imul(this.params.sizeLimitMb | 0, 1024), 1024);
    const pages = Math.floor(bytes / this.ctx.pageSize);
    return pages < 0 ? BigInt.asUintN(64, BigInt(pages)) : BigInt(pages);
  }
}

/** The udmabuf exporter: no CPU sg table until the first SYNC START; MAP_SHARED only. */
function udmabufOps(): DmaBufOps {
  let cpuSgTable = false;
  return {
    name: 'udmabuf',
    beginCpuAccess() {
      cpuSgTable = true;
    },
    endCpuAccess() {
      if (!cpuSgTable) throw kerr('EINVAL', 'SYNC END before any START');
    },
    mmap(shared) {
      if (!shared) throw kerr('EINVAL');
    },
  };
}
