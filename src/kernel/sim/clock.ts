// Time for the simulated kernel. Simulated hardware runs against this clock; a "blocking"
// syscall (the ioctl interface is synchronous, as it is in C) really blocks the thread until the
// simulated event is due, without burning CPU, exactly as the real syscall would.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Monotonic time in nanoseconds. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Monotonic time in milliseconds (fractional). */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Blocks the calling thread for `ms` milliseconds. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}
