// SIM-ONLY. Overruns: a capture whose consumer falls behind loses the samples the converter took
// while no block was queued (the sim's realtime mode keeps the converter's clock, docs/sim.md),
// and the stream says so — stream.overruns, stream.samplesLost and an 'overrun' event — from the
// timestamp channel or from a sample counter named at open. Fast mode loses nothing. Every gap is
// checked scan by scan against the timestamps and the signals, so a gap missed, invented or
// miscounted fails.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import type { BufferStream } from '../src/core/buffer-stream.js';
import { Context } from '../src/core/context.js';
import type { OpenStreamOptions } from '../src/core/buffer.js';
import type { StreamBlock } from '../src/core/stream-block.js';
import { SimKernel, type SimKernelOptions } from '../src/kernel/sim/index.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a capture saw: a channel's values and the timestamps, scan by scan, and the gaps reported before scan `at`. */
interface Capture {
  values: number[];
  ts: bigint[];
  gaps: Array<{ at: number; samples: number; block: StreamBlock; yielded: StreamBlock | undefined }>;
  stream: BufferStream;
  lost: number;
}

/**
 * Captures `blocks` blocks of `channel` (+ the timestamp) from `device`; after the second block the
 * consumer sleeps `stallMs` before asking for the next (what causes the overrun).
 */
async function capture(sim: SimKernelOptions, device: string, channel: string, open: Omit<OpenStreamOptions, 'channels'>, stallMs: number, blocks = 8): Promise<Capture> {
  const kernel = new SimKernel(sim);
  await using ctx = await Context.open(new LocalBackend(kernel));
  const stream = await ctx.device(device).buffer(0).open({ channels: [channel, 'timestamp'], ...open });
  const out: Capture = { values: [], ts: [], gaps: [], stream, lost: 0 };
  stream.on('overrun', ({ samples, block, scan }) => out.gaps.push({ at: out.ts.length + scan, samples, block, yielded: undefined }));
  let n = 0;
  for await (const block of stream) {
    for (const g of out.gaps) g.yielded ??= block;
    out.values.push(...Array.from(block.samples(channel), Number));
    out.ts.push(...(block.samples('timestamp') as BigInt64Array));
    if (++n === 2) await sleep(stallMs);
    if (n === blocks) break;
  }
  out.lost = kernel.iio.device(device).buffer(0).stats.lost;
  await stream.close();
  return out;
}

/**
 * Every step between consecutive scans: one sample period and one step of `next` where no gap
 * was reported, exactly the reported samples + 1 of both where one was.
 */
function assertGapsExact(c: Capture, periodNs: bigint, next: (value: number, scans: number) => number): void {
  const at = new Map(c.gaps.map((g) => [g.at, g.samples]));
  for (let i = 1; i < c.ts.length; i++) {
    const scans = (at.get(i) ?? 0) + 1;
    assert.equal(c.ts[i]! - c.ts[i - 1]!, periodNs * BigInt(scans), `timestamp step before scan ${i} (${scans - 1} samples reported lost)`);
    assert.equal(c.values[i], next(c.values[i - 1]!, scans), `value at scan ${i} (${scans - 1} samples reported lost)`);
  }
  assert.equal(c.stream.overruns, c.gaps.length);
  assert.equal(c.stream.samplesLost, c.gaps.reduce((sum, g) => sum + g.samples, 0));
  for (const g of c.gaps) assert.equal(g.block, g.yielded, 'the event names the block yielded next');
}

/** adc4's voltage2: a ramp from -32000 in steps of 16, 4000 scans long. */
const rampAfter = (v: number, scans: number): number => -32000 + 16 * ((((v + 32000) / 16) + scans) % 4000);

describe('timestamp channel', () => {
  test('realtime: a consumer that falls behind 40 ms loses samples; the timestamps and the ramp jump, and stream.overruns, samplesLost and the overrun events say where and how many', async () => {
    // adc4 samples at 1 MS/s: two blocks of 1000 scans hold 2 ms, so 40 ms late loses at least 38000.
    const c = await capture({}, 'iiojs-adc4', 'voltage2', { blockSize: 1000, blocks: 2 }, 40);
    assert.equal(c.stream.overrunCheck, 'timestamp');
    assertGapsExact(c, 1000n, rampAfter);
    assert.ok(c.stream.samplesLost >= 30_000, `${c.stream.samplesLost} samples lost`);
    assert.ok(c.stream.samplesLost <= c.lost, `the stream saw ${c.stream.samplesLost} lost, the device lost ${c.lost}`);
  });

  test('fast mode: the same late consumer loses nothing and no overrun is reported', async () => {
    const c = await capture({ timeMode: 'fast' }, 'iiojs-adc4', 'voltage2', { blockSize: 1000, blocks: 2 }, 40);
    assert.equal(c.stream.overrunCheck, 'timestamp');
    assert.equal(c.lost, 0);
    assert.deepEqual(c.gaps, []);
    assertGapsExact(c, 1000n, rampAfter);
  });

  test('a stop is no overrun: the timestamps jump across stop() and the next start, and that jump is not counted', async () => {
    await using ctx = await Context.open(new LocalBackend(new SimKernel()));
    await using stream = await ctx.device('iiojs-adc4').buffer(0).open({ channels: ['voltage2', 'timestamp'], blockSize: 1000, blocks: 2 });
    const ts: bigint[] = [];
    const gapsAt: number[] = [];
    stream.on('overrun', ({ scan }) => gapsAt.push(ts.length + scan));
    const take = async (blocks: number): Promise<void> => {
      let n = 0;
      for await (const block of stream) {
        ts.push(...(block.samples('timestamp') as BigInt64Array));
        if (++n === blocks) break;
      }
    };
    await take(2);
    await stream.stop();
    for (const b of stream.blocks) if (b.queued) await b.dequeue().catch((e: { code?: string }) => assert.equal(e.code, 'EINTR', 'the transfer the stop aborted'));
    await sleep(30); // stopped for 30 ms
    const restart = ts.length;
    await stream.start(); // after a stop, a loop only drains: start() resumes (docs/lifecycle.md)
    await take(2);
    assert.ok(ts[restart]! - ts[restart - 1]! >= 30_000_000n, `the timestamps jump across the stop (${ts[restart]! - ts[restart - 1]!} ns)`);
    assert.ok(!gapsAt.includes(restart), `no overrun where the stream restarted (gaps before scans ${gapsAt.join(', ')})`);
  });

  test('no timestamp channel and no counter: nothing can tell, overrunCheck is undefined', async () => {
    await using ctx = await Context.open(new LocalBackend(new SimKernel()));
    await using stream = await ctx.device('iiojs-adc4').buffer(0).open({ channels: ['voltage2'], blockSize: 100 });
    assert.equal(stream.overrunCheck, undefined);
    assert.equal(stream.overruns, 0);
  });
});

describe('sample counter', () => {
  // A 100 kS/s ADC whose voltage0 counts in steps of 2 (a u16 ramp: 0, 2, ..., 65534, 0, ...).
  const scenario: Scenario = {
    devices: [{
      name: 'counting-adc', samplingFrequency: 100_000,
      buffers: [{ direction: 'in', kind: 'dma' }],
      channels: [
        { type: 'voltage', index: 0, scanIndex: 0, format: 'le:u16/16>>0', waveform: { kind: 'ramp', start: 0, step: 2, period: 32768 } },
        { type: 'timestamp', scanIndex: 1, format: 'le:s64/64>>0' },
      ],
    }],
  };
  const counterAfter = (v: number, scans: number): number => (v + 2 * scans) % 65536;

  test('realtime: counter { channel, step } reports the gaps the counter shows, as many samples as the timestamps say', async () => {
    // Two blocks of 500 scans hold 10 ms at 100 kS/s: 60 ms late loses about 5000 (under the 32768 the counter can tell).
    const c = await capture({ scenario }, 'counting-adc', 'voltage0', { blockSize: 500, blocks: 2, counter: { channel: 'voltage0', step: 2 } }, 60);
    assert.equal(c.stream.overrunCheck, 'counter');
    assertGapsExact(c, 10_000n, counterAfter);
    assert.ok(c.stream.samplesLost >= 3000 && c.stream.samplesLost <= c.lost, `${c.stream.samplesLost} samples lost, the device lost ${c.lost}`);
  });

  test('a counter that is not one of the stream\'s channels, too wide, on an output buffer or with a bad step is refused, naming the buffer; nothing is left open', async () => {
    const kernel = new SimKernel({ scenario });
    await using ctx = await Context.open(new LocalBackend(kernel));
    const fds = kernel.context.fds.size;
    const buffer = ctx.device('counting-adc').buffer(0);
    const open = (counter: OpenStreamOptions['counter'], channels = ['voltage0', 'timestamp']) => buffer.open({ channels, blockSize: 10, counter });
    await assert.rejects(open({ channel: 'voltage0' }, ['timestamp']), { name: 'RangeError', message: /^buffer0 of iio:device0 \(counting-adc\): the sample counter voltage0 is not one of the stream's channels \(timestamp\)$/ });
    await assert.rejects(open({ channel: 'timestamp' }), { name: 'RangeError', message: /^buffer0 of iio:device0 \(counting-adc\): sample counter timestamp: a counter is one integer of at most 32 bits/ });
    await assert.rejects(open({ channel: 'voltage0', step: 0 }), { name: 'RangeError', message: /sample counter voltage0: step must be an integer from 1 to 65535, got 0$/ });
    await assert.rejects(open({ channel: 'voltage9' }), { code: 'ENOENT', message: /voltage9/ });
    assert.equal(kernel.context.fds.size, fds, 'every refused open closed what it opened');

    await using trx = await Context.open(new LocalBackend(new SimKernel()));
    await assert.rejects(trx.device('iiojs-trx-tx').buffer(0).open({ blockSize: 10, counter: { channel: 'voltage0' } }), { name: 'RangeError', message: /^buffer0 of iio:device4 \(iiojs-trx-tx\): a sample counter is for input buffers$/ });
  });
});
