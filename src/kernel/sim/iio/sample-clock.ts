// A free-running converter's sample clock (realtime capture): scan k of the stream is taken at a
// fixed moment whether or not a block is queued to receive it, so time, not the application,
// sets the stream position. Positions are in scans, fractional (a block may end mid-scan).
// Pausing gates the clock (a stalled DMA in the sim stops the whole device: nothing is sampled,
// nothing is lost).
import { nowMs } from '../clock.js';

export class SampleClock {
  #originMs: number;
  readonly #originScan: number;
  readonly #msPerScan: number;
  #pausedAt: number | undefined;

  /** A clock taking stream position `scan` at monotonic time `ms`. */
  constructor(rateHz: number, scan: number, ms: number, paused: boolean) {
    this.#originMs = ms;
    this.#originScan = scan;
    this.#msPerScan = 1000 / rateHz;
    if (paused) this.#pausedAt = ms;
  }

  /** The stream position the converter has reached at monotonic time `ms`. */
  scanAt(ms: number): number {
    return this.#originScan + ((this.#pausedAt ?? ms) - this.#originMs) / this.#msPerScan;
  }

  /** When the converter reaches stream position `scan` (monotonic ms). */
  timeOf(scan: number): number {
    return this.#originMs + (scan - this.#originScan) * this.#msPerScan;
  }

  pause(): void {
    this.#pausedAt ??= nowMs();
  }

  resume(): void {
    if (this.#pausedAt === undefined) return;
    this.#originMs += nowMs() - this.#pausedAt;
    this.#pausedAt = undefined;
  }
}
