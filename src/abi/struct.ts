/**
 * A small declarative codec for the fixed-layout ioctl argument structs of
 * kernel-abi.md §1–§5 and usbfs (usb.md §A2). Every struct there is built from
 * naturally aligned `__u8`/`__u16`/`__u32`/`__s32`/`__u64`/`__s64` fields and
 * `char[N]` arrays (or is packed), so explicit offsets are enough; there is no
 * implicit padding logic. Values are
 * encoded in host byte order (`os.endianness()`), because these bytes are
 * handed straight to ioctl() on this machine. 64-bit fields decode as bigint.
 */

import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

export type FieldKind = 'u8' | 'u16' | 'u32' | 's32' | 'u64' | 's64' | 'chars';

/** The integer kinds that decode as a number. */
type NumberKind = 'u8' | 'u16' | 'u32' | 's32';

/** One field: where it lives, how many bytes it takes, and how to read it. */
export interface Field<K extends FieldKind = FieldKind> {
  readonly kind: K;
  readonly offset: number;
  readonly size: number;
}

export function u8(offset: number): Field<'u8'> {
  return { kind: 'u8', offset, size: 1 };
}
export function u16(offset: number): Field<'u16'> {
  return { kind: 'u16', offset, size: 2 };
}
export function u32(offset: number): Field<'u32'> {
  return { kind: 'u32', offset, size: 4 };
}
export function s32(offset: number): Field<'s32'> {
  return { kind: 's32', offset, size: 4 };
}
export function u64(offset: number): Field<'u64'> {
  return { kind: 'u64', offset, size: 8 };
}
export function s64(offset: number): Field<'s64'> {
  return { kind: 's64', offset, size: 8 };
}
/** `char name[length]`, NUL-terminated: at most `length - 1` UTF-8 bytes of text. */
export function chars(offset: number, length: number): Field<'chars'> {
  return { kind: 'chars', offset, size: length };
}

export type Fields = { readonly [name: string]: Field };

/** The decoded type of one field. */
export type FieldValue<F extends Field> =
  F['kind'] extends NumberKind ? number : F['kind'] extends 'u64' | 's64' ? bigint : string;

/** What `encode` accepts for one field: 64-bit fields also take safe-integer numbers. */
export type FieldInput<F extends Field> =
  F['kind'] extends NumberKind ? number : F['kind'] extends 'u64' | 's64' ? bigint | number : string;

export type StructValue<S extends Fields> = { -readonly [K in keyof S]: FieldValue<S[K]> };
/** Missing fields encode as zero / empty string, like a C designated initializer. */
export type StructInput<S extends Fields> = { [K in keyof S]?: FieldInput<S[K]> };

export interface Struct<S extends Fields> {
  readonly name: string;
  readonly size: number;
  readonly fields: S;
  /** Writes the whole struct (zeroing padding and missing fields) at the start of `into`, or a new array. */
  encode(values: StructInput<S>, into?: Uint8Array): Uint8Array;
  /** Reads the struct from the start of `bytes`. */
  decode(bytes: Uint8Array): StructValue<S>;
  /**
   * One integer field as a number, nothing allocated (for per-block paths): exact for 32-bit
   * fields and for 64-bit values below 2^53; larger 64-bit values come out rounded, which still
   * tells them apart from any range a caller checks.
   */
  number(bytes: Uint8Array, field: IntegerField<S>): number;
  /** Writes one integer field (a safe integer in its range), leaving the other bytes alone. */
  putNumber(bytes: Uint8Array, field: IntegerField<S>, value: number): void;
}

/** The names of a struct's integer fields. */
export type IntegerField<S extends Fields> = { [K in keyof S]: S[K]['kind'] extends 'chars' ? never : K }[keyof S] & string;

/** The decoded value type of a struct definition: `DecodedStruct<typeof iioDmabufStruct>`. */
export type DecodedStruct<T> = T extends Struct<infer S> ? StructValue<S> : never;
/** The encode input type of a struct definition. */
export type EncodableStruct<T> = T extends Struct<infer S> ? StructInput<S> : never;

const INT_RANGES = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffff_ffff],
  s32: [-(2 ** 31), 2 ** 31 - 1],
  u64: [0n, 2n ** 64n - 1n],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

// Integers are read and written byte by byte in host order: no DataView per call (ioctl
// arguments are encoded and decoded on every block, and a DataView costs more than the bytes).
const u32At = LITTLE_ENDIAN
  ? (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
  : (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function putU32(b: Uint8Array, o: number, v: number): void {
  if (LITTLE_ENDIAN) {
    b[o] = v;
    b[o + 1] = v >>> 8;
    b[o + 2] = v >>> 16;
    b[o + 3] = v >>> 24;
  } else {
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
  }
}

const u16At = LITTLE_ENDIAN
  ? (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8)
  : (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

function putU16(b: Uint8Array, o: number, v: number): void {
  b[o + (LITTLE_ENDIAN ? 0 : 1)] = v;
  b[o + (LITTLE_ENDIAN ? 1 : 0)] = v >>> 8;
}

/** The low and high 32-bit words of a 64-bit field, in host order. */
const [LOW, HIGH] = LITTLE_ENDIAN ? [0, 4] : [4, 0];

function put64(b: Uint8Array, o: number, v: bigint | number): void {
  if (typeof v === 'number' && v >= 0) {
    // safe integers split exactly into two words without a bigint
    putU32(b, o + LOW, v % 2 ** 32);
    putU32(b, o + HIGH, Math.floor(v / 2 ** 32));
    return;
  }
  const u = BigInt.asUintN(64, BigInt(v));
  putU32(b, o + LOW, Number(u & 0xffff_ffffn));
  putU32(b, o + HIGH, Number(u >> 32n));
}

function get64(b: Uint8Array, o: number, signed: boolean): bigint {
  const lo = u32At(b, o + LOW);
  const hi = u32At(b, o + HIGH);
  if (hi === 0) return BigInt(lo);
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, u) : u;
}

export function defineStruct<const S extends Fields>(name: string, size: number, fields: S): Struct<S> {
  if (!Number.isInteger(size) || size <= 0) throw new RangeError(`struct ${name}: bad size ${size}`);
  const entries = Object.entries(fields);
  const taken = new Uint8Array(size);
  for (const [field, f] of entries) {
    if (!Number.isInteger(f.offset) || !Number.isInteger(f.size) || f.size <= 0 || f.offset < 0 || f.offset + f.size > size) {
      throw new RangeError(`struct ${name}: field ${field} (offset ${f.offset}, size ${f.size}) does not fit in ${size} bytes`);
    }
    if (taken.subarray(f.offset, f.offset + f.size).some((b) => b !== 0)) {
      throw new RangeError(`struct ${name}: field ${field} overlaps another field`);
    }
    taken.fill(1, f.offset, f.offset + f.size);
  }

  function fail(field: string, why: string): never {
    throw new RangeError(`struct ${name}: field ${field}: ${why}`);
  }

  /** The value as it will be stored (UTF-8 bytes for chars), or a thrown TypeError/RangeError. */
  function checked(field: string, f: Field, value: unknown): number | bigint | Uint8Array {
    if (f.kind === 'chars') {
      if (typeof value !== 'string') throw new TypeError(`struct ${name}: field ${field} must be a string`);
      const text = utf8Encoder.encode(value);
      if (text.includes(0)) fail(field, `string ${JSON.stringify(value)} contains a NUL byte`);
      if (text.length > f.size - 1) {
        fail(field, `string of ${text.length} bytes does not fit char[${f.size}] (at most ${f.size - 1} bytes plus NUL)`);
      }
      return text;
    }
    const wide = f.kind === 'u64' || f.kind === 's64';
    if (typeof value === 'bigint') {
      if (!wide) throw new TypeError(`struct ${name}: field ${field} must be a number`);
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) fail(field, `value ${value} is not a safe integer`);
    } else {
      throw new TypeError(`struct ${name}: field ${field} must be a number${wide ? ' or bigint' : ''}`);
    }
    const [lo, hi] = INT_RANGES[f.kind];
    if (value < lo || value > hi) fail(field, `value ${value} is out of range for ${f.kind} (${lo}..${hi})`);
    return value;
  }

  function store(bytes: Uint8Array, f: Field, value: number | bigint | Uint8Array): void {
    if (value instanceof Uint8Array) bytes.set(value, f.offset);
    else if (f.kind === 'u8') bytes[f.offset] = value as number;
    else if (f.kind === 'u16') putU16(bytes, f.offset, value as number);
    else if (f.kind === 'u32' || f.kind === 's32') putU32(bytes, f.offset, value as number);
    else put64(bytes, f.offset, value);
  }

  function decodeField(bytes: Uint8Array, f: Field): number | bigint | string {
    switch (f.kind) {
      case 'u8': return bytes[f.offset]!;
      case 'u16': return u16At(bytes, f.offset);
      case 'u32': return u32At(bytes, f.offset);
      case 's32': return u32At(bytes, f.offset) | 0;
      case 'u64': return get64(bytes, f.offset, false);
      case 's64': return get64(bytes, f.offset, true);
      case 'chars': {
        const raw = bytes.subarray(f.offset, f.offset + f.size);
        const nul = raw.indexOf(0);
        // The kernel may fill the whole array without a terminator; take all of it then.
        return utf8Decoder.decode(nul < 0 ? raw : raw.subarray(0, nul));
      }
    }
  }

  const struct: Struct<S> = {
    name,
    size,
    fields: Object.freeze({ ...fields }),
    encode(values: StructInput<S>, into?: Uint8Array): Uint8Array {
      if (into !== undefined && into.length < size) {
        throw new RangeError(`struct ${name}: need ${size} bytes to encode into, got ${into.length}`);
      }
      const given: Readonly<Record<string, unknown>> = values;
      for (const key of Object.keys(given)) {
        if (!Object.hasOwn(fields, key)) throw new TypeError(`struct ${name} has no field ${key}`);
      }
      // Every value is checked before the first byte is written: a RangeError never leaves `into` half written.
      const stored: Array<[Field, number | bigint | Uint8Array]> = [];
      for (const [field, f] of entries) {
        const value = given[field];
        if (value !== undefined) stored.push([f, checked(field, f, value)]);
      }
      const bytes = into ?? new Uint8Array(size);
      bytes.fill(0, 0, size);
      for (const [f, value] of stored) store(bytes, f, value);
      return bytes;
    },
    decode(bytes: Uint8Array): StructValue<S> {
      if (bytes.length < size) throw new RangeError(`struct ${name}: need ${size} bytes to decode, got ${bytes.length}`);
      const out: Record<string, number | bigint | string> = {};
      for (const [field, f] of entries) out[field] = decodeField(bytes, f);
      return out as StructValue<S>;
    },
    number(bytes: Uint8Array, field: IntegerField<S>): number {
      const f = integerField(field);
      if (bytes.length < size) throw new RangeError(`struct ${name}: need ${size} bytes to read ${field}, got ${bytes.length}`);
      if (f.kind === 'u8') return bytes[f.offset]!;
      if (f.kind === 'u16') return u16At(bytes, f.offset);
      if (f.kind === 'u32') return u32At(bytes, f.offset);
      if (f.kind === 's32') return u32At(bytes, f.offset) | 0;
      const hi = u32At(bytes, f.offset + HIGH);
      return (f.kind === 's64' ? hi | 0 : hi) * 2 ** 32 + u32At(bytes, f.offset + LOW);
    },
    putNumber(bytes: Uint8Array, field: IntegerField<S>, value: number): void {
      const f = integerField(field);
      if (bytes.length < size) throw new RangeError(`struct ${name}: need ${size} bytes to write ${field}, got ${bytes.length}`);
      store(bytes, f, checked(field, f, value));
    },
  };

  function integerField(field: string): Field {
    const f = Object.hasOwn(fields, field) ? fields[field] : undefined;
    if (f === undefined || f.kind === 'chars') throw new TypeError(`struct ${name} has no integer field ${field}`);
    return f;
  }
  return Object.freeze(struct);
}
