// `iio write`: playback from stdin to a device's output buffer (libiio's iio_writedev).
import { addAbortSignal } from 'node:stream';
import type { BufferStream, PlaybackData } from '../core/buffer-stream.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, parseCommand, UsageError } from './args.js';
import { runBench } from './bench.js';
import { ChannelSubset } from './channel-subset.js';
import { stopStatus, untilInterrupted, type CliEnv } from './env.js';
import { explainStreamError } from './explain.js';
import { Progress } from './progress.js';
import { announce, openStream, STREAM_OPTIONS, streamHelp } from './streaming.js';
import { playSigmf, playSigmfCyclic, sigmfSource } from './write-sigmf.js';

const DEFAULT_BLOCK = 256;

export const writeHelp = `Usage: iio write [options] <device> [<channel>...]

Plays raw scans from stdin on a device's output buffer: the buffer's binary layout of the
channels given (all of the buffer's when none are), as libiio's iio_writedev reads them. Blocks
of -b samples are queued as stdin fills them; at the end of stdin iio waits until everything
is played. With -c, one block (all of stdin, at most -b samples) is repeated by the hardware
until interrupted (DMABUF mode). Ctrl-C stops at once (exit status 130). With -f sigmf -i NAME
it plays a SigMF recording (NAME.sigmf-meta and NAME.sigmf-data, e.g. one iio read -f sigmf
made) instead of stdin: its channels, I then Q for complex samples, go to the channels in order.

Options:
${CONTEXT_HELP}
  -s, --samples <n>       stop after n samples (default: all of stdin)
  -c, --cyclic            repeat one block until interrupted
  -f, --format <format>   raw (stdin, the default) or sigmf (the recording -i names)
  -i, --input <name>      -f sigmf: the recording's base name
${streamHelp(DEFAULT_BLOCK)}
  -B, --benchmark         measure the playback throughput instead (iio bench's two passes)

Examples:
  iio write -u sim: tx voltage0_i voltage0_q < iq.bin
  iio read -u sim: -s 4096 adc4 voltage0 voltage1 | iio write -u sim: -b 4096 tx
  iio write -c -b 1000 tx < tone.bin
  iio write -u sim: -f sigmf -i iq tx voltage0_i voltage0_q
`;

export async function write(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    ...STREAM_OPTIONS,
    samples: { type: 'string', short: 's' },
    cyclic: { type: 'boolean', short: 'c' },
    format: { type: 'string', short: 'f', default: 'raw' },
    input: { type: 'string', short: 'i' },
    benchmark: { type: 'boolean', short: 'B' },
  });
  if (values.benchmark) return runBench(values, positionals, env, 'out');
  if (positionals.length === 0) throw new UsageError('missing <device>');
  const [deviceKey, ...channelKeys] = positionals as [string, ...string[]];
  const limit = values.samples === undefined ? 0 : integerArg(values.samples, '-s/--samples');
  const cyclic = values.cyclic === true;
  const format = values.format!;
  if (format !== 'raw' && format !== 'sigmf') throw new UsageError(`--format must be raw or sigmf, got ${JSON.stringify(format)}`);
  if ((format === 'sigmf') !== (values.input !== undefined)) throw new UsageError(format === 'sigmf' ? '-f sigmf needs -i <name> (the recording <name>.sigmf-meta and <name>.sigmf-data)' : '-i/--input is for -f sigmf; raw scans come from stdin');
  if (format === 'sigmf' && values.samples !== undefined) throw new UsageError('-s/--samples is for stdin: a SigMF recording plays whole');
  if (cyclic && values.samples !== undefined) throw new UsageError('-s/--samples and -c/--cyclic exclude each other: a cyclic block plays until interrupted');

  const signal = env.interrupt;
  await using ctx = await openFromArgs(values, env);
  await using stream = await openStream(ctx, deviceKey, channelKeys, 'out', values, {
    defaultBlockSize: DEFAULT_BLOCK, cyclic, signal, ...(cyclic ? { blocks: 1 } : {}),
  });
  announce(stream, values, env.stderr);
  const stop = (): void => void stream.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const subset = ChannelSubset.of(stream, channelKeys);
    if (format === 'sigmf') {
      const channels = subset?.channels ?? stream.channels;
      const dataset = await sigmfSource(values.input!, channels, stream.buffer.toString());
      if (cyclic) {
        const n = await playSigmfCyclic(stream, channels, dataset, signal);
        if (env.stderr.isTTY === true) env.stderr.write(`${stream.toString()}: repeating ${n} samples; Ctrl-C stops\n`);
        await untilInterrupted(signal);
      } else await playSigmf(stream, channels, dataset, signal);
    } else if (cyclic) await playCyclic(stream, subset, env);
    else await play(stream, subset, env, limit);
  } catch (e) {
    if (!signal.aborted) throw await explainStreamError(e, stream.buffer.device, ctx);
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return signal.aborted ? stopStatus(signal.reason as 'SIGINT') : 0;
}

/** stdin as chunks, ending (AbortError) when the user interrupts. */
function input(env: CliEnv): AsyncIterable<Buffer> {
  return addAbortSignal(env.interrupt, env.stdin);
}

/** What stdin carries: the stream's scans, or the asked channels' when the kernel enabled more. */
function stdinScans(stream: BufferStream, subset: ChannelSubset | undefined): { scanBytes: number; names: string } {
  return { scanBytes: (subset?.layout ?? stream.layout).scanBytes, names: (subset?.channels ?? stream.channels).map((c) => c.id).join(', ') };
}

/** The write of `scans` (stdin's format) into the next block. */
function playback(subset: ChannelSubset | undefined, scans: Uint8Array): PlaybackData {
  return subset === undefined ? scans : (block) => subset.fill(block, scans);
}

/** Cuts stdin into blocks and queues them; at the end, the whole scans left, then waits. */
async function play(stream: BufferStream, subset: ChannelSubset | undefined, env: CliEnv, limit: number): Promise<void> {
  const { scanBytes, names } = stdinScans(stream, subset);
  const staging = new Uint8Array(stream.blockSize * scanBytes);
  const maxBytes = limit === 0 ? Infinity : limit * scanBytes;
  const progress = new Progress(env.stderr, stream.toString());
  const options = { signal: env.interrupt };
  let filled = 0;
  let total = 0;
  let trailing = 0;
  const queue = async (bytes: number): Promise<void> => {
    await stream.write(playback(subset, staging.subarray(0, bytes)), options);
    progress.add(bytes / scanBytes, bytes);
    total += bytes;
  };
  try {
    for await (const chunk of input(env)) {
      let taken = 0;
      while (taken < chunk.length && total + filled < maxBytes) {
        const n = Math.min(chunk.length - taken, staging.length - filled, maxBytes - total - filled);
        staging.set(chunk.subarray(taken, taken + n), filled);
        filled += n;
        taken += n;
        if (filled === staging.length) {
          await queue(filled);
          filled = 0;
        }
      }
      if (total + filled >= maxBytes) break;
    }
    trailing = filled % scanBytes;
    if (filled - trailing > 0) await queue(filled - trailing);
    if (total === 0 && trailing === 0) throw new Error(`nothing to play on ${stream.buffer.toString()}: stdin was empty`);
    await stream.flush(options);
  } finally {
    progress.done();
  }
  if (trailing !== 0) {
    throw new Error(`stdin ended inside a scan: its last ${trailing} bytes are not a whole ${scanBytes}-byte scan of ${names} and were not played`);
  }
}

/** Reads one block from stdin (all of it, at most -b samples) and repeats it until interrupted. */
async function playCyclic(stream: BufferStream, subset: ChannelSubset | undefined, env: CliEnv): Promise<void> {
  const { scanBytes, names } = stdinScans(stream, subset);
  const block = new Uint8Array(stream.blockSize * scanBytes);
  let filled = 0;
  for await (const chunk of input(env)) {
    if (filled + chunk.length > block.length) {
      throw new Error(`stdin holds more than one cyclic block of ${stream.blockSize} samples (${block.length} bytes): give -b with the number of samples to repeat`);
    }
    block.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled === 0 || filled % scanBytes !== 0) {
    throw new Error(`a cyclic block is a whole, non-zero number of ${scanBytes}-byte scans of ${names}; stdin held ${filled} bytes`);
  }
  await stream.writeCyclic(playback(subset, block.subarray(0, filled)), { signal: env.interrupt });
  if (env.stderr.isTTY === true) env.stderr.write(`${stream.toString()}: repeating ${filled / scanBytes} samples; Ctrl-C stops\n`);
  await untilInterrupted(env.interrupt);
}
