// `iio bench`: a buffer's throughput, untouched (libiio's -B) and touched by the CPU.
import type { BufferStream } from '../core/buffer-stream.js';
import type { Context } from '../core/context.js';
import { allocateSamples, type SampleArray } from '../samples/kinds.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, parseCommand, UsageError } from './args.js';
import { stopStatus, type CliEnv } from './env.js';
import { explainStreamError } from './explain.js';
import { Progress, si } from './progress.js';
import { describeStream, openStream, stopCapture, STREAM_OPTIONS, streamHelp, type StreamArgs } from './streaming.js';

const DEFAULT_BLOCK = 16384;
const DEFAULT_SECONDS = 2;
/** Without -b, blocks short enough at the device's rate for a pass to see this many. */
const BLOCKS_PER_PASS = 10;

export const benchHelp = `Usage: iio bench [options] <device> [<channel>...]

Measures how fast a device's buffer moves samples, in two passes over a fresh stream each:
  untouched  blocks go round between the hardware and iio and the CPU never reads them (libiio's
             -B); in DMABUF mode not even a cache sync is made
  touched    every block is demuxed into per-channel arrays, as an application reads them (an
             output buffer: every block is muxed from per-channel arrays)
Each pass lasts at most --duration seconds, whatever the device's rate. A capture pass's clock
starts when the first block completes and stops at the last one completed in time; a playback
pass counts the samples played by its end. Without -b, blocks are sized from the device's rate
(its sampling_frequency, or its trigger's) for a pass to see ${BLOCKS_PER_PASS} of them, 100 ms each at most.
A device too slow to measure in that time (fewer than two blocks captured, or none played) is
an error that says so (exit 1, nothing on stdout, --json too). The result (MB/s with MB = 10^6
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
      stream = await openStream(ctx, deviceKey, channelKeys, dir, values,
        { defaultBlockSize: DEFAULT_BLOCK, blockSeconds: seconds / BLOCKS_PER_PASS, cpuAccess: name === 'touched', signal: env.interrupt });
      try {
        const progress = new Progress(env.stderr, `${name} ${stream.toString()}`);
        const counted = dir === 'in' ? await capturePass(stream, name === 'touched', limit, seconds, progress)
          : await playbackPass(stream, name === 'touched', limit, seconds, progress);
        if (counted.samples === 0) throw tooSlow(stream, name, seconds);
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

/**
 * Counts the blocks after the first (which starts the clock) until the limit or the pass's end,
 * `seconds` after its start, when the stream is stopped: what the stop drains did not complete
 * in time and is not counted.
 */
async function capturePass(stream: BufferStream, touched: boolean, limit: number, seconds: number, progress: Progress): Promise<Counted> {
  const outs = touched ? channelArrays(stream) : undefined;
  let ended = false;
  let stopping: Promise<void> | undefined;
  const timer = setTimeout(() => {
    ended = true;
    stopping = stopCapture(stream);
    stopping.catch(() => undefined); // awaited below
  }, seconds * 1000);
  let first: number | undefined;
  let last = 0;
  let samples = 0;
  let bytes = 0;
  try {
    for await (const block of stream) {
      if (ended) break;
      if (first === undefined) {
        first = performance.now();
        continue;
      }
      if (outs !== undefined) stream.layout.samplesAllInto(block.bytes, outs);
      samples += block.scans;
      bytes += block.bytesUsed;
      progress.add(block.scans, block.bytesUsed);
      last = performance.now();
      if (limit !== 0 && samples >= limit) break;
    }
  } catch (e) {
    await stopping; // a stop that failed closed the stream: its error says why the loop failed
    throw e;
  } finally {
    clearTimeout(timer);
  }
  await stopping;
  return { samples, bytes, seconds: (last - (first ?? last)) / 1000 };
}

/**
 * Queues whole blocks until the limit or the pass's end, `seconds` after its start, then waits
 * for them to be played, in that time too; counts the samples played until the last block that
 * came back.
 */
async function playbackPass(stream: BufferStream, touched: boolean, limit: number, seconds: number, progress: Progress): Promise<Counted> {
  const values = touched ? channelArrays(stream) : undefined;
  const end = new AbortController();
  const timer = setTimeout(() => end.abort(), seconds * 1000);
  const start = performance.now();
  const queued: number[] = []; // scans of the blocks with the hardware, oldest first
  let last = start;
  let samples = 0;
  const cameBack = (): void => {
    samples += queued.shift()!;
    last = performance.now();
  };
  try {
    let written = 0;
    while (limit === 0 || written < limit) {
      const reuses = queued.length === stream.blocks.length; // the write waits for the oldest block to come back
      const scans = values === undefined ? await stream.write((data) => data.length, { signal: end.signal }) : await stream.write(values, { signal: end.signal });
      if (reuses) cameBack();
      queued.push(scans);
      written += scans;
      progress.add(scans, scans * stream.layout.scanBytes);
    }
    await stream.flush({ signal: end.signal });
    while (queued.length > 0) cameBack();
  } catch (e) {
    if (!end.signal.aborted) throw e; // the pass's end: what was played by then counts
  } finally {
    clearTimeout(timer);
  }
  return { samples, bytes: samples * stream.layout.scanBytes, seconds: (last - start) / 1000 };
}

/** A pass that could not measure anything in its time. */
function tooSlow(stream: BufferStream, pass: Pass['name'], seconds: number): Error {
  const what = stream.buffer.direction === 'in'
    ? `fewer than two blocks of ${stream.blockSize} samples completed in the ${seconds} s ${pass} pass (its clock starts at the first)`
    : `no block of ${stream.blockSize} samples was played in the ${seconds} s ${pass} pass`;
  return new Error(`${stream.buffer.toString()}: too slow to measure: ${what}; use a longer --duration or a smaller -b`);
}

/** One array per enabled channel, a block long: where the touched passes demux to or mux from. */
function channelArrays(stream: BufferStream): Record<string, SampleArray> {
  return Object.fromEntries(stream.layout.channels.map((ch) => [ch.id, allocateSamples(ch.kind, stream.blockSize * ch.repeat)]));
}
