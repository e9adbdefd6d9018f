// Sample-at-a-time capture for kfifo buffers: a periodic source (an hrtimer trigger, or a
// device sampling on its own in software mode) taking scan k at start + k / rate. It runs
// lazily: whoever looks at a buffer calls catchUp(), which pushes every scan due by now (those
// that find the kfifo full are lost, as kfifo_in drops them), so nothing runs per sample while
// nobody looks. A waiter arms a wake-up at the moment the scan it needs is due.
// In `fast` time mode the source is infinitely fast: each catch-up fills the kfifos.
import { nowMs } from '../clock.js';
import type { IioDevice } from './device.js';

export class SampleProducer {
  readonly #startMs: number;
  readonly #periodMs: number;
  /** Scans taken since start. */
  #taken = 0;
  #wakeAt = Infinity;
  #cancelWake: (() => void) | undefined;
  #stopped = false;

  constructor(
    private readonly device: IioDevice,
    readonly rateHz: number,
  ) {
    this.#startMs = nowMs();
    this.#periodMs = 1000 / rateHz;
  }

  get fast(): boolean {
    return this.device.ctx.timeMode === 'fast';
  }

  /** Monotonic time (ms) of scan `k` since start. */
  timeOf(k: number): number {
    return this.#startMs + k * this.#periodMs;
  }

  catchUp(): void {
    if (this.#stopped) return;
    if (this.fast) {
      const room = this.device.captureRoom();
      if (room > 0) this.device.pushScans(room, (k) => nowMs() + k * 0);
      return;
    }
    const due = Math.floor((nowMs() - this.#startMs) / this.#periodMs) + 1;
    if (due <= this.#taken) return;
    const first = this.#taken;
    this.#taken = due;
    this.device.pushScans(due - first, (i) => this.timeOf(first + i));
  }

  /** Wakes the device's buffers when `scans` more scans have been taken (at least one). */
  armWake(scans: number): void {
    if (this.#stopped) return;
    const scheduler = this.device.ctx.scheduler;
    const at = this.fast ? nowMs() : this.timeOf(this.#taken + Math.max(1, scans) - 1);
    if (at >= this.#wakeAt) return;
    this.#cancelWake?.();
    this.#wakeAt = at;
    this.#cancelWake = scheduler.at(at, () => {
      this.#wakeAt = Infinity;
      this.#cancelWake = undefined;
      this.catchUp();
      this.device.wakeBuffers();
    });
  }

  stop(): void {
    this.catchUp();
    this.#stopped = true;
    this.#cancelWake?.();
  }
}
