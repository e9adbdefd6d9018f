// What `iio read`, `iio write` and `iio bench` share: their buffer options, and opening a
// device's buffer with them (trigger first, then the channels asked for, or all of the buffer's).
import type { BufferStream } from '../core/buffer-stream.js';
import type { IioBuffer } from '../core/buffer.js';
import type { Context } from '../core/context.js';
import { integerArg, timeoutMs, UsageError } from './args.js';

export const STREAM_OPTIONS = {
  'block-size': { type: 'string', short: 'b' },
  blocks: { type: 'string' },
  mode: { type: 'string' },
  trigger: { type: 'string', short: 't' },
  buffer: { type: 'string' },
} as const;

export interface StreamArgs {
  'block-size'?: string;
  blocks?: string;
  mode?: string;
  trigger?: string;
  buffer?: string;
  timeout?: string;
}

export function streamHelp(defaultBlockSize: number): string {
  return `  -b, --block-size <n>    samples (scans) per block (default ${defaultBlockSize}; libiio's -b)
      --blocks <n>        blocks going round between the hardware and iio (default 4)
      --mode <mode>       auto (DMABUF zero-copy when the buffer takes it, else file I/O; the
                          default), dmabuf or fileio
  -t, --trigger <name>    attach this trigger (name or triggerN) first
      --buffer <index>    which buffer of the device (default: its first of the direction)`;
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

/** Opens the buffer with the channels `keys` (all of the buffer's when none) and the options. */
export async function openStream(ctx: Context, deviceKey: string, keys: readonly string[], direction: 'in' | 'out', values: StreamArgs,
  extra: { defaultBlockSize: number; cyclic?: boolean; cpuAccess?: boolean; blocks?: number; signal?: AbortSignal }): Promise<BufferStream> {
  const buffer = pickBuffer(ctx, deviceKey, direction, values.buffer);
  const mode = values.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'dmabuf' && mode !== 'fileio') throw new UsageError(`--mode must be auto, dmabuf or fileio, got ${JSON.stringify(mode)}`);
  const blockSize = values['block-size'] === undefined ? extra.defaultBlockSize : integerArg(values['block-size'], '-b/--block-size', 1);
  const blocks = extra.blocks ?? (values.blocks === undefined ? 4 : integerArg(values.blocks, '--blocks', 1, 64));
  const channels = keys.map((k) => buffer.device.channel(k, direction));
  if (values.trigger !== undefined) await buffer.device.setTrigger(values.trigger, extra.signal === undefined ? {} : { signal: extra.signal });
  const timeout = timeoutMs(values);
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
