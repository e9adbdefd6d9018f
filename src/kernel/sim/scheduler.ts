// The simulated hardware's event queue. Device "DMA" schedules its completions here. Events run
// from unref'd timers while the program awaits (simulated hardware never keeps the process alive
// by itself), and synchronously inside a blocking syscall (blockUntil), which sleeps the thread
// until the next event is due, as a real blocking call would.
import { nowMs, sleepSync } from './clock.js';

interface Event {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export class Scheduler {
  readonly #events: Event[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  /** Runs `run` at monotonic time `time` (ms); returns a cancel function. */
  at(time: number, run: () => void): () => void {
    const event: Event = { time, seq: this.#seq++, run, cancelled: false };
    // keep sorted by (time, seq); appends are the common case
    let i = this.#events.length;
    while (i > 0 && (this.#events[i - 1]!.time > time)) i--;
    this.#events.splice(i, 0, event);
    this.#arm();
    return () => {
      event.cancelled = true;
    };
  }

  /** Runs `run` as soon as possible, after the current call returns. */
  soon(run: () => void): () => void {
    return this.at(nowMs(), run);
  }

  /** The time of the next pending event, or Infinity. */
  get next(): number {
    while (this.#events.length > 0 && this.#events[0]!.cancelled) this.#events.shift();
    return this.#events[0]?.time ?? Infinity;
  }

  /** Runs every event due by now (events scheduled while running run too, if due). */
  runDue(): void {
    const now = nowMs();
    while (this.#events.length > 0 && this.#events[0]!.time <= now) {
      const event = this.#events.shift()!;
      if (!event.cancelled) event.run();
    }
    this.#arm();
  }

  /**
   * Blocks the thread until `done()` holds or `timeoutMs` has passed, running hardware events
   * as they fall due. Returns done(). A wait nothing can end returns false at once when
   * `timeoutMs` is Infinity (the caller decides what a real kernel would do then). `idleEnds`:
   * also return at once when no event is due before the deadline, for a wait that only this
   * process's userspace could end (it cannot run while the thread is blocked), which would
   * otherwise sleep the whole timeout for nothing.
   */
  blockUntil(done: () => boolean, timeoutMs: number, idleEnds = false): boolean {
    const deadline = nowMs() + timeoutMs;
    for (;;) {
      this.runDue();
      if (done()) return true;
      const next = this.next;
      if (next === Infinity && timeoutMs === Infinity) return false;
      if (idleEnds && next > deadline) return false;
      const until = Math.min(next, deadline);
      if (until === Infinity) return false;
      const now = nowMs();
      if (now >= deadline) return done();
      sleepSync(until - now);
    }
  }

  #arm(): void {
    const next = this.next;
    if (next === this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === Infinity) return;
    const delay = Math.max(0, next - nowMs());
    const timer = delay === 0 ? setTimeout(() => this.#fire(), 0) : setTimeout(() => this.#fire(), delay);
    timer.unref();
    this.#timer = timer;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.runDue();
  }
}
