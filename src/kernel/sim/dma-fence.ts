// dma_fence and dma_resv (kernel-abi §2.9): a fence signals once, with an optional error; a
// reservation object holds fences with a usage, and queries for one usage include all lower
// ones (KERNEL < WRITE < READ < BOOKKEEP).
import { WaitQueue } from './wait.js';
import { nowNs } from './clock.js';
import type { Scheduler } from './scheduler.js';

export enum ResvUsage {
  KERNEL = 0,
  WRITE = 1,
  READ = 2,
  BOOKKEEP = 3,
}

let nextContext = 1;

/** A fence timeline: one per IIO attachment, so sequence numbers increase per attachment. */
export class FenceTimeline {
  readonly context = nextContext++;
  #seqno = 0;

  constructor(
    readonly driverName: string,
    readonly timelineName: string,
  ) {}

  create(): DmaFence {
    return new DmaFence(this.context, ++this.#seqno, this.driverName, this.timelineName);
  }
}

export class DmaFence {
  /** 0 while active; then 0 (ok) or a negative errno. */
  error = 0;
  signaled = false;
  /** When it signalled (CLOCK_MONOTONIC ns). */
  timestampNs = 0n;
  readonly #callbacks: Array<(fence: DmaFence) => void> = [];

  constructor(
    readonly context: number,
    readonly seqno: number,
    readonly driverName: string,
    readonly timelineName: string,
  ) {}

  /** Signals the fence; `error` is a negative errno (e.g. -4 for an abort), set before signalling. */
  signal(error = 0): void {
    if (this.signaled) return;
    this.error = error;
    this.signaled = true;
    this.timestampNs = nowNs();
    for (const callback of this.#callbacks.splice(0)) callback(this);
  }

  /** Runs `callback` once signalled (at once if already signalled). */
  onSignal(callback: (fence: DmaFence) => void): void {
    if (this.signaled) callback(this);
    else this.#callbacks.push(callback);
  }

  /** sync_file status: 1 signalled ok, 0 active, <0 error. */
  get status(): number {
    if (!this.signaled) return 0;
    return this.error < 0 ? this.error : 1;
  }
}

/** A stub fence, signalled from the start (what the kernel exports when there are no fences). */
export function stubFence(): DmaFence {
  const fence = new DmaFence(0, 0, 'stub', 'stub');
  fence.signal();
  return fence;
}

/** The reservation object of a DMABUF. */
export class DmaResv {
  readonly #entries: Array<{ fence: DmaFence; usage: ResvUsage }> = [];
  /** Woken whenever a fence is added or signals. */
  readonly changed = new WaitQueue();

  add(fence: DmaFence, usage: ResvUsage): void {
    this.#entries.push({ fence, usage });
    fence.onSignal(() => {
      // signalled fences are pruned lazily by fences(); wake whoever waits
      this.changed.wake();
    });
    this.changed.wake();
  }

  /**
   * Unsignalled fences whose usage is `usage` or lower. The kernel's unlocked iterator skips
   * signalled fences, so this is also what a sync-file export snapshots: a fence exported after
   * it signalled comes back as the stub, and its error is lost.
   */
  pending(usage: ResvUsage): DmaFence[] {
    this.#prune();
    return this.#entries.filter((e) => e.usage <= usage && !e.fence.signaled).map((e) => e.fence);
  }

  /** True when every fence of `usage` or lower has signalled. */
  idle(usage: ResvUsage): boolean {
    return this.pending(usage).length === 0;
  }

  /** Drops signalled fences that a newer fence of the same context supersedes, keeping the list short. */
  #prune(): void {
    if (this.#entries.length < 64) return;
    const latest = new Map<number, number>();
    this.#entries.forEach((e, i) => latest.set(e.fence.context, i));
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (e.fence.signaled && latest.get(e.fence.context) !== i) this.#entries.splice(i, 1);
    }
  }
}

/** dma_resv_usage_rw(write): a writer waits for readers and writers, a reader for writers. */
export function usageRw(write: boolean): ResvUsage {
  return write ? ResvUsage.READ : ResvUsage.WRITE;
}

/**
 * dma_resv_wait_timeout, as the importers' ioctls call it before they add their own fence (IIO
 * enqueue, FunctionFS transfer): whether every fence of `usage` has signalled, waiting up to
 * `timeoutMs` (0 for O_NONBLOCK: no wait) with hardware events running meanwhile.
 */
export function resvWaitTimeout(resv: DmaResv, usage: ResvUsage, scheduler: Scheduler, timeoutMs: number): boolean {
  scheduler.runDue();
  return resv.idle(usage) || (timeoutMs > 0 && scheduler.blockUntil(() => resv.idle(usage), timeoutMs));
}
