// Gaps in a captured stream: samples the hardware took while no block was queued to receive
// them. The kernel reports no such loss (a completed transfer says nothing about what came
// before it, kernel-abi §2.8), so a gap can only be seen in the data, from a channel that says
// where each scan stands: the timestamp channel (time jumps by more than the sample period allows)
// or a sample counter (it jumps by more than its step). Each finder carries the stream's last scan
// from one block to the next, so gaps between blocks count as well as gaps inside one.
import { samplesInto } from './demux.js';
import { allocateSamples, type NumberSampleArray } from './kinds.js';
import type { LayoutChannel, ScanLayoutView } from './layout.js';

/** Finds the gaps of one stream, block after block. */
export interface GapFinder {
  /** Calls `gap(scan, samples)` for each gap before scan `scan` of `block` (whole scans only). */
  scan(block: Uint8Array, gap: (scan: number, samples: number) => void): void;
  /** Forgets the last scan: the next block starts a new stream (after a stop). */
  reset(): void;
}

/** An interval longer than this many sample periods is a gap (jitter of the timestamps stays below). */
const PERIODS_ALLOWED = 1.5;
const TWO_32 = 2 ** 32;

/**
 * Gaps in the timestamp channel (the kernel's s64 nanoseconds), given the sample period: an
 * interval of `d` ns longer than 1.5 periods lost round(d / period) - 1 samples. A step of the
 * timestamp clock itself (CLOCK_REALTIME being set) looks the same.
 */
export class TimestampGaps implements GapFinder {
  readonly #scanBytes: number;
  /** Byte offsets of the timestamp's low and high 32-bit words within a scan. */
  readonly #loAt: number;
  readonly #hiAt: number;
  readonly #littleEndian: boolean;
  readonly #periodNs: number;
  /** The last scan's timestamp, word by word, once there is one. */
  #primed = false;
  #hi = 0;
  #lo = 0;

  /** Undefined when `channel` is not a 64-bit timestamp of `layout`. */
  static of(layout: ScanLayoutView, channel: LayoutChannel, periodNs: number): TimestampGaps | undefined {
    const { type } = channel;
    if (type.storageBits !== 64 || type.realBits !== 64 || type.shift !== 0 || type.repeat !== 1) return undefined;
    return new TimestampGaps(layout, channel, periodNs);
  }

  private constructor(layout: ScanLayoutView, channel: LayoutChannel, periodNs: number) {
    this.#scanBytes = layout.scanBytes;
    this.#littleEndian = channel.type.endianness === 'le';
    this.#loAt = channel.offset + (this.#littleEndian ? 0 : 4);
    this.#hiAt = channel.offset + (this.#littleEndian ? 4 : 0);
    this.#periodNs = periodNs;
  }

  scan(block: Uint8Array, gap: (scan: number, samples: number) => void): void {
    const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
    const scans = Math.floor(block.byteLength / this.#scanBytes);
    const period = this.#periodNs;
    const limit = PERIODS_ALLOWED * period;
    const le = this.#littleEndian;
    let primed = this.#primed;
    let hi = this.#hi;
    let lo = this.#lo;
    for (let s = 0, at = 0; s < scans; s++, at += this.#scanBytes) {
      const h = view.getInt32(at + this.#hiAt, le);
      const l = view.getUint32(at + this.#loAt, le);
      // The difference word by word is exact (within 2^53 ns) where the values as doubles are not.
      const interval = (h - hi) * TWO_32 + (l - lo);
      if (primed && interval > limit) gap(s, Math.round(interval / period) - 1);
      hi = h;
      lo = l;
      primed = true;
    }
    this.#primed = primed;
    this.#hi = hi;
    this.#lo = lo;
  }

  reset(): void {
    this.#primed = false;
  }
}

/**
 * Gaps in a sample counter: an integer channel (at most 32 bits) that goes up by `step` from each
 * scan to the next, wrapping at its bit width. A jump of `d` lost round(d / step) - 1 samples;
 * a gap of 2^bits × step samples or more wraps around and is seen short, or not at all.
 */
export class CounterGaps implements GapFinder {
  readonly #layout: ScanLayoutView;
  readonly #channel: LayoutChannel;
  readonly #step: number;
  readonly #modulus: number;
  #values: NumberSampleArray;
  #last: number | undefined;

  /** `what` names the counter in errors. */
  constructor(layout: ScanLayoutView, channel: LayoutChannel, step: number, what = `sample counter ${channel.id}`) {
    const { type } = channel;
    if (type.realBits > 32 || type.repeat !== 1) throw new RangeError(`${what}: a counter is one integer of at most 32 bits, the channel is ${type.repeat} × ${type.realBits} bits`);
    this.#modulus = 2 ** type.realBits;
    if (!(Number.isSafeInteger(step) && step >= 1 && step < this.#modulus)) throw new RangeError(`${what}: step must be an integer from 1 to ${this.#modulus - 1}, got ${step}`);
    this.#layout = layout;
    this.#channel = channel;
    this.#step = step;
    this.#values = allocateSamples(channel.kind, 0) as NumberSampleArray;
  }

  scan(block: Uint8Array, gap: (scan: number, samples: number) => void): void {
    const scans = this.#layout.scanCount(block);
    if (this.#values.length < scans) this.#values = allocateSamples(this.#channel.kind, scans) as NumberSampleArray;
    samplesInto(this.#layout, block, this.#channel, this.#values.subarray(0, scans));
    const values = this.#values;
    const m = this.#modulus;
    let last = this.#last;
    for (let s = 0; s < scans; s++) {
      const v = values[s]!;
      if (last !== undefined) {
        const steps = Math.round(((((v - last) % m) + m) % m) / this.#step);
        if (steps > 1) gap(s, steps - 1);
      }
      last = v;
    }
    this.#last = last;
  }

  reset(): void {
    this.#last = undefined;
  }
}
