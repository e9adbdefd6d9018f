// Scan layout and scan size: kernel-abi §6.4–§6.5 (`iio_compute_scan_bytes`, iio_devbuf.rst
// example) and iiod-protocol.md "Sample size (libiio's rule)".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScanLayoutError,
  ScanTypeError,
  computeScanLayout,
  elementBytes,
  kernelAlign,
  parseScanType,
  roundUp,
  type ScanElement,
  type ScanLayout,
  type ScanLayoutRule,
  type ScanType,
} from '../src/format/index.js';
import { prng } from './support/prng.js';

const el = (index: number, type: string, timestamp = false): ScanElement =>
  timestamp ? { index, type: parseScanType(type), timestamp } : { index, type: parseScanType(type) };
const U8 = 'le:u8/8>>0';
const U16 = 'le:u16/16>>0';
const U32 = 'le:u32/32>>0';
const U64 = 'le:u64/64>>0';
const TS = 'le:s64/64>>0';

function both(elements: ScanElement[]): Record<ScanLayoutRule, ScanLayout> {
  return { kernel: computeScanLayout(elements, 'kernel'), libiio: computeScanLayout(elements, 'libiio') };
}
const codes = (l: ScanLayout): string[] => l.warnings.map((w) => w.code);

function assertLayoutError(fn: () => unknown, fragment: string, positions?: number[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScanLayoutError, `expected ScanLayoutError, got ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.ok(e.message.includes(fragment), e.message);
    if (positions !== undefined) assert.deepEqual(e.positions, positions);
    return true;
  });
}

test('§6.5 ALIGN is the kernel mask arithmetic, a round-up only for powers of two', () => {
  assert.equal(kernelAlign(0, 8), 0);
  assert.equal(kernelAlign(9, 8), 16);
  assert.equal(kernelAlign(5, 4), 8);
  assert.equal(kernelAlign(2, 6), 2); // (2+5) & ~5: not a multiple of 6
  assert.equal(kernelAlign(6, 6), 10);
  assert.equal(kernelAlign(1, 3), 1);
  assert.equal(roundUp(2, 6), 6);
  assert.equal(roundUp(6, 6), 6);
  assert.equal(roundUp(7, 6), 12);
  for (let a = 1; a <= 64; a *= 2) {
    for (let x = 0; x < 200; x++) assert.equal(kernelAlign(x, a), roundUp(x, a), `x=${x} a=${a}`);
  }
  // Never below x, even when the mask is not a round-up.
  for (let a = 1; a <= 40; a++) for (let x = 0; x < 200; x++) assert.ok(kernelAlign(x, a) >= x);
  assert.throws(() => kernelAlign(0x7fffffff, 8), ScanLayoutError);
});

test('§6.4 iio_devbuf.rst example: u16,u32,u32,u64 → offsets 0,4,8,16, size 24 (both rules)', () => {
  const elements = [el(0, U16), el(1, U32), el(2, U32), el(3, U64)];
  for (const layout of Object.values(both(elements))) {
    assert.deepEqual(layout.offsets, [0, 4, 8, 16]);
    assert.equal(layout.scanBytes, 24);
    assert.equal(layout.largest, 8);
    assert.deepEqual(layout.order, [0, 1, 2, 3]);
    assert.deepEqual(layout.warnings, []);
  }
});

test('§6.4 iio_devbuf.rst example: only ch0 and ch3 → offsets 0,8, size 16 (both rules)', () => {
  const elements = [el(0, U16), el(3, U64)];
  for (const layout of Object.values(both(elements))) {
    assert.deepEqual(layout.offsets, [0, 8]);
    assert.equal(layout.scanBytes, 16);
  }
});

test('§6.4 order is by scan index, not input order; offsets follow input positions', () => {
  // Same set as the devbuf example, given shuffled.
  const elements = [el(3, U64), el(1, U32), el(0, U16), el(2, U32)];
  for (const layout of Object.values(both(elements))) {
    assert.deepEqual(layout.offsets, [16, 4, 0, 8]);
    assert.deepEqual(layout.order, [2, 1, 3, 0]);
    assert.equal(layout.scanBytes, 24);
  }
  // Non-contiguous indices are fine.
  const sparse = computeScanLayout([el(7, U32), el(2, U16)], 'kernel');
  assert.deepEqual(sparse.offsets, [4, 0]);
  assert.equal(sparse.scanBytes, 8);
});

test('§6.5 the fixture dummy device with every channel and the timestamp: 16 bytes', () => {
  // linux-6.12-iio-sysfs.txt, iio:device0: voltage0 u13/16 #0, voltage1-voltage2 s12/16 #1,
  // voltage3-voltage4 s11/16 #2, accel_x s16/16 #3, timestamp s64/64 #4.
  const elements = [
    el(0, 'le:u13/16>>0'), el(1, 'le:s12/16>>0'), el(2, 'le:s11/16>>0'), el(3, 'le:s16/16>>0'), el(4, TS, true),
  ];
  for (const layout of Object.values(both(elements))) {
    assert.deepEqual(layout.offsets, [0, 2, 4, 6, 8]);
    assert.equal(layout.scanBytes, 16);
    assert.deepEqual(layout.warnings, []);
  }
});

test('§6.5 timestamp examples where the rules agree: u16+ts and 3×u16+ts are 16 bytes', () => {
  for (const layout of Object.values(both([el(0, U16), el(1, TS, true)]))) {
    assert.deepEqual(layout.offsets, [0, 8]);
    assert.equal(layout.scanBytes, 16);
  }
  for (const layout of Object.values(both([el(0, U16), el(1, U16), el(2, U16), el(3, TS, true)]))) {
    assert.deepEqual(layout.offsets, [0, 2, 4, 8]);
    assert.equal(layout.scanBytes, 16);
  }
});

test('§6.5 vs libiio: the kernel pads the total to the largest element, libiio does not', () => {
  const noTs = both([el(0, U32), el(1, U16)]);
  assert.deepEqual(noTs.kernel.offsets, [0, 4]);
  assert.deepEqual(noTs.libiio.offsets, [0, 4]);
  assert.equal(noTs.kernel.scanBytes, 8);
  assert.equal(noTs.libiio.scanBytes, 6);

  // A repeat element bigger than the timestamp: u16 X8 (16 bytes) + ts.
  const wide = both([el(0, 'le:u16/16X8>>0'), el(1, TS, true)]);
  assert.deepEqual(wide.kernel.offsets, [0, 16]);
  assert.equal(wide.kernel.largest, 16);
  assert.equal(wide.kernel.scanBytes, 32);
  assert.equal(wide.libiio.scanBytes, 24);

  // Repeat: s16 X4 is one 8-byte element, then a u8.
  const rep = both([el(0, 'le:s16/16X4>>0'), el(1, U8)]);
  assert.deepEqual(rep.kernel.offsets, [0, 8]);
  assert.equal(rep.kernel.scanBytes, 16);
  assert.equal(rep.libiio.scanBytes, 9);
});

test('§6.4 the kernel places the timestamp last even when its index is lower; libiio by index', () => {
  const elements = [el(0, TS, true), el(1, U16)];
  const { kernel, libiio } = both(elements);
  assert.deepEqual(kernel.order, [1, 0]);
  assert.deepEqual(kernel.offsets, [8, 0]);
  assert.equal(kernel.scanBytes, 16);
  assert.deepEqual(libiio.order, [0, 1]);
  assert.deepEqual(libiio.offsets, [0, 8]);
  assert.equal(libiio.scanBytes, 10);
  for (const layout of [kernel, libiio]) {
    assert.deepEqual(codes(layout), ['TIMESTAMP_NOT_LAST_INDEX']);
    assert.deepEqual(layout.warnings[0]!.positions, [0, 1]);
  }
  // With the timestamp on the highest index there is no warning.
  assert.deepEqual(codes(computeScanLayout([el(0, U16), el(5, TS, true)], 'kernel')), []);
});

test('§6.5 non-power-of-two element sizes: literal ALIGN, reported as a warning', () => {
  // u16 then u16 X3 (6 bytes). Kernel: ALIGN(2,6) = 2, bytes 8, ALIGN(8,6) = 8.
  // libiio: 2 rounded up to 6, size 12.
  const { kernel, libiio } = both([el(0, U16), el(1, 'le:u16/16X3>>0')]);
  assert.deepEqual(kernel.offsets, [0, 2]);
  assert.equal(kernel.largest, 6);
  assert.equal(kernel.scanBytes, 8);
  assert.deepEqual(libiio.offsets, [0, 6]);
  assert.equal(libiio.scanBytes, 12);
  for (const layout of [kernel, libiio]) {
    assert.deepEqual(codes(layout), ['NON_POWER_OF_TWO_ELEMENT']);
    assert.deepEqual(layout.warnings[0]!.positions, [1]);
    assert.match(layout.warnings[0]!.message, /6 bytes, not a power of two/);
  }
  // A 3-byte element after a u8: kernel ALIGN(1,3) = 1, total ALIGN(4,3) = 4; libiio 3 + 3 = 6.
  const odd = both([el(0, U8), el(1, 'be:u24/24>>0')]);
  assert.deepEqual(odd.kernel.offsets, [0, 1]);
  assert.equal(odd.kernel.scanBytes, 4);
  assert.deepEqual(odd.libiio.offsets, [0, 3]);
  assert.equal(odd.libiio.scanBytes, 6);
  // 3 × u16 + timestamp: the 6-byte element sits first, so both rules give 16 bytes.
  const tri = both([el(0, 'le:u16/16X3>>0'), el(1, TS, true)]);
  assert.deepEqual(tri.kernel.offsets, [0, 8]);
  assert.equal(tri.kernel.scanBytes, 16);
  assert.equal(tri.libiio.scanBytes, 16);
  assert.deepEqual(codes(tri.kernel), ['NON_POWER_OF_TWO_ELEMENT']);
});

test('iiod-protocol: libiio skips an element sharing its index with the previous one', () => {
  // Two 8-bit fields packed in one 16-bit word at index 0 (shifts 8 and 0), then a u16.
  const elements = [el(0, 'le:u8/16>>8'), el(1, U16), el(0, 'le:u8/16>>0')];
  const layout = computeScanLayout(elements, 'libiio');
  assert.equal(layout.scanBytes, 4);
  assert.deepEqual(layout.offsets, [0, 2, 0]);
  // Ties are broken by shift: the shift-0 element owns the storage.
  assert.deepEqual(layout.order, [2, 0, 1]);
  assert.deepEqual(layout.sharedWith, [2, null, null]);
  assert.deepEqual(layout.warnings, []);

  // A sharer of a different size is still skipped, but reported.
  const mismatch = computeScanLayout([el(0, U16), el(0, 'le:u8/32>>4')], 'libiio');
  assert.equal(mismatch.scanBytes, 2);
  assert.deepEqual(mismatch.sharedWith, [null, 0]);
  assert.deepEqual(codes(mismatch), ['SHARED_INDEX_SIZE_MISMATCH']);
  assert.deepEqual(mismatch.warnings[0]!.positions, [0, 1]);
});

test('kernel rule: duplicate scan indices are an error (the kernel refuses them)', () => {
  assertLayoutError(() => computeScanLayout([el(0, U16), el(1, U16), el(0, 'le:u8/16>>8')], 'kernel'),
    'duplicate scan index 0 (elements 0 and 2)', [0, 2]);
  // The timestamp's index counts too.
  assertLayoutError(() => computeScanLayout([el(1, U16), el(1, TS, true)], 'kernel'), 'duplicate scan index 1');
  assert.deepEqual(computeScanLayout([el(1, U16), el(1, TS, true)], 'libiio').sharedWith, [null, 0]);
});

test('empty input: scan size 0, nothing to place, no warnings', () => {
  for (const layout of Object.values(both([]))) {
    assert.deepEqual(
      { scanBytes: layout.scanBytes, largest: layout.largest, offsets: layout.offsets, order: layout.order, sharedWith: layout.sharedWith, warnings: layout.warnings },
      { scanBytes: 0, largest: 0, offsets: [], order: [], sharedWith: [], warnings: [] });
  }
});

test('invalid input is rejected with typed errors', () => {
  for (const rule of ['kernel', 'libiio'] as const) {
    assertLayoutError(() => computeScanLayout([el(0, U16), el(-1, U16)], rule), 'element 1 has scan index -1', [1]);
    assertLayoutError(() => computeScanLayout([el(1.5, U16)], rule), 'scan index 1.5');
    assertLayoutError(() => computeScanLayout([el(Number.NaN, U16)], rule), 'scan index NaN');
    assertLayoutError(() => computeScanLayout([el(0, TS, true), el(1, TS, true)], rule),
      'more than one timestamp element (positions 0, 1)', [0, 1]);
    const bad = { index: 3, type: { ...parseScanType(U16), storageBits: 12 } as ScanType };
    assert.throws(() => computeScanLayout([bad], rule), (e: unknown) =>
      e instanceof ScanTypeError && e.message.includes('scan element 0, index 3') &&
      e.message.includes('storage bits 12 is not a positive multiple of 8'));
  }
  assertLayoutError(() => computeScanLayout([], 'native' as ScanLayoutRule), 'unknown scan layout rule "native"');
});


test('property: power-of-two elements without a timestamp — invariants of both rules', () => {
  const rand = prng(0xdeb0f);
  const types = [U8, U16, U32, U64, 'be:s12/16>>4', 'le:u16/16X2>>0', 'le:s16/16X4>>0', 'le:u32/32X4>>0'];
  for (let n = 0; n < 2000; n++) {
    const count = Math.floor(rand() * 10);
    const indices = new Set<number>();
    while (indices.size < count) indices.add(Math.floor(rand() * 32));
    const elements = [...indices].map((i) => el(i, types[Math.floor(rand() * types.length)]!));
    const { kernel, libiio } = both(elements);
    const sizes = elements.map((e) => elementBytes(e.type));
    const largest = Math.max(0, ...sizes);
    // With power-of-two sizes ALIGN is a round-up, so placement is identical...
    assert.deepEqual(kernel.offsets, libiio.offsets);
    assert.deepEqual(kernel.order, libiio.order);
    // ...and only the final padding differs.
    assert.equal(kernel.scanBytes, largest === 0 ? 0 : roundUp(libiio.scanBytes, largest));
    assert.equal(kernel.largest, largest);
    let end = 0;
    for (const i of kernel.order) {
      assert.equal(kernel.offsets[i]! % sizes[i]!, 0, 'aligned to its own size');
      assert.ok(kernel.offsets[i]! >= end, 'no overlap, ascending');
      end = kernel.offsets[i]! + sizes[i]!;
    }
    assert.equal(libiio.scanBytes, end);
    // Ascending index.
    const idx = kernel.order.map((i) => elements[i]!.index);
    assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
    assert.deepEqual(kernel.warnings, []);
  }
});

test('§6.4/§6.5 by hand: element alignment, repeat, the timestamp last at 8-byte alignment, the total padded', () => {
  // u8 @0: L=1, offset 0, bytes 1. be:u24/32 @1: L=4, ALIGN(1,4)=4, bytes 8. s12/16 @2: L=2,
  // offset 8, bytes 10. timestamp (index 0, placed last): L=8, ALIGN(10,8)=16, bytes 24.
  // largest L = 8: size ALIGN(24,8) = 24.
  const a = computeScanLayout([el(0, TS, true), el(1, U8), el(2, 'be:u24/32>>0'), el(3, 'le:s12/16>>4')], 'kernel');
  assert.deepEqual(a.offsets, [16, 0, 4, 8]);
  assert.equal(a.scanBytes, 24);
  // s16X3: L = 2 × 3 = 6, not a power of two. After a u8 the kernel's ALIGN(1, 6) is
  // (1 + 5) & ~5 = 0b110 & ~0b101 = 0b010 = 2 (not a round-up to 6); bytes 8. A u16 after it:
  // ALIGN(8, 2) = 8, bytes 10. Largest L = 6: ALIGN(10, 6) = (10 + 5) & ~5 = 0b1111 & ~0b101 = 0b1010 = 10.
  const r = computeScanLayout([el(0, U8), el(1, 'le:s16/16X3>>0'), el(2, U16)], 'kernel');
  assert.deepEqual(r.offsets, [0, 2, 8]);
  assert.equal(r.scanBytes, 10);
  // Only a u8 and the timestamp: ALIGN(1, 8) = 8, bytes 16, size 16.
  const t = computeScanLayout([el(0, U8), el(5, TS, true)], 'kernel');
  assert.deepEqual(t.offsets, [0, 8]);
  assert.equal(t.scanBytes, 16);
});
