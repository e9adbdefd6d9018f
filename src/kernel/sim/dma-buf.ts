// struct dma_buf and its file (kernel-abi §2.9, §4.3–§4.6): a buffer an exporter (a DMA heap,
// udmabuf) shares with importers (IIO buffers, FunctionFS), its reservation object, and what
// userspace can do with its fd: poll, DMA_BUF_IOCTL_SYNC, SET_NAME, sync-file export and import,
// lseek and mmap.
//
// Memory: a DMABUF is a list of segments, each a range of a Memory. A heap buffer has one
// segment of its own; a udmabuf has the memfd's own pages (one segment per non-contiguous
// UDMABUF_CREATE_LIST item), so the memfd, the DMABUF and their mappings all share the bytes. A
// JavaScript mapping cannot span two ArrayBuffers: mmap of a range that crosses segments is
// ENOMEM in the sim (Linux maps it), and bytes() is a RangeError there; use segments() or
// read()/write() for such buffers.
//
// Decisions where kernel-abi is silent:
// * /proc/self/fd shows the dma-buf filesystem's name, "/dmabuf:<name>" (name empty until
//   DMA_BUF_SET_NAME), and that is the file's name here (it appears in error messages).
// * DMA_BUF_IOCTL_SYNC START waits for the fences with no timeout (§4.4). When nothing scheduled
//   in the sim can ever signal them, the endless wait could only end with a signal, so the sim
//   returns EINTR, as if one had interrupted it.
// * mmap applies the generic mmap rules first: MAP_SHARED or MAP_PRIVATE (EINVAL otherwise), the
//   file readable (EACCES), writable for a writable shared mapping (EACCES). Both exporters
//   refuse MAP_PRIVATE with EINVAL: udmabuf by rule (§4.2); the system heap remaps its pages one
//   by one, which Linux cannot do for a copy-on-write mapping of more than one page (the sim
//   refuses single-page private mappings too).
// * read()/write() on the fd: EBADF without the access mode, else EINVAL (no read/write ops).
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_NAME_LEN,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  dmaBufExportSyncFileStruct,
  dmaBufImportSyncFileStruct,
  dmaBufSyncStruct,
  MAP_PRIVATE,
  MAP_SHARED,
  O_ACCMODE,
  POLLIN,
  POLLOUT,
  PROT_WRITE,
  SEEK_END,
  SEEK_SET,
} from '../../abi/index.js';
import type { SimContext } from './context.js';
import { fenceArray, unwrapFences } from './dma-fence-array.js';
import { DmaResv, ResvUsage, stubFence, usageRw } from './dma-fence.js';
import { kerr } from './errno.js';
import { SimFile, type IoctlArg } from './file.js';
import type { Memory } from './memory.js';
import { SyncFile, syncFileGetFence } from './sync-file.js';
import { userBytes, userString } from './uaccess.js';

/** A range of a Memory that backs part of a DMABUF. */
export interface DmaBufSegment {
  readonly memory: Memory;
  readonly offset: number;
  readonly length: number;
}

/** The exporter's callbacks (struct dma_buf_ops), for what differs between exporters. */
export interface DmaBufOps {
  /** exp_name: the heap's name, or "udmabuf". */
  readonly name: string;
  /** Before the fence wait of SYNC START; `write` for WRITE or RW. */
  beginCpuAccess?(write: boolean): void;
  /** SYNC END. */
  endCpuAccess?(write: boolean): void;
  /** After the core's mmap checks; throws to refuse the mapping. */
  mmap?(shared: boolean): void;
}

/** An importer's attachment (dma_buf_attach); it keeps the DMABUF alive until detach(). */
export interface DmaBufAttachment {
  readonly dmaBuf: DmaBuf;
  /** Who attached: an IIO buffer, a FunctionFS endpoint. */
  readonly importer: object;
  /** dma_buf_detach; later calls do nothing. */
  detach(): void;
}

export class DmaBuf {
  /** The reservation object: importers add their fences here (ResvUsage.WRITE for a device writing the buffer). */
  readonly resv = new DmaResv();
  readonly size: number;
  /** The DMABUF's one file (every fd of it refers to this file). */
  readonly file: DmaBufFile;
  /** Set by DMA_BUF_SET_NAME; shown as "/dmabuf:<name>". */
  name = '';
  readonly #segments: readonly DmaBufSegment[];
  readonly #attachments = new Set<DmaBufAttachment>();

  /** dma_buf_export: `fileFlags` gives the file's access mode (O_RDONLY, O_WRONLY, O_RDWR). */
  constructor(
    ctx: SimContext,
    readonly ops: DmaBufOps,
    segments: readonly DmaBufSegment[],
    fileFlags: number,
  ) {
    this.#segments = [...segments];
    this.size = segments.reduce((sum, s) => sum + s.length, 0);
    this.file = new DmaBufFile(ctx, this, fileFlags);
  }

  /** exp_name, as /proc/self/fdinfo shows it. */
  get exporterName(): string {
    return this.ops.name;
  }

  // ---- importers ----------------------------------------------------------------------------

  /** dma_buf_attach: records the importer and holds a reference on the file until detach(). */
  attach(importer: object): DmaBufAttachment {
    this.file.get();
    let attached = true;
    const attachment: DmaBufAttachment = {
      dmaBuf: this,
      importer,
      detach: () => {
        if (!attached) return;
        attached = false;
        this.#attachments.delete(attachment);
        this.file.put();
      },
    };
    this.#attachments.add(attachment);
    return attachment;
  }

  get attachments(): readonly DmaBufAttachment[] {
    return [...this.#attachments];
  }

  // ---- memory, for simulated DMA engines (never keep these views past the current operation) --

  /** The segments covering [offset, offset + length), as views (a scatterlist). */
  segments(offset = 0, length = this.size - offset): Uint8Array[] {
    this.#check(offset, length);
    const views: Uint8Array[] = [];
    let start = 0;
    for (const s of this.#segments) {
      const from = Math.max(offset, start);
      const to = Math.min(offset + length, start + s.length);
      if (from < to) views.push(s.memory.view(s.offset + from - start, to - from));
      start += s.length;
    }
    return views;
  }

  /** One view of [offset, offset + length); RangeError if the range spans segments. */
  bytes(offset = 0, length = this.size - offset): Uint8Array {
    const place = this.locate(offset, length);
    if (place === undefined) throw new RangeError(`DMABUF range ${offset}+${length} spans several memory segments; use segments()`);
    return place.memory.view(place.at, length);
  }

  /** Copies bytes out of the buffer, starting at `offset`, into `into`. */
  read(offset: number, into: Uint8Array): void {
    let at = 0;
    for (const view of this.segments(offset, into.length)) {
      into.set(view, at);
      at += view.length;
    }
  }

  /** Copies `from` into the buffer at `offset` (what a device writing memory does). */
  write(offset: number, from: Uint8Array): void {
    let at = 0;
    for (const view of this.segments(offset, from.length)) {
      view.set(from.subarray(at, at + view.length));
      at += view.length;
    }
  }

  /** The memory holding [offset, offset + length), and where in it, when one segment does. */
  locate(offset: number, length: number): { memory: Memory; at: number } | undefined {
    this.#check(offset, length);
    let start = 0;
    for (const s of this.#segments) {
      if (offset >= start && offset + length <= start + s.length) return { memory: s.memory, at: s.offset + offset - start };
      start += s.length;
    }
    return undefined;
  }

  #check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`range ${offset}+${length} is outside the ${this.size}-byte DMABUF`);
    }
  }
}

/** A DMABUF's file: what a DMABUF fd refers to. */
export class DmaBufFile extends SimFile {
  readonly #mappings = new Map<Uint8Array, Memory>();

  constructor(
    private readonly ctx: SimContext,
    readonly dmaBuf: DmaBuf,
    flags: number,
  ) {
    super(flags);
    dmaBuf.resv.changed.add(() => this.waitQueue.wake());
  }

  override get name(): string {
    return `/dmabuf:${this.dmaBuf.name}`;
  }

  /** FMODE_READ / FMODE_WRITE from the access mode (3, not a valid mode, grants neither). */
  get #canRead(): boolean {
    return (((this.flags & O_ACCMODE) + 1) & 1) !== 0;
  }

  get #canWrite(): boolean {
    return (((this.flags & O_ACCMODE) + 1) & 2) !== 0;
  }

  /**
   * §2.9: POLLIN once no WRITE (or KERNEL) fence is pending, POLLOUT once none at all (READ
   * included); only requested events are evaluated, so anything else is never ready.
   */
  override poll(events: number): number {
    let revents = 0;
    if (events & POLLIN && this.dmaBuf.resv.idle(usageRw(false))) revents |= POLLIN;
    if (events & POLLOUT && this.dmaBuf.resv.idle(usageRw(true))) revents |= POLLOUT;
    return revents;
  }

  override ioctl(request: number, arg: IoctlArg): number {
    switch (request) {
      case DMA_BUF_IOCTL_SYNC:
        return this.#sync(userBytes(arg, dmaBufSyncStruct.size));
      case DMA_BUF_SET_NAME_A:
      case DMA_BUF_SET_NAME_B:
        // The argument is the name itself (the caller's char *), at most 31 bytes plus NUL.
        this.dmaBuf.name = new TextDecoder().decode(userString(arg, DMA_BUF_NAME_LEN));
        return 0;
      case DMA_BUF_IOCTL_EXPORT_SYNC_FILE:
        return this.#exportSyncFile(userBytes(arg, dmaBufExportSyncFileStruct.size));
      case DMA_BUF_IOCTL_IMPORT_SYNC_FILE:
        return this.#importSyncFile(userBytes(arg, dmaBufImportSyncFileStruct.size));
      default:
        throw kerr('ENOTTY');
    }
  }

  /** §4.4. */
  #sync(bytes: Uint8Array): number {
    const flags = dmaBufSyncStruct.number(bytes, 'flags'); // every block goes through here twice
    if (flags > 0xffff_ffff || (flags & ~DMA_BUF_SYNC_VALID_FLAGS_MASK) !== 0) throw kerr('EINVAL');
    const rw = flags & DMA_BUF_SYNC_RW;
    if (rw === 0) throw kerr('EINVAL');
    const write = (rw & DMA_BUF_SYNC_WRITE) !== 0;
    if ((flags & DMA_BUF_SYNC_END) !== 0) {
      this.dmaBuf.ops.endCpuAccess?.(write);
      return 0;
    }
    this.dmaBuf.ops.beginCpuAccess?.(write);
    // A writer waits for readers and writers, a reader for writers only.
    const usage = usageRw(write);
    const resv = this.dmaBuf.resv;
    if (!resv.idle(usage) && !this.ctx.scheduler.blockUntil(() => resv.idle(usage), Infinity)) {
      throw kerr('EINTR', 'nothing can signal the fences this DMA_BUF_SYNC START waits for (the real call would block until a signal)');
    }
    return 0;
  }

  /** §4.6: a snapshot of the unsignalled fences (the stub if none) as a new O_CLOEXEC sync_file fd. */
  #exportSyncFile(bytes: Uint8Array): number {
    const flags = dmaBufExportSyncFileStruct.number(bytes, 'flags');
    if ((flags & ~DMA_BUF_SYNC_RW) !== 0 || (flags & DMA_BUF_SYNC_RW) === 0) throw kerr('EINVAL');
    const fences = this.dmaBuf.resv.pending(usageRw((flags & DMA_BUF_SYNC_WRITE) !== 0));
    const fence = fences.length === 0 ? stubFence() : fences.length === 1 ? fences[0]! : fenceArray(fences);
    const fd = this.ctx.fds.install(new SyncFile(this.ctx, fence), true);
    dmaBufExportSyncFileStruct.putNumber(bytes, 'fd', fd);
    return 0;
  }

  /** §4.6: adds the sync_file's fences with WRITE usage if WRITE is set, READ otherwise. */
  #importSyncFile(bytes: Uint8Array): number {
    const { flags, fd } = dmaBufImportSyncFileStruct.decode(bytes);
    if ((flags & ~DMA_BUF_SYNC_RW) !== 0 || (flags & DMA_BUF_SYNC_RW) === 0) throw kerr('EINVAL');
    const fence = syncFileGetFence(this.ctx, fd);
    if (fence === undefined) throw kerr('EINVAL');
    const usage = flags & DMA_BUF_SYNC_WRITE ? ResvUsage.WRITE : ResvUsage.READ;
    for (const component of unwrapFences(fence)) this.dmaBuf.resv.add(component, usage);
    return 0;
  }

  /** §4.3: only the size can be learnt (SEEK_END 0); SEEK_SET 0 is allowed too. */
  override lseek(offset: number, whence: number): number {
    if (offset !== 0 || (whence !== SEEK_END && whence !== SEEK_SET)) throw kerr('EINVAL');
    return whence === SEEK_END ? this.dmaBuf.size : 0;
  }

  override mmap(length: number, prot: number, flags: number, offset: number): Uint8Array {
    const type = flags & 0x0f; // MAP_TYPE; 3 is MAP_SHARED_VALIDATE
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== 3) throw kerr('EINVAL');
    const shared = type !== MAP_PRIVATE;
    if (!this.#canRead || (shared && prot & PROT_WRITE && !this.#canWrite)) throw kerr('EACCES');
    const page = this.ctx.pageSize;
    if (offset / page + Math.ceil(length / page) > this.dmaBuf.size / page) throw kerr('EINVAL');
    this.dmaBuf.ops.mmap?.(shared);
    const place = this.dmaBuf.locate(offset, length);
    if (place === undefined) {
      throw kerr('ENOMEM', 'sim limitation: this range spans memory segments of a multi-memfd udmabuf, which one mapping cannot show');
    }
    const mapping = place.memory.map(place.at, length);
    this.#mappings.set(mapping, place.memory);
    return mapping;
  }

  override munmap(mapping: Uint8Array): void {
    const memory = this.#mappings.get(mapping);
    if (memory === undefined) return;
    this.#mappings.delete(mapping);
    memory.unmap();
  }

  override read(): number {
    throw kerr(this.#canRead ? 'EINVAL' : 'EBADF');
  }

  override write(): number {
    throw kerr(this.#canWrite ? 'EINVAL' : 'EBADF');
  }
}

/**
 * dma_buf_get for importers (IIO ATTACH/DETACH/ENQUEUE, FunctionFS): the DMABUF behind `fd`;
 * EBADF if no such fd, EINVAL if it is not a DMABUF. It takes no reference: to keep the DMABUF
 * past the current call, attach() to it.
 */
export function dmaBufGet(ctx: SimContext, fd: number): DmaBuf {
  const file = ctx.fds.lookup(fd);
  if (file === undefined) throw kerr('EBADF');
  if (!(file instanceof DmaBufFile)) throw kerr('EINVAL');
  return file.dmaBuf;
}

/** dma_buf_fd: a new fd for the DMABUF's file, close-on-exec if asked. */
export function dmaBufFd(ctx: SimContext, dmaBuf: DmaBuf, cloexec: boolean): number {
  return ctx.fds.install(dmaBuf.file, cloexec);
}
