// Raw ↔ physical units (kernel-abi §6.2): physical = (raw + offset) × scale, with the channel's
// `_scale` and `_offset` attributes (e.g. millivolts for a voltage channel). The inverse, for
// playback, rounds to the nearest raw value (ties away from zero) and clamps to the channel's
// range. Values over 53 bits go through doubles, so only their top 53 bits are significant.
import { formatScanType, type ScanType } from '../format/index.js';
import { allocateSamples, arrayName, arrayTraits, rangeFits, sampleArrayKind, typeRange, type SampleArray, type SampleInput } from './kinds.js';
import { demuxChannel, samples } from './demux.js';
import { describe, type LayoutChannel, type ScanLayoutView } from './layout.js';

export interface ChannelConversion {
  /** `_scale`; 1 when the channel has none. */
  scale?: number;
  /** `_offset`, in raw units; 0 when the channel has none. */
  offset?: number;
}

export type PhysicalArray = Float64Array | Float32Array;

function conversion(c: ChannelConversion | undefined, inverse: boolean): { scale: number; offset: number } {
  const scale = c?.scale ?? 1;
  const offset = c?.offset ?? 0;
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new RangeError(`scale must be a finite number, got ${String(scale)}`);
  if (typeof offset !== 'number' || !Number.isFinite(offset)) throw new RangeError(`offset must be a finite number, got ${String(offset)}`);
  if (inverse && scale === 0) throw new RangeError('scale 0 cannot be inverted: every raw value is physical 0');
  return { scale, offset };
}

/**
 * `(raw[i] + offset) × scale` into `out` (a new Float64Array by default; a Float32Array rounds
 * each result once). Returns `out`, whose first raw.length elements were written.
 */
export function rawToPhysical<O extends PhysicalArray = Float64Array>(
  raw: SampleInput, conv?: ChannelConversion, out?: O,
): O {
  const { scale, offset } = conversion(conv, false);
  const traits = arrayTraits(raw);
  if (traits === null) throw new TypeError(`raw values must be a typed array or an Array, got ${describe(raw)}`);
  const n = raw.length;
  const dst = out ?? (new Float64Array(n) as O);
  if (!(dst instanceof Float64Array || dst instanceof Float32Array)) {
    throw new TypeError(`physical output must be a Float64Array or Float32Array, got ${describe(dst)}`);
  }
  if (dst.length < n) throw new RangeError(`physical output has ${dst.length} elements, ${n} needed`);
  if (traits.bytes !== 0 && !traits.bigint) {
    const src = raw as ArrayLike<number>;
    for (let i = 0; i < n; i++) dst[i] = (src[i]! + offset) * scale;
  } else {
    const src = raw as ArrayLike<unknown>;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (typeof v !== 'number' && typeof v !== 'bigint') throw new TypeError(`raw value ${i} is ${typeof v}, expected a number or bigint`);
      dst[i] = (Number(v) + offset) * scale;
    }
  }
  return dst;
}

/**
 * The decimal places `(raw + offset) × scale` holds for integer raw values: the scale's plus the
 * offset's (counted in their shortest decimal texts). A physical value rounded to them is the
 * exact product without the noise of binary floating point: 9.8, not 9.799999999999999.
 */
export function physicalDecimals(conv?: ChannelConversion): number {
  const { scale, offset } = conversion(conv, false);
  return decimalPlaces(scale) + decimalPlaces(offset);
}

/** Decimal places of a number's shortest text: 0.030517578 → 9, 1.5e-7 → 8, 1200 → 0. */
function decimalPlaces(x: number): number {
  const [, fraction = '', exponent = '0'] = /^-?\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x))!;
  return Math.max(0, fraction.length - Number(exponent));
}

/**
 * Raw values of `type` for physical values: `physical / scale - offset`, rounded to nearest
 * (ties away from zero), clamped to the type's range; NaN becomes raw 0. Into `out` (any array
 * that holds the type's values; a new array of the narrowest kind by default), which is returned.
 */
export function physicalToRaw(
  physical: ArrayLike<number>, type: ScanType, conv?: ChannelConversion, out?: SampleArray,
): SampleArray {
  const { scale, offset } = conversion(conv, true);
  const n = physical.length;
  const kind = sampleArrayKind(type);
  const { min, max } = typeRange(type);
  const dst = out ?? allocateSamples(kind, n);
  const traits = arrayTraits(dst);
  if (traits === null || !rangeFits(traits, min, max) || traits.bigint !== type.realBits > 53) {
    throw new TypeError(`raw output for ${formatScanType(type)} must hold [${min}, ${max}] (a ${arrayName(kind)}), got ${describe(dst)}`);
  }
  if (dst.length < n) throw new RangeError(`raw output has ${dst.length} elements, ${n} needed`);
  if (!traits.bigint) {
    const lo = Number(min);
    const hi = Number(max);
    const values = dst as { [i: number]: number };
    for (let i = 0; i < n; i++) {
      const x = physical[i]! / scale - offset;
      const r = (x < 0 ? -Math.round(-x) : Math.round(x)) + 0; // + 0: no -0
      values[i] = r < lo ? lo : r > hi ? hi : r === r ? r : 0;
    }
    return dst;
  }
  // Beyond 53 bits the ends are not doubles; compare with the exact powers of two instead.
  const above = 2 ** (type.signed ? type.realBits - 1 : type.realBits);
  const below = type.signed ? -above : 0;
  const values = dst as { [i: number]: bigint };
  for (let i = 0; i < n; i++) {
    const x = physical[i]! / scale - offset;
    const r = x < 0 ? -Math.round(-x) : Math.round(x);
    values[i] = r !== r ? 0n : r >= above ? max : r < below ? min : BigInt(r);
  }
  return dst;
}

/**
 * `channel`'s values in `block` in physical units: demuxed straight into `out` (a new
 * Float64Array by default) and converted in place. A Float32Array `out` for a channel over 24
 * bits, or a channel over 53 bits, goes through a temporary array.
 */
export function physicalSamples<O extends PhysicalArray = Float64Array>(
  layout: ScanLayoutView, block: Uint8Array, channel: string | LayoutChannel, conv?: ChannelConversion, out?: O,
): O {
  const ch = layout.channel(channel);
  conversion(conv, false);
  if (typeof ch.min === 'bigint') return rawToPhysical(samples(layout, block, ch), conv, out);
  const scans = layout.scanCount(block);
  const n = scans * ch.repeat;
  const dst = out ?? (new Float64Array(n) as O);
  if (!(dst instanceof Float64Array || dst instanceof Float32Array)) {
    throw new TypeError(`channel "${ch.id}": physical output must be a Float64Array or Float32Array, got ${describe(dst)}`);
  }
  if (dst.length < n) throw new RangeError(`channel "${ch.id}": physical output has ${dst.length} elements, ${n} needed`);
  const { min, max } = typeRange(ch.type);
  const raw = rangeFits(arrayTraits(dst)!, min, max) ? dst : new Float64Array(n);
  demuxChannel(layout.scanBytes, ch, block, 0, scans, raw);
  return rawToPhysical(raw.length === n ? raw : raw.subarray(0, n), conv, dst);
}
