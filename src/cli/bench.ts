// `iio bench`: a buffer's throughput, untouched (libiio's -B) and touched by the CPU.
import type { BufferStream } from '../core/buffer-stream.js';
import type { Context } from '../core/context.js';
import { allocateSamples, type SampleArray } from '../samples/kinds.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, parseCommand, UsageError } from './args.js';
import { stopStatus, type CliEnv } from './env.js';
import { explainStreamError } from './explain.js';
import { Progress, si } from './progress.js';
import { describeStream, openStream, STREAM_OPTIONS, streamHelp, type StreamArgs } from './streaming.js';

const DEFAULT_BLOCK = 16384;
const DEFAULT_SECONDS = 2;

export const benchHelp = `Usage: iio bench [options] <device> [<channel>...]

Measures how fast a device's buffer moves samples, in two passes over a fresh stream each:
  untouched  blocks go round between the hardware and iio and the CPU never reads them (libiio's
             -B); in DMABUF mode not even a cache sync is made
  touched    every block is demuxed into per-channel arrays, as an application reads them (an
             output buffer: every block is muxed from per-channel arrays)
Each pass starts its clock when the first block completes. The result (MB/s with MB = 10^6
bytes, samples/s, and the transfer mode) goes to stdout; progress to stderr on a terminal.

Options:
${CONTEXT_HELP}
  -s, --samples <n>       samples per pass (default: as many as --duration allows)
      --duration <s>      seconds per pass (default ${DEFAULT_SECONDS})
${streamHelp(DEFAULT_BLOCK)}
      --json              print the result as JSON

Examples:
  iio bench -u sim: adc4
  iio bench -u sim: --mode fileio -b 4096 adc4 voltage0
  iio bench -u sim: --json tx
`;

export const BENCH_OPTIONS = {
  ...CONTEXT_OPTIONS,
  ...STREAM_OPTIONS,
  samples: { type: 'string', short: 's' },
  duration: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface BenchArgs extends StreamArgs {
  uri?: string;
  samples?: string;
  duration?: string;
  json?: boolean;
}

interface Pass {
  name: 'untouched' | 'touched';
  samples: number;
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  samplesPerSecond: number;
}

export async function bench(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, BENCH_OPTIONS);
  return runBench(values, positionals, env);
}

/** The benchmark of `iio bench`, and of `iio read -B` / `iio write -B` (`direction` given). */
export async function runBench(values: BenchArgs, positionals: readonly string[], env: CliEnv, direction?: 'in' | 'out'): Promise<number> {
  if (positionals.length === 0) throw new UsageError('missing <device>');
  const [deviceKey, ...channelKeys] = positionals as [string, ...string[]];
  const limit = values.samples === undefined ? 0 : integerArg(values.samples, '-s/--samples');
  const seconds = values.duration === undefined ? DEFAULT_SECONDS : Number(values.duration);
  if (!(Number.isFinite(seconds) && seconds > 0)) throw new UsageError(`--duration must be a positive number of seconds, got ${JSON.stringify(values.duration)}`);

  await using ctx = await openFromArgs(values, env);
  const dir = direction ?? benchDirection(ctx, deviceKey, values.buffer);
  const passes: Pass[] = [];
  let stream: BufferStream | undefined;
  const stop = (): void => void stream?.close();
  env.interrupt.addEventListener('abort', stop, { once: true });
  try {
    for (const name of ['untouched', 'touched'] as const) {
      stream = await openStream(ctx, deviceKey, channelKeys, dir, values, { defaultBlockSize: DEFAULT_BLOCK, cpuAccess: name === 'touched', signal: env.interrupt });
      try {
        const progress = new Progress(env.stderr, `${name} ${stream.toString()}`);
        const counted = dir === 'in' ? await capturePass(stream, name === 'touched', limit, seconds * 1000, progress)
          : await playbackPass(stream, name === 'touched', limit, seconds * 1000, progress, env.interrupt);
        progress.done();
        passes.push({ name, ...counted, bytesPerSecond: counted.bytes / counted.seconds, samplesPerSecond: counted.samples / counted.seconds });
      } catch (e) {
        throw await explainStreamError(e, stream.buffer.device, ctx);
      } finally {
        await stream.close();
      }
    }
  } catch (e) {
    if (env.interrupt.aborted) return stopStatus(env.interrupt.reason as 'SIGINT');
    throw e;
  } finally {
    env.interrupt.removeEventListener('abort', stop);
  }
  const s = stream!;
  const result = {
    device: s.buffer.device.id, name: s.buffer.device.name, buffer: s.buffer.index, direction: s.buffer.direction, mode: s.mode,
    channels: s.channels.map((c) => c.id), scanBytes: s.layout.scanBytes, blockSize: s.blockSize, blocks: s.blocks.length, passes,
  };
  if (values.json) env.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    env.stdout.write(`${describeStream(s)}\n`);
    for (const p of passes) {
      env.stdout.write(`${p.name.padEnd(10)} ${si(p.bytesPerSecond)}B/s  ${si(p.samplesPerSecond)}samples/s  (${p.samples} samples in ${p.seconds.toFixed(3)} s)\n`);
    }
  }
  return 0;
}

/** The direction of the buffer --buffer names, else of the device's first buffer. */
function benchDirection(ctx: Context, deviceKey: string, index: string | undefined): 'in' | 'out' {
  const device = ctx.device(deviceKey);
  if (index !== undefined) return device.buffer(integerArg(index, '--buffer')).direction;
  return device.buffers[0]?.direction ?? 'in';
}

type Counted = Pick<Pass, 'samples' | 'bytes' | 'seconds'>;

/** Counts the blocks after the first until the limit or the time is reached. */
async function capturePass(stream: BufferStream, touched: boolean, limit: number, ms: number, progress: Progress): Promise<Counted> {
  const outs = touched ? channelArrays(stream) : undefined;
  let start: number | undefined;
  let samples = 0;
  let bytes = 0;
  for await (const block of stream) {
    if (start === undefined) {
      start = performance.now();
      continue;
    }
    if (outs !== undefined) stream.layout.samplesAllInto(block.bytes, outs);
    samples += block.scans;
    bytes += block.bytesUsed;
    progress.add(block.scans, block.bytesUsed);
    if ((limit !== 0 && samples >= limit) || performance.now() - start >= ms) break;
  }
  return { samples, bytes, seconds: (performance.now() - start!) / 1000 };
}

/** Queues whole blocks until the limit or the time is reached, then waits until they are played. */
async function playbackPass(stream: BufferStream, touched: boolean, limit: number, ms: number, progress: Progress, signal: AbortSignal): Promise<Counted> {
  const values = touched ? channelArrays(stream) : undefined;
  const start = performance.now();
  let samples = 0;
  while ((limit === 0 || samples < limit) && performance.now() - start < ms) {
    const scans = values === undefined ? await stream.write((data) => data.length, { signal }) : await stream.write(values, { signal });
    samples += scans;
    progress.add(scans, scans * stream.layout.scanBytes);
  }
  await stream.flush({ signal });
  return { samples, bytes: samples * stream.layout.scanBytes, seconds: (performance.now() - start) / 1000 };
}

/** One array per enabled channel, a block long: where the touched passes demux to or mux from. */
function channelArrays(stream: BufferStream): Record<string, SampleArray> {
  return Object.fromEntries(stream.layout.channels.map((ch) => [ch.id, allocateSamples(ch.kind, stream.blockSize * ch.repeat)]));
}
