// Samples (src/samples): demux/mux of blocks, zero-copy views, physical units. The reference
// throughout is the independent per-sample codec (src/format/sample-codec.ts) applied at the
// offsets computeScanLayout gives (kernel-abi §6.3–§6.5); blocks are random bytes, so padding
// and the bits around each field are exercised too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clampSample,
  computeScanLayout,
  decodeSample,
  encodeSample,
  formatScanType,
  isWideScanType,
  parseScanType,
  sampleCodec,
  toPhysical,
  type SampleValue,
  type ScanType,
} from '../src/format/index.js';
import {
  BlockLayout,
  HOST_LITTLE_ENDIAN,
  physicalDecimals,
  physicalToRaw,
  rawToPhysical,
  sampleArrayKind,
  type SampleArray,
  type SampleChannelSpec,
  type SampleInput,
} from '../src/samples/index.js';
import { demuxFast, muxFast } from '../src/samples/fast.js';
import { demuxGeneral, muxGeneral } from '../src/samples/general.js';
import { allocateSamples } from '../src/samples/kinds.js';
import { laneTarget, packedShape } from '../src/samples/demux.js';
import { assumeHostEndianForTesting, kernel, shuffleNetwork, simdDeinterleave, simdInterleave, slotDecode, slotSwaps } from '../src/samples/simd.js';
import { prng } from './support/prng.js';
import { intIn, randomScanType, randomValue } from './support/random-scan-type.js';

// --- helpers -----------------------------------------------------------------------------------

const typeOf = (rand: () => number): ScanType =>
  randomScanType(rand, { common: [8, 16, 24, 32, 40, 64], commonChance: 0.7, maxStorageBits: 128, maxRepeat: 4 });

/** 1..5 channels with distinct random indices, sometimes plus an s64 timestamp. */
function randomSpecs(rand: () => number): SampleChannelSpec[] {
  const count = intIn(rand, 1, 5);
  const indices = new Set<number>();
  while (indices.size < count) indices.add(intIn(rand, 0, 15));
  const specs: SampleChannelSpec[] = [...indices].map((index, i) => ({ id: `ch${i}`, index, type: typeOf(rand) }));
  if (rand() < 0.3) {
    specs.push({ id: 'timestamp', index: intIn(rand, 0, 20), type: rand() < 0.8 ? 'le:s64/64>>0' : 'be:s64/64>>0', timestamp: true });
    // The kernel requires unique indices; move a clashing channel out of the way.
    const ts = specs[specs.length - 1]!;
    for (const s of specs) if (s !== ts && s.index === ts.index) s.index = 16 + specs.indexOf(s);
  }
  return specs;
}

/** `bytes` random bytes, starting at a random byte offset of their buffer (so often misaligned). */
function randomBlock(rand: () => number, bytes: number, aligned = false): Uint8Array {
  const at = aligned ? 0 : intIn(rand, 0, 7);
  const block = new Uint8Array(new ArrayBuffer(bytes + at + 8), at, bytes);
  for (let i = 0; i < bytes; i++) block[i] = intIn(rand, 0, 255);
  return block;
}


const tag = (a: SampleArray): string => (Array.isArray(a) ? 'Array' : (a as Uint8Array)[Symbol.toStringTag]);
const asKind = (t: ScanType, v: bigint): SampleValue => (isWideScanType(t) ? v : Number(v));
const dataView = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const describeSpecs = (specs: SampleChannelSpec[]) =>
  specs.map((s) => `${s.id}@${s.index}:${typeof s.type === 'string' ? s.type : formatScanType(s.type)}`).join(' ');

/** Reference decode of every whole scan with the per-sample codec. */
function refValues(layout: BlockLayout, block: Uint8Array, id: string): SampleValue[] {
  const ch = layout.channel(id);
  const view = dataView(block);
  const out: SampleValue[] = [];
  for (let n = 0; n < Math.floor(block.byteLength / layout.scanBytes); n++) {
    for (let r = 0; r < ch.repeat; r++) out.push(decodeSample(view, n * layout.scanBytes + ch.offset, ch.type, r));
  }
  return out;
}

const EXPECTED_ARRAY: Record<string, string> = {
  int8: 'Int8Array', uint8: 'Uint8Array', int16: 'Int16Array', uint16: 'Uint16Array', int32: 'Int32Array',
  uint32: 'Uint32Array', float64: 'Float64Array', bigint64: 'BigInt64Array', biguint64: 'BigUint64Array', bigint: 'Array',
};

// --- layout ------------------------------------------------------------------------------------

test('layout follows computeScanLayout(kernel): the iio_devbuf.rst example, timestamp last', () => {
  const layout = new BlockLayout([
    { id: 'a', index: 0, type: 'le:u16/16>>0' },
    { id: 'b', index: 1, type: 'le:u32/32>>0' },
    { id: 'c', index: 2, type: 'le:u32/32>>0' },
    { id: 'd', index: 3, type: 'le:u64/64>>0' },
  ]);
  assert.deepEqual(layout.channels.map((c) => [c.id, c.offset]), [['a', 0], ['b', 4], ['c', 8], ['d', 16]]);
  assert.equal(layout.scanBytes, 24);
  const ts = new BlockLayout([
    { id: 'timestamp', index: 0, type: 'le:s64/64>>0', timestamp: true },
    { id: 'x', index: 3, type: 'le:s16/16>>0' },
  ]);
  assert.deepEqual(ts.channels.map((c) => [c.id, c.offset]), [['x', 0], ['timestamp', 8]]);
  assert.equal(ts.scanBytes, 16);
  assert.ok(ts.warnings.some((w) => w.code === 'TIMESTAMP_NOT_LAST_INDEX'));
});

test('demux by hand (kernel-abi §6.3–§6.5): literal block bytes in, literal values out', () => {
  // a le:s12/16>>4 @0 at offset 0; b be:u24/32>>0 @1 at ALIGN(2,4) = 4; c le:u8/8>>0 @2 at 8;
  // the timestamp le:s64/64>>0 at ALIGN(9,8) = 16; scan size ALIGN(24, 8) = 24. 0xee is padding.
  const layout = new BlockLayout([
    { id: 'a', index: 0, type: 'le:s12/16>>4' },
    { id: 'b', index: 1, type: 'be:u24/32>>0' },
    { id: 'c', index: 2, type: 'le:u8/8>>0' },
    { id: 'timestamp', index: 3, type: 'le:s64/64>>0', timestamp: true },
  ]);
  assert.deepEqual(layout.channels.map((ch) => ch.offset), [0, 4, 8, 16]);
  assert.equal(layout.scanBytes, 24);
  const block = new Uint8Array([
    // scan 0
    0x30, 0x81, 0xee, 0xee, // a: LE 0x8130 >> 4 = 0x813, sign-extended from bit 11: -2029
    0xab, 0x12, 0x34, 0x56, // b: BE 0xab123456, 24 bits: 0x123456 = 1193046
    0xc8, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, // c: 200
    0x00, 0xe4, 0x0b, 0x54, 0x02, 0x00, 0x00, 0x00, // timestamp: LE 0x2540be400 = 10^10
    // scan 1
    0xf0, 0x7f, 0xee, 0xee, // a: 0x7ff0 >> 4 = 2047
    0xff, 0x00, 0x00, 0x01, // b: 0xff000001 masked to 24 bits: 1
    0x00, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, // c: 0
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // timestamp: -1
    0x01, 0x02, 0x03, // a partial third scan: ignored
  ]);
  const all = layout.samplesAll(block);
  assert.deepEqual(Array.from(all['a'] as Int16Array), [-2029, 2047]);
  assert.deepEqual(Array.from(all['b'] as Uint32Array), [1193046, 1]);
  assert.deepEqual(Array.from(all['c'] as Uint8Array), [200, 0]);
  assert.deepEqual(Array.from(all['timestamp'] as BigInt64Array), [10_000_000_000n, -1n]);
  // fill() writes the same bytes back, with zeros (not the old bytes) in a field's unused bits.
  const filled = new Uint8Array(48).fill(0xee);
  layout.fill(filled, all);
  const expected = block.slice(0, 48);
  expected[4] = 0x00; // b's top byte is not part of its 24 bits
  expected[28] = 0x00;
  assert.deepEqual(filled, expected);
});

test('SIMD by hand: 2 × 16-bit channels, le:s12/16>>4 and be:s12/16>>4, 8 scans (one group)', () => {
  // Scan k holds the same 16-bit word in both orders: c0 LE, c1 BE.
  //   0x8130 >> 4 = 0x813 → -2029;  0x7ff0 → 2047;  0x000f → 0 (the low nibble is below the shift);
  //   0x8000 >> 4 = 0x800 → -2048.
  const scans = [[0x30, 0x81, 0x81, 0x30], [0xf0, 0x7f, 0x7f, 0xf0], [0x0f, 0x00, 0x00, 0x0f], [0x00, 0x80, 0x80, 0x00]];
  const block = new Uint8Array([...scans, ...scans].flat());
  const values = [-2029, 2047, 0, -2048, -2029, 2047, 0, -2048];
  const layout = new BlockLayout([{ id: 'c0', index: 0, type: 'le:s12/16>>4' }, { id: 'c1', index: 1, type: 'be:s12/16>>4' }]);
  for (const host of [undefined, false]) {
    assumeHostEndianForTesting(host);
    try {
      const outs = [new Int16Array(8), new Int16Array(8)];
      assert.equal(simdDeinterleave(block, 2, outs, 8, packedShape(layout)!.decode), 8);
      assert.deepEqual(outs.map((o) => Array.from(o)), [values, values], host === false ? 'forced big-endian host' : 'this host');
    } finally {
      assumeHostEndianForTesting(undefined);
    }
  }
});

test('layout offsets equal computeScanLayout for random channel sets', () => {
  const rand = prng(11);
  for (let c = 0; c < 200; c++) {
    const specs = randomSpecs(rand);
    const layout = new BlockLayout(specs);
    const ref = computeScanLayout(specs.map((s) => ({
      index: s.index, type: typeof s.type === 'string' ? parseScanType(s.type) : s.type, timestamp: s.timestamp === true,
    })), 'kernel');
    assert.equal(layout.scanBytes, ref.scanBytes);
    assert.deepEqual(layout.channels.map((ch) => ch.id), ref.order.map((i) => specs[i]!.id));
    for (const [i, s] of specs.entries()) assert.equal(layout.channel(s.id).offset, ref.offsets[i], describeSpecs(specs));
  }
});

test('layout rejects bad channel sets with errors naming the problem', () => {
  assert.throws(() => new BlockLayout([]), RangeError);
  assert.throws(() => new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }, { id: 'a', index: 1, type: 'le:s16/16>>0' }]),
    (e: Error) => e instanceof RangeError && /"a" is listed twice/.test(e.message));
  assert.throws(() => new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }, { id: 'b', index: 0, type: 'le:s16/16>>0' }]),
    /duplicate scan index 0/);
  assert.throws(() => new BlockLayout([{ id: '', index: 0, type: 'le:s16/16>>0' }]), TypeError);
  assert.throws(() => new BlockLayout([{ id: 'a', index: 0, type: 'le:s17/16>>0' }]), /channel "a"/);
  const layout = new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }]);
  assert.throws(() => layout.samples(new Uint8Array(4), 'nope'), (e: Error) => e instanceof RangeError && /"nope"/.test(e.message));
  assert.throws(() => layout.samples([1, 2] as unknown as Uint8Array, 'a'), TypeError);
  assert.throws(() => layout.samples(new Uint16Array(4) as unknown as Uint8Array, 'a'), TypeError);
});

// --- demux -------------------------------------------------------------------------------------

test('demux equals the per-sample codec for random layouts, blocks and alignments', () => {
  const rand = prng(1);
  const seen = new Set<string>();
  for (let c = 0; c < 400; c++) {
    const specs = randomSpecs(rand);
    const layout = new BlockLayout(specs);
    const scans = intIn(rand, 0, 24);
    const block = randomBlock(rand, scans * layout.scanBytes + intIn(rand, 0, layout.scanBytes - 1));
    assert.equal(layout.scanCount(block), scans);
    for (const ch of layout.channels) {
      const got = layout.samples(block, ch.id);
      const what = `${describeSpecs(specs)}: ${ch.id}`;
      assert.equal(tag(got), EXPECTED_ARRAY[sampleArrayKind(ch.type)], what);
      assert.deepEqual(Array.from(got as ArrayLike<SampleValue>), refValues(layout, block, ch.id), what);
      seen.add(`${ch.storageBytes}:${ch.type.endianness}:${ch.kind}`);
    }
  }
  // The random types reach every storage class, byte order and array kind.
  for (const size of [1, 2, 3, 4, 5, 8]) for (const e of ['le', 'be']) {
    assert.ok([...seen].some((k) => k.startsWith(`${size}:${e}:`)), `no ${size}-byte ${e} channel was generated`);
  }
  for (const kind of Object.keys(EXPECTED_ARRAY)) assert.ok([...seen].some((k) => k.endsWith(`:${kind}`)), `no ${kind} channel`);
});

test('repeat: value r of scan n is at n × repeat + r', () => {
  const layout = new BlockLayout([
    { id: 'rep', index: 0, type: 'le:u8/8X3>>0' },
    { id: 'x', index: 1, type: 'be:s12/16X2>>4' },
  ]);
  // rep: 3 bytes at 0; x: 4 bytes at ALIGN(3, 4) = 4; scan = 8.
  assert.deepEqual(layout.channels.map((c) => c.offset), [0, 4]);
  const block = Uint8Array.from([1, 2, 3, 0xee, 0x7f, 0xf0, 0x80, 0x00, 4, 5, 6, 0xee, 0xff, 0xff, 0x00, 0x1f]);
  assert.deepEqual(Array.from(layout.samples(block, 'rep') as Uint8Array), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(layout.samples(block, 'x') as Int16Array), [0x7ff, -0x800, -1, 1]);
});

test('partial last scans are ignored by demux and left untouched by mux', () => {
  const layout = new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }, { id: 'b', index: 1, type: 'le:u8/8>>0' }]);
  assert.equal(layout.scanBytes, 4);
  const block = Uint8Array.from([1, 0, 2, 0xaa, 3, 0, 4, 0xbb, 5, 0, 6]); // 2 scans + 3 bytes
  assert.equal(layout.scanCount(block), 2);
  assert.deepEqual(Array.from(layout.samples(block, 'a') as Int16Array), [1, 3]);
  assert.deepEqual(Array.from(layout.samples(block, 'b') as Uint8Array), [2, 4]);
  assert.equal(layout.write(block, 'a', new Int16Array([-1, -2, -3])), 2);
  assert.deepEqual(Array.from(block), [0xff, 0xff, 2, 0xaa, 0xfe, 0xff, 4, 0xbb, 5, 0, 6]);
  assert.equal(layout.samples(new Uint8Array(3), 'a').length, 0);
});

test('demux into caller arrays: wider arrays agree, the count is returned, bad arrays are refused', () => {
  const layout = new BlockLayout([{ id: 'a', index: 0, type: 'le:s12/16>>4' }, { id: 'u', index: 1, type: 'be:u16/16>>0' },
    { id: 't', index: 2, type: 'le:s64/64>>0' }]);
  const rand = prng(5);
  const block = randomBlock(rand, layout.scanBytes * 10, true);
  const narrow = layout.samples(block, 'a');
  for (const out of [new Int16Array(12), new Int32Array(10), new Float64Array(10), new Float32Array(11)]) {
    assert.equal(layout.samplesInto(block, 'a', out), 10);
    assert.deepEqual(Array.from(out.subarray(0, 10)), Array.from(narrow as Int16Array));
  }
  const u = new Uint32Array(10);
  layout.samplesInto(block, 'u', u);
  assert.deepEqual(Array.from(u), refValues(layout, block, 'u'));
  const t: bigint[] = new Array<bigint>(10).fill(0n);
  layout.samplesInto(block, 't', t);
  assert.deepEqual(t, refValues(layout, block, 't'));
  assert.throws(() => layout.samplesInto(block, 'a', new Int8Array(10)), (e: Error) => e instanceof TypeError && /"a".*Int8Array/.test(e.message));
  assert.throws(() => layout.samplesInto(block, 'u', new Int16Array(10)), (e: Error) => e instanceof TypeError && /"u"/.test(e.message));
  assert.throws(() => layout.samplesInto(block, 'a', new Int16Array(9)), (e: Error) => e instanceof RangeError && /9 elements, 10 needed/.test(e.message));
  assert.throws(() => layout.samplesInto(block, 't', new Float64Array(10)), (e: Error) => e instanceof TypeError && /"t".*BigInt64Array/.test(e.message));
  assert.throws(() => layout.samplesInto(block, 't', new BigUint64Array(10)), TypeError);
  assert.throws(() => layout.samplesInto(block, 'a', new BigInt64Array(10)), TypeError);
});

// --- mux ---------------------------------------------------------------------------------------

test('mux∘demux round-trips every format class; the bytes are the codec\'s, other bytes untouched', () => {
  const rand = prng(2);
  for (let c = 0; c < 400; c++) {
    const specs = randomSpecs(rand);
    const layout = new BlockLayout(specs);
    const scans = intIn(rand, 0, 20);
    const block = randomBlock(rand, scans * layout.scanBytes + intIn(rand, 0, layout.scanBytes - 1));
    const expected = block.slice();
    const ev = dataView(expected);
    // Write a random subset (at least one) of the channels, some as typed arrays, some as Arrays.
    const chosen = layout.channels.filter((_, i) => i === 0 || rand() < 0.6);
    const values: Record<string, SampleInput> = {};
    for (const ch of chosen) {
      const vs: SampleValue[] = [];
      for (let n = 0; n < scans; n++) {
        for (let r = 0; r < ch.repeat; r++) {
          const v = asKind(ch.type, randomValue(rand, ch.type));
          vs.push(v);
          encodeSample(ev, n * layout.scanBytes + ch.offset, ch.type, v, r);
        }
      }
      const typed = rand() < 0.7 ? allocateSamples(ch.kind, vs.length) : null;
      if (typed !== null) for (const [i, v] of vs.entries()) (typed as { [i: number]: SampleValue })[i] = v;
      values[ch.id] = (typed ?? vs) as SampleInput;
    }
    const what = describeSpecs(specs);
    if (rand() < 0.5) assert.equal(layout.fill(block, values), scans, what);
    else for (const [id, vs] of Object.entries(values)) layout.write(block, id, vs);
    assert.deepEqual(block, expected, what);
    for (const ch of chosen) {
      assert.deepEqual(Array.from(layout.samples(block, ch.id) as ArrayLike<SampleValue>), Array.from(values[ch.id]!), `${what}: ${ch.id}`);
    }
  }
});

test('mux clamps out-of-range values to the channel range; truncates fractions; NaN writes 0', () => {
  const rand = prng(3);
  for (let c = 0; c < 300; c++) {
    const type = typeOf(rand);
    const layout = new BlockLayout([{ id: 'v', index: 0, type }, { id: 'pad', index: 1, type: 'le:u8/8>>0' }]);
    const codec = sampleCodec(type);
    const n = 8 * type.repeat;
    const wide = codec.wide;
    const candidates: SampleValue[] = wide
      ? [codec.max + 1n, codec.min - 1n, codec.max * 4n + 3n, -(1n << 300n), Infinity, -Infinity, NaN, 1.9, -1.9]
      : [codec.max + 1, codec.min - 1, codec.max * 3 + 0.5, -1e300, Infinity, -Infinity, NaN, 2.75, -2.75,
        BigInt(codec.max) + 5n, BigInt(codec.min) - 5n];
    const values = Array.from({ length: n }, () => candidates[intIn(rand, 0, candidates.length - 1)]!);
    const block = randomBlock(rand, 8 * layout.scanBytes);
    const expected = block.slice();
    values.forEach((v, i) => {
      const clamped = typeof v === 'number' && Number.isNaN(v) ? (wide ? 0n : 0) : clampSample(type, v);
      encodeSample(dataView(expected), Math.floor(i / type.repeat) * layout.scanBytes + layout.channel('v').offset, type, clamped, i % type.repeat);
    });
    layout.write(block, 'v', values);
    assert.deepEqual(block, expected, formatScanType(type));
    // Float64Array sources take the typed fast paths: same clamping.
    if (!wide) {
      const block2 = randomBlock(rand, 8 * layout.scanBytes);
      block2.set(block);
      const f64 = Float64Array.from(values, (v) => Number(v));
      layout.write(block2, 'v', f64);
      assert.deepEqual(block2, expected, `${formatScanType(type)} from a Float64Array`);
    }
  }
});

test('mux refuses missing values and non-numbers, naming the channel', () => {
  const layout = new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }, { id: 'b', index: 1, type: 'le:s16/16>>0' }]);
  const block = layout.allocate(4);
  assert.throws(() => layout.write(block, 'a', new Int16Array(3)), (e: Error) => e instanceof RangeError && /"a": 3 values given, 4 needed/.test(e.message));
  assert.throws(() => layout.write(block, 'a', [1, 2, 'x', 4] as unknown as number[]), (e: Error) => e instanceof TypeError && /"a": value 2 is string/.test(e.message));
  assert.throws(() => layout.fill(block, { c: [1, 2, 3, 4] }), (e: Error) => e instanceof RangeError && /"c"/.test(e.message));
  assert.throws(() => layout.write(block, 'a', 'abcd' as unknown as number[]), TypeError);
  assert.equal(layout.write(block, 'a', new Int16Array(10)), 4, 'longer sources are fine: the first scans × repeat values are used');
});

// --- fast paths against the general path --------------------------------------------------------

test('per-channel fast paths give exactly the general path\'s results (demux and mux)', () => {
  const rand = prng(4);
  const used = { demux: new Set<string>(), mux: new Set<string>() };
  for (let c = 0; c < 1500; c++) {
    const specs = randomSpecs(rand);
    // Favour the word sizes the fast paths handle.
    for (const s of specs) {
      if (s.timestamp !== true && rand() < 0.6) {
        const storage = [8, 16, 32, 64][intIn(rand, 0, 3)]!;
        s.type = randomScanType(rand, { common: [storage], commonChance: 1, maxStorageBits: 64, maxRepeat: 3 });
      }
    }
    const layout = new BlockLayout(specs);
    const scans = intIn(rand, 1, 12);
    const block = randomBlock(rand, scans * layout.scanBytes, rand() < 0.7);
    for (const ch of layout.channels) {
      const what = `${describeSpecs(specs)}: ${ch.id} @${block.byteOffset}`;
      const n = scans * ch.repeat;
      const fast = allocateSamples(ch.kind, n);
      const general = allocateSamples(ch.kind, n);
      const first = intIn(rand, 0, scans - 1);
      if (demuxFast(layout.scanBytes, ch, block, first, scans, fast)) {
        used.demux.add(`${ch.storageBytes}:${ch.natural}:${ch.kind}`);
        demuxGeneral(layout.scanBytes, ch, block, first, scans, general);
        assert.deepEqual(fast, general, what);
      }
      // Sources: in-range values of the channel's kind, or a Float64Array with out-of-range,
      // fractional and NaN values for number channels.
      let source: SampleArray = allocateSamples(ch.kind, n);
      if (typeof ch.min === 'number' && rand() < 0.5) {
        source = Float64Array.from({ length: n }, () => {
          const p = rand();
          return p < 0.1 ? NaN : p < 0.3 ? (ch.max as number) * 2 + 1 : p < 0.5 ? -1e12 : Number(randomValue(rand, ch.type)) + rand();
        });
      } else {
        for (let i = 0; i < n; i++) (source as { [i: number]: SampleValue })[i] = asKind(ch.type, randomValue(rand, ch.type));
      }
      const a = block.slice();
      const b = block.slice();
      if (muxFast(layout.scanBytes, ch, a, first, scans, source)) {
        used.mux.add(`${ch.storageBytes}:${ch.natural}:${tag(source)}`);
        muxGeneral(layout.scanBytes, ch, b, first, scans, source);
        assert.deepEqual(a, b, what);
      }
    }
  }
  // Every fast path was exercised: natural and word for 1/2/4 bytes, word64 to numbers and bigints.
  for (const key of ['1:true', '1:false', '2:true', '2:false', '4:true', '4:false', '8:true:bigint64', '8:false:float64', '8:false:bigint64', '8:false:biguint64']) {
    assert.ok([...used.demux].some((k) => k.startsWith(key)), `demux fast path ${key} never ran`);
  }
  for (const key of ['1:true', '2:true', '2:false', '4:true', '4:false', '8:true']) {
    assert.ok([...used.mux].some((k) => k.startsWith(key)), `mux fast path ${key} never ran`);
  }
});

test('fast paths decline misaligned blocks and the general path still decodes them', () => {
  const layout = new BlockLayout([{ id: 'a', index: 0, type: 'le:s16/16>>0' }, { id: 'b', index: 1, type: 'le:s16/16>>0' }]);
  const buffer = new ArrayBuffer(64);
  const block = new Uint8Array(buffer, 1, 40);
  for (let i = 0; i < 40; i++) block[i] = i * 7;
  const ch = layout.channel('a');
  assert.equal(demuxFast(layout.scanBytes, ch, block, 0, 10, new Int16Array(10)), false);
  assert.deepEqual(Array.from(layout.samples(block, 'a') as Int16Array), refValues(layout, block, 'a'));
  assert.equal(layout.view(block, 'a'), null);
  assert.match(layout.viewProblem('a', block)!, /starts at byte 1/);
});

test('SIMD (de)interleave equals the general path for every packed shape, across chunks and tails', () => {
  const rand = prng(6);
  for (const width of [1, 2, 4, 8]) {
    for (const channels of [2, 4, 8, 16]) {
      assert.notEqual(kernel('unzip', width, channels), null, `no unzip kernel for W=${width}, N=${channels}`);
      assert.notEqual(kernel('zip', width, channels), null, `no zip kernel for W=${width}, N=${channels}`);
      const types = ['s', 'u'].map((sign) => `${HOST_LITTLE_ENDIAN ? 'le' : 'be'}:${sign}${8 * width}/${8 * width}>>0`);
      const specs = Array.from({ length: channels }, (_, i) => ({ id: `c${i}`, index: 2 * i, type: types[intIn(rand, 0, 1)]! }));
      const layout = new BlockLayout(specs);
      assert.equal(layout.scanBytes, width * channels);
      // More than one 64 KiB chunk, and a tail that is not a whole group.
      const scans = Math.ceil(150_000 / layout.scanBytes) + intIn(rand, 1, 15);
      const block = randomBlock(rand, scans * layout.scanBytes + layout.scanBytes - 1, rand() < 0.5);
      const what = `W=${width} N=${channels} scans=${scans}`;
      const outs = layout.channels.map((ch) => allocateSamples(ch.kind, scans));
      const done = simdDeinterleave(block, width, outs as Parameters<typeof simdDeinterleave>[2], scans, packedShape(layout)!.decode);
      assert.equal(done, scans - (scans % (16 / width)), what);
      layout.channels.forEach((ch, i) => {
        const ref = allocateSamples(ch.kind, scans);
        demuxGeneral(layout.scanBytes, ch, block, 0, done, ref);
        assert.deepEqual(outs[i], ref, `${what}: ${ch.id}`);
      });
      // Through the public API (SIMD then per-channel tail) against the codec.
      const all = layout.samplesAll(block);
      for (const ch of layout.channels) {
        assert.deepEqual(Array.from(all[ch.id] as ArrayLike<SampleValue>), refValues(layout, block, ch.id), `${what}: ${ch.id}`);
      }
      // Interleave back: the kernel alone, then fill() over a block of different bytes.
      const copy = randomBlock(rand, block.byteLength);
      const zipped = simdInterleave(copy, width, layout.channels.map((ch) => all[ch.id]) as Parameters<typeof simdInterleave>[2], scans,
        packedShape(layout)!.decode);
      assert.equal(zipped, done, what);
      assert.deepEqual(copy.subarray(0, done * layout.scanBytes), block.subarray(0, done * layout.scanBytes), what);
      const filled = randomBlock(rand, block.byteLength);
      const tail = filled.slice(scans * layout.scanBytes);
      assert.equal(layout.fill(filled, all), scans);
      assert.deepEqual(filled.subarray(0, scans * layout.scanBytes), block.subarray(0, scans * layout.scanBytes), what);
      assert.deepEqual(filled.subarray(scans * layout.scanBytes), tail, `${what}: partial scan untouched`);
    }
  }
});

/** A random block of `channels` packed slots of `width` bytes (non-natural formats included). */
function randomPackedBlock(rand: () => number, width: number, channels: number): { layout: BlockLayout; scans: number; block: Uint8Array; specsText: string } {
  const specs = Array.from({ length: channels }, (_, i) => ({
    id: `c${i}`, index: i,
    type: { ...randomScanType(rand, { common: [8 * width], commonChance: 1, maxStorageBits: 64, maxRepeat: 1 }), repeat: 1 },
  }));
  const layout = new BlockLayout(specs);
  const scans = intIn(rand, 64, 3000);
  return { layout, scans, block: randomBlock(rand, scans * layout.scanBytes, rand() < 0.5), specsText: describeSpecs(specs) };
}

/**
 * The SIMD kernel alone into `direct` (undefined: a channel it cannot fill) against the general
 * path, over the whole groups it did; returns how many channels it checked.
 */
function checkKernel(layout: BlockLayout, block: Uint8Array, width: number, scans: number, direct: Array<SampleArray | undefined>, what: string): number {
  const done = simdDeinterleave(block, width, direct as Parameters<typeof simdDeinterleave>[2], scans, packedShape(layout)!.decode);
  assert.equal(done, scans - (scans % (16 / width)), what);
  let checked = 0;
  layout.channels.forEach((ch, i) => {
    const a = direct[i];
    if (a === undefined) return;
    checked++;
    const ref = a.slice() as SampleArray;
    demuxGeneral(layout.scanBytes, ch, block, 0, done, ref);
    assert.deepEqual(Array.from((a as Int32Array).subarray(0, done)), Array.from((ref as Int32Array).subarray(0, done)), `${what}: ${ch.id}`);
  });
  return checked;
}

test('SIMD decode of packed non-natural formats (swap, shift, mask, sign) equals the codec', () => {
  const rand = prng(12);
  let kernelChecked = 0;
  for (const width of [1, 2, 4, 8]) {
    for (const channels of [2, 4, 8, 16]) {
      for (let c = 0; c < 3; c++) {
        const { layout, scans, block, specsText } = randomPackedBlock(rand, width, channels);
        const what = `W=${width} N=${channels}: ${specsText}`;
        // Each channel into its own kind of array, or sometimes a Float64Array (converted from
        // the kernel's lanes on the way out).
        const outs = layout.channels.map((ch) =>
          typeof ch.min === 'number' && rand() < 0.3 ? new Float64Array(scans) : allocateSamples(ch.kind, scans));
        // The kernel alone, on the channels whose arrays it can fill (not numbers from 8-byte lanes).
        const direct = outs.map((a) => (laneTarget(a, width) ? a.slice() as SampleArray : undefined));
        kernelChecked += checkKernel(layout, block, width, scans, direct, `${what} (kernel)`);
        layout.samplesAllInto(block, Object.fromEntries(layout.channels.map((ch, i) => [ch.id, outs[i]!])));
        layout.channels.forEach((ch, i) => {
          assert.deepEqual(Array.from(outs[i] as ArrayLike<SampleValue>), refValues(layout, block, ch.id), `${what}: ${ch.id}`);
        });
        const one = layout.channels[intIn(rand, 0, channels - 1)]!;
        assert.deepEqual(Array.from(layout.samples(block, one.id) as ArrayLike<SampleValue>), refValues(layout, block, one.id), `${what}: ${one.id} alone`);
      }
    }
  }
  assert.ok(kernelChecked > 250, `only ${kernelChecked} channels went through the kernel`);
});

test('SIMD on a big-endian host (forced): wasm memory stays little-endian, results equal the general path', () => {
  // The swaps a kernel needs, by hand: wasm shifts read lanes as little-endian, typed arrays over
  // wasm memory read host order.
  const s12 = slotDecode(2, 12, 4, true, true); // le:s12/16>>4
  const u24 = slotDecode(4, 24, 0, false, false); // be:u24/32>>0
  const be16 = slotDecode(2, 16, 0, true, false); // be:s16/16>>0 (natural on a big-endian host)
  assert.deepEqual(slotSwaps(2, s12, true), { in: false, out: false });
  assert.deepEqual(slotSwaps(2, s12, false), { in: false, out: true });
  assert.deepEqual(slotSwaps(4, u24, true), { in: true, out: false });
  assert.deepEqual(slotSwaps(4, u24, false), { in: true, out: true });
  assert.deepEqual(slotSwaps(2, be16, true), { in: true, out: false });
  assert.deepEqual(slotSwaps(2, be16, false), { in: false, out: false });

  const rand = prng(0xbe);
  let checked = 0;
  assumeHostEndianForTesting(false);
  try {
    for (const width of [1, 2, 4, 8]) {
      for (const channels of [2, 4, 8, 16]) {
        for (let c = 0; c < 2; c++) {
          const { layout, scans, block, specsText } = randomPackedBlock(rand, width, channels);
          const what = `forced big-endian host, W=${width} N=${channels}: ${specsText}`;
          const outs = layout.channels.map((ch) => allocateSamples(ch.kind, scans));
          const direct = outs.map((a) => (laneTarget(a, width) ? a.slice() as SampleArray : undefined));
          checked += checkKernel(layout, block, width, scans, direct, what);
          // Through the public API (SIMD, then the per-channel tail) against the codec.
          const all = layout.samplesAll(block);
          for (const ch of layout.channels) {
            assert.deepEqual(Array.from(all[ch.id] as ArrayLike<SampleValue>), refValues(layout, block, ch.id), `${what}: ${ch.id}`);
          }
        }
        // Interleaving unshifted full-width slots of either byte order gives back the block.
        const types = ['le', 'be'].flatMap((e) => ['s', 'u'].map((sign) => `${e}:${sign}${8 * width}/${8 * width}>>0`));
        const layout = new BlockLayout(Array.from({ length: channels }, (_, i) => ({ id: `c${i}`, index: i, type: types[intIn(rand, 0, 3)]! })));
        const scans = 16 * intIn(rand, 4, 100);
        const block = randomBlock(rand, scans * layout.scanBytes);
        const values = layout.channels.map((ch) => {
          const out = allocateSamples(ch.kind, scans);
          demuxGeneral(layout.scanBytes, ch, block, 0, scans, out);
          return out;
        });
        const copy = randomBlock(rand, block.byteLength);
        assert.equal(simdInterleave(copy, width, values as Parameters<typeof simdInterleave>[2], scans, packedShape(layout)!.decode), scans);
        assert.deepEqual(copy, block, `forced big-endian host: zip W=${width} N=${channels}`);
      }
    }
  } finally {
    assumeHostEndianForTesting(undefined);
  }
  assert.ok(checked > 100, `only ${checked} channels went through the kernel`);
});

test('the shuffle networks are permutations that put each channel in its own vector', () => {
  for (const width of [1, 2, 4, 8]) {
    for (const channels of [2, 4, 8, 16]) {
      const unzip = shuffleNetwork('unzip', width, channels, 0);
      assert.deepEqual([...unzip.targets].sort((a, b) => a - b), Array.from({ length: channels }, (_, i) => i));
      assert.equal(unzip.shuffles.length, channels * Math.log2(channels));
      const zip = shuffleNetwork('zip', width, channels, 0);
      assert.deepEqual([...zip.targets].sort((a, b) => a - b), Array.from({ length: channels }, (_, i) => i));
    }
  }
});

test('SIMD fill is used only when values need no clamping; otherwise values are clamped', () => {
  const layout = new BlockLayout(Array.from({ length: 4 }, (_, i) => ({ id: `c${i}`, index: i, type: 'le:s16/16>>0' })));
  const scans = 64;
  const big = Int32Array.from({ length: scans }, (_, i) => (i % 2 === 0 ? 40000 : -40000));
  const block = layout.allocate(scans);
  layout.fill(block, { c0: big, c1: big, c2: big, c3: big });
  for (const ch of layout.channels) {
    assert.deepEqual(Array.from(layout.samples(block, ch.id) as Int16Array), Array.from(big, (v) => (v > 0 ? 32767 : -32768)));
  }
  // Narrower integer sources need no clamping and are widened exactly on the way in; the
  // demux can convert out into Float64Arrays the same way.
  const small = Int8Array.from({ length: scans }, (_, i) => i - 64);
  layout.fill(block, { c0: small, c1: small, c2: big, c3: small });
  const f64 = Object.fromEntries(layout.channels.map((ch) => [ch.id, new Float64Array(scans)]));
  assert.equal(layout.samplesAllInto(block, f64), scans);
  assert.deepEqual(Array.from(f64['c0']!), Array.from(small));
  assert.deepEqual(Array.from(f64['c2']!), Array.from(big, (v) => (v > 0 ? 32767 : -32768)));
});

// --- zero-copy views ---------------------------------------------------------------------------

test('strided views read the block in place and agree with copies', () => {
  const rand = prng(7);
  let viewed = 0;
  for (let c = 0; c < 300; c++) {
    const specs = randomSpecs(rand);
    for (const s of specs) {
      if (s.timestamp !== true && rand() < 0.5) {
        const bits = [8, 16, 32, 64][intIn(rand, 0, 3)]!;
        s.type = `${rand() < 0.8 ? 'le' : 'be'}:${rand() < 0.5 ? 's' : 'u'}${bits}/${bits}${rand() < 0.3 ? 'X2' : ''}>>0`;
      }
    }
    const layout = new BlockLayout(specs);
    const scans = intIn(rand, 0, 10);
    const block = randomBlock(rand, scans * layout.scanBytes + intIn(rand, 0, layout.scanBytes - 1));
    for (const ch of layout.channels) {
      const view = layout.view(block, ch.id);
      const problem = layout.viewProblem(ch.id, block);
      assert.equal(view === null, problem !== null, `${ch.id}: ${problem}`);
      if (view === null) continue;
      viewed++;
      assert.equal(view.length, scans);
      const copy = layout.samples(block, ch.id) as ArrayLike<SampleValue>;
      const read: SampleValue[] = [];
      for (let n = 0; n < view.length; n++) for (let r = 0; r < view.repeat; r++) read.push(view.array[view.offset + n * view.stride + r]!);
      assert.deepEqual(read, Array.from(copy), `${describeSpecs(specs)}: ${ch.id}`);
      // It aliases the block: a write through the view is what demux reads next.
      if (scans > 0) {
        const one = typeof view.array[0] === 'bigint' ? 1n : 1;
        (view.array as { [i: number]: SampleValue })[view.offset] = one;
        assert.equal((layout.samples(block, ch.id) as ArrayLike<SampleValue>)[0], one);
      }
    }
  }
  assert.ok(viewed > 200, `only ${viewed} views`);
});

test('viewProblem names each reason a view is impossible', () => {
  const foreign = HOST_LITTLE_ENDIAN ? 'be' : 'le';
  const host = HOST_LITTLE_ENDIAN ? 'le' : 'be';
  const layout = new BlockLayout([
    { id: 'ok', index: 0, type: `${host}:s16/16>>0` },
    { id: 'masked', index: 1, type: `${host}:s12/16>>0` },
    { id: 'shifted', index: 2, type: `${host}:u12/16>>4` },
    { id: 'swapped', index: 3, type: `${foreign}:s16/16>>0` },
    { id: 'odd', index: 4, type: `${host}:s24/24>>0` },
    { id: 'byte', index: 5, type: `${foreign}:u8/8>>0` },
  ]);
  assert.equal(layout.viewProblem('ok'), null);
  assert.equal(layout.viewProblem('byte'), null, 'one byte has no byte order');
  assert.match(layout.viewProblem('masked')!, /12 of 16 storage bits.*sign-extended/);
  assert.match(layout.viewProblem('shifted')!, /shifted by 4/);
  assert.match(layout.viewProblem('swapped')!, /byte swapping/);
  assert.match(layout.viewProblem('odd')!, /storage is 3 bytes/);
  // The kernel's ALIGN with a non-power-of-two size: u8, s16, u8X3 gives a 9-byte scan, so
  // the s16 (at offset 2) is misaligned in every other scan. Demux still works (general path).
  const odd = new BlockLayout([{ id: 'a', index: 0, type: 'le:u8/8>>0' }, { id: 'b', index: 1, type: `${host}:s16/16>>0` },
    { id: 'c', index: 2, type: 'le:u8/8X3>>0' }]);
  assert.equal(odd.scanBytes, 9);
  assert.equal(odd.channel('b').offset, 2);
  assert.match(odd.viewProblem('b')!, /offset 2 in a scan of 9 bytes is not aligned to 2/);
  const block = Uint8Array.from({ length: 27 }, (_, i) => i * 13);
  assert.equal(odd.view(block, 'b'), null);
  assert.deepEqual(Array.from(odd.samples(block, 'b') as Int16Array), refValues(odd, block, 'b'));
  // s16X3 alone: the kernel's ALIGN(6, 6) is (11 & ~5) = 10, and the 2-byte words stay aligned.
  const rep = new BlockLayout([{ id: 'a', index: 0, type: `${host}:s16/16X3>>0` }]);
  assert.equal(rep.scanBytes, 10);
  assert.equal(rep.viewProblem('a'), null);
});

// --- physical units ------------------------------------------------------------------------------

test('rawToPhysical is (raw + offset) × scale, as toPhysical; Float32 rounds once', () => {
  const rand = prng(8);
  const raw = Int32Array.from({ length: 200 }, () => intIn(rand, -(2 ** 31), 2 ** 31 - 1));
  const conv = { scale: 0.000123456, offset: -17.5 };
  const phys = rawToPhysical(raw, conv);
  assert.ok(phys instanceof Float64Array);
  raw.forEach((v, i) => assert.equal(phys[i], toPhysical(v, conv.scale, conv.offset)));
  const f32 = rawToPhysical(raw, conv, new Float32Array(200));
  raw.forEach((_, i) => assert.equal(f32[i], Math.fround(phys[i]!)));
  const big = rawToPhysical(new BigInt64Array([-(2n ** 63n), 5n]), { scale: 2 });
  assert.deepEqual(Array.from(big), [-(2 ** 64), 10]);
  assert.deepEqual(Array.from(rawToPhysical([1, 2n])), [1, 2], 'defaults: scale 1, offset 0');
  assert.throws(() => rawToPhysical(raw, { scale: NaN }), RangeError);
  assert.throws(() => rawToPhysical(raw, {}, new Float64Array(3)), RangeError);
});

test('physicalDecimals: the scale\'s decimal places plus the offset\'s, exponent forms too', () => {
  assert.equal(physicalDecimals({ scale: 0.030517578 }), 9);
  assert.equal(physicalDecimals({ scale: 0.1, offset: -2731.5 }), 2);
  assert.equal(physicalDecimals({ scale: 1.5e-7, offset: 0.25 }), 10);
  assert.equal(physicalDecimals({ scale: 1e-7 }), 7);
  assert.equal(physicalDecimals({ scale: 10, offset: 1200 }), 0);
  assert.equal(physicalDecimals({ scale: 1e21 }), 0);
  assert.equal(physicalDecimals(), 0, 'defaults: scale 1, offset 0');
  assert.throws(() => physicalDecimals({ scale: Infinity }), RangeError);
});

test('physicalToRaw inverts rawToPhysical for random types, scales and offsets', () => {
  const rand = prng(9);
  for (let c = 0; c < 300; c++) {
    const type = randomScanType(rand, { common: [8, 16, 32], commonChance: 0.7, maxStorageBits: 32, maxRepeat: 1 });
    const scale = (rand() < 0.5 ? -1 : 1) * 10 ** intIn(rand, -6, 3) * (0.5 + rand());
    const offset = rand() < 0.5 ? 0 : (rand() - 0.5) * 1000;
    const raw = Array.from({ length: 50 }, () => Number(randomValue(rand, type)));
    const back = physicalToRaw(rawToPhysical(raw, { scale, offset }), type, { scale, offset });
    assert.equal(tag(back), EXPECTED_ARRAY[sampleArrayKind(type)]);
    assert.deepEqual(Array.from(back as ArrayLike<number>), raw, `${formatScanType(type)} scale ${scale} offset ${offset}`);
  }
});

test('physicalToRaw rounds to nearest (ties away from zero), clamps, and maps NaN to 0', () => {
  const t = { endianness: 'le', signed: true, fullyDefined: false, realBits: 12, storageBits: 16, repeat: 1, shift: 0 } as const;
  const raw = physicalToRaw([2.5, -2.5, 2.4999, -2.6, 1e9, -1e9, NaN, -0.2], t);
  assert.ok(raw instanceof Int16Array);
  assert.deepEqual(Array.from(raw), [3, -3, 2, -3, 2047, -2048, 0, 0]);
  assert.ok(!Object.is(physicalToRaw([-0.2], { ...t, realBits: 40, storageBits: 64 })[0], -0), 'no negative zero');
  // x / scale - offset: 10 / 2 - 1 = 4, 11 / 2 - 1 = 4.5 → 5.
  assert.deepEqual(Array.from(physicalToRaw([10, 11], t, { scale: 2, offset: 1 }) as Int16Array), [4, 5]);
  const u64 = { ...t, signed: false, realBits: 64, storageBits: 64 };
  assert.deepEqual(Array.from(physicalToRaw([2 ** 64, -1, 2 ** 53, NaN], u64) as BigUint64Array), [2n ** 64n - 1n, 0n, 2n ** 53n, 0n]);
  const s64 = { ...t, realBits: 64, storageBits: 64 };
  assert.deepEqual(Array.from(physicalToRaw([2 ** 63, -(2 ** 63), -(2 ** 64)], s64) as BigInt64Array), [2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n)]);
  assert.throws(() => physicalToRaw([1], t, { scale: 0 }), /scale 0/);
  assert.throws(() => physicalToRaw([1], t, {}, new Int8Array(1)), TypeError);
});

test('physical(): block → physical units equals rawToPhysical(samples())', () => {
  const rand = prng(10);
  for (let c = 0; c < 100; c++) {
    const specs = randomSpecs(rand);
    const layout = new BlockLayout(specs);
    const block = randomBlock(rand, intIn(rand, 0, 12) * layout.scanBytes);
    const conv = { scale: rand() * 3, offset: intIn(rand, -100, 100) / 4 };
    for (const ch of layout.channels) {
      const ref = rawToPhysical(layout.samples(block, ch.id), conv);
      assert.deepEqual(layout.physical(block, ch.id, conv), ref, `${describeSpecs(specs)}: ${ch.id}`);
      const f32 = layout.physical(block, ch.id, conv, new Float32Array(ref.length));
      assert.deepEqual(f32, Float32Array.from(ref), `${ch.id} as Float32`);
    }
  }
});
