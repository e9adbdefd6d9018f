// The fd-level mechanics of DMABUF blocks on one IIO buffer fd, with the kernel's traps handled
// (kernel-abi §2.4–§2.10, §7) and the rules of docs/lifecycle.md:
//  - every DMABUF is attached before any is enqueued (a later ATTACH drops queued blocks);
//  - ENQUEUE never blocks (the buffer fd is O_NONBLOCK). Its EBUSY means one of two things
//    (§2.6): another importer's fence is still pending on the DMABUF (waited for, bounded, then
//    retried), or every fence has signalled and the driver refused the block earlier, which 6.12
//    leaves ACTIVE for good (reported as the EIO it is);
//  - with `checkTransfers` (the default) each transfer's fence is exported as a sync file right
//    after ENQUEUE, the only way to learn that a transfer failed (poll cannot tell);
//  - a queued block has one transfer: every waiter shares its completion, which polls the
//    DMABUF while anyone waits; the transfer's sync file is closed exactly once, when it ends;
//  - every wait is bounded by its caller and by the device watch (a removed device's queued
//    fences never signal);
//  - each block's ioctl arguments are encoded once, not per transfer.
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE, DMA_BUF_SYNC_RW, dmaBufExportSyncFileStruct, F_GETFL, F_SETFL,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_CYCLIC, IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct, O_NONBLOCK, POLLOUT, SYNC_IOC_FILE_INFO, syncFileInfoStruct,
} from '../../abi/index.js';
import { errnoOf, isSystemError, systemError, type SystemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';
import { bounded, boundedWait, type WaitBounds } from '../waits.js';
import type { DeviceWatch } from './device-watch.js';
import type { Dmabuf } from './dmabuf-alloc.js';

/** The buffer cannot take DMABUFs (kfifo and other non-DMA buffers answer EPERM): use file I/O. */
export class DmabufNotSupportedError extends Error {
  readonly code = 'ERR_IIOJS_DMABUF_NOT_SUPPORTED';
  /** The message without the buffer's name, for errors that name it already. */
  readonly detail: string;
  constructor(readonly buffer: string, cause: SystemError) {
    const detail = `does not support DMABUF blocks (${cause.code} from ATTACH)`;
    super(`${buffer} ${detail}`, { cause });
    this.name = 'DmabufNotSupportedError';
    this.detail = detail;
  }
}

/**
 * How long an ENQUEUE waits for another importer's fences when its caller sets no limit: the
 * kernel's own wait in a blocking ENQUEUE (DMABUF_ENQUEUE_TIMEOUT_MS, §2.6 step 9).
 */
export const BUSY_WAIT_MS = 5000;

export interface WaitOptions {
  signal?: AbortSignal;
  /** Milliseconds (0 or absent: no limit but the device watch); past it ETIMEDOUT. */
  timeoutMs?: number;
}

export interface DmabufQueueOptions {
  /**
   * Export each transfer's fence and read its status (3 syscalls a block: EXPORT_SYNC_FILE,
   * SYNC_IOC_FILE_INFO, close): without it a failed transfer (aborted, refused by the driver)
   * comes back as if it had succeeded. Default true.
   */
  checkTransfers?: boolean;
}

/** One hand-off of a block to the hardware, from ENQUEUE until a waiter sees it end. */
interface Transfer {
  /** The sync file of its fence; undefined without checks or when the export failed. */
  syncFd: number | undefined;
  /** Why the status of this transfer cannot be known (the export failed after ENQUEUE). */
  exportError: SystemError | undefined;
  /** Set once the transfer ended, with its error if it failed. */
  ended: boolean;
  error: Error | undefined;
  /**
   * What waiters wait on, made by the first waiter of a transfer that has not ended, and settled
   * by its end. Every waiter awaits it through `bounded`, so a rejection is always handled (no
   * withResolvers and its catch: this is made once a block).
   */
  done: Promise<void> | undefined;
  settle: ((error: Error | undefined) => void) | undefined;
  /** Whether the poll runs: it does only while someone waits. */
  polling: boolean;
  waiters: number;
}

interface Slot {
  readonly dmabuf: Dmabuf;
  /** struct iio_dmabuf, encoded for the last (bytesUsed, cyclic) asked. */
  readonly enqueueArg: Uint8Array;
  bytesUsed: number;
  cyclic: boolean;
  transfer: Transfer | undefined;
  /**
   * Cancels the poll of its transfer. Kept from one transfer to the next (an AbortController
   * costs more than the rest of a block's bookkeeping) and replaced once used.
   */
  cancel: AbortController;
  /** The errno of this block's last failed transfer other than an abort (a driver refusal). */
  refusedWith: number | undefined;
}

// 32-bit word indexes of the fields read and written per transfer
const FILE_INFO_STATUS = syncFileInfoStruct.fields.status.offset / 4;
const FILE_INFO_NUM_FENCES = syncFileInfoStruct.fields.numFences.offset / 4;
const EXPORT_FD = dmaBufExportSyncFileStruct.fields.fd.offset / 4;
const EINTR = errnoOf('EINTR');

export class DmabufQueue {
  readonly #slots = new Map<number, Slot>();
  readonly #checkTransfers: boolean;
  #anyQueued = false;
  /** Transfers not yet ended, and the watch subscription kept while there are any. */
  #running = 0;
  #unwatch: (() => void) | undefined;
  /** Scratch arguments of the per-transfer ioctls, encoded once per queue. */
  readonly #exportArg = dmaBufExportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_RW });
  readonly #exportWords = new Int32Array(this.#exportArg.buffer); // host order, as the kernel writes
  readonly #infoArg = syncFileInfoStruct.encode({});
  readonly #infoWords = new Int32Array(this.#infoArg.buffer);

  /**
   * `bufferFd` is made O_NONBLOCK; `watch` watches its device; `name` names the buffer in
   * messages, e.g. `iio:device1/buffer0`.
   */
  constructor(
    private readonly port: KernelPort,
    private readonly bufferFd: number,
    private readonly watch: DeviceWatch,
    private readonly name: string,
    options: DmabufQueueOptions = {},
  ) {
    this.#checkTransfers = options.checkTransfers ?? true;
    port.fcntl(bufferFd, F_SETFL, port.fcntl(bufferFd, F_GETFL) | O_NONBLOCK);
  }

  /** Attaches DMABUFs; all of them must be attached before the first enqueue. */
  attach(dmabufs: readonly Dmabuf[]): void {
    if (this.#anyQueued) throw new Error(`${this.name}: attach every DMABUF before enqueueing any (kernel-abi §2.4)`);
    for (const d of dmabufs) {
      try {
        this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, Int32Array.of(d.fd));
      } catch (e) {
        if (isSystemError(e, 'EPERM', 'ENODEV', 'ENOTTY') && this.#slots.size === 0) {
          throw new DmabufNotSupportedError(this.name, e);
        }
        throw e;
      }
      const slot: Slot = { dmabuf: d, enqueueArg: new Uint8Array(iioDmabufStruct.size), bytesUsed: 0, cyclic: false, transfer: undefined, cancel: new AbortController(), refusedWith: undefined };
      this.#slots.set(d.fd, slot);
    }
  }

  /**
   * Hands a block to the hardware: `bytesUsed` of it, once, or repeatedly if `cyclic` (output
   * only). Resolves once the kernel took it; only an EBUSY from another importer's fences waits
   * (bounded by `bounds`, else BUSY_WAIT_MS).
   */
  async enqueue(d: Dmabuf, bytesUsed = d.size, cyclic = false, bounds: WaitBounds = {}): Promise<void> {
    const slot = this.#slot(d);
    if (slot.transfer !== undefined) throw new Error(`${this.name}: DMABUF fd ${d.fd} is already queued`);
    if (slot.bytesUsed !== bytesUsed || slot.cyclic !== cyclic) {
      iioDmabufStruct.encode({ fd: d.fd, flags: cyclic ? IIO_BUFFER_DMABUF_CYCLIC : 0, bytesUsed }, slot.enqueueArg);
      slot.bytesUsed = bytesUsed;
      slot.cyclic = cyclic;
    }
    let busySince: number | undefined;
    for (;;) {
      try {
        this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, slot.enqueueArg);
        break;
      } catch (e) {
        if (!isSystemError(e, 'EBUSY')) throw e;
        if (this.#fencesSignalled(d)) throw this.#refused(slot);
        busySince ??= performance.now();
        await this.#busyWait(d, bounds, busySince);
      }
    }
    this.#anyQueued = true;
    this.#started(slot);
  }

  /** Waits for the fences another importer holds on `d`; ETIMEDOUT-like EBUSY past the bound. */
  async #busyWait(d: Dmabuf, bounds: WaitBounds, since: number): Promise<void> {
    const limit = bounds.timeoutMs || BUSY_WAIT_MS;
    const left = limit - (performance.now() - since);
    const busy = (): SystemError => systemError(errnoOf('EBUSY'), 'ioctl(IIO_BUFFER_DMABUF_ENQUEUE)', this.name,
      `DMABUF fd ${d.fd} is still in use by another importer's fences after ${limit} ms`);
    if (left <= 0) throw busy();
    await boundedWait((signal) => this.port.poll(d.fd, POLLOUT, signal === undefined ? { fence: true } : { signal, fence: true }),
      { timeoutMs: Math.ceil(left), ...(bounds.signal === undefined ? {} : { signal: bounds.signal }), stop: (end) => this.watch.subscribe(end) }, busy);
  }

  #refused(slot: Slot): SystemError {
    const why = slot.refusedWith === undefined ? '' : ` (its transfer failed with ${-slot.refusedWith})`;
    return systemError(errnoOf('EIO'), 'ioctl(IIO_BUFFER_DMABUF_ENQUEUE)', this.name,
      `DMABUF fd ${slot.dmabuf.fd} was refused by the driver${why} and cannot be queued again; detach it`);
  }

  /** Whether every fence on `d` has signalled: a sync-file snapshot of them, and its status. */
  #fencesSignalled(d: Dmabuf): boolean {
    this.port.ioctl(d.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, this.#exportArg);
    const syncFd = this.#exportWords[EXPORT_FD]!;
    try {
      return this.#status(syncFd) !== 0;
    } finally {
      this.port.close(syncFd);
    }
  }

  /** Records a transfer the kernel accepted; a failed export leaves it tracked, status unknown. */
  #started(slot: Slot): void {
    const transfer: Transfer = { syncFd: undefined, exportError: undefined, ended: false, error: undefined, done: undefined, settle: undefined, polling: false, waiters: 0 };
    slot.transfer = transfer;
    if (this.#running++ === 0) this.#unwatch = this.watch.subscribe((removed) => this.#abandonAll(removed));
    if (!this.#checkTransfers) return;
    try {
      this.port.ioctl(slot.dmabuf.fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, this.#exportArg);
      transfer.syncFd = this.#exportWords[EXPORT_FD]!;
    } catch (e) {
      transfer.exportError = e as SystemError;
    }
  }

  /** Whether `d` has been handed to the hardware and no waiter has seen that transfer end. */
  queued(d: Dmabuf): boolean {
    return this.#slot(d).transfer !== undefined;
  }

  /**
   * Waits until the hardware is done with `d` (POLLOUT: right for both directions, §2.9) and
   * throws the transfer's error if its fence failed (e.g. EINTR: aborted by a disable). A wait
   * ended by its own bound leaves the block queued.
   */
  async wait(d: Dmabuf, options: WaitOptions = {}): Promise<void> {
    const slot = this.#slot(d);
    const transfer = slot.transfer;
    if (transfer === undefined) throw new Error(`${this.name}: DMABUF fd ${d.fd} is not queued`);
    if (!transfer.ended) {
      const done = (transfer.done ??= new Promise<void>((resolve, reject) => {
        transfer.settle = (error) => (error === undefined ? resolve() : reject(error));
      }));
      if (!transfer.polling) this.#poll(slot, transfer);
      transfer.waiters++;
      try {
        await bounded(done, options, (ms) => systemError(errnoOf('ETIMEDOUT'), 'poll', this.name, `no completion within ${ms} ms`));
      } catch (e) {
        if (!transfer.ended) throw e; // a bound ended this wait; the block stays queued
      } finally {
        if (--transfer.waiters === 0 && !transfer.ended) this.#cancelPoll(slot, transfer);
      }
    }
    if (slot.transfer === transfer) slot.transfer = undefined;
    if (transfer.error !== undefined) throw transfer.error;
  }

  #poll(slot: Slot, transfer: Transfer): void {
    transfer.polling = true;
    const signal = slot.cancel.signal;
    this.port.poll(slot.dmabuf.fd, POLLOUT, { signal, fence: true }).then(
      () => this.#end(transfer, this.#outcome(slot, transfer)),
      (e: unknown) => {
        if (!signal.aborted) this.#end(transfer, e as Error); // e.g. ECANCELED: the fd was closed
      },
    );
  }

  /** Stops the poll of a transfer nobody waits for any more (it stays queued). */
  #cancelPoll(slot: Slot, transfer: Transfer): void {
    if (!transfer.polling) return;
    transfer.polling = false;
    slot.cancel.abort();
    slot.cancel = new AbortController();
  }

  /** The error of an ended transfer, if it failed (or its status could not be known). */
  #outcome(slot: Slot, transfer: Transfer): Error | undefined {
    if (transfer.exportError !== undefined) {
      const e = systemError(errnoOf(transfer.exportError.code), 'transfer', this.name,
        `the DMABUF fd ${slot.dmabuf.fd} transfer ended but its status is unknown: exporting its fence failed`);
      e.cause = transfer.exportError;
      return e;
    }
    if (transfer.syncFd === undefined) return undefined;
    const status = this.#status(transfer.syncFd);
    if (status >= 0) return undefined;
    if (status !== -EINTR) slot.refusedWith = status;
    return systemError(status, 'transfer', this.name, `the DMABUF fd ${slot.dmabuf.fd} transfer failed`);
  }

  /** Ends a transfer once: closes its sync file and settles its waiters. */
  #end(transfer: Transfer, error: Error | undefined): void {
    if (transfer.ended) return;
    transfer.ended = true;
    transfer.error = error;
    if (transfer.syncFd !== undefined) {
      const fd = transfer.syncFd;
      transfer.syncFd = undefined;
      this.port.close(fd);
    }
    transfer.settle?.(error);
    if (--this.#running === 0) {
      this.#unwatch?.();
      this.#unwatch = undefined;
    }
  }

  /** The device is gone: its queued fences never signal, so every transfer ends with ENODEV. */
  #abandonAll(removed: SystemError): void {
    for (const slot of this.#slots.values()) {
      const transfer = slot.transfer;
      if (transfer === undefined || transfer.ended) continue;
      this.#cancelPoll(slot, transfer);
      const e = systemError(errnoOf('ENODEV'), 'poll', this.name, 'the device was removed; its queued blocks never complete');
      e.cause = removed;
      this.#end(transfer, e);
    }
  }

  /** SYNC_IOC_FILE_INFO status: 1 signalled, 0 active, < 0 the fence's error. */
  #status(syncFd: number): number {
    this.#infoWords[FILE_INFO_NUM_FENCES] = 0; // the kernel writes the count back
    this.port.ioctl(syncFd, SYNC_IOC_FILE_INFO, this.#infoArg);
    return this.#infoWords[FILE_INFO_STATUS]!;
  }

  /**
   * Detaches `d` (a queued transfer still runs in the kernel: §2.5); its waiters reject with
   * ECANCELED and the library forgets the transfer.
   */
  detach(d: Dmabuf): void {
    if (!this.forget(d)) return;
    try {
      this.port.ioctl(this.bufferFd, IIO_BUFFER_DMABUF_DETACH_IOCTL, Int32Array.of(d.fd));
    } catch (e) {
      if (!isSystemError(e, 'ENODEV')) throw e; // a removed device has nothing left to detach
    }
  }

  /**
   * Forgets `d` without a DETACH (closing the buffer fd detached it): its waiters reject with
   * ECANCELED, its sync file is closed. Returns whether it was attached.
   */
  forget(d: Dmabuf): boolean {
    const slot = this.#slots.get(d.fd);
    if (slot === undefined) return false;
    this.#slots.delete(d.fd);
    const transfer = slot.transfer;
    if (transfer !== undefined) {
      this.#cancelPoll(slot, transfer);
      this.#end(transfer, systemError(errnoOf('ECANCELED'), 'poll', this.name, `DMABUF fd ${d.fd} was detached while queued`));
    }
    return true;
  }

  #slot(d: Dmabuf): Slot {
    const slot = this.#slots.get(d.fd);
    if (slot === undefined) throw new Error(`${this.name}: DMABUF fd ${d.fd} is not attached`);
    return slot;
  }
}
