// The simulated capture DMA's fast path: a pre-rendered window of scans copied out with
// Uint8Array.set. Checked against encoding every sample individually with the sample codec
// (kernel-abi §6.3) at the kernel's scan layout (§6.5), for random layouts and positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeScanLayout,
  elementBytes,
  encodeSample,
  parseScanType,
  type ScanElement,
  type ScanType,
} from '../src/format/index.js';
import { ScanPattern, patchTimestamps, type PatternElement } from '../src/kernel/sim/pattern.js';
import { channelSignal, tableSignal, type ChannelSignal } from '../src/kernel/sim/signal.js';
import { prng } from './support/prng.js';
import { intIn, randomScanType } from './support/random-scan-type.js';


const randomType = (rand: () => number): ScanType => randomScanType(rand, { common: [8, 16, 32, 64], commonChance: 0.8, maxStorageBits: 72, maxRepeat: 3 });

function randomSignal(rand: () => number, type: ScanType): ChannelSignal {
  const pick = rand();
  if (pick < 0.5) {
    // Arbitrary values (including out-of-range ones, which the table clamps) with a random period.
    const period = intIn(rand, 1, 300);
    return tableSignal(Array.from({ length: period }, () => (rand() - 0.5) * 2 ** Math.min(type.realBits + 1, 60)), type);
  }
  if (pick < 0.7) return channelSignal({ kind: 'ramp', step: intIn(rand, -5, 5) }, type, 1000)!;
  if (pick < 0.85) return channelSignal({ kind: 'noise', seed: intIn(rand, 0, 1000), period: intIn(rand, 1, 500) }, type, 1000)!;
  return channelSignal({ kind: 'sine', frequency: intIn(rand, 1, 400) }, type, 1000)!;
}

interface Layout {
  elements: PatternElement[];
  scanBytes: number;
}

function randomLayout(rand: () => number): Layout {
  const count = intIn(rand, 1, 6);
  const scan: ScanElement[] = [];
  for (let i = 0; i < count; i++) scan.push({ index: i * 2 + intIn(rand, 0, 1), type: randomType(rand) });
  if (rand() < 0.3) scan.push({ index: 99, type: parseScanType('le:s64/64>>0'), timestamp: true });
  const layout = computeScanLayout(scan, 'kernel');
  const elements = scan.map((e, i): PatternElement => (e.timestamp === true
    ? { type: e.type, offset: layout.offsets[i]! }
    : { type: e.type, offset: layout.offsets[i]!, signal: randomSignal(rand, e.type) }));
  return { elements, scanBytes: layout.scanBytes };
}

/**
 * The bytes of absolute scan `s`, encoded sample by sample. Elements that jump at the window's
 * wrap take their samples from the window position, all others from the absolute position.
 */
function referenceScan(layout: Layout, pattern: ScanPattern, s: number): Uint8Array {
  const bytes = new Uint8Array(layout.scanBytes);
  const view = new DataView(bytes.buffer);
  for (const [i, e] of layout.elements.entries()) {
    if (e.signal === undefined) continue;
    const n = pattern.seams.includes(i) ? s % pattern.windowScans : s;
    for (let r = 0; r < e.type.repeat; r++) encodeSample(view, e.offset, e.type, e.signal.at(n * e.type.repeat + r), r);
  }
  return bytes;
}

function reference(layout: Layout, pattern: ScanPattern, firstScan: number, byteInScan: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = firstScan;
  let o = -byteInScan;
  while (o < length) {
    const scan = referenceScan(layout, pattern, s);
    for (let j = 0; j < scan.length; j++) if (o + j >= 0 && o + j < length) out[o + j] = scan[j]!;
    o += layout.scanBytes;
    s++;
  }
  return out;
}

test('fill equals per-sample encoding for random layouts, start positions and lengths', () => {
  const rand = prng(0x9a77e4);
  let seamed = 0;
  let wrapped = 0;
  for (let iter = 0; iter < 150; iter++) {
    const layout = randomLayout(rand);
    // Small budgets force wrap-around and, sometimes, seams.
    const maxBytes = rand() < 0.5 ? intIn(rand, 1, 40) * layout.scanBytes : 1 << 20;
    const pattern = new ScanPattern(layout.elements, layout.scanBytes, { maxBytes, minBytes: intIn(rand, 0, 4096) });
    assert.equal(pattern.data.length, pattern.windowScans * layout.scanBytes);
    assert.ok(pattern.data.length <= Math.max(maxBytes, layout.scanBytes));
    if (pattern.seams.length > 0) seamed++;
    for (let k = 0; k < 6; k++) {
      const firstScan = rand() < 0.3 ? intIn(rand, 0, 5) : rand() < 0.5 ? intIn(rand, 0, 1e6) : intIn(rand, 0, 1e12);
      const byteInScan = rand() < 0.5 ? 0 : intIn(rand, 0, layout.scanBytes - 1);
      const length = intIn(rand, 0, Math.min(3 * pattern.data.length + 50, 20000));
      if (length > pattern.data.length) wrapped++;
      const dest = new Uint8Array(length).fill(0xee);
      pattern.fill(dest, firstScan, byteInScan);
      assert.deepEqual(dest, reference(layout, pattern, firstScan, byteInScan, length),
        `iter ${iter}: scan ${layout.scanBytes} B, window ${pattern.windowScans}, first ${firstScan}+${byteInScan}, length ${length}`);
    }
  }
  assert.ok(seamed >= 10 && wrapped >= 50, `coverage: ${seamed} with seams, ${wrapped} wrapping fills`);
});

test('a seamless window repeats every element exactly; consecutive blocks continue the stream', () => {
  const type = parseScanType('le:s16/16>>0');
  const elements: PatternElement[] = [
    { type, offset: 0, signal: tableSignal([1, 2, 3], type) },
    { type, offset: 2, signal: tableSignal([10, 20, 30, 40], type) },
    { type: parseScanType('le:s64/64>>0'), offset: 8 },
  ];
  const pattern = new ScanPattern(elements, 16, { minBytes: 0 });
  assert.equal(pattern.periodScans, 12);
  assert.equal(pattern.windowScans, 12);
  assert.deepEqual(pattern.seams, []);

  // One 1000-byte fill equals odd-sized blocks filled one after another (partial scans).
  const whole = new Uint8Array(1000);
  pattern.fill(whole, 5);
  const pieces = new Uint8Array(1000);
  let pos = 0;
  for (const size of [7, 16, 1, 33, 100, 250, 593]) {
    const scan = 5 + Math.floor(pos / 16);
    pattern.fill(pieces.subarray(pos, pos + size), scan, pos % 16);
    pos += size;
  }
  assert.equal(pos, 1000);
  assert.deepEqual(pieces, whole);
  const view = new DataView(whole.buffer);
  for (let s = 0; s < 62; s++) {
    assert.equal(view.getInt16(s * 16, true), [1, 2, 3][(5 + s) % 3]);
    assert.equal(view.getInt16(s * 16 + 2, true), [10, 20, 30, 40][(5 + s) % 4]);
    assert.equal(view.getBigInt64(s * 16 + 8, true), 0n, 'no signal: left zero for the caller');
  }
});

test('the window is replicated to minBytes so copies are long, within maxBytes', () => {
  const type = parseScanType('le:u8/8>>0');
  const p = new ScanPattern([{ type, offset: 0, signal: tableSignal([1, 2, 3], type) }], 4);
  assert.equal(p.windowScans % 3, 0);
  assert.ok(p.data.length >= 64 * 1024 && p.data.length < 64 * 1024 + 12, String(p.data.length));
  const capped = new ScanPattern([{ type, offset: 0, signal: tableSignal([1, 2, 3], type) }], 4, { maxBytes: 100 });
  assert.equal(capped.windowScans, 24);
  assert.deepEqual(capped.seams, []);
});

test('periods beyond the budget become seams; the rest stays exact', () => {
  const type = parseScanType('le:s16/16>>0');
  const short = tableSignal([1, -1], type);
  const long = tableSignal(Array.from({ length: 1001 }, (_v, i) => i), type);
  const none = channelSignal({ kind: 'ramp' }, parseScanType('le:s64/64>>0'), 1)!; // 2^64 samples: no period
  assert.equal(none.period, undefined);
  const elements: PatternElement[] = [
    { type, offset: 0, signal: short },
    { type, offset: 2, signal: long },
    { type: parseScanType('le:s64/64>>0'), offset: 8, signal: none },
  ];
  const p = new ScanPattern(elements, 16, { maxBytes: 16 * 500 });
  assert.deepEqual(p.seams, [1, 2]);
  assert.equal(p.periodScans, undefined);
  assert.equal(p.windowScans, 500);
  // The short signal is seamless across the wrap; the long one restarts at the window's start.
  const dest = new Uint8Array(16 * 4);
  p.fill(dest, 498);
  const view = new DataView(dest.buffer);
  assert.deepEqual([0, 1, 2, 3].map((s) => view.getInt16(s * 16, true)), [1, -1, 1, -1]);
  assert.deepEqual([0, 1, 2, 3].map((s) => view.getInt16(s * 16 + 2, true)), [498, 499, 0, 1]);

  const fits = new ScanPattern(elements.slice(0, 2), 16, { maxBytes: 16 * 5000 });
  assert.deepEqual(fits.seams, []);
  assert.equal(fits.periodScans, 2002);
  assert.equal(fits.windowScans, 4004);
});

test('repeat elements take consecutive samples: the period in scans is period/gcd(period, repeat)', () => {
  const type = parseScanType('le:u16/16X3>>0');
  const signal = tableSignal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], type);
  const p = new ScanPattern([{ type, offset: 0, signal }], 8, { minBytes: 0 });
  assert.equal(p.periodScans, 10);
  const dest = new Uint8Array(8 * 4);
  p.fill(dest, 0);
  const view = new DataView(dest.buffer);
  assert.deepEqual([0, 1, 2, 3].map((s) => [0, 1, 2].map((r) => view.getUint16(s * 8 + 2 * r, true))),
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]);
});

test('argument checks', () => {
  const type = parseScanType('le:u16/16>>0');
  assert.throws(() => new ScanPattern([{ type, offset: 3 }], 4), /does not fit a 4-byte scan/);
  assert.throws(() => new ScanPattern([], 0), /scan size must be a positive integer/);
  const p = new ScanPattern([{ type, offset: 0, signal: tableSignal([1], type) }], 2);
  assert.throws(() => p.fill(new Uint8Array(4), -1), RangeError);
  assert.throws(() => p.fill(new Uint8Array(4), 0, 2), RangeError);
  p.fill(new Uint8Array(0), 7); // an empty block is fine
  assert.equal(elementBytes(type), 2);
});

function refStamp(t0: bigint, k: number, periodNs: number): bigint {
  return BigInt.asIntN(64, t0 + BigInt(Math.round(k * periodNs)));
}

test('patchTimestamps writes t0 + round(k × period) for every scan, partial ones included', () => {
  const rand = prng(0x7157);
  for (let iter = 0; iter < 400; iter++) {
    const scanBytes = 8 * intIn(rand, 1, 4) + (rand() < 0.2 ? 8 : 0);
    const offset = 8 * intIn(rand, 0, scanBytes / 8 - 1);
    const endianness = rand() < 0.7 ? 'le' as const : 'be' as const;
    const periodNs = rand() < 0.5 ? intIn(rand, 1, 1e7) : rand() < 0.5 ? 1e9 / intIn(rand, 1, 5e6) : intIn(rand, 2 ** 32 - 10, 2 ** 33);
    const t0 = rand() < 0.3 ? BigInt(intIn(rand, 0, 1e6)) : rand() < 0.5
      ? 1_700_000_000_000_000_000n + BigInt(intIn(rand, 0, 1e9))
      : 2n ** 63n - BigInt(intIn(rand, 1, 1e9)); // wraps to negative
    const firstScan = rand() < 0.5 ? intIn(rand, 0, 100) : intIn(rand, 0, 1e9);
    const byteInScan = rand() < 0.5 ? 0 : intIn(rand, 0, scanBytes - 1);
    const length = intIn(rand, 0, 400);
    // A misaligned view half the time (the DataView path).
    const backing = new Uint8Array(length + 3);
    const dest = backing.subarray(rand() < 0.5 ? 0 : intIn(rand, 1, 3)).subarray(0, length).fill(0xcc);
    patchTimestamps(dest, firstScan, { offset, scanBytes, endianness }, t0, periodNs, byteInScan);

    const expected = new Uint8Array(length).fill(0xcc);
    const ev = new DataView(new ArrayBuffer(8));
    for (let k = firstScan, at = offset - byteInScan; at < length; k++, at += scanBytes) {
      ev.setBigInt64(0, refStamp(t0, k, periodNs), endianness === 'le');
      for (let j = 0; j < 8; j++) if (at + j >= 0 && at + j < length) expected[at + j] = ev.getUint8(j);
    }
    assert.deepEqual(dest, expected, `iter ${iter}: scan ${scanBytes} @${offset} ${endianness} period ${periodNs} first ${firstScan}+${byteInScan} len ${length}`);
  }
});

test('patchTimestamps completes a ScanPattern fill: a 1 MS/s ADC block', () => {
  const s16 = parseScanType('le:s16/16>>0');
  const ts = parseScanType('le:s64/64>>0');
  const layout = computeScanLayout([
    { index: 0, type: s16 }, { index: 1, type: s16 }, { index: 2, type: ts, timestamp: true },
  ], 'kernel');
  assert.deepEqual(layout.offsets, [0, 2, 8]);
  const pattern = new ScanPattern([
    { type: s16, offset: 0, signal: channelSignal({ kind: 'sine', frequency: 1000 }, s16, 1e6)! },
    { type: s16, offset: 2, signal: channelSignal({ kind: 'ramp' }, s16, 1e6)! },
    { type: ts, offset: 8 },
  ], layout.scanBytes);
  const block = new Uint8Array(layout.scanBytes * 4096);
  const t0 = 1_700_000_000_123_456_789n;
  pattern.fill(block, 4096 * 3);
  patchTimestamps(block, 4096 * 3, { offset: 8, scanBytes: layout.scanBytes }, t0, 1000);
  const view = new DataView(block.buffer);
  for (const s of [0, 1, 2000, 4095]) {
    assert.equal(view.getBigInt64(s * 16 + 8, true), t0 + BigInt((4096 * 3 + s) * 1000));
    assert.equal(view.getInt16(s * 16 + 2, true), -32768 + ((4096 * 3 + s) % 65536));
  }
  assert.throws(() => patchTimestamps(block, 0, { offset: 12, scanBytes: 16 }, 0n, 1), RangeError);
  assert.throws(() => patchTimestamps(block, 0, { offset: 8, scanBytes: 16 }, 0n, -1), RangeError);
});
