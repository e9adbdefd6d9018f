// The fast path of simulated capture DMA. Every channel's signal is periodic, so the scans of
// one common period are encoded once into a window, and a DMA block is then filled with
// `Uint8Array.prototype.set` copies out of that window (memcpy speed), wrapping around.
//
// The window holds a whole number of the common period (LCM of the element periods, in scans)
// when that fits in `maxBytes` (4 MiB by default). When it does not, the longest periods are
// left out of the LCM one by one until it fits, the window is made as long as the budget
// allows, and the left-out elements (and any without a period) are rendered sample by sample
// across the whole window: each of them jumps back to its window-start value where the window
// wraps (listed in `seams`). Noise and long files are the usual cases, where a jump is
// invisible.
//
// Elements without a signal (the timestamp) stay zero; the caller writes them per block,
// e.g. with patchTimestamps().
import { elementBytes, sampleCodec, type ScanType } from '../../format/index.js';
import type { ChannelSignal } from './signal.js';

export interface PatternElement {
  type: ScanType;
  /** Byte offset of the element in a scan (ScanLayout.offsets). */
  offset: number;
  /**
   * Its values; repeat slot r of scan n is `signal.at(n * repeat + r)`. Omitted: the bytes stay
   * zero for the caller to patch (the timestamp).
   */
  signal?: ChannelSignal;
}

export interface ScanPatternOptions {
  /** Most bytes the pre-rendered window may take (default 4 MiB). */
  maxBytes?: number;
  /** A seamless window is repeated to at least this many bytes, so copies are long (64 KiB). */
  minBytes?: number;
}

export const DEFAULT_PATTERN_MAX_BYTES = 4 << 20;
export const DEFAULT_PATTERN_MIN_BYTES = 64 << 10;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** lcm(a, b), or Infinity beyond 2^53. */
function lcm(a: number, b: number): number {
  const l = (a / gcd(a, b)) * b;
  return l > Number.MAX_SAFE_INTEGER ? Infinity : l;
}

export class ScanPattern {
  readonly scanBytes: number;
  /** Scans in the window (`data.length / scanBytes`). */
  readonly windowScans: number;
  /** Scans after which every element repeats exactly; undefined if some element never does. */
  readonly periodScans: number | undefined;
  /** Positions (in the constructor's `elements`) of elements that jump where the window wraps. */
  readonly seams: readonly number[];
  /** The rendered window: `windowScans` scans. */
  readonly data: Uint8Array;

  /** `elements` in any order, each inside a scan of `scanBytes` bytes. */
  constructor(elements: readonly PatternElement[], scanBytes: number, options: ScanPatternOptions = {}) {
    if (!Number.isSafeInteger(scanBytes) || scanBytes < 1) throw new RangeError(`scan size must be a positive integer, got ${scanBytes}`);
    for (const [i, e] of elements.entries()) {
      const size = elementBytes(e.type);
      if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.offset + size > scanBytes) {
        throw new RangeError(`element ${i} (${size} bytes at offset ${e.offset}) does not fit a ${scanBytes}-byte scan`);
      }
    }
    this.scanBytes = scanBytes;
    const capScans = Math.max(1, Math.floor((options.maxBytes ?? DEFAULT_PATTERN_MAX_BYTES) / scanBytes));
    const minScans = Math.ceil((options.minBytes ?? DEFAULT_PATTERN_MIN_BYTES) / scanBytes);

    // An element's period in scans: scan n uses samples n·repeat .. n·repeat + repeat - 1.
    const periods = elements.map((e) => {
      const p = e.signal?.period;
      if (e.signal === undefined) return 1;
      return p === undefined ? undefined : p / gcd(p, e.type.repeat);
    });
    let exact: number | undefined = 1;
    for (const p of periods) exact = p === undefined || exact === undefined || exact === Infinity ? undefined : lcm(exact, p);
    this.periodScans = exact === Infinity ? undefined : exact;

    // Shortest periods first: fit as many elements as possible into a seamless common period.
    let common = 1;
    const seamless = new Set<number>();
    for (const p of [...new Set(periods.filter((p): p is number => p !== undefined))].sort((a, b) => a - b)) {
      const next = lcm(common, p);
      if (next <= capScans) {
        common = next;
        seamless.add(p);
      }
    }
    const seams = elements.flatMap((_e, i) => (periods[i] !== undefined && seamless.has(periods[i]!) ? [] : [i]));
    this.seams = seams;
    const maxRepeats = Math.floor(capScans / common);
    const repeats = seams.length > 0 ? maxRepeats : Math.max(1, Math.min(maxRepeats, Math.ceil(minScans / common)));
    this.windowScans = common * repeats;
    this.data = new Uint8Array(this.windowScans * scanBytes);

    const view = new DataView(this.data.buffer);
    const render = (e: PatternElement, scans: number): void => {
      const signal = e.signal;
      if (signal === undefined) return;
      const codec = sampleCodec(e.type);
      const repeat = e.type.repeat;
      for (let n = 0, at = e.offset; n < scans; n++, at += scanBytes) {
        for (let r = 0; r < repeat; r++) codec.encode(view, at, signal.at(n * repeat + r), r);
      }
    };
    const seamSet = new Set(seams);
    for (const [i, e] of elements.entries()) if (!seamSet.has(i)) render(e, common);
    // Replicate the common period across the window by doubling copies.
    const periodBytes = common * scanBytes;
    for (let filled = periodBytes; filled < this.data.length; filled *= 2) {
      this.data.copyWithin(filled, 0, Math.min(filled, this.data.length - filled));
    }
    for (const i of seams) render(elements[i]!, this.windowScans);
  }

  /**
   * Fills `dest` with the stream from byte `byteInScan` of scan `firstScan` (absolute scan
   * numbers from the start of capture). `dest` need not hold whole scans: a partial last scan
   * gets its leading bytes, and the next block can continue with the matching `byteInScan`.
   */
  fill(dest: Uint8Array, firstScan: number, byteInScan = 0): void {
    if (!Number.isSafeInteger(firstScan) || firstScan < 0) throw new RangeError(`scan number must be a non-negative integer, got ${firstScan}`);
    if (!Number.isSafeInteger(byteInScan) || byteInScan < 0 || byteInScan >= this.scanBytes) {
      throw new RangeError(`byte in scan must be in [0, ${this.scanBytes}), got ${byteInScan}`);
    }
    const data = this.data;
    const size = data.length;
    let pos = (firstScan % this.windowScans) * this.scanBytes + byteInScan;
    let o = 0;
    while (o < dest.length) {
      const n = Math.min(size - pos, dest.length - o);
      dest.set(pos === 0 && n === size ? data : data.subarray(pos, pos + n), o);
      o += n;
      pos = 0;
    }
  }
}

/** Where the timestamp sits in each scan. */
export interface TimestampSlot {
  /** Byte offset of the 64-bit timestamp element in a scan. */
  offset: number;
  scanBytes: number;
  /** Byte order of the element (default 'le', as in "le:s64/64>>0"). */
  endianness?: 'le' | 'be';
}

const TWO_32 = 4294967296;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Writes the timestamps of the scans in `dest`, which holds the stream from byte `byteInScan`
 * of scan `firstScan` (as ScanPattern.fill): absolute scan k gets `t0ns + round(k × periodNs)`,
 * so times derive from the scan number and never drift across blocks. A timestamp cut by
 * either end of `dest` gets its visible bytes. No BigInt work per scan.
 */
export function patchTimestamps(dest: Uint8Array, firstScan: number, slot: TimestampSlot, t0ns: bigint, periodNs: number, byteInScan = 0): void {
  const { offset, scanBytes } = slot;
  if (!Number.isSafeInteger(scanBytes) || scanBytes < 8 || !Number.isSafeInteger(offset) || offset < 0 || offset + 8 > scanBytes) {
    throw new RangeError(`a timestamp at offset ${offset} does not fit a ${scanBytes}-byte scan`);
  }
  if (!Number.isSafeInteger(firstScan) || firstScan < 0) throw new RangeError(`scan number must be a non-negative integer, got ${firstScan}`);
  if (!Number.isSafeInteger(byteInScan) || byteInScan < 0 || byteInScan >= scanBytes) {
    throw new RangeError(`byte in scan must be in [0, ${scanBytes}), got ${byteInScan}`);
  }
  if (!(Number.isFinite(periodNs) && periodNs >= 0)) throw new RangeError(`sample period must be a non-negative number of ns, got ${periodNs}`);
  const le = slot.endianness !== 'be';
  const length = dest.length;
  const base = BigInt.asUintN(64, t0ns);
  const baseHi = Number(base >> 32n);
  const baseLo = Number(base & 0xffffffffn);
  // Scan k's time as two u32 halves, in double arithmetic (exact below 2^53 ns of offset).
  let lo = 0;
  let hi = 0;
  const timeOf = (k: number): void => {
    const d = Math.round(k * periodNs);
    const dHi = Math.floor(d / TWO_32);
    lo = baseLo + (d - dHi * TWO_32);
    hi = baseHi + dHi;
    if (lo >= TWO_32) {
      lo -= TWO_32;
      hi += 1;
    }
    hi >>>= 0;
  };

  let k = firstScan;
  let at = offset - byteInScan;
  if (at < 0) { // this scan's timestamp lies before dest
    k++;
    at += scanBytes;
  }
  // Fast path: whole, 4-byte-aligned fields in host byte order go through a Uint32Array.
  const first = dest.byteOffset + at;
  if (le === HOST_LE && first % 4 === 0 && scanBytes % 4 === 0 && at + 8 <= length) {
    const words = new Uint32Array(dest.buffer, first, Math.floor((length - at) / 4));
    const stride = scanBytes / 4;
    const loAt = le ? 0 : 1;
    const hiAt = 1 - loAt;
    const count = Math.floor((words.length - 2) / stride) + 1;
    if (Number.isInteger(periodNs) && periodNs < TWO_32) {
      // Whole-ns periods (most rates): add the period to the low half and carry, no rounding.
      // Int32 arithmetic modulo 2^32; the Uint32Array store reinterprets the bits.
      timeOf(k);
      let l = lo | 0;
      let h = hi | 0;
      const step = periodNs | 0;
      for (let i = 0, w = 0; i < count; i++, w += stride) {
        words[w + loAt] = l;
        words[w + hiAt] = h;
        const next = (l + step) | 0;
        if (next >>> 0 < l >>> 0) h = (h + 1) | 0; // unsigned carry out of the low half
        l = next;
      }
    } else {
      // timeOf() inlined: this loop is the per-block cost of a timestamped capture.
      for (let i = 0, w = 0; i < count; i++, w += stride) {
        const d = Math.round((k + i) * periodNs);
        const dHi = Math.floor(d / TWO_32);
        let l = baseLo + (d - dHi * TWO_32);
        let h = baseHi + dHi;
        if (l >= TWO_32) {
          l -= TWO_32;
          h += 1;
        }
        words[w + loAt] = l;
        words[w + hiAt] = h; // a Uint32Array store wraps h modulo 2^32
      }
    }
    k += count;
    at += count * scanBytes;
  } else {
    const view = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
    for (; at + 8 <= length; k++, at += scanBytes) {
      timeOf(k);
      view.setUint32(at + (le ? 0 : 4), lo, le);
      view.setUint32(at + (le ? 4 : 0), hi, le);
    }
  }
  // Cut fields at either end: only their visible bytes.
  const partial = (k: number, at: number): void => {
    timeOf(k);
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setUint32(le ? 0 : 4, lo, le);
    bytes.setUint32(le ? 4 : 0, hi, le);
    for (let j = Math.max(0, -at); j < 8; j++) if (at + j >= 0 && at + j < length) dest[at + j] = bytes.getUint8(j);
  };
  if (offset - byteInScan < 0 && offset - byteInScan + 8 > 0) partial(firstScan, offset - byteInScan);
  if (at < length) partial(k, at);
}
