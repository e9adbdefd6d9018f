// Mux: per-channel values → a block (for playback). The inverse of demux: value r of scan n is
// taken from index n × repeat + r, clamped to the channel's range (see general.ts), and written
// into the channel's storage; other channels' bytes and padding are left as they were.
import { muxFast } from './fast.js';
import { muxGeneral } from './general.js';
import { arrayTraits, valuesWithin, type SampleInput } from './kinds.js';
import { checkBlock, describe, type LayoutChannel, type ScanLayoutView } from './layout.js';
import { laneTarget, packedShape } from './demux.js';
import { simdGroup, simdInterleave } from './simd.js';

/**
 * Writes `values` into `channel` for every whole scan of `block` and returns the number of
 * values used (scans × repeat; `values` may be longer).
 */
export function writeSamples(
  layout: ScanLayoutView, block: Uint8Array, channel: string | LayoutChannel, values: SampleInput,
): number {
  const ch = layout.channel(channel);
  const scans = layout.scanCount(checkBlock(block));
  checkValues(ch, values, scans * ch.repeat);
  muxChannel(layout.scanBytes, ch, block, 0, scans, values);
  return scans * ch.repeat;
}

/**
 * Writes each channel named in `values` (channels not named are left untouched) for every whole
 * scan of `block`; returns the number of scans. When every channel is given, the layout is
 * packed with natural formats and each source is an integer typed array whose values all fit
 * (an Int16Array or Int8Array for an int16 channel, say), the block is interleaved with SIMD
 * shuffles.
 */
export function fill(layout: ScanLayoutView, block: Uint8Array, values: Readonly<Record<string, SampleInput>>): number {
  const scans = layout.scanCount(checkBlock(block));
  if (typeof values !== 'object' || values === null) {
    throw new TypeError(`expected an object of values keyed by channel id, got ${describe(values)}`);
  }
  for (const id of Object.keys(values)) {
    const ch = layout.channel(id);
    checkValues(ch, values[id]!, scans * ch.repeat);
  }
  let done = 0;
  const shape = packedShape(layout);
  if (shape !== null && shape.natural && scans >= 4 * simdGroup(shape.width)) {
    const width = shape.width;
    const sources = layout.channels.map((ch) => values[ch.id]);
    // Integer sources whose every value is in range: the copy into wasm memory converts exactly.
    const exact = layout.channels.every((ch, i) => {
      const traits = arrayTraits(sources[i]);
      return laneTarget(sources[i], width) && traits!.integer && valuesWithin(traits!, ch);
    });
    if (exact) done = simdInterleave(block, width, sources as unknown as Parameters<typeof simdInterleave>[2], scans, shape.decode);
  }
  for (const ch of layout.channels) {
    const source = values[ch.id];
    if (source !== undefined) muxChannel(layout.scanBytes, ch, block, done, scans, source);
  }
  return scans;
}

/** One channel, scans [first, end): the fast path if it applies, else the general one. */
export function muxChannel(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, values: SampleInput,
): void {
  if (first < end && !muxFast(scanBytes, ch, block, first, end, values)) muxGeneral(scanBytes, ch, block, first, end, values);
}

function checkValues(ch: LayoutChannel, values: unknown, needed: number): void {
  const traits = arrayTraits(values);
  if (traits === null) {
    throw new TypeError(`channel "${ch.id}": values must be a typed array or an Array, got ${describe(values)}`);
  }
  const length = (values as ArrayLike<unknown>).length;
  if (length < needed) throw new RangeError(`channel "${ch.id}": ${length} values given, ${needed} needed`);
}
