// One scan-element value <-> its bytes (kernel-abi §6.3 "Decoding a value"): read storagebits/8
// bytes in the element's endianness, shift right, mask to realbits, sign-extend. Encoding is
// the inverse: the value is truncated to realbits (two's complement, like the hardware's bit
// field), shifted into place, and every other storage bit is written as 0.
//
// Values are `number` when realbits <= 53 (every value is a safe integer) and `bigint` above
// (timestamps, 64-bit counters): `codec.wide` tells which, and TypeScript narrows on it.
// Storage of 1, 2 and 4 bytes, and 8-byte storage whose field fits in one 32-bit half, use
// DataView accessors and 32-bit integer arithmetic; other 8-byte fields combine both halves
// as doubles (up to 53 bits) or use the BigInt accessors (above); every other storage size
// walks the bytes that hold the field.
import { assertScanType, type ScanType } from './scan-type.js';

export type SampleValue = number | bigint;

interface CodecCommon {
  readonly type: ScanType;
  /** Bytes of one value, storagebits/8. Repeat slot `i` starts `i * storageBytes` further on. */
  readonly storageBytes: number;
  /** Bytes of the whole element, storageBytes × repeat. */
  readonly elementBytes: number;
}

/** realbits <= 53: values are numbers. */
export interface NumberCodec extends CodecCommon {
  readonly wide: false;
  readonly min: number;
  readonly max: number;
  /** The value of repeat slot `index` of the element at `byteOffset`. */
  decode(view: DataView, byteOffset: number, index?: number): number;
  /** Writes `value` (truncated to realbits) into repeat slot `index` of the element at `byteOffset`. */
  encode(view: DataView, byteOffset: number, value: SampleValue, index?: number): void;
}

/** realbits > 53: values are bigints. */
export interface BigIntCodec extends CodecCommon {
  readonly wide: true;
  readonly min: bigint;
  readonly max: bigint;
  decode(view: DataView, byteOffset: number, index?: number): bigint;
  encode(view: DataView, byteOffset: number, value: SampleValue, index?: number): void;
}

export type SampleCodec = NumberCodec | BigIntCodec;

/** The largest realbits whose values are all safe integers (as `number`). */
export const MAX_NUMBER_BITS = 53;

/** True when values of `type` are bigints (realbits > 53). */
export function isWideScanType(type: ScanType): boolean {
  return type.realBits > MAX_NUMBER_BITS;
}

/** The range of values of `type`: [-2^(r-1), 2^(r-1)-1] signed, [0, 2^r-1] unsigned. */
export function sampleRange(type: ScanType): { min: number; max: number } | { min: bigint; max: bigint } {
  const codec = sampleCodec(type);
  return codec.wide ? { min: codec.min, max: codec.max } : { min: codec.min, max: codec.max };
}

/** `value` saturated to the range of `type`, as the type's value kind (number or bigint). */
export function clampSample(type: ScanType, value: SampleValue): SampleValue {
  const codec = sampleCodec(type);
  if (codec.wide) {
    const v = typeof value === 'bigint' ? value : Number.isFinite(value) ? BigInt(Math.trunc(value)) : value > 0 ? codec.max : codec.min;
    return v < codec.min ? codec.min : v > codec.max ? codec.max : v;
  }
  if (typeof value === 'bigint') {
    return value < BigInt(codec.min) ? codec.min : value > BigInt(codec.max) ? codec.max : Number(value);
  }
  if (Number.isNaN(value)) return Math.max(codec.min, Math.min(codec.max, 0));
  const v = Math.trunc(value);
  return v < codec.min ? codec.min : v > codec.max ? codec.max : v;
}

/**
 * Processed value from raw (kernel-abi §6.2): `(raw + offset) * scale`, e.g. millivolts for a
 * voltage channel. A bigint raw value is converted to a number first.
 */
export function toPhysical(raw: SampleValue, scale = 1, offset = 0): number {
  return (Number(raw) + offset) * scale;
}

const cache = new WeakMap<ScanType, SampleCodec>();

/**
 * The codec for `type` (validated with assertScanType). Codecs are cached per ScanType object,
 * so treat ScanType objects as immutable.
 */
export function sampleCodec(type: ScanType): SampleCodec {
  let codec = cache.get(type);
  if (codec === undefined) {
    assertScanType(type);
    codec = buildCodec(type);
    cache.set(type, codec);
  }
  return codec;
}

/** Decodes repeat slot `index` of the element of `type` at `byteOffset`. */
export function decodeSample(view: DataView, byteOffset: number, type: ScanType, index = 0): SampleValue {
  return sampleCodec(type).decode(view, byteOffset, index);
}

/** Encodes `value` into repeat slot `index` of the element of `type` at `byteOffset`. */
export function encodeSample(view: DataView, byteOffset: number, type: ScanType, value: SampleValue, index = 0): void {
  sampleCodec(type).encode(view, byteOffset, value, index);
}

function buildCodec(t: ScanType): SampleCodec {
  const storageBytes = t.storageBits / 8;
  const common: CodecCommon = { type: t, storageBytes, elementBytes: storageBytes * t.repeat };
  if (t.realBits > MAX_NUMBER_BITS) {
    const half = 1n << BigInt(t.realBits - 1);
    const min = t.signed ? -half : 0n;
    const max = t.signed ? half - 1n : 2n * half - 1n;
    const io = storageBytes !== 8 ? spanBigInt(t, true) : t.realBits === 64 ? fullWidth64(t) : shifted64(t);
    return { ...common, wide: true, min, max, decode: io.decode, encode: io.encode } as BigIntCodec;
  }
  const half = 2 ** (t.realBits - 1);
  const min = t.signed ? -half : 0;
  const max = t.signed ? half - 1 : 2 * half - 1;
  let io: NumberIo;
  if (storageBytes <= 4 && storageBytes !== 3) io = small(t, storageBytes, 0, 0);
  else if (storageBytes === 8 && t.shift >= 32) io = small(t, 8, t.endianness === 'le' ? 4 : 0, 32);
  else if (storageBytes === 8 && t.shift + t.realBits <= 32) io = small(t, 8, t.endianness === 'le' ? 0 : 4, 0);
  else if (storageBytes === 8) io = split64(t);
  else if (spanOf(t).bytes <= 6) io = spanNumber(t);
  else io = spanBigInt(t, false) as NumberIo;
  return { ...common, wide: false, min, max, decode: io.decode, encode: io.encode } as NumberCodec;
}

interface NumberIo {
  decode(view: DataView, byteOffset: number, index?: number): number;
  encode(view: DataView, byteOffset: number, value: SampleValue, index?: number): void;
}
interface BigIntIo {
  decode(view: DataView, byteOffset: number, index?: number): bigint;
  encode(view: DataView, byteOffset: number, value: SampleValue, index?: number): void;
}

/** A value as a 32-bit pattern source: numbers go through ToInt32 in `&`, bigints are cut here. */
function int32Of(value: SampleValue): number {
  return typeof value === 'number' ? value : Number(BigInt.asIntN(32, value));
}

function bigOf(value: SampleValue): bigint {
  if (typeof value === 'bigint') return value;
  return Number.isFinite(value) ? BigInt(Math.trunc(value)) : 0n;
}

/**
 * The field lies inside one 1-, 2- or 4-byte word: 32-bit integer arithmetic. For 8-byte storage
 * the word is one half (`wordAt` bytes in, holding bits `bitBase`..`bitBase+31`); the other half
 * is written as zero.
 */
function small(t: ScanType, storageBytes: number, wordAt: number, bitBase: number): NumberIo {
  const le = t.endianness === 'le';
  const size = storageBytes === 8 ? 4 : storageBytes;
  const shift = t.shift - bitBase;
  const bits = t.realBits;
  const up = 32 - bits; // sign extension: move the field's top bit to bit 31 and back
  const mask = bits === 32 ? -1 : (1 << bits) - 1;
  const stride = storageBytes;
  const otherAt = storageBytes === 8 ? 4 - wordAt : -1;

  // Full-width, unshifted values: the DataView accessor is the whole job.
  if (shift === 0 && bits === size * 8 && otherAt < 0) {
    if (size === 1) {
      return t.signed
        ? { decode: (v, o, i = 0) => v.getInt8(o + i), encode: (v, o, x, i = 0) => v.setInt8(o + i, int32Of(x)) }
        : { decode: (v, o, i = 0) => v.getUint8(o + i), encode: (v, o, x, i = 0) => v.setUint8(o + i, int32Of(x)) };
    }
    if (size === 2) {
      return t.signed
        ? { decode: (v, o, i = 0) => v.getInt16(o + 2 * i, le), encode: (v, o, x, i = 0) => v.setInt16(o + 2 * i, int32Of(x), le) }
        : { decode: (v, o, i = 0) => v.getUint16(o + 2 * i, le), encode: (v, o, x, i = 0) => v.setUint16(o + 2 * i, int32Of(x), le) };
    }
    return t.signed
      ? { decode: (v, o, i = 0) => v.getInt32(o + 4 * i, le), encode: (v, o, x, i = 0) => v.setInt32(o + 4 * i, int32Of(x), le) }
      : { decode: (v, o, i = 0) => v.getUint32(o + 4 * i, le), encode: (v, o, x, i = 0) => v.setUint32(o + 4 * i, int32Of(x), le) };
  }

  const read = size === 1 ? (v: DataView, o: number) => v.getUint8(o)
    : size === 2 ? (v: DataView, o: number) => v.getUint16(o, le)
    : (v: DataView, o: number) => v.getUint32(o, le);
  const write = size === 1 ? (v: DataView, o: number, x: number) => v.setUint8(o, x)
    : size === 2 ? (v: DataView, o: number, x: number) => v.setUint16(o, x, le)
    : (v: DataView, o: number, x: number) => v.setUint32(o, x, le);

  const decode = t.signed
    ? (v: DataView, o: number, i = 0): number => ((read(v, o + i * stride + wordAt) >>> shift) << up) >> up
    : bits === 32
      ? (v: DataView, o: number, i = 0): number => read(v, o + i * stride + wordAt) >>> shift
      : (v: DataView, o: number, i = 0): number => (read(v, o + i * stride + wordAt) >>> shift) & mask;
  const encode = otherAt < 0
    ? (v: DataView, o: number, x: SampleValue, i = 0): void => {
      write(v, o + i * stride, ((int32Of(x) & mask) << shift) >>> 0);
    }
    : (v: DataView, o: number, x: SampleValue, i = 0): void => {
      const at = o + i * stride;
      v.setUint32(at + otherAt, 0);
      v.setUint32(at + wordAt, ((int32Of(x) & mask) << shift) >>> 0, le);
    };
  return { decode, encode };
}

/** 8-byte storage, a field of up to 53 bits across both 32-bit halves: double arithmetic. */
function split64(t: ScanType): NumberIo {
  const le = t.endianness === 'le';
  const loAt = le ? 0 : 4;
  const hiAt = le ? 4 : 0;
  const shift = t.shift; // < 32, since the field reaches into the high half
  const lowBits = 32 - shift; // field bits held by the low half
  const highBits = t.shift + t.realBits - 32; // 1..32
  const highMask = highBits === 32 ? -1 : (1 << highBits) - 1;
  const lowScale = 2 ** lowBits;
  const shiftScale = 2 ** shift;
  const modulus = 2 ** t.realBits;
  const signBit = 2 ** (t.realBits - 1);
  const signed = t.signed;
  return {
    decode(v, o, i = 0) {
      const at = o + 8 * i;
      let x = (v.getUint32(at + loAt, le) >>> shift) + ((v.getUint32(at + hiAt, le) & highMask) >>> 0) * lowScale;
      if (signed && x >= signBit) x -= modulus;
      return x;
    },
    encode(v, o, value, i = 0) {
      const at = o + 8 * i;
      let x: number;
      if (typeof value === 'bigint') x = Number(BigInt.asUintN(t.realBits, value));
      else {
        x = Number.isFinite(value) ? Math.trunc(value) % modulus : 0;
        if (x < 0) x += modulus;
      }
      const low = x % lowScale;
      v.setUint32(at + loAt, low * shiftScale, le);
      v.setUint32(at + hiAt, (x - low) / lowScale, le);
    },
  };
}

function fullWidth64(t: ScanType): BigIntIo {
  const le = t.endianness === 'le';
  return t.signed
    ? {
      decode: (v, o, i = 0) => v.getBigInt64(o + 8 * i, le),
      encode: (v, o, x, i = 0) => v.setBigInt64(o + 8 * i, BigInt.asIntN(64, bigOf(x)), le),
    }
    : {
      decode: (v, o, i = 0) => v.getBigUint64(o + 8 * i, le),
      encode: (v, o, x, i = 0) => v.setBigUint64(o + 8 * i, BigInt.asUintN(64, bigOf(x)), le),
    };
}

/** 8-byte storage, 54..63-bit field: one BigInt access, then shift and mask. */
function shifted64(t: ScanType): BigIntIo {
  const le = t.endianness === 'le';
  const shift = BigInt(t.shift);
  const bits = t.realBits;
  return {
    decode(v, o, i = 0) {
      const x = BigInt.asUintN(bits, v.getBigUint64(o + 8 * i, le) >> shift);
      return t.signed ? BigInt.asIntN(bits, x) : x;
    },
    encode: (v, o, x, i = 0) => v.setBigUint64(o + 8 * i, BigInt.asUintN(bits, bigOf(x)) << shift, le),
  };
}

/** The bytes holding the field: `low` (by significance), `bytes` of them, field at `bit` in them. */
function spanOf(t: ScanType): { low: number; bytes: number; bit: number } {
  const bit = t.shift % 8;
  return { low: Math.floor(t.shift / 8), bytes: Math.ceil((bit + t.realBits) / 8), bit };
}

/**
 * Address of the byte of significance `j` (0 = least) of the storage word at `o`. The field's
 * bytes are visited most significant first when decoding.
 */
function byteAddress(le: boolean, storageBytes: number): (o: number, j: number) => number {
  return le ? (o, j) => o + j : (o, j) => o + storageBytes - 1 - j;
}

/** Field of up to 48 bits spread over up to 6 bytes: exact double arithmetic. */
function spanNumber(t: ScanType): NumberIo {
  const storageBytes = t.storageBits / 8;
  const { low, bytes, bit } = spanOf(t);
  const at = byteAddress(t.endianness === 'le', storageBytes);
  const div = 2 ** bit;
  const modulus = 2 ** t.realBits;
  const signBit = 2 ** (t.realBits - 1);
  const signed = t.signed;
  return {
    decode(v, o, i = 0) {
      const base = o + i * storageBytes;
      let acc = 0;
      for (let j = low + bytes - 1; j >= low; j--) acc = acc * 256 + v.getUint8(at(base, j));
      let x = Math.floor(acc / div) % modulus;
      if (signed && x >= signBit) x -= modulus;
      return x;
    },
    encode(v, o, value, i = 0) {
      const base = o + i * storageBytes;
      let x: number;
      if (typeof value === 'bigint') x = Number(BigInt.asUintN(t.realBits, value));
      else {
        x = Number.isFinite(value) ? Math.trunc(value) % modulus : 0;
        if (x < 0) x += modulus;
      }
      for (let j = 0; j < storageBytes; j++) v.setUint8(base + j, 0);
      let word = x * div;
      for (let j = low; j < low + bytes; j++) {
        const b = word % 256;
        v.setUint8(at(base, j), b);
        word = (word - b) / 256;
      }
    },
  };
}

/** Any field: BigInt arithmetic over the bytes that hold it. */
function spanBigInt(t: ScanType, wide: boolean): BigIntIo | NumberIo {
  const storageBytes = t.storageBits / 8;
  const { low, bytes, bit } = spanOf(t);
  const at = byteAddress(t.endianness === 'le', storageBytes);
  const bitShift = BigInt(bit);
  const realBits = t.realBits;
  const signed = t.signed;
  const decodeBig = (v: DataView, o: number, i = 0): bigint => {
    const base = o + i * storageBytes;
    let acc = 0n;
    for (let j = low + bytes - 1; j >= low; j--) acc = (acc << 8n) | BigInt(v.getUint8(at(base, j)));
    const x = BigInt.asUintN(realBits, acc >> bitShift);
    return signed ? BigInt.asIntN(realBits, x) : x;
  };
  const encode = (v: DataView, o: number, value: SampleValue, i = 0): void => {
    const base = o + i * storageBytes;
    for (let j = 0; j < storageBytes; j++) v.setUint8(base + j, 0);
    let word = BigInt.asUintN(realBits, bigOf(value)) << bitShift;
    for (let j = low; j < low + bytes; j++) {
      v.setUint8(at(base, j), Number(word & 0xffn));
      word >>= 8n;
    }
  };
  if (wide) return { decode: decodeBig, encode };
  return { decode: (v, o, i = 0) => Number(decodeBig(v, o, i)), encode };
}
