// Promise helpers the backends share: resolvers for a promise settled elsewhere (Node 20 has no
// Promise.withResolvers), and waits bounded by a timeout, an AbortSignal and a stop condition.
import { abortError } from '../errors.js';

export interface Resolvers<T> {
  readonly promise: Promise<T>;
  /** Whether resolve or reject was called. */
  readonly settled: boolean;
  resolve(value: T): void;
  reject(error: Error): void;
}

/**
 * A promise and its resolvers. A rejection nobody waits for is not reported as unhandled: the
 * promise is there for whoever waits on it.
 */
export function withResolvers<T = void>(): Resolvers<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  let settled = false;
  return {
    promise,
    get settled() {
      return settled;
    },
    resolve: (value) => {
      settled = true;
      resolve(value);
    },
    reject: (error) => {
      settled = true;
      reject(error);
    },
  };
}

export interface WaitBounds {
  /** Milliseconds (0 or absent: no limit); past it the wait rejects with the error `timedOut` makes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Ends the wait with the error it is given (e.g. the device watch: the device was removed). */
  stop?: (end: (error: Error) => void) => () => void;
}

/**
 * `p`, or the error of the bound that ends the wait first: the time limit, the caller's signal,
 * or `stop`. The work behind `p` goes on. Nothing outlives the call: the timer is cleared and
 * every listener removed (no AbortSignal.any or AbortSignal.timeout, which keep dependants
 * alive on Node 20: nodejs/node#55351).
 */
export function bounded<T>(p: Promise<T>, bounds: WaitBounds, timedOut: (ms: number) => Error): Promise<T> {
  const { timeoutMs, signal, stop } = bounds;
  if (timeoutMs !== undefined) checkTimeout(timeoutMs);
  if (!timeoutMs && signal === undefined && stop === undefined) return p;
  if (signal?.aborted === true) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe: (() => void) | undefined;
    const onAbort = (): void => finish(() => reject(abortError(signal!)));
    let finished = false;
    const finish = (settle: () => void): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe?.();
      settle();
    };
    if (timeoutMs) timer = setTimeout(() => finish(() => reject(timedOut(timeoutMs))), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    unsubscribe = stop?.((error) => finish(() => reject(error)));
    if (finished) unsubscribe?.(); // `stop` ended it while subscribing
    p.then((value) => finish(() => resolve(value)), (error: unknown) => finish(() => reject(error)));
  });
}

/**
 * `wait(signal)` under the bounds of `bounded`; a bound that ends it first also aborts `signal`,
 * so a readiness wait releases its watcher.
 */
export async function boundedWait<T>(wait: (signal: AbortSignal | undefined) => Promise<T>, bounds: WaitBounds, timedOut: (ms: number) => Error): Promise<T> {
  if (!bounds.timeoutMs && bounds.signal === undefined && bounds.stop === undefined) return wait(undefined);
  const cancel = new AbortController();
  let settled = false;
  const running = wait(cancel.signal).finally(() => (settled = true));
  running.catch(() => undefined); // its error reaches the caller through bounded, or not at all
  try {
    return await bounded(running, bounds, timedOut);
  } finally {
    if (!settled) cancel.abort();
  }
}

/** The longest time limit a Node timer can count: longer delays would fire at once (after 1 ms). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * A time limit (setTimeout, a timeoutMs option): 0 (none) to MAX_TIMEOUT_MS ms, else a RangeError
 * with code ERR_OUT_OF_RANGE.
 */
export function checkTimeout(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0 && ms <= MAX_TIMEOUT_MS)) {
    throw Object.assign(new RangeError(`a timeout is 0 (none) to ${MAX_TIMEOUT_MS} ms (about 24.8 days), got ${ms}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  return ms;
}
