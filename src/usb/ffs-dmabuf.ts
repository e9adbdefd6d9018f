// DMABUFs moved through one FunctionFS endpoint (usb.md §A4): ATTACH once per DMABUF, then
// TRANSFER whenever its bytes are to go (IN) or come (OUT) over USB, with no mapping and no
// CPU access. TRANSFER returns once the request is queued; the transfer ends when its fence
// signals, seen by polling the DMABUF (POLLOUT: every fence, for IN; POLLIN: the writers, for
// OUT) and its status read from a sync file exported right after the TRANSFER and closed as
// soon as the fence signalled. That order matters on 6.12: a sync file of an FFS fence queried
// or closed after the DMABUF's DETACH (or the endpoint's close) oopses the kernel (found in the
// lab), so every transfer's sync file is closed before anything is detached.
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, F_GETFL, F_SETFL, FUNCTIONFS_DMABUF_ATTACH, FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER, O_NONBLOCK, POLLIN, POLLOUT, SYNC_IOC_FILE_INFO, dmaBufExportSyncFileStruct, syncFileInfoStruct,
  usbFfsDmabufTransferReqStruct,
} from '../abi/index.js';
import { bounded } from '../backends/waits.js';
import { errnoOf, isSystemError, systemError, type SystemError } from '../errors.js';
import type { KernelPort } from '../kernel/port.js';

/** The endpoint takes no DMABUFs (EPERM: the UDC has no scatter-gather, usb.md §A4 step 1). */
export class FfsDmabufRefusedError extends Error {
  readonly code = 'ERR_IIOJS_FFS_DMABUF_REFUSED';
  constructor(readonly endpoint: string, cause: SystemError) {
    super(`${endpoint} takes no DMABUFs (${cause.code} from FUNCTIONFS_DMABUF_ATTACH${cause.code === 'EPERM' ? ': the UDC has no scatter-gather' : ''})`, { cause });
    this.name = 'FfsDmabufRefusedError';
  }
}

export interface FfsTransferOptions {
  signal?: AbortSignal;
  /** Milliseconds the transfer may take once queued (0 or absent: no limit); then ETIMEDOUT. */
  timeoutMs?: number;
}

const FILE_INFO_STATUS = syncFileInfoStruct.fields.status.offset / 4;
const EXPORT_FD = dmaBufExportSyncFileStruct.fields.fd.offset / 4;

export class FfsDmabufEndpoint {
  readonly #attached = new Set<number>();
  /** Transfers between TRANSFER and the close of their sync file. */
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #exportArg: Uint8Array;
  #closed = false;

  /**
   * `fd` is an open endpoint file (`path` names it in messages); `direction` is the
   * endpoint's: 'in' sends to the host, 'out' receives from it. The fd is made O_NONBLOCK: a
   * blocking TRANSFER would wait in the kernel, on the calling (event loop's) thread, for an
   * endpoint the host has not enabled (ffs_epfile_wait_ep) or for other fences; nonblocking it
   * answers EAGAIN and EBUSY instead. Reads and writes of the file are unchanged by it, but
   * for the same wait (EAGAIN while the endpoint is disabled).
   */
  constructor(readonly kernel: KernelPort, readonly fd: number, readonly path: string, readonly direction: 'in' | 'out') {
    kernel.fcntl(fd, F_SETFL, kernel.fcntl(fd, F_GETFL) | O_NONBLOCK);
    // What the transfer's fence is among: IN reads the memory (a READ fence, exported with every
    // fence), OUT writes it (a WRITE fence, the ones a reader waits for).
    this.#exportArg = dmaBufExportSyncFileStruct.encode({ flags: direction === 'in' ? DMA_BUF_SYNC_RW : DMA_BUF_SYNC_READ });
  }

  /** Attaches `dmabufFd` (once; again is a no-op). FfsDmabufRefusedError when the endpoint takes none. */
  attach(dmabufFd: number): void {
    this.#check();
    if (this.#attached.has(dmabufFd)) return;
    try {
      this.kernel.ioctl(this.fd, FUNCTIONFS_DMABUF_ATTACH, Int32Array.of(dmabufFd));
    } catch (e) {
      if (isSystemError(e, 'EPERM') && this.#attached.size === 0) throw new FfsDmabufRefusedError(this.path, e);
      throw e;
    }
    this.#attached.add(dmabufFd);
  }

  /**
   * Moves `length` bytes from the start of `dmabufFd` (attached) over USB; resolves once the
   * transfer's fence signalled, rejects with its error (EIO-like fence errors, ETIMEDOUT, abort).
   */
  async transfer(dmabufFd: number, length: number, options: FfsTransferOptions = {}): Promise<void> {
    this.#check();
    if (!this.#attached.has(dmabufFd)) throw new Error(`${this.path}: DMABUF fd ${dmabufFd} is not attached`);
    const request = usbFfsDmabufTransferReqStruct.encode({ fd: dmabufFd, flags: 0, length: BigInt(length) });
    this.kernel.ioctl(this.fd, FUNCTIONFS_DMABUF_TRANSFER, request);
    const done = this.#complete(dmabufFd, length, options);
    this.#inflight.add(done);
    try {
      await done;
    } finally {
      this.#inflight.delete(done);
    }
  }

  /** Detaches one DMABUF (its transfers must have ended); one not attached is left alone. */
  detach(dmabufFd: number): void {
    if (!this.#attached.delete(dmabufFd)) return;
    this.kernel.ioctl(this.fd, FUNCTIONFS_DMABUF_DETACH, Int32Array.of(dmabufFd));
  }

  /**
   * Detaches each of `fds` (default: every one attached), going on past the errors of a gadget
   * that is gone (its attachments went with the endpoint); throws the first other failure.
   */
  detachEach(fds: Iterable<number> = [...this.#attached]): void {
    let failure: unknown;
    for (const fd of fds) {
      try {
        this.detach(fd);
      } catch (e) {
        if (!isSystemError(e, 'ENODEV', 'ESHUTDOWN', 'EBADF', 'EPERM')) failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Waits for the transfers in flight to close their sync files, then detaches everything
   * (which cancels what is still queued). The endpoint file stays the caller's to close.
   * `detach: false` leaves the attachments to the endpoint file's close, which drops them all
   * (ffs_epfile_release), for a caller closing it next: the only safe way when the gadget may
   * have been unbound, as a DETACH then dereferences the gone gadget (6.12 ffs_dmabuf_detach:
   * an oops, found in the lab).
   */
  async close(options: { detach?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
    try {
      if (options.detach !== false) this.detachEach();
    } finally {
      this.#attached.clear();
    }
  }

  async #complete(dmabufFd: number, length: number, options: FfsTransferOptions): Promise<void> {
    let syncFd: number | undefined;
    try {
      const arg = this.#exportArg.slice();
      this.kernel.ioctl(dmabufFd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
      syncFd = new Int32Array(arg.buffer)[EXPORT_FD]!;
      const cancel = new AbortController();
      const polled = this.kernel.poll(dmabufFd, this.direction === 'in' ? POLLOUT : POLLIN, { signal: cancel.signal, fence: true });
      polled.catch(() => undefined);
      try {
        await bounded(polled, options, (ms) => systemError(errnoOf('ETIMEDOUT'), 'FUNCTIONFS_DMABUF_TRANSFER', this.path, `the host took no ${length}-byte transfer within ${ms} ms`));
      } finally {
        cancel.abort();
      }
      const info = syncFileInfoStruct.encode({});
      this.kernel.ioctl(syncFd, SYNC_IOC_FILE_INFO, info);
      const status = new Int32Array(info.buffer)[FILE_INFO_STATUS]!;
      if (status < 0) {
        throw systemError(-status, 'FUNCTIONFS_DMABUF_TRANSFER', this.path, `the ${length}-byte DMABUF transfer failed (its fence signalled ${-status})`);
      }
    } finally {
      if (syncFd !== undefined) this.kernel.close(syncFd);
    }
  }

  #check(): void {
    if (this.#closed) throw systemError(errnoOf('EBADF'), 'FUNCTIONFS_DMABUF_TRANSFER', this.path, 'the DMABUF endpoint is closed');
  }
}
