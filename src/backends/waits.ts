// Promise helpers the backends share: resolvers for a promise settled elsewhere (Node 20 has no
// Promise.withResolvers), and a wait bounded by a timeout and an AbortSignal.
import { abortError } from '../kernel/errors.js';

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

/**
 * `p`, or the wait's timeout (the error `timedOut` makes) or abort first; the work behind `p`
 * goes on.
 */
export async function bounded<T>(p: Promise<T>, options: { timeoutMs?: number; signal?: AbortSignal }, timedOut: (ms: number) => Error): Promise<T> {
  const { timeoutMs, signal } = options;
  if (timeoutMs === undefined && signal === undefined) return p;
  if (timeoutMs !== undefined) checkTimeout(timeoutMs);
  if (signal?.aborted === true) throw abortError(signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => reject(timedOut(timeoutMs)), timeoutMs);
    if (signal !== undefined) {
      onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
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
