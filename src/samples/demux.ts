// Demux: a block of whole scans → one array of decoded values per channel. Value r of scan n
// is at index n × repeat + r; a partial last scan is ignored. Each call picks the fastest path
// that applies (simd.ts for packed layouts, fast.ts per channel) and falls back to general.ts.
import { formatScanType } from '../format/index.js';
import { demuxFast } from './fast.js';
import { demuxGeneral } from './general.js';
import { allocateSamples, arrayName, arrayTraits, rangeFits, typeRange, type SampleArray } from './kinds.js';
import { describe, type LayoutChannel, type ScanLayoutView } from './layout.js';
import { simdDeinterleave, simdGroup, simdShape, slotDecode, type SlotDecode } from './simd.js';

/** The values of `channel` in `block`, in a new array of the channel's kind. */
export function samples(layout: ScanLayoutView, block: Uint8Array, channel: string | LayoutChannel): SampleArray {
  const ch = layout.channel(channel);
  const scans = layout.scanCount(block);
  const out = allocateSamples(ch.kind, scans * ch.repeat);
  demuxOne(layout, block, scans, ch, out);
  return out;
}

/**
 * Decodes `channel` into `out` (from index 0) and returns the number of values written. `out`
 * may be any array that holds the channel's values exactly (an Int32Array or Float64Array for
 * an int16 channel, say; bigint arrays for channels over 53 bits) and at least that long.
 */
export function samplesInto(
  layout: ScanLayoutView, block: Uint8Array, channel: string | LayoutChannel, out: SampleArray,
): number {
  const ch = layout.channel(channel);
  const scans = layout.scanCount(block);
  checkOut(ch, out, scans * ch.repeat);
  demuxOne(layout, block, scans, ch, out);
  return scans * ch.repeat;
}

/** Every channel's values, keyed by channel id. */
export function samplesAll(layout: ScanLayoutView, block: Uint8Array): Record<string, SampleArray> {
  const scans = layout.scanCount(block);
  const outs: Record<string, SampleArray> = Object.create(null) as Record<string, SampleArray>;
  for (const ch of layout.channels) outs[ch.id] = allocateSamples(ch.kind, scans * ch.repeat);
  demuxMany(layout, block, scans, layout.channels.map((ch) => outs[ch.id]));
  return outs;
}

/**
 * Decodes the channels named in `outs` into their arrays in one call and returns the number of
 * scans. Packed layouts (see simd.ts) are deinterleaved with SIMD shuffles.
 */
export function samplesAllInto(layout: ScanLayoutView, block: Uint8Array, outs: Readonly<Record<string, SampleArray>>): number {
  const scans = layout.scanCount(block);
  if (typeof outs !== 'object' || outs === null) throw new TypeError(`expected an object of arrays keyed by channel id, got ${describe(outs)}`);
  for (const id of Object.keys(outs)) {
    const ch = layout.channel(id);
    checkOut(ch, outs[id]!, scans * ch.repeat);
  }
  const slots = scratch(layout);
  try {
    layout.channels.forEach((ch, i) => (slots[i] = outs[ch.id]));
    demuxMany(layout, block, scans, slots);
  } finally {
    slots.fill(undefined);
  }
  return scans;
}

/** One channel, scans [first, end): the fast path if it applies, else the general one. */
export function demuxChannel(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, out: SampleArray,
): void {
  if (first < end && !demuxFast(scanBytes, ch, block, first, end, out)) demuxGeneral(scanBytes, ch, block, first, end, out);
}

function demuxOne(layout: ScanLayoutView, block: Uint8Array, scans: number, ch: LayoutChannel, out: SampleArray): void {
  const slots = scratch(layout);
  try {
    slots[layout.channels.indexOf(ch)] = out;
    demuxMany(layout, block, scans, slots);
  } finally {
    slots.fill(undefined);
  }
}

/** `outs[i]` receives channel i (in scan order); undefined entries are skipped. */
function demuxMany(layout: ScanLayoutView, block: Uint8Array, scans: number, outs: readonly (SampleArray | undefined)[]): void {
  let done = 0;
  const shape = packedShape(layout);
  if (shape !== null && scans >= 4 * simdGroup(shape.width)) {
    let wanted = 0;
    let copyable = true;
    for (const out of outs) {
      if (out === undefined) continue;
      wanted++;
      copyable &&= laneTarget(out, shape.width);
    }
    // SIMD decodes every channel of the block; per channel JS costs about as much as SIMD
    // spends on 16 bytes, so use SIMD unless few of many channels are wanted.
    if (copyable && 16 * wanted >= layout.scanBytes) {
      done = simdDeinterleave(block, shape.width, outs as Parameters<typeof simdDeinterleave>[2], scans, shape.decode);
    }
  }
  layout.channels.forEach((ch, i) => {
    const out = outs[i];
    if (out !== undefined) demuxChannel(layout.scanBytes, ch, block, done, scans, out);
  });
}

const scratches = new WeakMap<ScanLayoutView, (SampleArray | undefined)[]>();

/** A reusable per-layout array of output slots (calls do not nest, so one per layout is enough). */
function scratch(layout: ScanLayoutView): (SampleArray | undefined)[] {
  let slots = scratches.get(layout);
  if (slots === undefined) scratches.set(layout, slots = new Array<SampleArray | undefined>(layout.channels.length).fill(undefined));
  return slots;
}

interface PackedShape {
  width: number;
  /** Every channel is natural: a plain (de)interleave. */
  natural: boolean;
  decode: SlotDecode[];
}
const shapes = new WeakMap<ScanLayoutView, PackedShape | null>();

/**
 * The layout is N (2, 4, 8, 16) channels of W-byte storage (1, 2, 4, 8) with repeat 1 and no
 * padding, so a scan is N words side by side; null otherwise.
 */
export function packedShape(layout: ScanLayoutView): PackedShape | null {
  let shape = shapes.get(layout);
  if (shape === undefined) {
    const width = layout.channels[0]!.storageBytes;
    const ok = simdShape(width, layout.channels.length) && layout.scanBytes === width * layout.channels.length &&
      layout.channels.every((ch) => ch.repeat === 1 && ch.storageBytes === width);
    shape = ok
      ? {
        width,
        natural: layout.channels.every((ch) => ch.natural),
        decode: layout.channels.map((ch) => slotDecode(width, ch.type.realBits, ch.type.shift, ch.type.signed, ch.field.littleEndian)),
      }
      : null;
    shapes.set(layout, shape);
  }
  return shape;
}

/**
 * A typed array the SIMD copies can convert into or from: numeric for W < 8, bigint for W = 8
 * (8-byte lanes are read as BigInt64/BigUint64). Range is checked separately.
 */
export function laneTarget(array: unknown, width: number): boolean {
  const traits = arrayTraits(array);
  return traits !== null && traits.bytes !== 0 && traits.bigint === (width === 8);
}

/** Throws unless `out` holds every value of `ch` exactly and has at least `needed` elements. */
export function checkOut(ch: LayoutChannel, out: unknown, needed: number): void {
  const traits = arrayTraits(out);
  const wide = typeof ch.min === 'bigint';
  if (traits === null || traits.bigint !== wide) {
    throw new TypeError(`channel "${ch.id}" (${formatScanType(ch.type)}): output must be ${wide
      ? 'a BigInt64Array, BigUint64Array or bigint[]' : 'a numeric typed array'}, got ${describe(out)}`);
  }
  const { min, max } = typeRange(ch.type);
  if (!rangeFits(traits, min, max)) {
    throw new TypeError(`channel "${ch.id}" (${formatScanType(ch.type)}): a ${traits.name} cannot hold its values ` +
      `[${min}, ${max}]; use a ${arrayName(ch.kind)} or wider`);
  }
  const length = (out as ArrayLike<unknown>).length;
  if (length < needed) {
    throw new RangeError(`channel "${ch.id}": output has ${length} elements, ${needed} needed`);
  }
}
