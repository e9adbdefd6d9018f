// DMA heaps (kernel-abi §4.1): /dev/dma_heap/<name>, whose one ioctl allocates a DMABUF.
//
// The ioctl dispatches on _IOC_NR alone (nr ≥ 1 → EINVAL; type and size are not checked). The
// argument is copied in as many bytes as the caller's request encodes if it has _IOC_WRITE,
// none otherwise, zero-filled up to the kernel's struct, and copied back (as many bytes, if the
// request has _IOC_READ) whether the allocation worked or not.
//
// The system heap zero-fills its pages; an allocation larger than the sim backs (MEMORY_LIMIT,
// standing for "more than the RAM") is ENOMEM. The buffer's file gets fd_flags' access mode;
// O_CLOEXEC sets close-on-exec on the new fd.
import {
  decodeIoc,
  DMA_HEAP_IOCTL_ALLOC,
  DMA_HEAP_VALID_FD_FLAGS,
  DMA_HEAP_VALID_HEAP_FLAGS,
  dmaHeapAllocationDataStruct,
  O_ACCMODE,
  O_CLOEXEC,
} from '../../abi/index.js';
import type { SimContext } from './context.js';
import { DmaBuf, dmaBufFd, type DmaBufOps } from './dma-buf.js';
import { kerr } from './errno.js';
import { SimFile, type IoctlArg } from './file.js';
import { Memory, MEMORY_LIMIT } from './memory.js';
import { userBytes } from './uaccess.js';

const U64_MASK = (1n << 64n) - 1n;

/** An open /dev/dma_heap/<name>. */
export class DmaHeapFile extends SimFile {
  readonly name: string;

  constructor(
    private readonly ctx: SimContext,
    readonly heapName: string,
    flags: number,
  ) {
    super(flags);
    this.name = `/dev/dma_heap/${heapName}`;
  }

  override ioctl(request: number, arg: IoctlArg): number {
    const user = decodeIoc(request);
    if (user.nr >= 1) throw kerr('EINVAL');
    const kernel = decodeIoc(DMA_HEAP_IOCTL_ALLOC);
    const inSize = user.write && kernel.write ? user.size : 0;
    const outSize = user.read && kernel.read ? user.size : 0;
    const data = new Uint8Array(Math.max(inSize, outSize, kernel.size));
    if (inSize > 0) data.set(userBytes(arg, inSize).subarray(0, inSize));
    let failure: unknown;
    try {
      this.#allocate(data);
    } catch (e) {
      failure = e;
    }
    if (outSize > 0) userBytes(arg, outSize).set(data.subarray(0, outSize));
    if (failure !== undefined) throw failure;
    return 0;
  }

  /** dma_heap_ioctl_allocate on the kernel's copy of the argument; writes the new fd into it. */
  #allocate(data: Uint8Array): void {
    const request = dmaHeapAllocationDataStruct.decode(data);
    if (request.fd !== 0) throw kerr('EINVAL');
    if ((request.fdFlags & ~DMA_HEAP_VALID_FD_FLAGS) !== 0) throw kerr('EINVAL');
    if ((request.heapFlags & ~DMA_HEAP_VALID_HEAP_FLAGS) !== 0n) throw kerr('EINVAL');
    const page = BigInt(this.ctx.pageSize);
    const len = (((request.len + page - 1n) / page) * page) & U64_MASK; // PAGE_ALIGN wraps like C
    if (len === 0n) throw kerr('EINVAL');
    if (len > BigInt(MEMORY_LIMIT)) throw kerr('ENOMEM');
    const size = Number(len);
    const ops: DmaBufOps = {
      name: this.heapName,
      mmap(shared) {
        if (!shared) throw kerr('EINVAL', 'the system heap cannot map its pages copy-on-write');
      },
    };
    const buffer = new DmaBuf(this.ctx, ops, [{ memory: new Memory(size, size), offset: 0, length: size }], request.fdFlags & O_ACCMODE);
    const fd = dmaBufFd(this.ctx, buffer, (request.fdFlags & O_CLOEXEC) !== 0);
    dmaHeapAllocationDataStruct.encode({ ...request, fd }, data);
  }
}
