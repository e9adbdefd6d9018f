// One input buffer shared by four readers: four libiio 0.24 `iio_readdev -u ip:` processes on the
// same 4-channel ADC of the simulated kernel (null DMA: the server's own cost), the same (union)
// mask, different block sizes, started together; against one reader alone, measured in the same
// run. A shared buffer paces its readers to the slowest, so the slowest reader's rate is what the
// figure compares. Two regimes:
//   - fast: the device as fast as its readers, so the machine is the limit (on two cores, four
//     readers and the server have no core to spare: the aggregate is what to read there);
//   - realtime: the device at its 10 MS/s (80 MB/s a reader), leaving cores to spare, where the
//     goal applies: each of the four ≥ 0.8× the lone reader's rate.
// CPU seconds per GB sent: process.cpuUsage() of the server process. Prints JSON.
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel, type SimKernelOptions } from '../src/kernel/sim/index.js';
import { serve } from '../src/server/iiod/index.js';
import { benchAdcScenario } from './bench-adc.js';
import { machine, sig, spreadOf, summarize, timed, type Row } from './stats.js';

const SCAN_BYTES = 8; // 4 × le:s16
/** Bytes each reader takes: fast mode, and at the device's 80 MB/s. */
const PER_READER = { fast: 2 ** 30, realtime: 2 ** 28 };
const BLOCKS = [32768, 65536, 131072, 262144]; // samples per READBUF of the four readers
const LONE_BLOCK = 131072;
const RUNS = 3;

interface Measure {
  /** MB/s of each reader. */
  readers: number[];
  /** Server CPU seconds per GB sent, all readers together. */
  serverCpuPerGB: number;
}

type Regime = NonNullable<SimKernelOptions['timeMode']>;

async function measure(regime: Regime, blocks: readonly number[]): Promise<Measure> {
  const bytes = PER_READER[regime];
  const kernel = new SimKernel({ scenario: benchAdcScenario, timeMode: regime });
  kernel.iio.device('bench-adc').buffer(0).dmaMode = 'null';
  await using ctx = await Context.open(new LocalBackend(kernel));
  await using server = await serve(ctx, { port: 0 });
  const cpu0 = process.cpuUsage();
  const runs = await Promise.all(blocks.map((b) => timed(`iio_readdev -u ip:127.0.0.1:${server.port} -b ${b} -s ${bytes / SCAN_BYTES} bench-adc > /dev/null`)));
  const cpu = process.cpuUsage(cpu0);
  const gb = (bytes * blocks.length) / 1e9;
  return { readers: runs.map((r) => bytes / 1e6 / r.seconds), serverCpuPerGB: (cpu.user + cpu.system) / 1e6 / gb };
}

async function regime(mode: Regime): Promise<{ rows: Row[]; met: boolean; detail: Record<string, unknown> }> {
  const lone: Measure[] = [];
  const shared: Measure[] = [];
  for (let run = 0; run < RUNS; run++) {
    lone.push(await measure(mode, [LONE_BLOCK]));
    shared.push(await measure(mode, BLOCKS));
  }
  const loneMBps = summarize(lone.map((m) => m.readers[0]!));
  // Per run, the slowest of the four: every reader must meet the goal.
  const slowestMBps = summarize(shared.map((m) => Math.min(...m.readers)));
  const aggregateMBps = summarize(shared.map((m) => m.readers.reduce((a, b) => a + b, 0)));
  const ratio = sig(slowestMBps.median / loneMBps.median);
  const cpuShared = sig(summarize(shared.map((m) => m.serverCpuPerGB)).median);
  const cpuLone = sig(summarize(lone.map((m) => m.serverCpuPerGB)).median);
  const what = mode === 'fast' ? 'device as fast as its readers' : 'device at 10 MS/s, 80 MB/s';
  const met = mode === 'fast' || ratio >= 0.8;
  const rows: Row[] = [
    { figure: `iiod server, 4 iio_readdev sharing one buffer (${what}; union mask, -b ${BLOCKS.join('/')}): the slowest reader`, value: sig(slowestMBps.median), unit: 'MB/s', spread: spreadOf(slowestMBps, 0),
      baseline: { name: `one iio_readdev alone (-b ${LONE_BLOCK})`, value: sig(loneMBps.median), unit: 'MB/s' }, ratio,
      ...(mode === 'realtime' ? { goal: '≥ 0.8× of one reader, per reader', met } : {}) },
    { figure: `iiod server, 4 readers sharing one buffer (${what}): aggregate`, value: sig(aggregateMBps.median), unit: 'MB/s', spread: spreadOf(aggregateMBps, 0),
      baseline: { name: 'one iio_readdev alone', value: sig(loneMBps.median), unit: 'MB/s' }, ratio: sig(aggregateMBps.median / loneMBps.median) },
    { figure: `iiod server CPU per GB sent, 4 readers sharing one buffer (${what})`, value: cpuShared, unit: 's/GB',
      baseline: { name: 'one reader alone', value: cpuLone, unit: 's/GB' }, ratio: sig(cpuShared / cpuLone) },
  ];
  return { rows, met, detail: { bytesPerReader: PER_READER[mode], lone: { MBps: loneMBps, serverCpuSecondsPerGB: cpuLone }, shared: { slowestMBps, aggregateMBps, serverCpuSecondsPerGB: cpuShared, runs: shared } } };
}

async function main(): Promise<void> {
  const fast = await regime('fast');
  const realtime = await regime('realtime');
  process.stdout.write(JSON.stringify({
    benchmark: 'iiod-share',
    machine: machine(),
    rows: [...realtime.rows, ...fast.rows],
    readerBlocks: BLOCKS,
    realtime: realtime.detail,
    fast: fast.detail,
    goal: 'realtime: slowest shared reader >= 0.8 × lone reader',
    meetsGoal: realtime.met,
  }, null, 2) + '\n');
}

await main();
