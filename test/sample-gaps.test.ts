// The gap finders of src/samples/gaps.ts on blocks built here: the timestamp channel in either
// byte order (gaps inside a block and between blocks, jitter below the tolerance, values past
// 2^53 ns), and sample counters (wrapping at their width, signed or not, with a step).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BlockLayout } from '../src/samples/block-layout.js';
import { CounterGaps, TimestampGaps, type GapFinder } from '../src/samples/gaps.js';

/** The gaps `finder` reports in `blocks`, as [block, scan, samples]. */
function gapsIn(finder: GapFinder, blocks: Uint8Array[]): Array<[number, number, number]> {
  const found: Array<[number, number, number]> = [];
  blocks.forEach((block, b) => finder.scan(block, (scan, samples) => found.push([b, scan, samples])));
  return found;
}

describe('TimestampGaps', () => {
  for (const endianness of ['le', 'be'] as const) {
    test(`${endianness}: gaps inside a block and between blocks, as round(interval / period) - 1 samples; jitter under half a period is none`, () => {
      const layout = new BlockLayout([
        { id: 'voltage0', index: 0, type: `${endianness}:s16/16>>0` },
        { id: 'timestamp', index: 1, type: `${endianness}:s64/64>>0`, timestamp: true },
      ]);
      const period = 1000;
      const t0 = 1_796_316_979_463_240_363n; // CLOCK_REALTIME ns: far beyond 2^53
      // Scan k of the stream at t0 + k periods, ±300 ns of jitter; scans 5..7 and 12..20 lost.
      const kept = [0, 1, 2, 3, 4, 8, 9, 10, 11, 21, 22, 23];
      const jitter = [0, 300, -300, 100, 0, -250, 100, 0, 300, 0, -300, 0];
      const block = (ks: number[], js: number[]): Uint8Array => {
        const bytes = layout.allocate(ks.length);
        const view = new DataView(bytes.buffer);
        ks.forEach((k, i) => view.setBigInt64(i * layout.scanBytes + 8, t0 + BigInt(k * period + js[i]!), endianness === 'le'));
        return bytes;
      };
      const finder = TimestampGaps.of(layout, layout.channel('timestamp'), period)!;
      // Blocks of 6 scans: block 0 holds scans 0-4 and 8 (3 lost before its scan 5), block 1
      // scans 9-11 and 21-23 (9 lost before its scan 3).
      assert.deepEqual(gapsIn(finder, [block(kept.slice(0, 6), jitter.slice(0, 6)), block(kept.slice(6), jitter.slice(6))]), [[0, 5, 3], [1, 3, 9]]);
      finder.reset();
      // After a reset the first scan has nothing to follow: a jump there is no gap.
      assert.deepEqual(gapsIn(finder, [block([100, 101], [0, 0]), block([102, 104], [0, 0])]), [[1, 1, 1]]);
    });
  }

  test('only a 64-bit timestamp can be read', () => {
    const layout = new BlockLayout([{ id: 'timestamp', index: 0, type: 'le:s32/32>>0', timestamp: true }]);
    assert.equal(TimestampGaps.of(layout, layout.channel('timestamp'), 1000), undefined);
  });
});

describe('CounterGaps', () => {
  test('a u16 counter: wrapping at 2^16 is no gap, a jump is (across the wrap too)', () => {
    const layout = new BlockLayout([{ id: 'count', index: 0, type: 'le:u16/16>>0' }]);
    const block = (values: number[]): Uint8Array => new Uint8Array(Uint16Array.from(values).buffer);
    const finder = new CounterGaps(layout, layout.channel('count'), 1);
    assert.deepEqual(gapsIn(finder, [block([65533, 65534, 65535, 0, 1]), block([2, 7, 8]), block([65530]), block([65535, 4])]), [
      [1, 1, 4], // 2 → 7
      [2, 0, 65521], // 8 → 65530, a block later
      [3, 0, 4], // 65530 → 65535
      [3, 1, 4], // 65535 → 4, across the wrap
    ]);
  });

  test('a signed 12-bit counter in steps of 2 wraps at 2^12; a repeated value is no gap', () => {
    const layout = new BlockLayout([{ id: 'count', index: 0, type: 'be:s12/16>>4' }]);
    const block = (values: number[]): Uint8Array => {
      const bytes = layout.allocate(values.length);
      values.forEach((v, i) => new DataView(bytes.buffer).setInt16(2 * i, v << 4, false));
      return bytes;
    };
    const finder = new CounterGaps(layout, layout.channel('count'), 2);
    assert.deepEqual(gapsIn(finder, [block([2044, 2046, -2048, -2046, -2046, -2040])]), [[0, 5, 2]]);
  });

  test('what cannot be a counter is refused, naming it', () => {
    const layout = new BlockLayout([{ id: 'wide', index: 0, type: 'le:u48/64>>0' }, { id: 'pair', index: 1, type: 'le:u16/16X2>>0' }, { id: 'n', index: 2, type: 'le:u8/8>>0' }]);
    assert.throws(() => new CounterGaps(layout, layout.channel('wide'), 1), { name: 'RangeError', message: 'sample counter wide: a counter is one integer of at most 32 bits, the channel is 1 × 48 bits' });
    assert.throws(() => new CounterGaps(layout, layout.channel('pair'), 1), { name: 'RangeError', message: /^sample counter pair: a counter is one integer of at most 32 bits, the channel is 2 × 16 bits$/ });
    assert.throws(() => new CounterGaps(layout, layout.channel('n'), 256), { name: 'RangeError', message: 'sample counter n: step must be an integer from 1 to 255, got 256' });
    assert.throws(() => new CounterGaps(layout, layout.channel('n'), 1.5), { name: 'RangeError', message: /got 1\.5$/ });
  });
});
