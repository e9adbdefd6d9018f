// Timestamps as the IIO core takes them (iio_get_time_ns with the device's
// current_timestamp_clock): CLOCK_REALTIME by default, or CLOCK_MONOTONIC, in nanoseconds.
import { nowNs } from '../clock.js';

const REALTIME_OFFSET = BigInt(Date.now()) * 1_000_000n - nowNs();

export type TimestampClock = 'realtime' | 'monotonic' | 'monotonic_raw' | 'realtime_coarse' | 'monotonic_coarse' | 'boottime' | 'tai';

export const TIMESTAMP_CLOCKS: readonly TimestampClock[] = ['realtime', 'monotonic', 'monotonic_raw', 'realtime_coarse', 'monotonic_coarse', 'boottime', 'tai'];

/** The clock's reading now (ns). */
export function clockNs(clock: TimestampClock): bigint {
  const mono = nowNs();
  return clock.startsWith('realtime') || clock === 'tai' ? mono + REALTIME_OFFSET : mono;
}

/** The clock's reading at monotonic time `monoMs` (ms, as the scheduler counts). */
export function clockNsAt(clock: TimestampClock, monoMs: number): bigint {
  const mono = BigInt(Math.round(monoMs * 1e6));
  return clock.startsWith('realtime') || clock === 'tai' ? mono + REALTIME_OFFSET : mono;
}
