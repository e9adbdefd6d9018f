// The stream layer (IioBuffer.open → BufferStream) on the simulated kernel, fast time mode:
//  1. per-block overhead of the `for await` capture loop with a null DMA (blocks complete without
//     touching memory), median and p99 µs (the median over 7 alternating runs of each), against a
//     baseline in the same run: the fd-level
//     DmabufQueue loop (enqueue → wait → SYNC) the stream is built on; with fence checks (the
//     default) and without (`checkTransfers: false`);
//  2. bytes of sample data the library copies on the DMABUF path (must be 0): every
//     Uint8Array#set / #slice / Buffer.from touching a block's memory is counted during the loop;
//  3. CPU seconds per GB captured, DMABUF vs file I/O (process.cpuUsage; the sim's DMA memcpy is
//     in both, file I/O adds the read() copy).
// Prints JSON.
import { DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, dmaBufSyncStruct } from '../src/abi/index.js';
import { LocalBackend } from '../src/backends/local/backend.js';
import { allocateDmabuf } from '../src/backends/local/dmabuf-alloc.js';
import { DeviceWatch } from '../src/backends/local/device-watch.js';
import { DmabufQueue } from '../src/backends/local/dmabuf-queue.js';
import { Context } from '../src/core/context.js';
import { BENCH_ADC_SYSFS, benchAdcScenario, benchBufferFd } from './bench-adc.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { machine, sig, summarize, type Row } from './stats.js';

const SCANS = 4096; // 4 × s16: 32 KiB blocks
const BLOCKS = 4;
const LOOP_BLOCKS = 20_000;
const GB_SCANS = [4096, 131072]; // 32 KiB and 1 MiB blocks
const GB_BYTES = 256 << 20; // per mode and block size

function percentiles(ns: number[]): { medianUs: number; p99Us: number } {
  const s = summarize(ns);
  return { medianUs: s.median / 1000, p99Us: s.p99 / 1000 };
}

async function boot(dmaMode: 'null' | 'pattern'): Promise<{ ctx: Context; sim: SimKernel }> {
  const sim = new SimKernel({ scenario: benchAdcScenario, timeMode: 'fast' });
  sim.iio.device('bench-adc').buffer(0).dmaMode = dmaMode;
  return { ctx: await Context.open(new LocalBackend(sim)), sim };
}

/** Copies touching `memories` while `body` runs. */
async function countCopies(memories: Set<ArrayBufferLike>, body: () => Promise<void>): Promise<number> {
  let bytes = 0;
  const proto = Uint8Array.prototype;
  const set = proto.set;
  const slice = proto.slice;
  const from = Buffer.from;
  const touches = (v: unknown): boolean => ArrayBuffer.isView(v) && memories.has(v.buffer);
  proto.set = function (this: Uint8Array, source: ArrayLike<number>, offset?: number) {
    if (touches(this) || touches(source)) bytes += source.length;
    return set.call(this, source, offset);
  };
  proto.slice = function (this: Uint8Array, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    if (touches(this)) bytes += out.length;
    return out;
  };
  (Buffer as { from: unknown }).from = function (...args: unknown[]) {
    if (touches(args[0])) bytes += (args[0] as Uint8Array).length;
    return (from as (...a: unknown[]) => Buffer).apply(Buffer, args);
  };
  try {
    await body();
  } finally {
    proto.set = set;
    proto.slice = slice;
    (Buffer as { from: unknown }).from = from;
  }
  return bytes;
}

async function streamLoop(mode: 'dmabuf' | 'fileio', blocks = LOOP_BLOCKS, checkTransfers = true): Promise<{ perBlock: { medianUs: number; p99Us: number }; copiedBytes: number }> {
  const { ctx } = await boot(mode === 'dmabuf' ? 'null' : 'pattern');
  const stream = await ctx.device('bench-adc').buffer(0).open({ blockSize: SCANS, blocks: BLOCKS, mode, checkTransfers });
  const ns: number[] = [];
  const memories = new Set(stream.blocks.map((b) => b.data.buffer));
  const copiedBytes = await countCopies(memories, async () => {
    let n = 0;
    let t = process.hrtime.bigint();
    for await (const block of stream) {
      void block.data;
      const now = process.hrtime.bigint();
      if (n >= 1000) ns.push(Number(now - t)); // after a warm-up
      t = now;
      if (++n === blocks + 1000) break;
    }
  });
  await stream.close();
  return { perBlock: percentiles(ns), copiedBytes };
}

/** The baseline: the fd-level loop the stream is built on, same sim, same blocks. */
async function queueLoop(checkTransfers = true): Promise<{ medianUs: number; p99Us: number }> {
  const sim = new SimKernel({ scenario: benchAdcScenario, timeMode: 'fast' });
  sim.iio.device('bench-adc').buffer(0).dmaMode = 'null';
  const q = new DmabufQueue(sim, await benchBufferFd(sim), await DeviceWatch.open(sim, BENCH_ADC_SYSFS, 'bench'), 'bench', { checkTransfers });
  const bufs = [];
  for (let i = 0; i < BLOCKS; i++) bufs.push(await allocateDmabuf(sim, SCANS * 8));
  q.attach(bufs);
  for (const b of bufs) await q.enqueue(b);
  await sim.writeText(`${BENCH_ADC_SYSFS}/buffer0/enable`, '1');
  const start = dmaBufSyncStruct.encode({ flags: DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ });
  const end = dmaBufSyncStruct.encode({ flags: DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ });
  const ns: number[] = [];
  let t = process.hrtime.bigint();
  let previous: (typeof bufs)[number] | undefined;
  for (let n = 0; n < LOOP_BLOCKS + 1000; n++) {
    if (previous !== undefined) {
      sim.ioctl(previous.fd, DMA_BUF_IOCTL_SYNC, end);
      await q.enqueue(previous);
    }
    const b = bufs[n % BLOCKS]!;
    await q.wait(b);
    sim.ioctl(b.fd, DMA_BUF_IOCTL_SYNC, start);
    previous = b;
    const now = process.hrtime.bigint();
    if (n >= 1000) ns.push(Number(now - t));
    t = now;
  }
  await sim.writeText(`${BENCH_ADC_SYSFS}/buffer0/enable`, '0');
  return percentiles(ns);
}

async function cpuPerGB(mode: 'dmabuf' | 'fileio', scans: number): Promise<number> {
  const { ctx } = await boot('pattern');
  const stream = await ctx.device('bench-adc').buffer(0).open({ blockSize: scans, blocks: BLOCKS, mode });
  let bytes = 0;
  let n = 0;
  const before = process.cpuUsage();
  for await (const block of stream) {
    bytes += block.bytesUsed;
    if (++n === GB_BYTES / (scans * 8)) break;
  }
  const used = process.cpuUsage(before);
  await stream.close();
  return ((used.user + used.system) / 1e6) / (bytes / 1e9);
}

/**
 * The loops' figures over ROUNDS runs, the four loops alternating: one run's median moves by
 * ±30 % with the JIT's and the GC's state, the median of the runs' medians does not.
 */
const ROUNDS = 7;
type PerBlock = { medianUs: number; p99Us: number };
const runs: Record<'stream' | 'unchecked' | 'baseline' | 'baselineUnchecked', PerBlock[]> = { stream: [], unchecked: [], baseline: [], baselineUnchecked: [] };
let copiedBytes = 0;
for (let round = 0; round < ROUNDS; round++) {
  const checked = await streamLoop('dmabuf');
  runs.stream.push(checked.perBlock);
  copiedBytes += checked.copiedBytes;
  runs.baseline.push(await queueLoop());
  runs.unchecked.push((await streamLoop('dmabuf', LOOP_BLOCKS, false)).perBlock);
  runs.baselineUnchecked.push(await queueLoop(false));
}
const medianOfRuns = (rs: PerBlock[]): PerBlock => ({ medianUs: summarize(rs.map((r) => r.medianUs)).median, p99Us: summarize(rs.map((r) => r.p99Us)).median });
/** The runs' medians, lowest to highest, and their p99. */
const spread = (rs: PerBlock[]): string => {
  const m = rs.map((r) => r.medianUs);
  return `runs ${Math.min(...m).toFixed(1)}–${Math.max(...m).toFixed(1)}, p99 ${medianOfRuns(rs).p99Us.toFixed(1)}`;
};
const stream = { perBlock: medianOfRuns(runs.stream), copiedBytes };
const unchecked = { perBlock: medianOfRuns(runs.unchecked) };
const baseline = medianOfRuns(runs.baseline);
const baselineUnchecked = medianOfRuns(runs.baselineUnchecked);
// The copy counter's control: file I/O copies every byte (read() into the block).
const control = await streamLoop('fileio', 100);
const cpu: Record<string, { dmabuf: number; fileio: number; ratio: number }> = {};
for (const scans of GB_SCANS) {
  const dmabuf = await cpuPerGB('dmabuf', scans);
  const fileio = await cpuPerGB('fileio', scans);
  cpu[`${(scans * 8) >> 10} KiB blocks`] = { dmabuf, fileio, ratio: fileio / dmabuf };
}
const rows: Row[] = [
  { figure: 'stream loop per block, null DMA, 32 KiB blocks (sim)', value: sig(stream.perBlock.medianUs), unit: 'µs', spread: spread(runs.stream),
    baseline: { name: 'bare DmabufQueue loop', value: sig(baseline.medianUs), unit: 'µs' }, ratio: sig(stream.perBlock.medianUs / baseline.medianUs),
    goal: 'median ≤ 6 µs', met: stream.perBlock.medianUs <= 6 },
  { figure: 'stream loop per block, null DMA, 32 KiB blocks (sim), checkTransfers: false', value: sig(unchecked.perBlock.medianUs), unit: 'µs', spread: spread(runs.unchecked),
    baseline: { name: 'bare DmabufQueue loop, no fence checks', value: sig(baselineUnchecked.medianUs), unit: 'µs' }, ratio: sig(unchecked.perBlock.medianUs / baselineUnchecked.medianUs) },
  { figure: 'sample bytes copied on the DMABUF path', value: stream.copiedBytes, unit: 'bytes',
    baseline: { name: 'file I/O, counted the same way', value: control.copiedBytes, unit: 'bytes' }, goal: '0', met: stream.copiedBytes === 0 },
  ...Object.entries(cpu).map(([size, c]): Row => ({
    figure: `CPU per GB captured, DMABUF, ${size} (sim)`, value: sig(c.dmabuf), unit: 's/GB',
    baseline: { name: 'file I/O, same device and blocks', value: sig(c.fileio), unit: 's/GB' }, ratio: sig(c.dmabuf / c.fileio),
  })),
];
console.log(JSON.stringify({
  bench: 'stream',
  rows,
  machine: machine(),
  blockBytes: SCANS * 8,
  loopOverheadNullDma: { stream: stream.perBlock, baselineDmabufQueue: baseline, blocks: LOOP_BLOCKS, rounds: ROUNDS, runs },
  loopOverheadNullDmaUnchecked: { stream: unchecked.perBlock, baselineDmabufQueue: baselineUnchecked, blocks: LOOP_BLOCKS },
  sampleBytesCopiedOnDmabufPath: stream.copiedBytes,
  copyCounterControl: { fileioBlocks: 1100, bytesCopied: control.copiedBytes },
  cpuSecondsPerGB: cpu,
}, null, 2));
