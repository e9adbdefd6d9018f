// Per-channel fast paths over typed-array views of the block. They apply when the channel's
// storage is a JS word (1, 2, 4 or 8 bytes) and the block, the element offset and the scan size
// keep that word aligned; each returns false when it does not apply, and the caller falls back
// to the general path (general.ts), whose results they must reproduce exactly.
//   natural  1/2/4 bytes, host order, no shift, realbits == storagebits: a strided copy.
//   word     1/2/4 bytes otherwise: byte swap if foreign, then shift, mask, sign-extend in int32.
//   word64   8 bytes as two 32-bit halves: up to 53 bits as doubles, 54..64 bits written as
//            bit patterns through an Int32Array alias of the BigInt64Array (no BigInt per value).
import { HOST_LITTLE_ENDIAN, arrayTraits, valuesWithin, type SampleArray, type SampleInput } from './kinds.js';
import type { LayoutChannel } from './layout.js';

type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
type IntArrayConstructor =
  | Int8ArrayConstructor | Uint8ArrayConstructor | Int16ArrayConstructor | Uint16ArrayConstructor
  | Int32ArrayConstructor | Uint32ArrayConstructor | BigInt64ArrayConstructor | BigUint64ArrayConstructor;
type NumberArray = { [i: number]: number; readonly length: number };

const views = new WeakMap<ArrayBufferView, Map<IntArrayConstructor, IntArray | BigInt64Array | BigUint64Array>>();

/**
 * A typed array of `Ctor` over all of `data`'s bytes (cached per object, so reusing a block
 * allocates nothing), or null when `data` does not start on an element boundary.
 */
export function wordView<C extends IntArrayConstructor>(data: ArrayBufferView, Ctor: C): InstanceType<C> | null {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % size !== 0) return null;
  let cached = views.get(data);
  if (cached === undefined) views.set(data, cached = new Map());
  let view = cached.get(Ctor);
  if (view === undefined) {
    view = new Ctor(data.buffer as ArrayBuffer, data.byteOffset, Math.floor(data.byteLength / size));
    cached.set(Ctor, view);
  }
  return view as InstanceType<C>;
}

// Indexed by storage bytes (1, 2 or 4).
const SIGNED = [null, Int8Array, Int16Array, null, Int32Array] as const;
const UNSIGNED = [null, Uint8Array, Uint16Array, null, Uint32Array] as const;

/** The element offset and scan size are whole words of `size` bytes. */
function aligned(ch: LayoutChannel, scanBytes: number, size: number): boolean {
  return ch.offset % size === 0 && scanBytes % size === 0;
}

const swap32 = (w: number): number =>
  (w << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);

/** Fast demux of channel `ch`, scans [first, end), into `out`; false when no fast path applies. */
export function demuxFast(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, out: SampleArray,
): boolean {
  const size = ch.storageBytes;
  if (size === 8) return demuxWord64(scanBytes, ch, block, first, end, out);
  if (size !== 1 && size !== 2 && size !== 4) return false;
  if (!aligned(ch, scanBytes, size) || Array.isArray(out) || arrayTraits(out)!.bigint) return false;
  const src = wordView(block, (ch.natural && ch.type.signed ? SIGNED : UNSIGNED)[size]!);
  if (src === null) return false;
  const dst = out as NumberArray;
  const { repeat } = ch;
  const { realBits, shift, signed, littleEndian } = ch.field;
  const stride = scanBytes / size;
  const swap = size === 1 || littleEndian === HOST_LITTLE_ENDIAN ? 0 : size;
  const up = 32 - realBits; // sign extension: the field's top bit to bit 31, then back
  const mask = realBits >= 32 ? -1 : 2 ** realBits - 1;
  // Repeat slot r is a strided sequence of its own: source stride one scan, destination stride repeat.
  for (let r = 0; r < repeat; r++) {
    const k = first * stride + ch.offset / size + r;
    const j = first * repeat + r;
    const count = end - first;
    if (ch.natural) copy(src, k, stride, dst, j, repeat, count);
    else if (swap === 0) (signed ? extendSigned : extendUnsigned)(src, k, stride, dst, j, repeat, count, shift, up, mask);
    else if (swap === 2) (signed ? extendSigned16 : extendUnsigned16)(src, k, stride, dst, j, repeat, count, shift, up, mask);
    else (signed ? extendSigned32 : extendUnsigned32)(src, k, stride, dst, j, repeat, count, shift, up, mask);
  }
  return true;
}

// One loop per operation: V8 does not hoist loop-invariant branches out of loops, and a branch
// per value costs as much as the load and store.
type Src = ArrayLike<number>;

function copy(src: Src, k: number, stride: number, dst: NumberArray, j: number, step: number, count: number): void {
  for (let i = 0; i < count; i++, k += stride, j += step) dst[j] = src[k]!;
}

type Extend = (src: Src, k: number, stride: number, dst: NumberArray, j: number, step: number, count: number,
  shift: number, up: number, mask: number) => void;

const extendSigned: Extend = (src, k, stride, dst, j, step, count, shift, up) => {
  const left = up - shift;
  for (let i = 0; i < count; i++, k += stride, j += step) dst[j] = (src[k]! << left) >> up;
};
const extendUnsigned: Extend = (src, k, stride, dst, j, step, count, shift, _up, mask) => {
  for (let i = 0; i < count; i++, k += stride, j += step) dst[j] = ((src[k]! >>> shift) & mask) >>> 0;
};
const extendSigned16: Extend = (src, k, stride, dst, j, step, count, shift, up) => {
  const left = up - shift;
  for (let i = 0; i < count; i++, k += stride, j += step) {
    const w = src[k]!;
    dst[j] = ((((w & 0xff) << 8) | (w >>> 8)) << left) >> up;
  }
};
const extendUnsigned16: Extend = (src, k, stride, dst, j, step, count, shift, _up, mask) => {
  for (let i = 0; i < count; i++, k += stride, j += step) {
    const w = src[k]!;
    dst[j] = ((((w & 0xff) << 8) | (w >>> 8)) >>> shift) & mask;
  }
};
const extendSigned32: Extend = (src, k, stride, dst, j, step, count, shift, up) => {
  const left = up - shift;
  for (let i = 0; i < count; i++, k += stride, j += step) dst[j] = (swap32(src[k]!) << left) >> up;
};
const extendUnsigned32: Extend = (src, k, stride, dst, j, step, count, shift, _up, mask) => {
  for (let i = 0; i < count; i++, k += stride, j += step) dst[j] = ((swap32(src[k]!) >>> shift) & mask) >>> 0;
};

/** Lower and upper 32-bit halves of each 8-byte word: where they sit and whether to swap. */
function halves(ch: LayoutChannel): { loAt: number; hiAt: number; swap: boolean } {
  const le = ch.field.littleEndian;
  return { loAt: le ? 0 : 1, hiAt: le ? 1 : 0, swap: le !== HOST_LITTLE_ENDIAN };
}

function demuxWord64(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, out: SampleArray,
): boolean {
  if (!aligned(ch, scanBytes, 4) || Array.isArray(out)) return false;
  const src = wordView(block, Int32Array);
  if (src === null) return false;
  const { loAt, hiAt, swap } = halves(ch);
  const { realBits, shift, signed } = ch.field;
  const repeat = ch.repeat;
  const stride = scanBytes / 4;
  const count = end - first;

  if (!arrayTraits(out)!.bigint) {
    const dst = out as NumberArray;
    for (let r = 0; r < repeat; r++) {
      const k = first * stride + ch.offset / 4 + 2 * r;
      const j = first * repeat + r;
      if (shift >= 32 || shift + realBits <= 32) {
        // The field lies in one half: the 32-bit word path on that half.
        const inHigh = shift >= 32;
        const s = inHigh ? shift - 32 : shift;
        const mask = realBits >= 32 ? -1 : 2 ** realBits - 1;
        const extend = swap ? (signed ? extendSigned32 : extendUnsigned32) : signed ? extendSigned : extendUnsigned;
        extend(src, k + (inHigh ? hiAt : loAt), stride, dst, j, repeat, count, s, 32 - realBits, mask);
      } else {
        spanning(src, k + loAt, k + hiAt, stride, dst, j, repeat, count, shift, realBits, signed, swap);
      }
    }
    return true;
  }

  // 54..64 bits, written as bit patterns into an Int32Array alias of the BigInt64Array.
  const dst = wordView(out as BigInt64Array, Int32Array);
  if (dst === null) return false;
  const dLo = HOST_LITTLE_ENDIAN ? 0 : 1;
  for (let r = 0; r < repeat; r++) {
    const k = first * stride + ch.offset / 4 + 2 * r;
    const j = 2 * (first * repeat + r);
    if (shift === 0 && realBits === 64 && !swap) copyPairs(src, k + loAt, k + hiAt, stride, dst, j + dLo, j + 1 - dLo, 2 * repeat, count);
    else pairs(src, k + loAt, k + hiAt, stride, dst, j + dLo, j + 1 - dLo, 2 * repeat, count, shift, realBits, signed, swap);
  }
  return true;
}

/** Up to 53 bits spanning both halves: assembled as a double. */
function spanning(src: Src, lo: number, hi: number, stride: number, dst: NumberArray, j: number, step: number,
  count: number, shift: number, realBits: number, signed: boolean, swap: boolean): void {
  const highBits = shift + realBits - 32;
  const highMask = highBits >= 32 ? -1 : 2 ** highBits - 1;
  const lowScale = 2 ** (32 - shift);
  const modulus = 2 ** realBits;
  const signBit = signed ? modulus / 2 : Infinity;
  for (let i = 0; i < count; i++, lo += stride, hi += stride, j += step) {
    const l = swap ? swap32(src[lo]!) : src[lo]!;
    const h = swap ? swap32(src[hi]!) : src[hi]!;
    const v = (l >>> shift) + ((h & highMask) >>> 0) * lowScale;
    dst[j] = v >= signBit ? v - modulus : v;
  }
}

/** Full-width 64-bit values in host order: two 32-bit copies each (the timestamp case). */
function copyPairs(src: Src, lo: number, hi: number, stride: number, dst: Int32Array, dLo: number, dHi: number,
  step: number, count: number): void {
  for (let i = 0; i < count; i++, lo += stride, hi += stride, dLo += step, dHi += step) {
    dst[dLo] = src[lo]!;
    dst[dHi] = src[hi]!;
  }
}

/** 54..64 bits: shift the 64-bit pair right (shift <= 10), then mask or sign-extend the top. */
function pairs(src: Src, lo: number, hi: number, stride: number, dst: Int32Array, dLo: number, dHi: number,
  step: number, count: number, shift: number, realBits: number, signed: boolean, swap: boolean): void {
  const topBits = realBits - 32;
  const topUp = 32 - topBits;
  const topMask = topBits >= 32 ? -1 : 2 ** topBits - 1;
  for (let i = 0; i < count; i++, lo += stride, hi += stride, dLo += step, dHi += step) {
    let l = swap ? swap32(src[lo]!) : src[lo]!;
    let h = swap ? swap32(src[hi]!) : src[hi]!;
    if (shift !== 0) {
      l = (l >>> shift) | (h << (32 - shift));
      h = h >>> shift;
    }
    if (topBits < 32) h = signed ? (h << topUp) >> topUp : h & topMask;
    dst[dLo] = l;
    dst[dHi] = h;
  }
}

/**
 * Fast mux of `values` into channel `ch`, scans [first, end): typed-array sources only (plain
 * arrays may hold anything and take the general path). False when no fast path applies.
 */
export function muxFast(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, values: SampleInput,
): boolean {
  const traits = arrayTraits(values);
  if (traits === null || traits.bytes === 0) return false;
  const size = ch.storageBytes;
  if (size === 8) return traits.bigint && ch.field.mode === 'bigint' && muxWord64(scanBytes, ch, block, first, end, values as BigInt64Array | BigUint64Array);
  if ((size !== 1 && size !== 2 && size !== 4) || traits.bigint || !aligned(ch, scanBytes, size)) return false;
  const dst = wordView(block, (ch.natural && ch.type.signed ? SIGNED : UNSIGNED)[size]!);
  if (dst === null) return false;
  const src = values as ArrayLike<number>;
  const { repeat } = ch;
  const { realBits, shift, littleEndian } = ch.field;
  const stride = scanBytes / size;
  const min = ch.min as number;
  const max = ch.max as number;
  const mask = realBits >= 32 ? -1 : 2 ** realBits - 1;
  const swap = size === 1 || littleEndian === HOST_LITTLE_ENDIAN ? 0 : size;
  const exact = traits.integer && valuesWithin(traits, ch);
  for (let r = 0; r < repeat; r++) {
    const k = first * stride + ch.offset / size + r;
    const j = first * repeat + r;
    const count = end - first;
    // Natural: a strided copy (saturating unless every source value is in range; the store then
    // truncates toward zero and turns NaN into 0). Otherwise saturate, mask, shift, swap.
    if (ch.natural) (exact ? put : putClamped)(src, j, repeat, dst, k, stride, count, min, max, mask, shift);
    else if (swap === 0) pack(src, j, repeat, dst, k, stride, count, min, max, mask, shift);
    else if (swap === 2) pack16(src, j, repeat, dst, k, stride, count, min, max, mask, shift);
    else pack32(src, j, repeat, dst, k, stride, count, min, max, mask, shift);
  }
  return true;
}

type Put = (src: Src, j: number, step: number, dst: NumberArray, k: number, stride: number, count: number,
  min: number, max: number, mask: number, shift: number) => void;

const put: Put = (src, j, step, dst, k, stride, count) => {
  for (let i = 0; i < count; i++, j += step, k += stride) dst[k] = src[j]!;
};
const putClamped: Put = (src, j, step, dst, k, stride, count, min, max) => {
  for (let i = 0; i < count; i++, j += step, k += stride) {
    const v = src[j]!;
    dst[k] = v < min ? min : v > max ? max : v;
  }
};
// `&` truncates toward zero and maps NaN to 0, like the general path.
const pack: Put = (src, j, step, dst, k, stride, count, min, max, mask, shift) => {
  for (let i = 0; i < count; i++, j += step, k += stride) {
    const v = src[j]!;
    dst[k] = ((v < min ? min : v > max ? max : v) & mask) << shift;
  }
};
const pack16: Put = (src, j, step, dst, k, stride, count, min, max, mask, shift) => {
  for (let i = 0; i < count; i++, j += step, k += stride) {
    const v = src[j]!;
    const w = ((v < min ? min : v > max ? max : v) & mask) << shift;
    dst[k] = ((w & 0xff) << 8) | ((w >>> 8) & 0xff);
  }
};
const pack32: Put = (src, j, step, dst, k, stride, count, min, max, mask, shift) => {
  for (let i = 0; i < count; i++, j += step, k += stride) {
    const v = src[j]!;
    dst[k] = swap32(((v < min ? min : v > max ? max : v) & mask) << shift);
  }
};

/** Full-width 64-bit channels from a BigInt array whose every value is in range: a word copy. */
function muxWord64(
  scanBytes: number, ch: LayoutChannel, block: Uint8Array, first: number, end: number, values: BigInt64Array | BigUint64Array,
): boolean {
  const traits = arrayTraits(values)!;
  if (ch.field.shift !== 0 || !aligned(ch, scanBytes, 4) || !valuesWithin(traits, ch)) return false;
  const dst = wordView(block, Int32Array);
  const src = wordView(values, Int32Array);
  if (dst === null || src === null) return false;
  const { loAt, hiAt, swap } = halves(ch);
  const sLo = HOST_LITTLE_ENDIAN ? 0 : 1;
  const sHi = 1 - sLo;
  const repeat = ch.repeat;
  const stride = scanBytes / 4;
  for (let n = first, k = first * stride + ch.offset / 4; n < end; n++, k += stride) {
    for (let r = 0, at = k, i = 2 * n * repeat; r < repeat; r++, at += 2, i += 2) {
      const lo = src[i + sLo]!;
      const hi = src[i + sHi]!;
      dst[at + loAt] = swap ? swap32(lo) : lo;
      dst[at + hiAt] = swap ? swap32(hi) : hi;
    }
  }
  return true;
}
