// The scope's data path in pieces: the ring, min/max reduction, the edge trigger, measurements,
// spectra (windows, dBFS, complex input, averaging, peak hold), tone blocks, CSV columns, and
// the SigMF datatype mapping and capture segments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScanType } from '../src/format/index.js';
import { parseCsvColumns, toneLength } from '../src/scope/generator.js';
import { FFT_SIZES, SpectrumTrace, WINDOWS, type WindowName } from '../src/scope/fft.js';
import { measure } from '../src/scope/measure.js';
import { maxColumns, minMaxColumns } from '../src/scope/reduce.js';
import { SampleRing } from '../src/scope/ring.js';
import { findEdge } from '../src/scope/trigger.js';
import { parseSigmfDatatype, sigmfSampleType } from '../src/sigmf/datatype.js';
import { isIqPairs, SigmfRecording } from '../src/sigmf/recording.js';

const sine = (n: number, period: number, amplitude: number, phase = 0): Float64Array =>
  Float64Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * i) / period + phase));

test('SampleRing keeps the newest samples at their absolute positions, across the wrap', () => {
  const ring = new SampleRing(8);
  ring.push([1, 2, 3, 4, 5, 6]);
  ring.push([7, 8, 9, 10, 11], 1, 4); // 8, 9, 10
  assert.equal(ring.end, 9);
  assert.equal(ring.start, 1);
  const out = new Float32Array(5);
  ring.copy(4, out);
  assert.deepEqual([...out], [5, 6, 8, 9, 10]);
  assert.equal(ring.at(8), 10);
  assert.throws(() => ring.copy(0, new Float32Array(2)), /samples \[0, 2\) are not held \(the ring holds \[1, 9\)\)/);
  assert.throws(() => ring.copy(6, new Float32Array(4)), RangeError);
});

test('min/max columns keep a one-sample spike whatever the decimation', () => {
  const values = new Float32Array(10_000);
  values[7777] = 5;
  values[1234] = -3;
  const cols = minMaxColumns(values, 100);
  assert.equal(cols.length, 200);
  assert.equal(cols[100 + 77], 5, 'the spike is its column\'s max');
  assert.equal(cols[12], -3, 'the dip is its column\'s min');
  assert.equal(Math.max(...cols.subarray(100)), 5);
  assert.deepEqual([...maxColumns([1, 9, 2, 3], 2)], [9, 3]);
});

test('the edge trigger finds the newest crossing of the level, rising or falling, or none', () => {
  const ring = new SampleRing(4096);
  ring.push(sine(3000, 1000, 100));
  // 100·sin(2πi/1000) reaches 50 rising after i = 83.3 (+ k·1000) and falls to it after i = 416.7:
  // the edge is the first sample on the far side of the level.
  assert.equal(findEdge(ring, 'rising', 50, 0, 2999), 2084);
  assert.equal(findEdge(ring, 'rising', 50, 0, 2000), 1084);
  assert.equal(findEdge(ring, 'falling', 50, 0, 2999), 2417);
  assert.equal(findEdge(ring, 'rising', 200, 0, 2999), undefined, 'a level above the signal never triggers');
  assert.equal(findEdge(ring, 'rising', 50, 2085, 2999), undefined, 'none within the span searched');
});

test('measurements: min, max, mean, RMS and the frequency of a sine; no frequency from a flat line', () => {
  const m = measure(sine(10_000, 125, 1000, 0.3), 1_000_000);
  assert.ok(Math.abs(m.max - 1000) < 1 && Math.abs(m.min + 1000) < 1);
  assert.ok(Math.abs(m.mean) < 5);
  assert.ok(Math.abs(m.rms - 1000 / Math.SQRT2) < 2);
  assert.ok(Math.abs(m.frequency! - 8000) < 1, `${m.frequency}`);
  assert.equal(measure(new Float64Array(100).fill(3), 1000).frequency, undefined);
  assert.equal(measure(sine(100, 1000, 1), 1000).frequency, undefined, 'less than a period');
});

test('spectrum: a full-scale tone on a bin reads 0 dBFS at its frequency, whichever window', () => {
  const size = 1024;
  const fullScale = 32768;
  for (const window of Object.keys(WINDOWS) as WindowName[]) {
    const trace = new SpectrumTrace({ size, window, average: 1, peakHold: false }, false);
    const tone = Float64Array.from({ length: size }, (_, i) => fullScale * Math.cos((2 * Math.PI * 64 * i) / size) + 100);
    const { dbfs } = trace.add(tone, undefined, fullScale);
    assert.equal(dbfs.length, size / 2 + 1);
    const [peak] = SpectrumTrace.peaks(dbfs, 1, 3, (b) => trace.frequency(b, 1_000_000));
    assert.equal(peak!.bin, 64, window);
    assert.equal(peak!.frequency, 62_500);
    assert.ok(Math.abs(peak!.dbfs) < 0.05, `${window}: ${peak!.dbfs} dBFS`);
    if (window === 'rectangular') assert.ok(dbfs[0]! < -100, `the offset (100) is removed: DC is ${dbfs[0]} dBFS`);
  }
  assert.deepEqual(FFT_SIZES, [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
  assert.throws(() => new SpectrumTrace({ size: 1000, window: 'hann', average: 1, peakHold: false }, false), /power of two from 32 to 65536/);
});

test('spectrum: complex I/Q input tells +f from -f; averaging and peak hold', () => {
  const size = 256;
  const rate = 256_000;
  const iq = (k: number, a: number): [Float64Array, Float64Array] => [
    Float64Array.from({ length: size }, (_, i) => a * Math.cos((2 * Math.PI * k * i) / size)),
    Float64Array.from({ length: size }, (_, i) => a * Math.sin((2 * Math.PI * k * i) / size)),
  ];
  const trace = new SpectrumTrace({ size, window: 'hann', average: 4, peakHold: true }, true);
  const [i1, q1] = iq(-20, 1000);
  const first = trace.add(i1, q1, 1000);
  assert.equal(first.dbfs.length, size);
  const [p] = SpectrumTrace.peaks(first.dbfs, 1, 3, (b) => trace.frequency(b, rate));
  assert.equal(p!.frequency, -20_000, 'a tone turning clockwise is at a negative frequency');
  assert.ok(Math.abs(p!.dbfs) < 0.05);
  // A second frame of silence: the average falls by 1/4 in power (−1.25 dB), the held peak stays.
  const second = trace.add(new Float64Array(size), new Float64Array(size), 1000);
  assert.ok(Math.abs(second.dbfs[p!.bin]! - 10 * Math.log10(0.75)) < 0.05, `${second.dbfs[p!.bin]}`);
  assert.ok(Math.abs(second.hold![p!.bin]!) < 0.05);
});

test('tone blocks hold whole periods; impossible tones are refused', () => {
  const { length, cycles } = toneLength(25_000, 2_000_000);
  assert.equal((cycles * 2_000_000) / length, 25_000);
  assert.equal(length % 4, 0);
  const odd = toneLength(1234.5, 1_000_000);
  assert.ok(Math.abs((odd.cycles * 1_000_000) / odd.length - 1234.5) < 1);
  assert.throws(() => toneLength(600_000, 1_000_000), /below half the rate \(500000 Hz\)/);
  assert.throws(() => toneLength(0, 1_000_000), RangeError);
});

test('CSV files: one column per channel, errors naming the line', () => {
  const [a, b] = parseCsvColumns('1,2\n3;4\n\n 5 6 \n', 2);
  assert.deepEqual([...a!], [1, 3, 5]);
  assert.deepEqual([...b!], [2, 4, 6]);
  assert.throws(() => parseCsvColumns('1,2\n3\n', 2), /CSV line 2 has 1 values, 2 channels are played/);
  assert.throws(() => parseCsvColumns('1,x\n', 2), /CSV line 1, column 2: "x" is not a number/);
  assert.throws(() => parseCsvColumns('\n', 1), /no rows/);
});

test('SigMF datatypes for IIO scan formats, the conversions recorded', () => {
  const t = (id: string, f: string) => ({ id, type: parseScanType(f) });
  assert.deepEqual(sigmfSampleType([t('a', 'le:s16/16>>0'), t('b', 'le:s16/16>>0')], false), { datatype: 'ri16_le', complex: false, signed: true, bits: 16, conversions: [] });
  assert.equal(sigmfSampleType([t('i', 'le:s16/16>>0'), t('q', 'le:s16/16>>0')], true).datatype, 'ci16_le');
  assert.equal(sigmfSampleType([t('a', 'le:u8/8>>0')], false).datatype, 'ru8');
  const u12 = sigmfSampleType([t('a', 'le:u12/16>>4')], false);
  assert.deepEqual([u12.datatype, u12.conversions], ['ru16_le', ['a: le:u12/16>>4 -> ru16_le (shifted right by 4, zero-extended from 12 to 16 bits)']]);
  const mixed = sigmfSampleType([t('a', 'le:s16/16>>0'), t('b', 'le:u16/16>>0')], false);
  assert.equal(mixed.datatype, 'ri32_le', 'an unsigned 16-bit channel beside a signed one needs 32 bits');
  assert.equal(sigmfSampleType([t('a', 'le:s24/32>>8')], false).conversions[0], 'a: le:s24/32>>8 -> ri32_le (shifted right by 8, sign-extended from 24 to 32 bits)');
  assert.throws(() => sigmfSampleType([t('ts', 'le:s64/64>>0')], false), /no integer type wider than 32 bits for ts \(le:s64\/64>>0\)/);
  assert.deepEqual(parseSigmfDatatype('cf32_le'), { complex: true, float: true, signed: true, bits: 32, littleEndian: true });
  assert.deepEqual(parseSigmfDatatype('ri16'), { complex: false, float: false, signed: true, bits: 16, littleEndian: true });
  assert.throws(() => parseSigmfDatatype('ri24_le'), /is no SigMF datatype/);
  assert.ok(isIqPairs(['voltage0_i', 'voltage0_q', 'voltage1_i', 'voltage1_q']));
  assert.ok(!isIqPairs(['voltage0_i', 'voltage1_q']));
  assert.ok(!isIqPairs(['voltage0']));
});

test('a SigMF recording interleaves its channels and starts a capture segment at each gap', () => {
  const rec = new SigmfRecording([{ id: 'a', type: parseScanType('le:s16/16>>0') }, { id: 'b', type: parseScanType('le:s16/16>>0') }],
    { sampleRate: 1000, hw: 'test', datetime: new Date('2026-01-01T00:00:00Z'), device: 'iio:device0', uri: 'sim:' });
  const bytes = rec.encode({ a: Int16Array.of(1, 2, 3), b: Int16Array.of(-1, -2, -3) }, 1, 3);
  assert.deepEqual([...new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)], [2, -2, 3, -3]);
  rec.gap(500);
  rec.encode({ a: Int16Array.of(4), b: Int16Array.of(-4) }, 0, 1);
  const meta = rec.meta() as any;
  assert.equal(rec.scans, 3);
  assert.deepEqual(meta.captures, [
    { 'core:sample_start': 0, 'core:global_index': 0, 'core:datetime': '2026-01-01T00:00:00.000Z' },
    { 'core:sample_start': 2, 'core:global_index': 502, 'core:datetime': '2026-01-01T00:00:00.502Z' },
  ]);
  assert.equal(meta.global['iiojs:samples_lost'], 500);
  assert.equal(meta.global['core:num_channels'], 2);
});
