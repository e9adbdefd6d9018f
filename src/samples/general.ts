// The general demux/mux path: any scan type, any alignment, byte by byte through the channel's
// FieldPlan. The fast paths (fast.ts, simd.ts) must agree with it exactly; tests check that.
//
// Values written are clamped (saturated) to the channel's range, never wrapped: a DAC fed an
// out-of-range value then outputs full scale instead of jumping to the opposite rail.
// Non-integers are truncated toward zero (as typed-array stores do) and NaN becomes 0.
import type { LayoutChannel } from './layout.js';
import type { SampleArray, SampleInput } from './kinds.js';

/** Decodes channel `ch` of scans [first, end) into `out[n × repeat + r]`. */
export function demuxGeneral(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, out: SampleArray,
): void {
  const { storageBytes: size, repeat, field } = ch;
  const { fieldBytes, bit, realBits, signed } = field;
  const count = fieldBytes.length;
  const values = out as { [i: number]: number | bigint };
  const at = (n: number, r: number): number => n * scanBytes + ch.offset + r * size;

  if (field.mode === 'int') {
    const up = 32 - realBits;
    const mask = realBits >= 32 ? -1 : 2 ** realBits - 1;
    for (let n = first; n < end; n++) {
      for (let r = 0; r < repeat; r++) {
        const base = at(n, r);
        let acc = 0;
        for (let k = 0; k < count; k++) acc = (acc << 8) | block[base + fieldBytes[k]!]!;
        const x = acc >>> bit;
        values[n * repeat + r] = signed ? (x << up) >> up : realBits === 32 ? x >>> 0 : x & mask;
      }
    }
    return;
  }
  if (field.mode === 'double') {
    // The lowest field byte contributes 8 - bit bits, the top byte what is left of realbits.
    const topMask = 2 ** (bit + realBits - 8 * (count - 1)) - 1;
    const lowScale = 2 ** (8 - bit);
    const modulus = 2 ** realBits;
    const signBit = modulus / 2;
    for (let n = first; n < end; n++) {
      for (let r = 0; r < repeat; r++) {
        const base = at(n, r);
        let acc = block[base + fieldBytes[0]!]! & topMask;
        for (let k = 1; k < count - 1; k++) acc = acc * 256 + block[base + fieldBytes[k]!]!;
        let x = acc * lowScale + (block[base + fieldBytes[count - 1]!]! >>> bit);
        if (signed && x >= signBit) x -= modulus;
        values[n * repeat + r] = x;
      }
    }
    return;
  }
  const bits = BigInt(bit);
  for (let n = first; n < end; n++) {
    for (let r = 0; r < repeat; r++) {
      const base = at(n, r);
      let acc = 0n;
      for (let k = 0; k < count; k++) acc = (acc << 8n) | BigInt(block[base + fieldBytes[k]!]!);
      const x = BigInt.asUintN(realBits, acc >> bits);
      values[n * repeat + r] = signed ? BigInt.asIntN(realBits, x) : x;
    }
  }
}

/**
 * Encodes `values[n × repeat + r]` into channel `ch` of scans [first, end): the value, clamped,
 * goes into the field and every other bit of the channel's storage is written as 0. Bytes of
 * other channels and padding are not touched.
 */
export function muxGeneral(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, values: SampleInput,
): void {
  const { storageBytes: size, repeat, field } = ch;
  const { fieldBytes, bit, realBits } = field;
  const count = fieldBytes.length;
  const source = values as ArrayLike<unknown>;
  const at = (n: number, r: number): number => n * scanBytes + ch.offset + r * size;

  if (field.mode !== 'bigint') {
    const min = ch.min as number;
    const max = ch.max as number;
    const modulus = 2 ** realBits;
    const scale = 2 ** bit;
    for (let n = first; n < end; n++) {
      for (let r = 0; r < repeat; r++) {
        const i = n * repeat + r;
        const x = clampToNumber(source[i], min, max, ch, i);
        // Two's complement field (x < 0 only when signed), moved to its bit offset: exact in
        // doubles, since the field has at most 53 bits and scaling by 2^bit only moves them.
        let word = (x < 0 ? x + modulus : x) * scale;
        const base = at(n, r);
        for (let j = 0; j < size; j++) block[base + j] = 0;
        for (let k = count - 1; k >= 0; k--) {
          const b = word % 256;
          block[base + fieldBytes[k]!] = b;
          word = (word - b) / 256;
        }
      }
    }
    return;
  }
  const min = ch.min as bigint;
  const max = ch.max as bigint;
  const bits = BigInt(bit);
  for (let n = first; n < end; n++) {
    for (let r = 0; r < repeat; r++) {
      const i = n * repeat + r;
      let word = BigInt.asUintN(realBits, clampToBigInt(source[i], min, max, ch, i)) << bits;
      const base = at(n, r);
      for (let j = 0; j < size; j++) block[base + j] = 0;
      for (let k = count - 1; k >= 0; k--) {
        block[base + fieldBytes[k]!] = Number(word & 0xffn);
        word >>= 8n;
      }
    }
  }
}

/** `value` truncated and saturated to [min, max] (NaN → 0, which every range holds). */
export function clampToNumber(value: unknown, min: number, max: number, ch: LayoutChannel, i: number): number {
  if (typeof value === 'number') {
    if (value !== value) return 0;
    const v = Math.trunc(value);
    return v < min ? min : v > max ? max : v;
  }
  if (typeof value === 'bigint') return value < BigInt(min) ? min : value > BigInt(max) ? max : Number(value);
  throw badValue(value, ch, i);
}

/** `value` as a bigint, truncated and saturated to [min, max] (NaN → 0, ±Infinity → the ends). */
export function clampToBigInt(value: unknown, min: bigint, max: bigint, ch: LayoutChannel, i: number): bigint {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number') {
    if (value !== value) return 0n;
    if (value === Infinity) return max;
    if (value === -Infinity) return min;
    v = BigInt(Math.trunc(value));
  } else throw badValue(value, ch, i);
  return v < min ? min : v > max ? max : v;
}

function badValue(value: unknown, ch: LayoutChannel, i: number): TypeError {
  const what = value === undefined ? 'undefined (missing)' : typeof value;
  return new TypeError(`channel "${ch.id}": value ${i} is ${what}, expected a number or bigint`);
}
