// Register access through debugfs `direct_reg_access` (both backends): argument checks, and
// one access at a time per device, since each is a select-then-read pair of operations.

const U32_MAX = 0xffffffff;

/** Throws ERR_OUT_OF_RANGE unless `n` is a 32-bit unsigned integer. */
export function checkU32(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) {
    const error = new RangeError(`register ${what} must be an integer in [0, 0xffffffff], got ${n}`) as RangeError & { code: string };
    error.code = 'ERR_OUT_OF_RANGE';
    throw error;
  }
}

/** Parses the kernel's "0x%X" (iio_debugfs_read_reg), or decimal; NaN for anything else. */
export function parseRegisterValue(text: string): number {
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
}

/** Runs bodies one after another per key (a device). */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, body: () => Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const run = before.then(body);
    this.#tails.set(key, run.catch(() => undefined));
    return run;
  }
}
