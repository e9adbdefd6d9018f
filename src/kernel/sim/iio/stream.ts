// The byte stream a capture DMA writes: the device's scans back to back, from a ScanPattern
// (memcpy speed, zero copies into the DMABUF's own memory) with timestamps patched per block.
// The position (scan number and byte within it) lives on the device and carries across blocks,
// partial blocks and enables, like a free-running converter's FIFO.
import { ScanPattern, patchTimestamps } from '../pattern.js';
import type { ScanLayoutOf } from './scan.js';
import type { TimestampClock } from './timestamps.js';
import { clockNs } from './timestamps.js';

export interface StreamPosition {
  scan: number;
  byte: number;
}

export class ScanStream {
  #pattern: ScanPattern | undefined;
  #versions: number[] = [];
  readonly #t0ns: bigint;
  readonly #periodNs: number;

  constructor(
    readonly layout: ScanLayoutOf,
    private readonly rateHz: number,
    private readonly position: StreamPosition,
    clock: TimestampClock,
  ) {
    this.#periodNs = rateHz > 0 ? 1e9 / rateHz : 0;
    // scan numbers count from the start of capture; the scan about to be taken is "now"
    this.#t0ns = clockNs(clock) - BigInt(Math.round(position.scan * this.#periodNs));
  }

  get scanBytes(): number {
    return this.layout.scanBytes;
  }

  #currentPattern(): ScanPattern {
    const versions = this.layout.elements.map((e) => e.channel.signalVersion);
    if (this.#pattern === undefined || versions.some((v, i) => v !== this.#versions[i])) {
      this.#versions = versions;
      this.#pattern = new ScanPattern(
        this.layout.elements.map((e) => ({ type: e.channel.scanType!, offset: e.offset, signal: e.channel.signal(this.rateHz) })),
        this.layout.scanBytes,
      );
    }
    return this.#pattern;
  }

  /** Writes the next `bytes` bytes of the stream across `segments` (in order) and advances. */
  fill(segments: readonly Uint8Array[], bytes: number): void {
    const pattern = this.#currentPattern();
    const ts = this.layout.timestamp;
    let left = bytes;
    for (const segment of segments) {
      if (left <= 0) break;
      const dest = segment.length > left ? segment.subarray(0, left) : segment;
      const { scan, byte } = this.position;
      pattern.fill(dest, scan, byte);
      if (ts !== undefined) {
        const slot = { offset: ts.offset, scanBytes: this.scanBytes, endianness: ts.channel.scanType!.endianness };
        patchTimestamps(dest, scan, slot, this.#t0ns, this.#periodNs, byte);
      }
      this.skip(dest.length);
      left -= dest.length;
    }
  }

  /** Advances the position by `bytes` without writing (a null DMA still consumes time). */
  skip(bytes: number): void {
    const total = this.position.byte + bytes;
    this.position.scan += Math.floor(total / this.scanBytes);
    this.position.byte = total % this.scanBytes;
  }
}
