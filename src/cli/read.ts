// `iio read`: capture from a device's input buffer to stdout (libiio's iio_readdev).
import type { BufferStream } from '../core/buffer-stream.js';
import type { Context } from '../core/context.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, parseCommand, UsageError } from './args.js';
import { runBench } from './bench.js';
import { ChannelSubset } from './channel-subset.js';
import { stopStatus, type CliEnv } from './env.js';
import { explainStreamError } from './explain.js';
import { DataSink } from './output.js';
import { Progress } from './progress.js';
import { ScanText } from './sample-text.js';
import { announce, openStream, stopCapture, STREAM_OPTIONS, streamHelp } from './streaming.js';
import { sigmfCapture, type SigmfCapture } from './read-sigmf.js';

const DEFAULT_BLOCK = 256;

export const readHelp = `Usage: iio read [options] <device> [<channel>...]

Captures samples from a device's input buffer and writes them to stdout: raw scans (the
buffer's binary layout, as libiio's iio_readdev writes them; never to a terminal) by default,
or text. The device is an id (iio:device0), label or name; channels are ids (voltage0), names
or labels, all of the buffer's when none are given. Stops after -s samples, or when interrupted
(Ctrl-C: every sample captured until then is written, a block not yet full included, the buffer
released, exit status 130). On a terminal, stderr shows progress. Samples the device dropped
because iio fell behind (overruns) are seen in the timestamp channel when it is captured (as
with all channels) and the rate is known; their count is reported once on stderr when the
capture ends.

Options:
${CONTEXT_HELP}
  -s, --samples <n>       samples (scans) to capture; 0 = until interrupted (the default)
${streamHelp(DEFAULT_BLOCK)}
  -f, --format <format>   raw (the default), csv (a header of channel ids, a row per scan),
                          json (JSON Lines: an object per scan, keyed by channel id) or sigmf
                          (a SigMF recording: -o NAME writes NAME.sigmf-meta and NAME.sigmf-data)
  -o, --output <name>     -f sigmf: the recording's base name
  -p, --physical          csv/json: (raw + offset) x scale for channels with a scale or offset
                          (e.g. millivolts); others stay raw integers
  -B, --benchmark         measure the throughput instead of writing samples (iio bench's two
                          passes, with -s or 2 s each)

Examples:
  iio read -u sim: -s 1000 adc4 voltage0 voltage1 > capture.bin
  iio read -u sim: -s 5 -f csv -p adc4 voltage0
  iio read -u sim: -t iiojs-timer0 -f json sensor temp | jq .temp
  iio read -u sim: adc4 | head -c 4096 | od -An -td2
  iio read -u sim: -s 100000 -f sigmf -o iq rx voltage0_i voltage0_q
`;

export async function read(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    ...STREAM_OPTIONS,
    samples: { type: 'string', short: 's' },
    format: { type: 'string', short: 'f', default: 'raw' },
    physical: { type: 'boolean', short: 'p' },
    output: { type: 'string', short: 'o' },
    benchmark: { type: 'boolean', short: 'B' },
  });
  if (values.benchmark) return runBench(values, positionals, env, 'in');
  if (positionals.length === 0) throw new UsageError('missing <device>');
  const [deviceKey, ...channelKeys] = positionals as [string, ...string[]];
  const limit = values.samples === undefined ? 0 : integerArg(values.samples, '-s/--samples');
  const format = values.format!;
  if (format !== 'raw' && format !== 'csv' && format !== 'json' && format !== 'sigmf') throw new UsageError(`--format must be raw, csv, json or sigmf, got ${JSON.stringify(format)}`);
  if (values.physical && (format === 'raw' || format === 'sigmf')) throw new UsageError('-p/--physical needs --format csv or json');
  if ((format === 'sigmf') !== (values.output !== undefined)) throw new UsageError(format === 'sigmf' ? '-f sigmf needs -o <name> (it writes <name>.sigmf-meta and <name>.sigmf-data)' : '-o/--output is for -f sigmf; other formats go to stdout');
  if (format === 'raw' && env.stdout.isTTY === true) throw new UsageError('binary samples are not written to a terminal: redirect stdout to a file or a program, or use -f csv');

  const sink = new DataSink(env.stdout, env.interrupt);
  await using ctx = await openFromArgs(values, env);
  // A recording captures the timestamp too, when the device has one, to see its overruns by.
  const openKeys = format === 'sigmf' ? withTimestamp(ctx, deviceKey, channelKeys) : channelKeys;
  await using stream = await openStream(ctx, deviceKey, openKeys, 'in', values, { defaultBlockSize: DEFAULT_BLOCK, samples: limit, signal: sink.signal });
  // A stop (Ctrl-C, broken pipe) stops the stream: the loop still gets what was captured until
  // then, the last block partial, and ends. Its failure changes nothing: the command is stopping.
  const stop = (): void => void stopCapture(stream).catch(() => undefined);
  sink.signal.addEventListener('abort', stop, { once: true });
  announce(stream, values, env.stderr);
  const subset = ChannelSubset.of(stream, channelKeys);
  const asked = channelKeys.length === 0 ? undefined : channelKeys.map((k) => stream.buffer.device.channel(k, 'in'));
  const sigmf: SigmfCapture | undefined = format === 'sigmf' ? await sigmfCapture(ctx, stream, asked, values.output!) : undefined;
  const text = format === 'raw' || format === 'sigmf' ? undefined : new ScanText(format, subset?.layout ?? stream.layout, subset?.channels ?? stream.channels, values.physical === true);
  const progress = new Progress(env.stderr, `${stream.toString()}`);
  let scans = 0;
  try {
    // The CSV header at once: a slow device's first block may be long in coming.
    if (text !== undefined) await sink.write(text.header());
    for await (const block of stream) {
      const n = limit === 0 ? block.scans : Math.min(block.scans, limit - scans);
      if (sigmf !== undefined) progress.add(n, await sigmf.write(block, n));
      else {
        const captured = block.bytes.subarray(0, n * stream.layout.scanBytes);
        const bytes = subset === undefined ? captured : subset.extract(captured);
        await sink.write(text === undefined ? bytes : text.lines(bytes));
        progress.add(n, bytes.length);
      }
      scans += n;
      if (limit !== 0 && scans >= limit) break;
    }
  } catch (e) {
    if (!sink.signal.aborted) throw await explainStreamError(e, stream.buffer.device, ctx);
  } finally {
    sink.signal.removeEventListener('abort', stop);
    // The meta describes what was written, whatever ended the capture.
    await sigmf?.finish();
    progress.done();
    reportOverruns(stream, env.stderr);
  }
  sink.throwIfFailed();
  const reason = sink.stopReason;
  return reason === undefined ? 0 : stopStatus(reason);
}

/** `keys` and the device's timestamp channel, when it has one and keys name channels without it. */
function withTimestamp(ctx: Context, deviceKey: string, keys: readonly string[]): string[] {
  if (keys.length === 0) return [];
  const device = ctx.device(deviceKey);
  const timestamp = device.channels.find((c) => c.scanElement?.timestamp === true && !c.output);
  if (timestamp === undefined || keys.some((k) => device.findChannel(k, 'in') === timestamp)) return [...keys];
  return [...keys, timestamp.id];
}

/** Once, when the capture is over: the samples the device dropped because iio fell behind. */
function reportOverruns(stream: BufferStream, stderr: NodeJS.WritableStream): void {
  const n = stream.overruns;
  if (n === 0) return;
  stderr.write(`iio: ${stream.toString()}: ${n} overrun${n === 1 ? '' : 's'}, ${stream.samplesLost} samples lost (the output has gaps; a larger -b or --blocks gives more time)\n`);
}
