// The simulated DMA controller behind a DMA buffer. Submitted blocks complete in order on the
// scheduler: capture blocks are filled from the channels' signals straight into their memory
// (a DMABUF's own pages: zero copies), playback blocks are consumed (counted, checksummed, fed
// to loopback channels). Pacing:
//   realtime capture: from the first transfer after enable, the converter keeps its clock
//             (sample-clock.ts). A transfer takes the scans from where the previous one ended or,
//             when no block was queued in between, from the scan being taken now: those in between
//             are lost (the buffer's `lost`), and the stream position (the signals' phase, the
//             timestamps) moves on with time. done = when the converter reaches the block's end + delay
//   realtime playback: done = max(previous done, submit) + bytes / (sampling_frequency × scan bytes) + delay
//   fast:     done = max(previous done, submit) + delay (the next scheduler turn when 0); nothing is lost
// A device without sampling_frequency transfers instantly (only the delay counts), like the
// probe's vadc-dma whose "DMA" is a delayed work item (module parameter delay_us).
// Modes: 'pattern' moves data; 'null' completes without touching memory (per-block cost
// benchmarks). Faults: stall (nothing completes until resume), failNext (the driver refuses the
// next submitted block with an errno, the only way a 6.12 DMA buffer fails a transfer — see
// DmaBuffer's submit), a per-block delay.
import { errnoOf } from '../../../errors.js';
import { nowMs } from '../clock.js';
import type { DmaBlock } from './block.js';
import type { DmaBuffer } from './dma-buffer.js';
import type { IioDevice } from './device.js';
import { SampleClock } from './sample-clock.js';
import { decodeChannel, layoutScan, type ScanLayoutOf } from './scan.js';
import { ScanStream } from './stream.js';

export type DmaMode = 'pattern' | 'null';

/** What the engine did, for tests (output buffers: what the device received). */
export interface DmaStats {
  /** Blocks completed successfully. */
  blocks: number;
  /** Bytes moved by those blocks. */
  bytes: number;
  /** FNV-1a (32-bit) over every byte a playback engine consumed, in order. */
  checksum: number;
  /** A copy of the last block a playback engine consumed. */
  last: Uint8Array | undefined;
  /** Blocks the driver refused at submit (failNext). */
  failed: number;
  /** Transfers aborted by a disable or device removal. */
  aborted: number;
}

interface Transfer {
  block: DmaBlock;
  due: number;
  cancel: (() => void) | undefined;
  /** Realtime capture: scans the converter took before this transfer's first, with no block to take them. */
  lost: number;
  /** Realtime capture: the stream position (scans) where the transfer ends. */
  end: number;
}

const FNV_OFFSET = 0x811c9dc5;

export class DmaEngine {
  mode: DmaMode = 'pattern';
  /** Extra time per block (ms), like the test module's delay_us. */
  delayMs = 0;
  readonly stats: DmaStats = { blocks: 0, bytes: 0, checksum: FNV_OFFSET, last: undefined, failed: 0, aborted: 0 };
  #layout: ScanLayoutOf | undefined;
  #stream: ScanStream | undefined;
  #inflight: Transfer[] = [];
  #lastDue = 0;
  /**
   * Realtime capture: the converter's clock, started by the first transfer after enable, and the
   * stream position the last submitted transfer ends at.
   */
  #clocked = false;
  #clock: SampleClock | undefined;
  #claimed = 0;
  #stalled = false;
  readonly #errors: number[] = [];

  constructor(
    private readonly device: IioDevice,
    private readonly buffer: DmaBuffer,
  ) {}

  /** At enable: the scan layout of the buffer's mask, and a capture stream over it. */
  start(): void {
    this.#layout = layoutScan(this.device.channels, this.buffer.scanMask, this.buffer.scanTimestamp);
    const capture = this.buffer.direction === 'in' && this.#layout.scanBytes > 0;
    this.#clocked = capture && this.device.ctx.timeMode === 'realtime' && (this.device.rateHz ?? 0) > 0;
    this.#clock = undefined;
    this.#stream = capture && !this.#clocked ? this.#newStream() : undefined; // clocked: at the first transfer
  }

  #newStream(): ScanStream {
    return new ScanStream(this.#layout!, this.device.rateHz ?? 0, this.device.streamPosition, this.device.timestampClock);
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  /** Blocks the engine holds (ACTIVE). */
  get inflight(): number {
    return this.#inflight.length;
  }

  failNext(code: string): void {
    this.#errors.push(-errnoOf(code));
  }

  /** The errno (negative) the driver refuses the next submitted block with, if one is due. */
  takeSubmitError(): number | undefined {
    const error = this.#errors.shift();
    if (error !== undefined) this.stats.failed++;
    return error;
  }

  stall(): void {
    this.#stalled = true;
    this.#clock?.pause();
    for (const t of this.#inflight) {
      t.cancel?.();
      t.cancel = undefined;
    }
  }

  resume(): void {
    if (!this.#stalled) return;
    this.#stalled = false;
    this.#clock?.resume();
    this.#lastDue = 0;
    for (const t of this.#inflight) this.#schedule(t);
  }

  submit(block: DmaBlock): void {
    const transfer: Transfer = { block, due: 0, cancel: undefined, lost: 0, end: 0 };
    if (this.#clocked) this.#claim(transfer);
    this.#inflight.push(transfer);
    if (!this.#stalled) this.#schedule(transfer);
  }

  /** Stops everything in flight (dmaengine_terminate_sync); returns the blocks, in order. */
  abort(): DmaBlock[] {
    const blocks = this.#inflight.map((t) => {
      t.cancel?.();
      return t.block;
    });
    this.#inflight = [];
    this.#lastDue = 0;
    this.stats.aborted += blocks.length;
    return blocks;
  }

  #bytesOf(block: DmaBlock): number {
    const unit = this.buffer.spec.lengthAlignBytes ?? this.#layout?.smallestStorage ?? 1;
    return block.bytesUsed - (block.bytesUsed % unit);
  }

  /** Where a capture transfer's scans lie in the stream: the converter does not wait for blocks. */
  #claim(t: Transfer): void {
    const scanBytes = this.#layout!.scanBytes;
    const now = nowMs();
    if (this.#clock === undefined) {
      // The stream (its timestamps too) starts with the scan being taken now.
      this.#stream = this.#newStream();
      const { scan, byte } = this.device.streamPosition;
      this.#claimed = scan + byte / scanBytes;
      this.#clock = new SampleClock(this.device.rateHz!, this.#claimed, now, this.#stalled);
    }
    const behind = this.#clock.scanAt(now) - this.#claimed;
    t.lost = behind >= 1 ? Math.floor(behind) : 0;
    t.end = this.#claimed + t.lost + this.#bytesOf(t.block) / scanBytes;
    this.#claimed = t.end;
  }

  #schedule(t: Transfer): void {
    const scheduler = this.device.ctx.scheduler;
    if (this.#clock !== undefined) {
      t.due = Math.max(this.#lastDue, this.#clock.timeOf(t.end) + this.delayMs);
    } else {
      const rate = this.device.rateHz;
      const scanBytes = this.#layout?.scanBytes ?? 0;
      const paced = this.device.ctx.timeMode === 'realtime' && rate !== undefined && rate > 0 && scanBytes > 0;
      const transferMs = paced ? (this.#bytesOf(t.block) / (rate * scanBytes)) * 1000 : 0;
      t.due = Math.max(this.#lastDue, nowMs()) + transferMs + this.delayMs;
    }
    this.#lastDue = t.due;
    t.cancel = scheduler.at(t.due, () => this.#complete(t));
  }

  #complete(t: Transfer): void {
    const i = this.#inflight.indexOf(t);
    if (i < 0) return;
    this.#inflight.splice(i, 1);
    const block = t.block;
    const bytes = this.#bytesOf(block);
    if (this.buffer.direction === 'in') {
      if (t.lost > 0) {
        this.#stream?.skip(t.lost * this.#layout!.scanBytes);
        this.buffer.lost += t.lost;
      }
      if (this.mode === 'pattern' && this.#stream !== undefined) this.#stream.fill(block.segments(bytes), bytes);
      else this.#stream?.skip(bytes);
      if (block.fileio) block.bytesUsed = bytes; // the residue is not data
    } else if (this.mode === 'pattern') {
      this.#consume(block.segments(bytes), bytes);
    }
    this.stats.blocks++;
    this.stats.bytes += bytes;
    this.buffer.blockDone(block, 0);
  }

  /** A playback block reaches the converter: count, checksum, keep a copy, feed loopbacks. */
  #consume(segments: readonly Uint8Array[], bytes: number): void {
    const last = new Uint8Array(bytes);
    let h = this.stats.checksum;
    let at = 0;
    for (const segment of segments) {
      for (let i = 0; i < segment.length; i++) h = Math.imul(h ^ segment[i]!, 0x01000193);
      last.set(segment, at);
      at += segment.length;
    }
    this.stats.checksum = h >>> 0;
    this.stats.last = last;
    const layout = this.#layout;
    if (layout === undefined) return;
    for (const { channel } of layout.elements) {
      channel.played = decodeChannel(last, layout, channel);
      channel.playedVersion++;
    }
  }
}
