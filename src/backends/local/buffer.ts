// An open IIO buffer of the local backend (libiio's local open_buffer + blocks): the buffer fd
// (the device fd is closed at once so others can open the device), the scan elements of the
// mask enabled (and read back), and the blocks — DMABUFs when the buffer takes them (a DMA heap
// first, udmabuf second), file I/O otherwise or when asked. Shutdown follows the kernel's order
// (kernel-abi §2.10): disable → wait fences (bounded) → detach → close.
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_RW, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE,
  dmaBufSyncStruct, F_GETFL, F_SETFL, IIO_BUFFER_GET_FD_IOCTL, MAP_SHARED, O_NONBLOCK, O_RDWR, PROT_READ, PROT_WRITE,
} from '../../abi/index.js';
import { abortError, errnoOf, isSystemError, systemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';
import type { BlockHandle, BufferHandle, DmabufSupport, OpenBufferOptions, TransferMode, WaitBlockOptions } from '../backend.js';
import { UnsupportedError, closedError, withContext } from '../errors.js';
import { allocateDmabuf, DmabufUnavailableError, type Dmabuf } from './dmabuf-alloc.js';
import { DmabufNotSupportedError, DmabufQueue } from './dmabuf-queue.js';
import { DeviceWatch } from './device-watch.js';
import { FileIo } from './fileio.js';
import { bounded, withResolvers, type Resolvers } from '../waits.js';

/** What the backend knows about the buffer's files. */
export interface LocalBufferFiles {
  deviceId: string;
  /** The device's sysfs directory. */
  deviceDir: string;
  /** /dev/iio:deviceN */
  node: string;
  /** bufferY/enable, bufferY/length and bufferY/watermark (the last two absent on odd drivers). */
  enable: string;
  length?: string;
  watermark?: string;
  /** `_en` files by channel position. */
  scanEnable: ReadonlyMap<number, string>;
  output: boolean;
}

/** How long close() waits for aborted transfers to signal (they do at once on a live device). */
const SHUTDOWN_WAIT_MS = 1000;

interface Block extends BlockHandle {
  readonly dmabuf?: Dmabuf;
  /** DMABUF mode: the whole mapping, once made. */
  readonly mapping?: Uint8Array;
  bytesUsed: number;
  queued: boolean;
  /** File I/O output: the write in progress. */
  writing?: Promise<unknown>;
  /** File I/O input: the bytes read into the block so far (a dequeue ended by its bound resumes there). */
  read?: { done: number };
}

/** What the local backend adds to the open options: the context's limit, read at each wait. */
export interface LocalOpenOptions extends OpenBufferOptions {
  timeoutMs: () => number;
}

export async function openLocalBuffer(port: KernelPort, files: LocalBufferFiles, index: number, mask: readonly number[], options: LocalOpenOptions): Promise<BufferHandle> {
  const name = `${files.deviceId}/buffer${index}`;
  if (!(Number.isSafeInteger(options.blocks) && options.blocks >= 1)) throw new RangeError(`${name}: blocks must be a positive integer, got ${options.blocks}`);
  if (!(Number.isSafeInteger(options.blockBytes) && options.blockBytes >= 1)) throw new RangeError(`${name}: blockBytes must be a positive integer, got ${options.blockBytes}`);
  for (const p of mask) {
    if (!files.scanEnable.has(p)) throw systemError(errnoOf('EINVAL'), 'open', files.node, `${name} carries no scan element at channel position ${p}`);
  }
  const watch = await DeviceWatch.open(port, files.deviceDir, name);
  const bfd = await openBufferFd(port, files, index, name);
  try {
    // GET_FD gives a blocking fd: file I/O must never block a thread, and ENQUEUE must not wait 5 s (§7.6).
    port.fcntl(bfd, F_SETFL, port.fcntl(bfd, F_GETFL) | O_NONBLOCK);
    const effective = await configure(port, files, name, mask);
    return await LocalBuffer.create(port, files, bfd, watch, name, effective, options);
  } catch (e) {
    port.close(bfd);
    throw e;
  }
}

/** IIO_BUFFER_GET_FD_IOCTL on the device node: the buffer's own fd. */
async function openBufferFd(port: KernelPort, files: LocalBufferFiles, index: number, name: string): Promise<number> {
  const devfd = await port.open(files.node, O_RDWR | O_NONBLOCK).catch((e: unknown) => { throw withContext(e, `opening ${name}`); });
  try {
    const arg = Int32Array.of(index);
    port.ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, arg);
    return arg[0]!;
  } catch (e) {
    throw withContext(e, `opening ${name}`, files.node);
  } finally {
    port.close(devfd); // the buffer fd holds the device; others may open the node now
  }
}

/**
 * Whether the buffer takes DMABUF blocks, found by attaching (and detaching) one small DMABUF:
 * no scan element, length or enable is touched, so the buffer is left as it was.
 */
export async function probeLocalDmabuf(port: KernelPort, files: LocalBufferFiles, index: number): Promise<DmabufSupport> {
  const name = `${files.deviceId}/buffer${index}`;
  const watch = await DeviceWatch.open(port, files.deviceDir, name);
  const bfd = await openBufferFd(port, files, index, name);
  let dmabuf: Dmabuf | undefined;
  try {
    dmabuf = await allocateDmabuf(port, 4096);
    const queue = new DmabufQueue(port, bfd, watch, name);
    queue.attach([dmabuf]);
    queue.detach(dmabuf);
    return { supported: true, source: dmabuf.source };
  } catch (e) {
    if (e instanceof DmabufNotSupportedError || e instanceof DmabufUnavailableError) return { supported: false, reason: e.message };
    throw e;
  } finally {
    if (dmabuf !== undefined) port.close(dmabuf.fd);
    port.close(bfd);
  }
}

/** Disables, writes every `_en`, reads them back: the mask the kernel took. */
async function configure(port: KernelPort, files: LocalBufferFiles, name: string, mask: readonly number[]): Promise<number[]> {
  const wanted = new Set(mask);
  const write = async (path: string, value: string): Promise<void> => {
    await port.writeText(path, value).catch((e: unknown) => { throw withContext(e, `${name}: writing ${value}`, path); });
  };
  await write(files.enable, '0');
  for (const [p, path] of files.scanEnable) await write(path, wanted.has(p) ? '1' : '0');
  const effective: number[] = [];
  for (const [p, path] of files.scanEnable) {
    if ((await port.readText(path)).trim() === '1') effective.push(p);
  }
  return effective.sort((a, b) => a - b);
}

class LocalBuffer implements BufferHandle {
  readonly #port: KernelPort;
  readonly #files: LocalBufferFiles;
  readonly #bfd: number;
  readonly #blocks: Block[];
  readonly #queue: DmabufQueue | undefined;
  readonly #fileio: FileIo | undefined;
  readonly #watch: DeviceWatch;
  /** The context's limit (ctx.setTimeout), the default bound of every wait. */
  readonly #timeoutMs: () => number;
  #everEnabled = false;
  #closing: Promise<void> | undefined;
  #released = false;

  private constructor(port: KernelPort, files: LocalBufferFiles, bfd: number, watch: DeviceWatch, timeoutMs: () => number,
    readonly name: string, readonly mask: readonly number[], readonly mode: TransferMode, blocks: Block[], queue: DmabufQueue | undefined) {
    this.#port = port;
    this.#files = files;
    this.#bfd = bfd;
    this.#watch = watch;
    this.#timeoutMs = timeoutMs;
    this.#blocks = blocks;
    this.#queue = queue;
    this.#fileio = queue === undefined ? new FileIo(port, bfd, watch, name, files.output) : undefined;
  }

  static async create(port: KernelPort, files: LocalBufferFiles, bfd: number, watch: DeviceWatch, name: string, mask: number[], options: LocalOpenOptions): Promise<LocalBuffer> {
    const mode = options.mode ?? 'auto';
    if (mode !== 'fileio') {
      const dmabufs = await tryDmabufs(port, bfd, watch, name, options, mode === 'dmabuf');
      if (dmabufs !== undefined) return new LocalBuffer(port, files, bfd, watch, options.timeoutMs, name, mask, 'dmabuf', dmabufs.blocks, dmabufs.queue);
    }
    if (files.length !== undefined) {
      // Several blocks' worth in the kernel buffer: with a length of one block, libiio's
      // small-block reads hang (a DMA buffer splits length into two blocks and waits for one).
      const scans = Math.max(2, 4 * Math.ceil(options.blockBytes / Math.max(1, options.scanBytes)));
      await port.writeText(files.length, String(scans)).catch((e: unknown) => { throw withContext(e, `${name}: setting length ${scans}`, files.length); });
    }
    if (files.watermark !== undefined) {
      // Wake readers once per block, not per scan. DMA buffers fix theirs at length / 2
      // (read-only: EACCES), which is two blocks with the length above.
      const scans = Math.max(1, Math.ceil(options.blockBytes / Math.max(1, options.scanBytes)));
      await port.writeText(files.watermark, String(scans)).catch((e: unknown) => {
        if (!isSystemError(e, 'EACCES', 'EPERM')) throw withContext(e, `${name}: setting watermark ${scans}`, files.watermark);
      });
    }
    const blocks: Block[] = [];
    for (let i = 0; i < options.blocks; i++) blocks.push({ data: new Uint8Array(options.blockBytes), size: options.blockBytes, bytesUsed: 0, queued: false, read: { done: 0 } });
    return new LocalBuffer(port, files, bfd, watch, options.timeoutMs, name, mask, 'fileio', blocks, undefined);
  }

  get blocks(): readonly BlockHandle[] {
    return this.#blocks;
  }

  async enable(): Promise<void> {
    this.#check();
    await this.#port.writeText(this.#files.enable, '1').catch((e: unknown) => { throw withContext(e, `enabling ${this.name}`, this.#files.enable); });
    this.#everEnabled = true;
    this.#enabled.resolve();
    if (this.#disabled.signal.aborted) this.#disabled = new AbortController();
  }

  async disable(): Promise<void> {
    this.#check();
    await this.#port.writeText(this.#files.enable, '0').catch((e: unknown) => { throw withContext(e, `disabling ${this.name}`, this.#files.enable); });
    // Only once the kernel took it: a failed write leaves the buffer enabled and its output going.
    if (this.#enabled.settled) this.#enabled = withResolvers();
    this.#disabled.abort();
  }

  async enqueue(i: number, bytesUsed: number, cyclic: boolean, options: WaitBlockOptions = {}): Promise<void> {
    this.#check();
    const b = this.#block(i);
    if (!(Number.isSafeInteger(bytesUsed) && bytesUsed >= 1 && bytesUsed <= b.size)) {
      throw new RangeError(`${this.name}: bytesUsed must be in [1, ${b.size}], got ${bytesUsed}`);
    }
    if (b.queued) throw systemError(errnoOf('EBUSY'), 'enqueue', this.name, `block ${i} is already queued`);
    if (this.#queue !== undefined) {
      try {
        await this.#queue.enqueue(b.dmabuf!, bytesUsed, cyclic, this.#bounds(options));
      } catch (e) {
        // the queue's own errors already name the buffer
        throw withContext(e, isSystemError(e) && e.path === this.name ? `enqueueing block ${i}` : `${this.name}: enqueueing block ${i}`);
      }
    } else {
      if (cyclic) throw new UnsupportedError('cyclic', this.name, 'cyclic blocks need DMABUF mode');
      // Output: written in order once the buffer is enabled (enabling re-creates the kernel's
      // file I/O blocks, so data written before is dropped); its error comes out of dequeue().
      if (this.#files.output) {
        const before = this.#lastWrite;
        const run = before.then(() => this.#enabled.promise).then(() => this.#fileio!.transfer(b.data.subarray(0, bytesUsed), { signal: this.#abort.signal }));
        this.#lastWrite = run.catch(() => undefined);
        b.writing = run;
        run.catch(() => undefined); // observed by dequeue
      }
    }
    b.bytesUsed = bytesUsed;
    if (b.read !== undefined) b.read.done = 0;
    b.queued = true;
  }

  #lastWrite: Promise<unknown> = Promise.resolve();
  /** Resolved while the buffer is enabled (file I/O output waits for it). */
  #enabled: Resolvers<void> = withResolvers();
  /** Ends background file I/O writes at close. */
  readonly #abort = new AbortController();
  /** Aborted by disable(): file I/O reads then drain the kernel buffer and end (fileio.ts). */
  #disabled = new AbortController();

  /** A wait's bounds: its own, else the context's limit. */
  #bounds(options: WaitBlockOptions): WaitBlockOptions {
    if (options.timeoutMs !== undefined) return options;
    const timeoutMs = this.#timeoutMs();
    return timeoutMs === 0 ? options : { ...options, timeoutMs };
  }

  async dequeue(i: number, options: WaitBlockOptions = {}): Promise<number> {
    this.#check();
    const b = this.#block(i);
    if (!b.queued) throw systemError(errnoOf('EINVAL'), 'dequeue', this.name, `block ${i} is not queued`);
    const bounds = this.#bounds(options);
    try {
      if (this.#queue !== undefined) await this.#queue.wait(b.dmabuf!, bounds);
      else if (this.#files.output) await bounded(b.writing!, bounds, (ms) => systemError(errnoOf('ETIMEDOUT'), 'write', this.name, `not written within ${ms} ms`));
      else b.bytesUsed = await this.#fileio!.transfer(b.data.subarray(0, b.bytesUsed), bounds, this.#disabled.signal, b.read);
    } catch (e) {
      // A timeout or an abort leaves the block queued (it may still complete); anything else ends it.
      if (!isSystemError(e, 'ETIMEDOUT') && (e as Error).name !== 'AbortError') b.queued = false;
      else if (this.#queue !== undefined && !this.#queue.queued(b.dmabuf!)) b.queued = false;
      // Removal aborts transfers in flight with EINTR, like a disable: say what happened.
      if (isSystemError(e, 'EINTR') && await this.#watch.check() !== undefined) {
        const gone = systemError(errnoOf('ENODEV'), e.syscall, this.name, 'the device was removed');
        gone.cause = e;
        throw gone;
      }
      throw e;
    }
    b.queued = false;
    b.writing = undefined;
    return b.bytesUsed;
  }

  queued(i: number): boolean {
    return this.#block(i).queued;
  }

  cpuAccess(i: number, phase: 'start' | 'end', access: 'read' | 'write' | 'rw'): void {
    const b = this.#block(i);
    if (b.dmabufFd === undefined) return;
    const arg = SYNC_ARGS[phase][access];
    for (let attempt = 0; ; attempt++) {
      try {
        this.#port.ioctl(b.dmabufFd, DMA_BUF_IOCTL_SYNC, arg);
        return;
      } catch (e) {
        // START may be interrupted while it waits for fences (kernel-abi §7.15): retry.
        if (!isSystemError(e, 'EINTR', 'EAGAIN') || attempt >= 3) throw withContext(e, `${this.name}: CPU access to block ${i}`);
      }
    }
  }

  releaseSync(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#port.writeTextSync(this.#files.enable, '0'); // closing the fd alone would not stop it (§1.2)
    } finally {
      this.#port.close(this.#bfd);
    }
  }

  /** Releases everything whatever fails; rejects with the first failure, once. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.then(() => undefined, () => undefined);
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  /** The kernel's order (kernel-abi §2.10): disable → wait fences (bounded) → detach → close. */
  async #shutdown(): Promise<void> {
    const failures: unknown[] = [];
    const step = async (run: () => unknown): Promise<void> => {
      try {
        await run();
      } catch (e) {
        failures.push(e);
      }
    };
    if (!this.#released) {
      // 1. disable: aborts transfers in flight (-EINTR). A removed device has nothing to disable.
      await step(() => this.#port.writeText(this.#files.enable, '0').catch((e: unknown) => {
        if (!isSystemError(e, 'ENOENT', 'ENODEV')) throw withContext(e, `disabling ${this.name}`, this.#files.enable);
      }));
      // 2. wait for the fences, bounded. Blocks queued on a buffer never enabled never ran: skip.
      const queue = this.#queue;
      if (queue !== undefined && this.#everEnabled) {
        await Promise.all(this.#blocks.filter((b) => queue.queued(b.dmabuf!))
          .map((b) => queue.wait(b.dmabuf!, { timeoutMs: SHUTDOWN_WAIT_MS }).catch(() => undefined)));
      }
    }
    this.#abort.abort();
    this.#enabled.reject(abortError(this.#abort.signal));
    await this.#lastWrite;
    // 3. detach, 4. close: each step runs whatever the one before did.
    const released = this.#released; // the fd closed at exit detached every DMABUF
    for (const b of this.#blocks) if (this.#queue !== undefined) await step(() => released ? this.#queue!.forget(b.dmabuf!) : this.#queue!.detach(b.dmabuf!));
    if (!this.#released) await step(() => this.#port.close(this.#bfd));
    this.#released = true;
    for (const b of this.#blocks) {
      if (b.mapping !== undefined && b.mapping.length > 0) await step(() => this.#port.munmap(b.mapping!));
      if (b.dmabuf !== undefined) await step(() => this.#port.close(b.dmabuf!.fd));
      b.queued = false;
    }
    this.#blocks.length = 0;
    if (failures.length > 0) throw failures[0];
  }

  #block(i: number): Block {
    const b = this.#blocks[i];
    if (b === undefined) throw new RangeError(`${this.name}: no block ${i}`);
    return b;
  }

  #check(): void {
    if (this.#released || this.#closing !== undefined) throw closedError(this.name);
  }
}

/** DMA_BUF_IOCTL_SYNC's arguments, encoded once: the kernel only reads them. */
const SYNC_ARGS = {
  start: syncArgs(DMA_BUF_SYNC_START),
  end: syncArgs(DMA_BUF_SYNC_END),
};

function syncArgs(phase: number): Record<'read' | 'write' | 'rw', Uint8Array> {
  return {
    read: dmaBufSyncStruct.encode({ flags: phase | DMA_BUF_SYNC_READ }),
    write: dmaBufSyncStruct.encode({ flags: phase | DMA_BUF_SYNC_WRITE }),
    rw: dmaBufSyncStruct.encode({ flags: phase | DMA_BUF_SYNC_RW }),
  };
}

/** DMABUF blocks attached to the buffer, or undefined when it cannot take them (and not forced). */
async function tryDmabufs(port: KernelPort, bfd: number, watch: DeviceWatch, name: string, options: OpenBufferOptions, forced: boolean): Promise<{ blocks: Block[]; queue: DmabufQueue } | undefined> {
  const dmabufs: Dmabuf[] = [];
  const release = (): void => {
    for (const d of dmabufs) port.close(d.fd);
  };
  try {
    for (let i = 0; i < options.blocks; i++) dmabufs.push(await allocateDmabuf(port, options.blockBytes));
    const queue = new DmabufQueue(port, bfd, watch, name, options.checkTransfers === undefined ? {} : { checkTransfers: options.checkTransfers });
    queue.attach(dmabufs);
    return { blocks: dmabufs.map((d) => mappedOnTouch(port, d, options.blockBytes)), queue };
  } catch (e) {
    release();
    // Closing the buffer fd later detaches whatever was attached.
    if (!forced && (e instanceof DmabufUnavailableError || e instanceof DmabufNotSupportedError)) return undefined;
    if (e instanceof DmabufUnavailableError || e instanceof DmabufNotSupportedError) {
      throw new UnsupportedError('dmabuf', name, e instanceof DmabufNotSupportedError ? e.detail : e.message, { cause: e });
    }
    throw e;
  }
}

/** A DMABUF block whose memory is mapped when the CPU first touches it (`data`), never before. */
function mappedOnTouch(port: KernelPort, dmabuf: Dmabuf, size: number): Block {
  let mapping: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  return {
    dmabuf,
    dmabufFd: dmabuf.fd,
    size,
    bytesUsed: 0,
    queued: false,
    get mapping() {
      return mapping;
    },
    get data() {
      mapping ??= port.mmap(dmabuf.fd, dmabuf.size, PROT_READ | PROT_WRITE, MAP_SHARED);
      return (data ??= mapping.subarray(0, size));
    },
  };
}
