// What `iio read`, `iio write` and `iio bench` share: their buffer options, and opening a
// device's buffer with them (trigger first, then the channels asked for, or all of the buffer's).
// Without -b, a block holds no more than the samples asked for and what the device makes in
// BLOCK_SECONDS (or in less, when the caller has less time: bench), so a short read of a slow
// sensor does not wait for a whole default block; and the context's time limit, when it has
// one, is raised to cover a block at the device's rate.
import type { BufferStream } from '../core/buffer-stream.js';
import type { IioBuffer } from '../core/buffer.js';
import type { Context } from '../core/context.js';
import type { Device } from '../core/device.js';
import { MAX_TIMEOUT_MS } from '../backends/waits.js';
import { integerArg, timeoutMs, UsageError } from './args.js';

export const STREAM_OPTIONS = {
  'block-size': { type: 'string', short: 'b' },
  blocks: { type: 'string' },
  mode: { type: 'string' },
  trigger: { type: 'string', short: 't' },
  buffer: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
} as const;

export interface StreamArgs {
  'block-size'?: string;
  blocks?: string;
  mode?: string;
  trigger?: string;
  buffer?: string;
  timeout?: string;
  verbose?: boolean;
}

export function streamHelp(defaultBlockSize: number): string {
  return `  -b, --block-size <n>    samples (scans) per block (default ${defaultBlockSize}; libiio's -b)
      --blocks <n>        blocks going round between the hardware and iio (default 4)
      --mode <mode>       auto (DMABUF zero-copy when the buffer takes it, else file I/O; the
                          default), dmabuf or fileio
  -t, --trigger <name>    attach this trigger (name or triggerN) first
      --buffer <index>    which buffer of the device (default: its first of the direction)
  -v, --verbose           say on stderr what streams, once the buffer is open`;
}

/** `buffer0 of iio:device0 (adc4): voltage0, voltage1 (4 bytes per sample), 4 blocks of 4096 samples, mode dmabuf`. */
export function describeStream(s: BufferStream): string {
  return `${s.buffer.toString()}: ${s.channels.map((c) => c.id).join(', ')} (${s.layout.scanBytes} bytes per sample), ` +
    `${s.blocks.length} blocks of ${s.blockSize} samples, mode ${s.mode}`;
}

/** -v: the stream's description on stderr (the moment it is open: scripts and tests wait for it). */
export function announce(s: BufferStream, values: StreamArgs, stderr: NodeJS.WritableStream): void {
  if (values.verbose === true) stderr.write(`iio: ${describeStream(s)}\n`);
}

/** The longest a block lasts at the device's rate when -b does not say. */
const BLOCK_SECONDS = 0.1;
/** What a time limit leaves beyond a block's duration (the context's limit is twice that: an ip: server is told half). */
const BLOCK_MARGIN_MS = 1000;

/** Samples per second of `device`: its sampling_frequency, or its trigger's; undefined if neither reads. */
async function sampleRate(device: Device): Promise<number | undefined> {
  const own = device.attrs.get('sampling_frequency');
  const trigger = own === undefined ? await device.getTrigger().catch(() => null) : null;
  const attr = own ?? trigger?.attrs.get('sampling_frequency');
  const rate = await attr?.readNumber().catch(() => undefined);
  return rate !== undefined && Number.isFinite(rate) && rate > 0 ? rate : undefined;
}

/** The buffer of `direction` that --buffer names, or the device's first. */
function pickBuffer(ctx: Context, deviceKey: string, direction: 'in' | 'out', index: string | undefined): IioBuffer {
  const device = ctx.device(deviceKey);
  const what = direction === 'in' ? 'input' : 'output';
  if (index !== undefined) {
    const buffer = device.buffer(integerArg(index, '--buffer'));
    if (buffer.direction !== direction) throw new Error(`${buffer.toString()} is an ${buffer.direction === 'in' ? 'input' : 'output'} buffer, not an ${what} buffer`);
    return buffer;
  }
  const buffer = device.buffers.find((b) => b.direction === direction);
  if (buffer === undefined) {
    const has = device.buffers.length === 0 ? 'no buffers' : `only ${device.buffers.map((b) => `buffer${b.index} (${b.direction})`).join(', ')}`;
    throw new Error(`${device.toString()} has no ${what} buffer (it has ${has})`);
  }
  return buffer;
}

/**
 * Opens the buffer with the channels `keys` (all of the buffer's when none) and the options;
 * `samples` (0: until stopped) is how many the caller will take, `blockSeconds` the longest a
 * block may last at the device's rate when -b does not say (at most BLOCK_SECONDS).
 */
export async function openStream(ctx: Context, deviceKey: string, keys: readonly string[], direction: 'in' | 'out', values: StreamArgs,
  extra: { defaultBlockSize: number; samples?: number; blockSeconds?: number; cyclic?: boolean; cpuAccess?: boolean; blocks?: number; signal?: AbortSignal }): Promise<BufferStream> {
  const buffer = pickBuffer(ctx, deviceKey, direction, values.buffer);
  const mode = values.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'dmabuf' && mode !== 'fileio') throw new UsageError(`--mode must be auto, dmabuf or fileio, got ${JSON.stringify(mode)}`);
  const blocks = extra.blocks ?? (values.blocks === undefined ? 4 : integerArg(values.blocks, '--blocks', 1, 64));
  const channels = keys.map((k) => buffer.device.channel(k, direction));
  if (values.trigger !== undefined) await buffer.device.setTrigger(values.trigger, extra.signal === undefined ? {} : { signal: extra.signal });
  const rate = await sampleRate(buffer.device);
  let blockSize: number;
  if (values['block-size'] !== undefined) blockSize = integerArg(values['block-size'], '-b/--block-size', 1);
  else {
    blockSize = extra.defaultBlockSize;
    if (extra.samples !== undefined && extra.samples > 0) blockSize = Math.min(blockSize, extra.samples);
    const seconds = Math.min(BLOCK_SECONDS, extra.blockSeconds ?? BLOCK_SECONDS);
    if (rate !== undefined) blockSize = Math.min(blockSize, Math.max(1, Math.ceil(rate * seconds)));
  }
  // A block's wait, when bounded, is bounded by no less than the block takes to fill.
  const blockMs = rate === undefined ? 0 : Math.min(Math.ceil((blockSize / rate) * 1000) + BLOCK_MARGIN_MS, MAX_TIMEOUT_MS);
  if (ctx.timeout > 0 && 2 * blockMs > ctx.timeout) ctx.setTimeout(Math.min(2 * blockMs, MAX_TIMEOUT_MS));
  const asked = timeoutMs(values);
  const timeout = asked === undefined ? undefined : Math.max(asked, blockMs);
  return buffer.open({
    ...(channels.length === 0 ? {} : { channels }),
    blockSize,
    blocks,
    mode,
    cyclic: extra.cyclic === true,
    cpuAccess: extra.cpuAccess !== false,
    ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    ...(extra.signal === undefined ? {} : { signal: extra.signal }),
  });
}

/**
 * Ends a capture loop from outside it (Ctrl-C, a deadline): stop() lets the loop take what was
 * captured until then, and end (docs/lifecycle.md). When the disable fails, the stream is closed
 * instead (the loop's wait rejects) and the disable's error rejects the promise.
 */
export async function stopCapture(stream: BufferStream): Promise<void> {
  try {
    await stream.stop();
  } catch (e) {
    await stream.close().catch(() => undefined);
    throw e;
  }
}
