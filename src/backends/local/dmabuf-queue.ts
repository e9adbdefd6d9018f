// The fd-level mechanics of DMABUF blocks on one IIO buffer fd, with the kernel's traps handled
// (kernel-abi §2.4–§2.10, §7):
//  - every DMABUF is attached before any is enqueued (a later ATTACH drops queued blocks);
//  - ENQUEUE never blocks: the buffer fd is O_NONBLOCK and a block is only re-queued once its
//    fence has signalled;
//  - right after each ENQUEUE the pending fence is exported as a sync file, the only way to learn
//    that a transfer failed (poll cannot tell);
//  - every wait is bounded, and the device's sysfs directory disappearing (device removed: its
//    queued fences never signal, and the buffer fd's ioctls do not say so) abandons it;
//  - a block the driver refused at submit stays ACTIVE in 6.12 and cannot be queued again: that
//    EBUSY is reported as the transfer error it is.
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_SYNC_RW, dmaBufExportSyncFileStruct, F_GETFL, F_SETFL,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_CYCLIC, IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct, O_NONBLOCK, POLLOUT, SYNC_IOC_FILE_INFO, syncFileInfoStruct,
} from '../../abi/index.js';
import { abortError, errnoOf, isSystemError, systemError, type SystemError } from '../../kernel/errors.js';
import type { KernelPort } from '../../kernel/port.js';
import type { Dmabuf } from './dmabuf-alloc.js';

/** The buffer cannot take DMABUFs (kfifo and other non-DMA buffers answer EPERM): use file I/O. */
export class DmabufNotSupportedError extends Error {
  readonly code = 'ERR_IIOJS_DMABUF_NOT_SUPPORTED';
  constructor(readonly buffer: string, cause: SystemError) {
    super(`${buffer} does not support DMABUF blocks (${cause.code} from ATTACH)`, { cause });
    this.name = 'DmabufNotSupportedError';
  }
}

/** How often a wait checks that the device is still there. */
const LIVENESS_MS = 250;

interface Pending {
  /** The sync file of the transfer's fence, exported while it was pending. */
  syncFd: number;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Milliseconds; the wait rejects with ETIMEDOUT after it (default: no limit but liveness). */
  timeoutMs?: number;
}

export class DmabufQueue {
  readonly #pending = new Map<number, Pending>();
  readonly #attached = new Set<number>();
  #queued = false;
  /** Aborted, for good, once the device is seen removed. */
  readonly #removed = new AbortController();
  /** Watches the device while any block is queued: one timer per queue, not per wait. */
  #liveness: NodeJS.Timeout | undefined;

  /**
   * `device` is the device's sysfs directory (e.g. /sys/bus/iio/devices/iio:device1), watched
   * during waits; `name` names the buffer in messages, e.g. `iio:device1/buffer0`.
   */
  constructor(
    private readonly port: KernelPort,
    private readonly bufferFd: number,
    private readonly device: string,
    private readonly name: string,
  ) {
    port.fcntl(bufferFd, F_SETFL, port.fcntl(bufferFd, F_GETFL) | O_NONBLOCK);
  }

  /** Attaches DMABUFs; all of them must be attached before the first enqueue. */
  attach(dmabufs: readonly Dmabuf[]): void {
    if (this.#queued) throw new Error(`${this.name}: attach every DMABUF before enqueueing any (kernel-abi §2.4)`);
    for (const d of dmabufs) {
      try {
        this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, Int32Array.of(d.fd));
      } catch (e) {
        if (isSystemError(e, 'EPERM', 'ENODEV', 'ENOTTY') && this.#attached.size === 0) {
          throw new DmabufNotSupportedError(this.name, e);
        }
        throw e;
      }
      this.#attached.add(d.fd);
    }
  }

  /** Hands a block to the hardware: `bytesUsed` of it, once, or repeatedly if `cyclic` (output only). */
  enqueue(d: Dmabuf, bytesUsed = d.size, cyclic = false): void {
    if (!this.#attached.has(d.fd)) throw new Error(`${this.name}: DMABUF fd ${d.fd} is not attached`);
    if (this.#pending.has(d.fd)) throw new Error(`${this.name}: DMABUF fd ${d.fd} is already queued`);
    const arg = iioDmabufStruct.encode({ fd: d.fd, flags: cyclic ? IIO_BUFFER_DMABUF_CYCLIC : 0, bytesUsed });
    try {
      this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, arg);
    } catch (e) {
      // Our blocks are only re-queued after their fence signalled, so EBUSY here means the
      // driver refused the block earlier and 6.12 left it ACTIVE for good.
      if (isSystemError(e, 'EBUSY')) {
        throw systemError(errnoOf('EIO'), 'ioctl(IIO_BUFFER_DMABUF_ENQUEUE)', this.name, `DMABUF fd ${d.fd} was refused by the driver and cannot be queued again; detach it`);
      }
      throw e;
    }
    this.#queued = true;
    const exported = dmaBufExportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_RW });
    this.port.ioctl(d.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, exported);
    this.#pending.set(d.fd, { syncFd: dmaBufExportSyncFileStruct.decode(exported).fd });
    this.#watchDevice();
  }

  #watchDevice(): void {
    if (this.#liveness !== undefined || this.#removed.signal.aborted) return;
    this.#liveness = setInterval(() => {
      this.port.stat(this.device).catch((e: unknown) => {
        if (!isSystemError(e, 'ENOENT')) return;
        this.#removed.abort(systemError(errnoOf('ENODEV'), 'poll', this.name, 'the device was removed; its queued blocks never complete'));
        this.#unwatchDevice();
      });
    }, LIVENESS_MS);
    this.#liveness.unref(); // waits keep the process alive, the watch alone does not
  }

  #unwatchDevice(): void {
    clearInterval(this.#liveness);
    this.#liveness = undefined;
  }

  #forget(fd: number): Pending | undefined {
    const pending = this.#pending.get(fd);
    this.#pending.delete(fd);
    if (this.#pending.size === 0) this.#unwatchDevice();
    return pending;
  }

  /** Whether `d` has been handed to the hardware and not yet waited for. */
  queued(d: Dmabuf): boolean {
    return this.#pending.has(d.fd);
  }

  /**
   * Waits until the hardware is done with `d` (POLLOUT: right for both directions, §2.9) and
   * throws the transfer's error if its fence failed (e.g. EINTR: aborted by a disable).
   */
  async wait(d: Dmabuf, options: WaitOptions = {}): Promise<void> {
    const pending = this.#pending.get(d.fd);
    if (pending === undefined) throw new Error(`${this.name}: DMABUF fd ${d.fd} is not queued`);
    const signals = [this.#removed.signal];
    if (options.signal) signals.push(options.signal);
    if (options.timeoutMs !== undefined) signals.push(AbortSignal.timeout(options.timeoutMs));
    try {
      await this.port.poll(d.fd, POLLOUT, { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) });
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
      if (this.#removed.signal.aborted) throw this.#removed.signal.reason as Error;
      if (options.signal?.aborted) throw abortError(options.signal);
      throw systemError(errnoOf('ETIMEDOUT'), 'poll', this.name, `no completion within ${options.timeoutMs} ms`);
    }
    this.#forget(d.fd);
    const status = this.#status(pending.syncFd);
    this.port.close(pending.syncFd);
    if (status < 0) throw systemError(status, 'transfer', this.name, `the DMABUF fd ${d.fd} transfer failed`);
  }

  /** SYNC_IOC_FILE_INFO status: 1 signalled, 0 active, < 0 the fence's error. */
  #status(syncFd: number): number {
    const info = syncFileInfoStruct.encode({});
    this.port.ioctl(syncFd, SYNC_IOC_FILE_INFO, info);
    return syncFileInfoStruct.decode(info).status;
  }

  /** Detaches `d` (a queued transfer still runs: §2.5) and forgets its pending fence. */
  detach(d: Dmabuf): void {
    const pending = this.#forget(d.fd);
    if (pending) this.port.close(pending.syncFd);
    if (!this.#attached.delete(d.fd)) return;
    try {
      this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_DETACH_IOCTL, Int32Array.of(d.fd));
    } catch (e) {
      if (!isSystemError(e, 'ENODEV')) throw e; // a removed device has nothing left to detach
    }
  }
}
