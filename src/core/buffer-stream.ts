// A buffer opened for streaming (libiio's iio_buffer + iio_block + iio_stream): blocks that go
// round between the hardware and the CPU, `for await` capture (which stop() ends with what was
// captured), a writer for playback, and Node stream adapters. Shutdown (close, asyncDispose, or
// best effort at process exit) goes through the backend in the kernel's order: disable → wait
// fences (bounded) → detach → close. Capture counts the overruns its data shows (overruns.ts)
// and emits an 'overrun' event for each.
import type { BufferHandle, OpOptions, TransferMode, WaitBlockOptions } from '../backends/backend.js';
import { isSystemError } from '../errors.js';
import type { BlockLayout } from '../samples/block-layout.js';
import type { SampleInput } from '../samples/kinds.js';
import type { IioBuffer } from './buffer.js';
import type { Channel } from './channel.js';
import type { Overrun, OverrunCheck, OverrunFinder } from './overruns.js';
import { StreamBlock, type CpuAccess } from './stream-block.js';
import { readableOf, writableOf, type ReadableOptions, type WritableOptions } from './stream-adapters.js';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** What `write` takes: raw scans, samples by channel id, or a function that fills the block. */
export type PlaybackData = Uint8Array | Readonly<Record<string, SampleInput>> | ((data: Uint8Array, layout: BlockLayout) => number);

export interface StreamSettings {
  /** Default bounds of the waits of the iterator and the writer. */
  timeoutMs?: number;
  cpuAccess: CpuAccess;
  cyclic: boolean;
  /** Capture: how overruns are seen, if they can be. */
  overruns: OverrunFinder | undefined;
}

export interface BufferStreamEvents {
  /** Capture: samples were lost before the block being yielded (see `overruns`). */
  overrun: [Overrun];
}

export class BufferStream extends EventEmitter<BufferStreamEvents> implements AsyncIterable<StreamBlock>, AsyncDisposable {
  readonly buffer: IioBuffer;
  /** The enabled channels, in mask order (what the kernel took). */
  readonly channels: readonly Channel[];
  readonly layout: BlockLayout;
  /** Scans per block. */
  readonly blockSize: number;
  readonly blocks: readonly StreamBlock[];
  readonly #handle: BufferHandle;
  readonly #settings: StreamSettings;
  readonly #onClose: () => void;
  #running = false;
  /** Capture: the blocks queued when stop() was called, oldest first; undefined unless stopped. */
  #lastBlocks: StreamBlock[] | undefined;
  #closing: Promise<void> | undefined;
  /** Playback: the next block to fill, and how many were ever queued. */
  #nextWrite = 0;
  #written = 0;
  /** Blocks in the order they were queued: the order they complete in. */
  readonly #order: StreamBlock[] = [];
  #overruns = 0;
  #samplesLost = 0;

  /** @internal Built by IioBuffer.open. */
  constructor(buffer: IioBuffer, handle: BufferHandle, channels: readonly Channel[], layout: BlockLayout, blockSize: number, settings: StreamSettings, onClose: () => void) {
    super();
    this.#onClose = onClose;
    this.buffer = buffer;
    this.#handle = handle;
    this.channels = channels;
    this.layout = layout;
    this.blockSize = blockSize;
    this.#settings = settings;
    this.blocks = Object.freeze(handle.blocks.map((_, i) => new StreamBlock(handle, i, layout, buffer.output, settings.cpuAccess, (b) => this.#queued(b))));
    exitHook.add(this.#handle);
  }

  /** 'dmabuf' (zero-copy) or 'fileio' (read()/write() on the buffer fd). */
  get mode(): TransferMode {
    return this.#handle.mode;
  }

  get running(): boolean {
    return this.#running;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Capture: what overruns are seen in — the sample counter given at open, or the timestamp
   * channel (enabled, and the device's or its trigger's sampling_frequency readable when the
   * stream opened); undefined when nothing can tell, and `overruns` stays 0 whatever is lost.
   */
  get overrunCheck(): OverrunCheck | undefined {
    return this.#settings.overruns?.check;
  }

  /** Capture: the gaps seen in the data so far, each one an 'overrun' event. */
  get overruns(): number {
    return this.#overruns;
  }

  /** Capture: the samples lost in those gaps. */
  get samplesLost(): number {
    return this.#samplesLost;
  }

  /** Enables the buffer: queued blocks start moving. */
  async start(options?: OpOptions): Promise<void> {
    this.#lastBlocks = undefined; // before the enable: a stop() meanwhile is the last word
    this.#settings.overruns?.gaps.reset(); // what the hardware skipped while stopped is no overrun
    await this.#handle.enable(options);
    this.#running = true;
  }

  /**
   * Disables the buffer: transfers in flight are aborted. A capture loop then gets what was
   * captured before the stop, and ends (docs/lifecycle.md).
   */
  async stop(options?: OpOptions): Promise<void> {
    // Taken before the disable: the loop may see an aborted transfer before the write returns.
    this.#lastBlocks = this.#order.filter((b) => b.queued);
    try {
      await this.#handle.disable(options);
    } catch (e) {
      this.#lastBlocks = undefined; // only once the kernel took it: a failed disable leaves it running
      throw e;
    }
    this.#running = false;
  }

  /**
   * Capture: queues every idle block, starts, then yields completed blocks in order. A block is
   * valid until the consumer asks for the next one, when it goes back to the hardware. After
   * stop(), it yields the blocks that were queued then and hold data, and ends. Samples lost
   * before a block are counted, and an 'overrun' emitted, before it is yielded.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<StreamBlock> {
    if (this.buffer.output) throw new TypeError(`${this.buffer.toString()} is an output buffer: use write()`);
    const wait = this.#wait();
    // Idle blocks (a new stream, or the one a previous loop broke out on) go round too, unless
    // stopped meanwhile: work queued on a disabled buffer stays there (kernel-abi §2.10).
    for (const b of this.blocks) if (!b.queued && this.#lastBlocks === undefined) await b.enqueue(undefined, wait);
    if (!this.#running && this.#lastBlocks === undefined) await this.start();
    let previous: StreamBlock | undefined;
    for (;;) {
      if (this.#lastBlocks !== undefined) {
        const block = await this.#lastCaptured(this.#lastBlocks, wait);
        if (block === undefined) return;
        if (this.#settings.overruns !== undefined) this.#findOverruns(block, this.#settings.overruns);
        yield block;
        continue;
      }
      if (previous !== undefined) await previous.enqueue(undefined, wait);
      if (this.#lastBlocks !== undefined) continue; // stopped meanwhile: the block just queued may never run
      const block = this.#nextQueued();
      try {
        await block.dequeue(wait);
      } catch (e) {
        if (this.#lastBlocks !== undefined && isSystemError(e, 'EINTR')) return; // aborted by stop()
        throw e;
      }
      if (this.#lastBlocks !== undefined && block.scans === 0) return; // file I/O: nothing was left
      if (this.#settings.overruns !== undefined) this.#findOverruns(block, this.#settings.overruns);
      previous = block;
      yield block;
    }
  }

  /**
   * Playback: fills the next free block (waiting for the hardware to give one back) and queues
   * it; the stream starts once every block is queued (or on flush()). Resolves with the scans
   * queued.
   */
  async write(data: PlaybackData, options: WaitBlockOptions = {}): Promise<number> {
    if (this.#settings.cyclic) {
      await this.writeCyclic(data, options);
      return this.blocks[(this.#nextWrite + this.blocks.length - 1) % this.blocks.length]!.scans;
    }
    return this.writeWith((block) => this.#fill(block, data), options);
  }

  /**
   * Playback: as write(), the next free block filled by `fill`, which resolves with the bytes it
   * filled (whole scans). It may take its time and need not touch the memory: e.g. a DMABUF
   * transfer from another device into `block.dmabufFd` (with `cpuAccess` false or 'on-touch').
   */
  async writeWith(fill: (block: StreamBlock) => number | Promise<number>, options: WaitBlockOptions = {}): Promise<number> {
    if (this.#settings.cyclic) throw new TypeError(`${this.buffer.toString()} is cyclic: use writeCyclic()`);
    const block = await this.#freeBlock(options);
    const bytes = this.#whole(await fill(block));
    await block.enqueue(bytes, { ...this.#wait(), ...options });
    this.#written++;
    if (!this.#running && this.#written >= this.blocks.length) await this.start(options);
    return bytes / this.layout.scanBytes;
  }

  /**
   * Playback, cyclic: one block repeated by the hardware until stop() (DMABUF mode; the mainline
   * dmaengine buffer accepts the flag but plays the block once, kernel-abi §2.7).
   */
  async writeCyclic(data: PlaybackData, options: WaitBlockOptions = {}): Promise<void> {
    const block = await this.#freeBlock(options);
    await block.enqueue(this.#whole(this.#fill(block, data)), { ...this.#wait(), ...options, cyclic: true });
    if (!this.#running) await this.start(options);
  }

  /** Playback: starts if needed and waits until every queued block has been played. */
  async flush(options: WaitBlockOptions = {}): Promise<void> {
    if (!this.#running && this.blocks.some((b) => b.queued)) await this.start(options);
    const wait = { ...this.#wait(), ...options };
    for (const b of this.blocks) if (b.queued) await b.dequeue(wait);
  }

  /** Captured blocks as a byte stream (each chunk a copy; backpressure pauses the loop). */
  toReadable(options?: ReadableOptions): Readable {
    return readableOf(this, options);
  }

  /** A byte sink for playback; chunks are cut into blocks of whole scans. */
  toWritable(options?: WritableOptions): Writable {
    return writableOf(this, options);
  }

  /**
   * Stops and releases everything, whatever fails (docs/lifecycle.md); rejects with the first
   * failure. A second close resolves once the first is over.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.then(() => undefined, () => undefined);
    this.#closing = (async () => {
      this.#running = false;
      exitHook.delete(this.#handle);
      this.#onClose();
      for (const b of this.blocks) b.release();
      await this.#handle.close();
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  override toString(): string {
    return `${this.buffer.toString()} (${this.mode})`;
  }

  /**
   * Records that `block` went to the hardware. Only the capture iterator takes entries out, so a
   * block dequeued elsewhere (playback, by hand) may still have one: it is stale once the block
   * goes round again, and #order holds each block once.
   */
  #queued(block: StreamBlock): void {
    const stale = this.#order.indexOf(block);
    if (stale >= 0) this.#order.splice(stale, 1);
    this.#order.push(block);
  }

  /** The oldest block still with the hardware (blocks dequeued by hand drop out). */
  #nextQueued(): StreamBlock {
    for (;;) {
      const block = this.#order.shift();
      if (block === undefined) throw new Error(`${this.toString()}: no block is queued`);
      if (block.queued) return block;
    }
  }

  /**
   * The next of the blocks queued at stop() that holds data, or undefined once one did not
   * complete: aborted by the disable (EINTR) or, in file I/O mode, nothing left to drain. Those
   * queued after it could not have completed either.
   */
  async #lastCaptured(last: StreamBlock[], wait: WaitBlockOptions): Promise<StreamBlock | undefined> {
    let block: StreamBlock | undefined;
    do block = last.shift(); while (block !== undefined && !block.queued); // the loop took it already
    try {
      if (block !== undefined) await block.dequeue(wait);
    } catch (e) {
      if (!isSystemError(e, 'EINTR')) throw e;
      block = undefined;
    }
    if (block !== undefined && block.scans > 0) return block;
    last.length = 0;
    return undefined;
  }

  #findOverruns(block: StreamBlock, finder: OverrunFinder): void {
    finder.gaps.scan(block.bytes, (scan, samples) => {
      this.#overruns++;
      this.#samplesLost += samples;
      this.emit('overrun', { samples, block, scan });
    });
  }

  #wait(): WaitBlockOptions {
    return this.#settings.timeoutMs === undefined ? {} : { timeoutMs: this.#settings.timeoutMs };
  }

  async #freeBlock(options: WaitBlockOptions): Promise<StreamBlock> {
    if (!this.buffer.output) throw new TypeError(`${this.buffer.toString()} is an input buffer: iterate it`);
    const block = this.blocks[this.#nextWrite]!;
    this.#nextWrite = (this.#nextWrite + 1) % this.blocks.length;
    if (block.queued) {
      if (!this.#running) await this.start(options);
      await block.dequeue({ ...this.#wait(), ...options });
    }
    return block;
  }

  #fill(block: StreamBlock, data: PlaybackData): number {
    const scanBytes = this.layout.scanBytes;
    let bytes: number;
    if (typeof data === 'function') bytes = data(block.data, this.layout);
    else if (data instanceof Uint8Array) {
      if (data.length > block.data.length) throw new RangeError(`${this.buffer.toString()}: ${data.length} bytes do not fit a block of ${block.data.length}`);
      block.data.set(data);
      bytes = data.length;
    } else {
      const first = Object.keys(data)[0];
      if (first === undefined) throw new RangeError(`${this.buffer.toString()}: no channel values to write`);
      const scans = data[first]!.length / this.layout.channel(first).repeat;
      bytes = scans * scanBytes;
      if (bytes > block.data.length) throw new RangeError(`${this.buffer.toString()}: ${scans} scans do not fit a block of ${this.blockSize}`);
      this.layout.fill(block.data.subarray(0, bytes), data);
    }
    return bytes;
  }

  #whole(bytes: number): number {
    const scanBytes = this.layout.scanBytes;
    if (!(Number.isSafeInteger(bytes) && bytes > 0 && bytes % scanBytes === 0)) {
      throw new RangeError(`${this.buffer.toString()}: ${bytes} bytes is not a whole, non-zero number of ${scanBytes}-byte scans`);
    }
    return bytes;
  }
}

/**
 * Process exit: streams still open are released synchronously — the buffer disabled, its fd
 * closed (which detaches the DMABUFs) — without waiting for fences; close streams (or use
 * `await using`) for the full, clean stop.
 */
const exitHook = new (class {
  readonly #open = new Set<BufferHandle>();
  #installed = false;

  add(handle: BufferHandle): void {
    this.#open.add(handle);
    if (this.#installed) return;
    this.#installed = true;
    process.on('exit', () => {
      for (const h of this.#open) {
        try {
          h.releaseSync();
        } catch {
          // best effort: the process is going away
        }
      }
    });
  }

  delete(handle: BufferHandle): void {
    this.#open.delete(handle);
  }
})();
