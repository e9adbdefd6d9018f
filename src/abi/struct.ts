/**
 * A small declarative codec for the fixed-layout ioctl argument structs of
 * kernel-abi.md §1–§5. Every struct there is built from naturally aligned
 * `__u32`/`__s32`/`__u64`/`__s64` fields and `char[N]` arrays (or is packed), so
 * explicit offsets are enough; there is no implicit padding logic. Values are
 * encoded in host byte order (`os.endianness()`), because these bytes are
 * handed straight to ioctl() on this machine. 64-bit fields decode as bigint.
 */

import { endianness } from 'node:os';

const LITTLE_ENDIAN = endianness() === 'LE';

export type FieldKind = 'u32' | 's32' | 'u64' | 's64' | 'chars';

/** One field: where it lives, how many bytes it takes, and how to read it. */
export interface Field<K extends FieldKind = FieldKind> {
  readonly kind: K;
  readonly offset: number;
  readonly size: number;
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
  F['kind'] extends 'u32' | 's32' ? number : F['kind'] extends 'u64' | 's64' ? bigint : string;

/** What `encode` accepts for one field: 64-bit fields also take safe-integer numbers. */
export type FieldInput<F extends Field> =
  F['kind'] extends 'u32' | 's32' ? number : F['kind'] extends 'u64' | 's64' ? bigint | number : string;

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
}

/** The decoded value type of a struct definition: `DecodedStruct<typeof iioDmabufStruct>`. */
export type DecodedStruct<T> = T extends Struct<infer S> ? StructValue<S> : never;
/** The encode input type of a struct definition. */
export type EncodableStruct<T> = T extends Struct<infer S> ? StructInput<S> : never;

const INT_RANGES = {
  u32: [0n, 0xffff_ffffn],
  s32: [-(2n ** 31n), 2n ** 31n - 1n],
  u64: [0n, 2n ** 64n - 1n],
  s64: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

  function encodeField(view: DataView, bytes: Uint8Array, field: string, f: Field, value: unknown): void {
    if (f.kind === 'chars') {
      if (typeof value !== 'string') throw new TypeError(`struct ${name}: field ${field} must be a string`);
      const text = utf8Encoder.encode(value);
      if (text.includes(0)) fail(field, `string ${JSON.stringify(value)} contains a NUL byte`);
      if (text.length > f.size - 1) {
        fail(field, `string of ${text.length} bytes does not fit char[${f.size}] (at most ${f.size - 1} bytes plus NUL)`);
      }
      bytes.set(text, f.offset);
      return;
    }
    let big: bigint;
    if (typeof value === 'bigint') {
      if (f.kind === 'u32' || f.kind === 's32') throw new TypeError(`struct ${name}: field ${field} must be a number`);
      big = value;
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) fail(field, `value ${value} is not a safe integer`);
      big = BigInt(value);
    } else {
      throw new TypeError(`struct ${name}: field ${field} must be a number${f.kind.endsWith('64') ? ' or bigint' : ''}`);
    }
    const [lo, hi] = INT_RANGES[f.kind];
    if (big < lo || big > hi) fail(field, `value ${value} is out of range for ${f.kind} (${lo}..${hi})`);
    switch (f.kind) {
      case 'u32': view.setUint32(f.offset, Number(big), LITTLE_ENDIAN); break;
      case 's32': view.setInt32(f.offset, Number(big), LITTLE_ENDIAN); break;
      case 'u64': view.setBigUint64(f.offset, big, LITTLE_ENDIAN); break;
      case 's64': view.setBigInt64(f.offset, big, LITTLE_ENDIAN); break;
    }
  }

  function decodeField(view: DataView, bytes: Uint8Array, f: Field): number | bigint | string {
    switch (f.kind) {
      case 'u32': return view.getUint32(f.offset, LITTLE_ENDIAN);
      case 's32': return view.getInt32(f.offset, LITTLE_ENDIAN);
      case 'u64': return view.getBigUint64(f.offset, LITTLE_ENDIAN);
      case 's64': return view.getBigInt64(f.offset, LITTLE_ENDIAN);
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
      // Build in a scratch array so a RangeError never leaves `into` half written.
      const bytes = new Uint8Array(size);
      const view = viewOf(bytes);
      for (const [field, f] of entries) {
        const value = given[field];
        if (value !== undefined) encodeField(view, bytes, field, f, value);
      }
      if (into === undefined) return bytes;
      into.set(bytes);
      return into;
    },
    decode(bytes: Uint8Array): StructValue<S> {
      if (bytes.length < size) throw new RangeError(`struct ${name}: need ${size} bytes to decode, got ${bytes.length}`);
      const view = viewOf(bytes);
      const out: Record<string, number | bigint | string> = {};
      for (const [field, f] of entries) out[field] = decodeField(view, bytes, f);
      return out as StructValue<S>;
    },
  };
  return Object.freeze(struct);
}
