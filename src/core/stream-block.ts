// One block of a BufferStream: its memory, how much of it holds data, and its round trip to the
// hardware. CPU access to DMABUF memory is bracketed by DMA_BUF_IOCTL_SYNC (kernel-abi §4.4):
// a block the CPU may touch is inside START, and END comes right before it goes back to the
// hardware — READ for capture, WRITE for playback. `cpuAccess: false` skips it for data that is
// only passed on (e.g. by `dmabufFd`); 'on-touch' takes it only for a block whose memory is
// touched (`data`, `bytes`, `samples`), from the first touch until the block goes back, so that
// blocks handed on by their fd are neither synced nor mapped while others are read.
import type { BufferHandle, WaitBlockOptions } from '../backends/backend.js';
import { checkTimeout } from '../backends/waits.js';
import type { SampleArray } from '../samples/kinds.js';
import type { BlockLayout } from '../samples/block-layout.js';

export interface EnqueueOptions extends WaitBlockOptions {
  /** Repeat the block until the stream stops (output, DMABUF mode). */
  cyclic?: boolean;
}

export type DequeueOptions = WaitBlockOptions;

/** Whether (and when) a stream brackets CPU access to its blocks. */
export type CpuAccess = boolean | 'on-touch';

export class StreamBlock {
  readonly index: number;
  #bytesUsed = 0;
  /** data[0, bytesUsed), made once per transfer: the sample views cache themselves on it. */
  #bytes: Uint8Array | undefined;
  #cpu: 'read' | 'write' | undefined;
  readonly #handle: BufferHandle;
  readonly #layout: BlockLayout;
  readonly #output: boolean;
  readonly #cpuAccess: CpuAccess;
  readonly #onEnqueue: (block: StreamBlock) => void;

  /** @internal */
  constructor(handle: BufferHandle, index: number, layout: BlockLayout, output: boolean, cpuAccess: CpuAccess, onEnqueue: (block: StreamBlock) => void) {
    this.#onEnqueue = onEnqueue;
    this.#handle = handle;
    this.index = index;
    this.#layout = layout;
    this.#output = output;
    this.#cpuAccess = cpuAccess;
    // A playback block starts out in the CPU's hands, ready to fill.
    if (output && cpuAccess === true) this.#begin();
  }

  /** The block's whole memory: the mapped DMABUF, or the file I/O block. */
  get data(): Uint8Array {
    if (this.#cpuAccess === 'on-touch' && this.#cpu === undefined && !this.queued) this.#begin();
    return this.#handle.blocks[this.index]!.data;
  }

  /** The block's size in bytes (without touching its memory). */
  get size(): number {
    return this.#handle.blocks[this.index]!.size;
  }

  /** The bytes that hold data: what the hardware filled, or what was enqueued for playback. */
  get bytes(): Uint8Array {
    return this.#bytes ??= this.data.subarray(0, this.#bytesUsed);
  }

  get bytesUsed(): number {
    return this.#bytesUsed;
  }

  /** Whole scans in `bytes`. */
  get scans(): number {
    return Math.floor(this.#bytesUsed / this.#layout.scanBytes);
  }

  /** The DMABUF fd for zero-copy hand-off; undefined in file I/O mode. Owned by the stream. */
  get dmabufFd(): number | undefined {
    return this.#handle.blocks[this.index]!.dmabufFd;
  }

  /** Whether the block is with the hardware. */
  get queued(): boolean {
    return this.#handle.queued(this.index);
  }

  /** The channel's values in this block (a new array). */
  samples(channel: string): SampleArray {
    return this.#layout.samples(this.bytes, channel);
  }

  /** Hands the block to the hardware: `bytesUsed` bytes (default: all) of it. */
  async enqueue(bytesUsed = this.size, options: EnqueueOptions = {}): Promise<void> {
    this.#end();
    await this.#handle.enqueue(this.index, bytesUsed, options.cyclic === true, options);
    this.#used(bytesUsed);
    this.#onEnqueue(this);
  }

  /** Waits until the hardware is done with the block; transfer errors reject here. */
  async dequeue(options: DequeueOptions = {}): Promise<void> {
    if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs);
    this.#used(await this.#handle.dequeue(this.index, options));
    if (this.#cpuAccess === true) this.#begin();
  }

  /** @internal Ends CPU access before the buffer closes. */
  release(): void {
    try {
      this.#end();
    } catch {
      // the device may be gone; closing frees the block anyway
    }
  }

  #begin(): void {
    if (this.#cpuAccess === false || this.#cpu !== undefined) return;
    const access = this.#output ? 'write' : 'read';
    this.#handle.cpuAccess(this.index, 'start', access);
    this.#cpu = access;
  }

  #end(): void {
    if (this.#cpu === undefined) return;
    const access = this.#cpu;
    this.#cpu = undefined;
    this.#handle.cpuAccess(this.index, 'end', access);
  }

  #used(bytes: number): void {
    this.#bytesUsed = bytes;
    this.#bytes = undefined;
  }
}
