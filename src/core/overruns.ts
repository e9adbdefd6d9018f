// How a capture stream sees its overruns (the gaps of samples/gaps.ts): in a sample counter the
// caller names, or else in the timestamp channel, when it is enabled and the sample period known.
import type { OpOptions } from '../backends/backend.js';
import type { BlockLayout } from '../samples/block-layout.js';
import { CounterGaps, TimestampGaps, type GapFinder } from '../samples/gaps.js';
import type { IioBuffer } from './buffer.js';
import type { Channel } from './channel.js';
import type { Device } from './device.js';
import type { StreamBlock } from './stream-block.js';

/** Samples the hardware dropped because they were not taken in time (no block queued, a full kfifo). */
export interface Overrun {
  /** How many (as the timestamps or the counter tell). */
  samples: number;
  /** The block the gap was seen in, and the scan of it that follows the gap. */
  block: StreamBlock;
  scan: number;
}

/** A channel that counts samples: it goes up by `step` (default 1) every scan, wrapping at its bit width. */
export interface SampleCounter {
  channel: Channel | string;
  step?: number;
}

export type OverrunCheck = 'counter' | 'timestamp';

export interface OverrunFinder {
  readonly check: OverrunCheck;
  readonly gaps: GapFinder;
}

/**
 * The finder for a capture stream of `layout` from `buffer`: the `counter` when given, else the
 * timestamp channel when it can tell; undefined when nothing can.
 */
export async function overrunFinder(buffer: IioBuffer, layout: BlockLayout, counter: SampleCounter | undefined, options: OpOptions): Promise<OverrunFinder | undefined> {
  if (counter !== undefined) {
    const id = typeof counter.channel === 'string' ? buffer.device.channel(counter.channel, 'in').id : counter.channel.id;
    if (!layout.has(id)) throw new RangeError(`${buffer.toString()}: the sample counter ${id} is not one of the stream's channels (${layout.channels.map((c) => c.id).join(', ')})`);
    return { check: 'counter', gaps: new CounterGaps(layout, layout.channel(id), counter.step ?? 1, `${buffer.toString()}: sample counter ${id}`) };
  }
  const timestamp = layout.channels.find((c) => c.timestamp);
  if (timestamp === undefined) return undefined;
  const periodNs = await samplePeriodNs(buffer.device, options);
  const gaps = periodNs === undefined ? undefined : TimestampGaps.of(layout, timestamp, periodNs);
  return gaps === undefined ? undefined : { check: 'timestamp', gaps };
}

/**
 * The period the device samples at, read once: its trigger's sampling_frequency when it has a
 * trigger (none when the trigger has no rate, e.g. a sysfs trigger fired by hand: its timestamps
 * say nothing about losses), else its own sampling_frequency; undefined when unreadable.
 */
async function samplePeriodNs(device: Device, options: OpOptions): Promise<number | undefined> {
  const trigger = device.triggerSupport === false ? null : await device.getTrigger(options).catch(() => null);
  const rate = await (trigger ?? device).attrs.get('sampling_frequency')?.readNumber(options).catch(() => undefined);
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? 1e9 / rate : undefined;
}
