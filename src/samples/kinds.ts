// Which JS array holds a channel's values exactly, and what an array can hold. The narrowest
// typed array is chosen from realbits and sign (not storagebits: `le:s12/16>>4` decodes into an
// Int16Array, `le:u12/32>>0` into a Uint16Array); 33..53-bit values go into a Float64Array,
// whose integers are exact up to 2^53; 54..64-bit values into BigInt64Array/BigUint64Array;
// wider ones (the grammar allows up to 248 bits, no driver uses them) into a plain bigint[].
import type { ScanType } from '../format/index.js';

export type SampleArrayKind =
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'
  | 'float64' | 'bigint64' | 'biguint64' | 'bigint';

export type NumberSampleArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array;
export type BigIntSampleArray = BigInt64Array | BigUint64Array | bigint[];
/** What demux produces (or accepts as `out`): one value per scan and repeat slot. */
export type SampleArray = NumberSampleArray | BigIntSampleArray;
/** What mux accepts: any array-like of numbers or bigints (typed arrays take the fast paths). */
export type SampleInput = ArrayLike<number> | ArrayLike<bigint> | ArrayLike<number | bigint>;

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The narrowest array kind that holds every value of `type` exactly. */
export function sampleArrayKind(type: ScanType): SampleArrayKind {
  const r = type.realBits;
  if (r <= 8) return type.signed ? 'int8' : 'uint8';
  if (r <= 16) return type.signed ? 'int16' : 'uint16';
  if (r <= 32) return type.signed ? 'int32' : 'uint32';
  if (r <= 53) return 'float64';
  if (r <= 64) return type.signed ? 'bigint64' : 'biguint64';
  return 'bigint';
}

/** A zero-filled array of `kind` with `length` elements. */
export function allocateSamples(kind: SampleArrayKind, length: number): SampleArray {
  switch (kind) {
    case 'int8': return new Int8Array(length);
    case 'uint8': return new Uint8Array(length);
    case 'int16': return new Int16Array(length);
    case 'uint16': return new Uint16Array(length);
    case 'int32': return new Int32Array(length);
    case 'uint32': return new Uint32Array(length);
    case 'float64': return new Float64Array(length);
    case 'bigint64': return new BigInt64Array(length);
    case 'biguint64': return new BigUint64Array(length);
    case 'bigint': return new Array<bigint>(length).fill(0n);
  }
}

/** The array type of `kind`, for messages. */
export function arrayName(kind: SampleArrayKind): string {
  return kind === 'bigint' ? 'bigint[]' : kind === 'bigint64' ? 'BigInt64Array' : kind === 'biguint64' ? 'BigUint64Array'
    : `${kind[0]!.toUpperCase()}${kind.slice(1)}Array`;
}

/** What a given array can hold: its element range, element bytes, and whether it holds bigints. */
export interface ArrayTraits {
  readonly name: string;
  readonly bigint: boolean;
  /** Bytes per element for typed arrays, 0 for plain arrays. */
  readonly bytes: number;
  /** Inclusive range of integers held exactly (null for plain arrays: unbounded bigints). */
  readonly min: bigint | null;
  readonly max: bigint | null;
  /** Integer typed array of `bytes` width: stores keep the low bits (bit copies are exact). */
  readonly integer: boolean;
}

const p2 = (n: number): bigint => 1n << BigInt(n);
const TRAITS: Readonly<Record<string, ArrayTraits>> = {
  Int8Array: { name: 'Int8Array', bigint: false, bytes: 1, min: -p2(7), max: p2(7) - 1n, integer: true },
  Uint8Array: { name: 'Uint8Array', bigint: false, bytes: 1, min: 0n, max: p2(8) - 1n, integer: true },
  // Clamped stores saturate instead of wrapping, so it is never used for bit copies.
  Uint8ClampedArray: { name: 'Uint8ClampedArray', bigint: false, bytes: 1, min: 0n, max: p2(8) - 1n, integer: false },
  Int16Array: { name: 'Int16Array', bigint: false, bytes: 2, min: -p2(15), max: p2(15) - 1n, integer: true },
  Uint16Array: { name: 'Uint16Array', bigint: false, bytes: 2, min: 0n, max: p2(16) - 1n, integer: true },
  Int32Array: { name: 'Int32Array', bigint: false, bytes: 4, min: -p2(31), max: p2(31) - 1n, integer: true },
  Uint32Array: { name: 'Uint32Array', bigint: false, bytes: 4, min: 0n, max: p2(32) - 1n, integer: true },
  Float32Array: { name: 'Float32Array', bigint: false, bytes: 4, min: -p2(24), max: p2(24), integer: false },
  Float64Array: { name: 'Float64Array', bigint: false, bytes: 8, min: -p2(53), max: p2(53), integer: false },
  BigInt64Array: { name: 'BigInt64Array', bigint: true, bytes: 8, min: -p2(63), max: p2(63) - 1n, integer: true },
  BigUint64Array: { name: 'BigUint64Array', bigint: true, bytes: 8, min: 0n, max: p2(64) - 1n, integer: true },
};
const PLAIN: ArrayTraits = { name: 'Array', bigint: true, bytes: 0, min: null, max: null, integer: false };

/** Traits of `array`, or null when it is not a typed array or plain Array. */
export function arrayTraits(array: unknown): ArrayTraits | null {
  if (Array.isArray(array)) return PLAIN;
  if (!ArrayBuffer.isView(array) || array instanceof DataView) return null;
  // Buffer and other subclasses report their base class's tag.
  return TRAITS[(array as Uint8Array)[Symbol.toStringTag]] ?? null;
}

/** The value range of `type` as bigints: [-2^(r-1), 2^(r-1)-1] or [0, 2^r-1]. */
export function typeRange(type: ScanType): { min: bigint; max: bigint } {
  const half = p2(type.realBits - 1);
  return type.signed ? { min: -half, max: half - 1n } : { min: 0n, max: 2n * half - 1n };
}

/** True when every value in [min, max] is held exactly by arrays with `traits`. */
export function rangeFits(traits: ArrayTraits, min: bigint, max: bigint): boolean {
  return (traits.min === null || traits.min <= min) && (traits.max === null || max <= traits.max);
}

/** True when every value an array with `traits` can hold is in the range of `channel` (no clamping needed). */
export function valuesWithin(traits: ArrayTraits, channel: { min: number | bigint; max: number | bigint }): boolean {
  return traits.min !== null && traits.max !== null &&
    BigInt(channel.min) <= traits.min && traits.max <= BigInt(channel.max);
}
