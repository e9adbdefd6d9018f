// The ip: client's capture throughput: our client (IioBuffer.open over `ip:`, `for await`)
// reading a 4-channel ADC of the simulated kernel (fast mode, null DMA, 1 MiB blocks) from our
// server, against libiio's own client on the same server and device in the same run:
// `iio_readdev -u ip:127.0.0.1:<port> -b <1 MiB of samples> -s <many>`. The server runs in a
// process of its own, so that each client's cost is its process's: CPU seconds per GB from
// process.cpuUsage() for ours and the server, bash's `time` for iio_readdev. Prints JSON.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { benchAdcScenario } from './bench-adc.js';
import { openContext } from '../src/open.js';
import { serve } from '../src/server/iiod/index.js';
import { machine, sig, spreadOf, summarize, type Row, timed } from './stats.js';

const BLOCK = 1 << 20;
const TOTAL = 2 ** 30; // bytes per run
const RUNS = 3;
const SCAN_BYTES = 8; // 4 × le:s16

/** The server process: prints its port, then its CPU seconds whenever a line arrives on stdin. */
async function runServer(): Promise<void> {
  const kernel = new SimKernel({ scenario: benchAdcScenario, timeMode: 'fast' });
  kernel.iio.device('bench-adc').buffer(0).dmaMode = 'null';
  const ctx = await Context.open(new LocalBackend(kernel));
  const server = await serve(ctx, { port: 0 });
  process.stdout.write(`${server.port}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'cpu') {
      const cpu = process.cpuUsage();
      process.stdout.write(`${(cpu.user + cpu.system) / 1e6}\n`);
    }
  }
  await server.close();
  await ctx.close();
}

class ServerProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;

  constructor() {
    this.#child = spawn(process.execPath, [fileURLToPath(import.meta.url), "server"], { stdio: ["pipe", "pipe", "inherit"] }) as unknown as ChildProcessWithoutNullStreams;
    this.#lines = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }

  async line(): Promise<string> {
    const r = await this.#lines.next();
    if (r.done === true) throw new Error('the server process ended early');
    return r.value;
  }

  async cpuSeconds(): Promise<number> {
    this.#child.stdin.write('cpu\n');
    return Number(await this.line());
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.stdin.end();
    await exited;
  }
}

interface Run {
  MBps: number;
  clientCpuSecondsPerGB: number;
  serverCpuSecondsPerGB: number;
}

async function ours(server: ServerProcess, port: number): Promise<Run> {
  await using ctx = await openContext(`ip:127.0.0.1:${port}`);
  await using stream = await ctx.device('bench-adc').buffer(0).open({ blockSize: BLOCK / SCAN_BYTES, blocks: 4 });
  const serverCpu0 = await server.cpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  for await (const block of stream) {
    bytes += block.bytesUsed;
    if (bytes >= TOTAL) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const gb = bytes / 1e9;
  return {
    MBps: bytes / 1e6 / seconds,
    clientCpuSecondsPerGB: (cpu.user + cpu.system) / 1e6 / gb,
    serverCpuSecondsPerGB: (await server.cpuSeconds() - serverCpu0) / gb,
  };
}

async function theirs(server: ServerProcess, port: number): Promise<Run> {
  const serverCpu0 = await server.cpuSeconds();
  const run = await timed(`iio_readdev -u ip:127.0.0.1:${port} -b ${BLOCK / SCAN_BYTES} -s ${TOTAL / SCAN_BYTES} bench-adc > /dev/null`);
  const gb = TOTAL / 1e9;
  return { MBps: TOTAL / 1e6 / run.seconds, clientCpuSecondsPerGB: run.cpuSeconds / gb, serverCpuSecondsPerGB: (await server.cpuSeconds() - serverCpu0) / gb };
}

async function main(): Promise<void> {
  const server = new ServerProcess();
  const port = Number(await server.line());
  const runs = { ours: [] as Run[], iio_readdev: [] as Run[] };
  try {
    for (let r = 0; r < RUNS; r++) {
      runs.ours.push(await ours(server, port));
      runs.iio_readdev.push(await theirs(server, port));
    }
  } finally {
    await server.stop();
  }
  const round = (x: number): number => Math.round(x * 100) / 100;
  const report = (rs: Run[]) => ({
    MBps: summarize(rs.map((r) => round(r.MBps))),
    cpuSecondsPerGB: { client: round(summarize(rs.map((r) => r.clientCpuSecondsPerGB)).median), server: round(summarize(rs.map((r) => r.serverCpuSecondsPerGB)).median) },
  });
  const o = report(runs.ours);
  const t = report(runs.iio_readdev);
  const rows: Row[] = [
    { figure: 'our ip: client ← our iiod server (1 MiB blocks)', value: sig(o.MBps.median), unit: 'MB/s', spread: spreadOf(o.MBps, 0),
      baseline: { name: "libiio 0.24's iio_readdev ← our server", value: sig(t.MBps.median), unit: 'MB/s' }, ratio: round(o.MBps.median / t.MBps.median) },
    { figure: 'our ip: client, CPU per GB (client side)', value: o.cpuSecondsPerGB.client, unit: 's/GB',
      baseline: { name: 'iio_readdev, CPU per GB', value: t.cpuSecondsPerGB.client, unit: 's/GB' }, ratio: sig(o.cpuSecondsPerGB.client / t.cpuSecondsPerGB.client) },
  ];
  console.log(JSON.stringify({
    bench: 'iiod-client',
    machine: machine(),
    rows,
    setup: { device: 'bench-adc (4 × le:s16, sim fast mode, null DMA)', server: 'serve() in its own process', blockBytes: BLOCK, bytesPerRun: TOTAL, runs: RUNS },
    ours: o,
    iio_readdev: t,
    oursOfIioReaddev: round(o.MBps.median / t.MBps.median),
  }, null, 2));
}

if (process.argv[2] === 'server') await runServer();
else await main();
