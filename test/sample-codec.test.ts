// One scan-element value <-> bytes: kernel-abi §6.3 "Decoding a value" (endianness, >>shift,
// realbits mask, sign extension, the doc's `le:s12/16>>4` example) and §6.2 (raw → processed).
// The reference below is a deliberately naive BigInt model of those four steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_NUMBER_BITS,
  SCAN_TYPE_LIMITS,
  ScanTypeError,
  clampSample,
  decodeSample,
  encodeSample,
  isWideScanType,
  parseScanType,
  sampleCodec,
  sampleRange,
  toPhysical,
  type SampleValue,
  type ScanType,
} from '../src/format/index.js';
import { prng } from './support/prng.js';
import { intIn, randomScanType, randomValue } from './support/random-scan-type.js';


/** The storage word of `bytes` (one value) as an unsigned bigint. */
function wordOf(bytes: Uint8Array, t: ScanType): bigint {
  const n = t.storageBits / 8;
  let w = 0n;
  for (let j = 0; j < n; j++) {
    const b = t.endianness === 'le' ? bytes[n - 1 - j]! : bytes[j]!;
    w = (w << 8n) | BigInt(b);
  }
  return w;
}

function refDecode(bytes: Uint8Array, t: ScanType): bigint {
  const field = (wordOf(bytes, t) >> BigInt(t.shift)) & ((1n << BigInt(t.realBits)) - 1n);
  if (t.signed && field >> BigInt(t.realBits - 1) === 1n) return field - (1n << BigInt(t.realBits));
  return field;
}

function refEncode(value: bigint, t: ScanType): Uint8Array {
  const n = t.storageBits / 8;
  let w = BigInt.asUintN(t.realBits, value) << BigInt(t.shift);
  const out = new Uint8Array(n);
  for (let j = 0; j < n; j++) {
    out[t.endianness === 'le' ? j : n - 1 - j] = Number(w & 0xffn);
    w >>= 8n;
  }
  return out;
}

const randomType = (rand: () => number): ScanType => randomScanType(rand, { common: [8, 16, 24, 32, 64], commonChance: 0.6, maxStorageBits: 248, maxRepeat: 4 });


const asKind = (t: ScanType, v: bigint): SampleValue => (isWideScanType(t) ? v : Number(v));
const name = (t: ScanType): string =>
  `${t.endianness}:${t.signed ? 's' : 'u'}${t.realBits}/${t.storageBits}${t.repeat > 1 ? `X${t.repeat}` : ''}>>${t.shift}`;

test('§6.3 the documented example le:s12/16>>4: a LE word, >>4, 12 bits, sign-extended', () => {
  const t = parseScanType('le:s12/16>>4');
  const cases: [number, number][] = [
    [0xfff0, -1], [0x7ff0, 2047], [0x8000, -2048], [0x000f, 0], [0x1230, 0x123], [0x123f, 0x123], [0xedc0, -0x124],
  ];
  for (const [word, value] of cases) {
    const bytes = new Uint8Array([word & 0xff, word >> 8]);
    assert.equal(decodeSample(new DataView(bytes.buffer), 0, t), value, `0x${word.toString(16)}`);
    const out = new Uint8Array([0xaa, 0xaa]);
    encodeSample(new DataView(out.buffer), 0, t, value);
    assert.deepEqual([...out], [word & 0xf0, word >> 8], `encode ${value}: low 4 bits are written as 0`);
  }
});

test('§6.3 by hand: literal bytes in, literal values out (decode, then encode back)', () => {
  // Each row: type, the bytes as stored, the values, and the arithmetic of kernel-abi §6.3
  // (read storagebits/8 bytes in the given order, >> shift, mask realbits, sign-extend).
  const rows: Array<[string, number[], SampleValue[], string]> = [
    ['le:s12/16>>4', [0x30, 0x81], [-2029], 'LE word 0x8130; >>4 = 0x813 = 2067; bit 11 set: 2067 - 4096 = -2029'],
    ['be:s12/16>>4', [0x81, 0x30], [-2029], 'BE word 0x8130: the same value from the other byte order'],
    ['le:s12/16>>4', [0xf0, 0x7f], [2047], 'LE word 0x7ff0; >>4 = 0x7ff = 2047, bit 11 clear'],
    ['be:u24/32>>0', [0xab, 0x12, 0x34, 0x56], [0x123456], 'BE word 0xab123456; >>0; mask 24 bits drops 0xab: 0x123456 = 1193046'],
    ['be:s24/32>>8', [0x80, 0x00, 0x01, 0xff], [-8388607], 'BE word 0x800001ff; >>8 = 0x800001; bit 23 set: 0x800001 - 2^24 = -8388607'],
    ['le:u10/16>>2', [0xff, 0xff], [1023], 'LE word 0xffff; >>2 = 0x3fff; mask 10 bits = 0x3ff = 1023'],
    ['le:s4/8>>4', [0x9a], [-7], 'byte 0x9a; >>4 = 9; bit 3 set: 9 - 16 = -7'],
    ['le:u24/24>>0', [0x56, 0x34, 0x12], [0x123456], '3-byte storage, LE: 0x123456'],
    ['le:s16/16X3>>0', [0x01, 0x00, 0xff, 0xff, 0x00, 0x80], [1, -1, -32768], 'repeat 3: three LE words 0x0001, 0xffff, 0x8000'],
    ['be:s64/64>>0', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], [-2n], 'BE 0xffff_ffff_ffff_fffe = -2, a bigint (over 53 bits)'],
    ['le:u64/64>>0', [0x00, 0xe4, 0x0b, 0x54, 0x02, 0x00, 0x00, 0x00], [10_000_000_000n], 'LE 0x2_540b_e400 = 10^10 ns'],
  ];
  for (const [text, bytes, values, why] of rows) {
    const t = parseScanType(text);
    const view = new DataView(new Uint8Array(bytes).buffer);
    assert.deepEqual(values.map((_, r) => decodeSample(view, 0, t, r)), values, `${text} ${why}`);
  }
  // Encoding writes the value's bits at the shift, zero elsewhere in the field's storage.
  const out = new Uint8Array(4).fill(0xee);
  encodeSample(new DataView(out.buffer), 0, parseScanType('be:u24/32>>0'), 0x123456);
  assert.deepEqual([...out], [0x00, 0x12, 0x34, 0x56]);
  const s12 = new Uint8Array(2);
  encodeSample(new DataView(s12.buffer), 0, parseScanType('le:s12/16>>4'), -2029);
  assert.deepEqual([...s12], [0x30, 0x81], '-2029 = 0x813 in 12 bits, << 4 = 0x8130, LE');
});

test('decode matches the reference for random bytes: every storage size, both endiannesses, shifts', () => {
  const rand = prng(0x5eed01);
  const buf = new Uint8Array(40 + SCAN_TYPE_LIMITS.maxStorageBits / 8 * 4);
  const view = new DataView(buf.buffer, 7); // a view that does not start at byte 0
  for (let iter = 0; iter < 6000; iter++) {
    const t = iter < 31 * 2 * 2
      ? { ...randomType(rand), storageBits: 8 * (1 + (iter % 31)), endianness: iter & 32 ? 'be' as const : 'le' as const }
      : randomType(rand);
    if (t.realBits + t.shift > t.storageBits) {
      t.realBits = intIn(rand, 1, t.storageBits);
      t.shift = intIn(rand, 0, t.storageBits - t.realBits);
    }
    for (let i = 0; i < buf.length; i++) buf[i] = intIn(rand, 0, 255);
    const at = intIn(rand, 0, 16);
    const codec = sampleCodec(t);
    for (let slot = 0; slot < t.repeat; slot++) {
      const start = 7 + at + slot * (t.storageBits / 8);
      const expected = refDecode(buf.subarray(start, start + t.storageBits / 8), t);
      const got = codec.decode(view, at, slot);
      assert.equal(typeof got, t.realBits > MAX_NUMBER_BITS ? 'bigint' : 'number', name(t));
      assert.equal(BigInt(got), expected, `${name(t)} slot ${slot}`);
    }
  }
});

test('encode writes exactly the reference bytes and round-trips through decode', () => {
  const rand = prng(0x5eed02);
  for (let iter = 0; iter < 6000; iter++) {
    const t = randomType(rand);
    const codec = sampleCodec(t);
    const at = intIn(rand, 0, 9);
    const buf = new Uint8Array(at + codec.elementBytes + 3).fill(0xa5);
    const view = new DataView(buf.buffer);
    const values = Array.from({ length: t.repeat }, () => randomValue(rand, t));
    for (const [slot, v] of values.entries()) codec.encode(view, at, asKind(t, v), slot);
    for (const [slot, v] of values.entries()) {
      const start = at + slot * codec.storageBytes;
      assert.deepEqual([...buf.subarray(start, start + codec.storageBytes)], [...refEncode(v, t)], `${name(t)} ${v}`);
      assert.equal(BigInt(codec.decode(view, at, slot)), v, `${name(t)} slot ${slot} round trip`);
    }
    // Bytes around the element are untouched.
    assert.ok(buf.subarray(0, at).every((b) => b === 0xa5));
    assert.ok(buf.subarray(at + codec.elementBytes).every((b) => b === 0xa5));
  }
});

test('values are numbers up to 53 real bits and bigints above', () => {
  for (const [text, wide] of [['le:s53/64>>0', false], ['le:u53/64>>11', false], ['le:s54/64>>0', true], ['be:u64/64>>0', true], ['le:s64/128>>3', true], ['le:u48/48>>0', false]] as const) {
    const t = parseScanType(text);
    const codec = sampleCodec(t);
    assert.equal(codec.wide, wide, text);
    assert.equal(isWideScanType(t), wide, text);
    const bytes = new Uint8Array(16);
    codec.encode(new DataView(bytes.buffer), 0, codec.max);
    assert.equal(codec.decode(new DataView(bytes.buffer), 0), codec.max, text);
    codec.encode(new DataView(bytes.buffer), 0, codec.min);
    assert.equal(codec.decode(new DataView(bytes.buffer), 0), codec.min, text);
  }
  assert.deepEqual(sampleRange(parseScanType('le:s53/64>>0')), { min: -(2 ** 52), max: 2 ** 52 - 1 });
  assert.deepEqual(sampleRange(parseScanType('le:u53/64>>0')), { min: 0, max: Number.MAX_SAFE_INTEGER });
  assert.deepEqual(sampleRange(parseScanType('le:s64/64>>0')), { min: -(2n ** 63n), max: 2n ** 63n - 1n });
});

test('sign extension edge cases for every real-bit count', () => {
  for (let bits = 1; bits <= 64; bits++) {
    for (const storageBits of [8, 16, 32, 64].filter((s) => s >= bits)) {
      for (const endianness of ['le', 'be'] as const) {
        const t: ScanType = { endianness, signed: true, fullyDefined: false, realBits: bits, storageBits, repeat: 1, shift: storageBits - bits };
        const codec = sampleCodec(t);
        const view = new DataView(new ArrayBuffer(8));
        const r = BigInt(bits);
        for (const v of [-(1n << (r - 1n)), (1n << (r - 1n)) - 1n, -1n, 0n, bits > 1 ? 1n : 0n]) {
          codec.encode(view, 0, asKind(t, v));
          assert.equal(BigInt(codec.decode(view, 0)), v, `${name(t)} ${v}`);
        }
        // All ones in storage is -1 whatever the shift.
        for (let i = 0; i < 8; i++) view.setUint8(i, 0xff);
        assert.equal(BigInt(codec.decode(view, 0)), -1n, name(t));
        const u = sampleCodec({ ...t, signed: false });
        assert.equal(BigInt(u.decode(view, 0)), (1n << r) - 1n, `unsigned ${name(t)}`);
      }
    }
  }
});

test('out-of-range values wrap to realbits like a hardware field; clampSample saturates instead', () => {
  const view = new DataView(new ArrayBuffer(8));
  const s12 = parseScanType('le:s12/16>>4');
  encodeSample(view, 0, s12, 2048);
  assert.equal(decodeSample(view, 0, s12), -2048);
  encodeSample(view, 0, s12, -2049);
  assert.equal(decodeSample(view, 0, s12), 2047);
  encodeSample(view, 0, s12, 4096 + 5);
  assert.equal(decodeSample(view, 0, s12), 5);
  encodeSample(view, 0, s12, 5n);
  assert.equal(decodeSample(view, 0, s12), 5);
  encodeSample(view, 0, s12, 7.9);
  assert.equal(decodeSample(view, 0, s12), 7, 'non-integers are truncated toward zero');
  encodeSample(view, 0, s12, Number.NaN);
  assert.equal(decodeSample(view, 0, s12), 0);
  const u48 = parseScanType('be:u40/48>>5');
  encodeSample(view, 0, u48, -1);
  assert.equal(decodeSample(view, 0, u48), 2 ** 40 - 1);
  const s64 = parseScanType('le:s64/64>>0');
  encodeSample(view, 0, s64, 2n ** 63n);
  assert.equal(decodeSample(view, 0, s64), -(2n ** 63n));
  encodeSample(view, 0, s64, -3);
  assert.equal(decodeSample(view, 0, s64), -3n);

  assert.equal(clampSample(s12, 5000), 2047);
  assert.equal(clampSample(s12, -5000), -2048);
  assert.equal(clampSample(s12, 12.7), 12);
  assert.equal(clampSample(s12, 10n ** 30n), 2047);
  assert.equal(clampSample(s64, 2n ** 70n), 2n ** 63n - 1n);
  assert.equal(clampSample(s64, -Infinity), -(2n ** 63n));
  assert.equal(clampSample(s64, 5), 5n);
  assert.equal(clampSample(parseScanType('le:u8/8>>0'), -1), 0);
});

test('repeat slots are consecutive storage words', () => {
  const t = parseScanType('be:s12/16X3>>4');
  const codec = sampleCodec(t);
  assert.equal(codec.elementBytes, 6);
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  [1, -2, 2047].forEach((v, i) => codec.encode(view, 1, v, i));
  assert.deepEqual([...bytes], [0, 0x00, 0x10, 0xff, 0xe0, 0x7f, 0xf0, 0]);
  assert.deepEqual([0, 1, 2].map((i) => codec.decode(view, 1, i)), [1, -2, 2047]);
});

test('codecs are cached per ScanType and reject invalid types', () => {
  const t = parseScanType('le:u16/16>>0');
  assert.equal(sampleCodec(t), sampleCodec(t));
  assert.throws(() => sampleCodec({ ...t, storageBits: 12 }), ScanTypeError);
  assert.throws(() => sampleCodec({ ...t, realBits: 16, shift: 1 }), ScanTypeError);
});

test('out-of-bounds access throws RangeError (DataView bounds)', () => {
  const view = new DataView(new ArrayBuffer(4));
  for (const text of ['le:u16/16>>0', 'le:s12/16>>4', 'le:s64/64>>0', 'le:u24/24>>0', 'le:s32/64>>8']) {
    const t = parseScanType(text);
    assert.throws(() => decodeSample(view, 3, t), RangeError, text);
    assert.throws(() => encodeSample(view, 3, t, 1), RangeError, text);
  }
});

test('§6.2 toPhysical = (raw + offset) * scale', () => {
  assert.equal(toPhysical(100, 0.5, 10), 55);
  assert.equal(toPhysical(-3, 2), -6);
  assert.equal(toPhysical(7), 7);
  assert.equal(toPhysical(1000n, 0.001, 0), 1);
  // The kernel doc's dummy device: in_voltage0 raw 73, offset 7, scale 0.001333 mV.
  assert.ok(Math.abs(toPhysical(73, 0.001333, 7) - 0.10664) < 1e-12);
});
