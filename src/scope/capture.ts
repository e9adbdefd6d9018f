// One device's capture, shared by every browser watching it: the buffer runs at the device's full
// rate with the union of the channels the viewers want, each block goes into per-channel rings
// (and to the recorders), and nothing a browser does can hold it up — frames are built from the
// rings on the viewers' own timers. A change of the channel set, or an attribute write the
// driver refuses while the buffer runs (EBUSY: sampling_frequency), restarts it.
import { EventEmitter } from 'node:events';
import type { BufferStream } from '../core/buffer-stream.js';
import type { IioBuffer } from '../core/buffer.js';
import type { Channel } from '../core/channel.js';
import type { Device } from '../core/device.js';
import type { StreamBlock } from '../core/stream-block.js';
import { SampleRing } from './ring.js';

/** Samples kept per channel: a second at 1 MS/s, the longest window and FFT with room to trigger. */
export const RING_SAMPLES = 1 << 20;
/** A block lasts about this long at the device's rate (a power of two of samples): latency vs wakeups. */
const BLOCK_SECONDS = 0.016;
const MAX_BLOCK = 1 << 16;
/** Blocks going round: time the event loop may be busy (an FFT, a burst of frames) before an overrun. */
const BLOCKS = 8;

export interface CaptureChannel {
  readonly channel: Channel;
  readonly ring: SampleRing;
  /** As read when the capture started. */
  readonly scale: number;
  readonly offset: number;
  /** The raw value of a full-scale sample (dBFS). */
  readonly fullScale: number;
}

export interface CaptureStats {
  device: string;
  running: boolean;
  channels: string[];
  rate: number | undefined;
  blockSize: number;
  blocks: number;
  samples: number;
  overruns: number;
  samplesLost: number;
  restarts: number;
  error: string | undefined;
}

interface CaptureEvents {
  /** A block was captured: its first `n` scans (recorders read them before it goes back). */
  block: [StreamBlock, number, BufferStream];
  /** The capture stopped to restart: recorders end there. */
  restart: [string];
  error: [Error];
}

/** A power of two of samples lasting about BLOCK_SECONDS at `rate`. */
export function captureBlockSize(rate: number | undefined): number {
  if (rate === undefined) return 256;
  const target = Math.max(1, rate * BLOCK_SECONDS);
  return Math.min(MAX_BLOCK, 2 ** Math.round(Math.log2(target)));
}

async function readNumber(channelOrDevice: { attrs: ReadonlyMap<string, { readNumber(): Promise<number> }> }, name: string): Promise<number | undefined> {
  const n = await channelOrDevice.attrs.get(name)?.readNumber().catch(() => undefined);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

export class DeviceCapture extends EventEmitter<CaptureEvents> {
  readonly device: Device;
  #channels = new Map<string, CaptureChannel>();
  /** The channels the running capture was started for (it may carry more: see #open). */
  #started: readonly string[] = [];
  readonly #wanted = new Map<object, ReadonlySet<string>>();
  #stream: BufferStream | undefined;
  #loop: Promise<void> | undefined;
  /** Start, stop and restart run one after another. */
  #queue: Promise<unknown> = Promise.resolve();
  #rate: number | undefined;
  #blockSize = 0;
  #blocks = 0;
  #samples = 0;
  #overruns = 0;
  #lost = 0;
  #restarts = 0;
  #error: Error | undefined;
  /** When the newest block came (Date.now()), for the frames' sample-to-pixel latency. */
  #lastBlockAt = 0;
  #closed = false;

  constructor(device: Device) {
    super();
    this.device = device;
  }

  get rate(): number | undefined {
    return this.#rate;
  }

  get channels(): ReadonlyMap<string, CaptureChannel> {
    return this.#channels;
  }

  /** The stream capturing now, if any. */
  get stream(): BufferStream | undefined {
    return this.#stream;
  }

  get running(): boolean {
    return this.#stream !== undefined;
  }

  get lastBlockAt(): number {
    return this.#lastBlockAt;
  }

  /** Samples captured since the capture (re)started: the rings' end. */
  get position(): number {
    return this.#samples;
  }

  get stats(): CaptureStats {
    return {
      device: this.device.id, running: this.running, channels: [...this.#channels.keys()], rate: this.#rate,
      blockSize: this.#blockSize, blocks: this.#blocks, samples: this.#samples, overruns: this.#overruns,
      samplesLost: this.#lost, restarts: this.#restarts, error: this.#error?.message,
    };
  }

  /** `viewer` wants `ids` captured (an empty set: nothing); the capture follows the union. */
  want(viewer: object, ids: Iterable<string>): Promise<void> {
    const set = new Set(ids);
    if (set.size === 0) this.#wanted.delete(viewer);
    else this.#wanted.set(viewer, set);
    return this.#serial(() => this.#follow());
  }

  /** Runs `fn` with the buffer stopped, then captures again (with rates and scales read anew). */
  suspended<T>(reason: string, fn: () => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      const was = this.running;
      if (was) await this.#stop(reason);
      try {
        return await fn();
      } finally {
        if (was && !this.#closed) await this.#start(this.#union()).catch((e: Error) => this.#fail(e));
      }
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#wanted.clear();
    return this.#serial(() => this.#stop('closed'));
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #union(): string[] {
    const ids = new Set<string>();
    for (const set of this.#wanted.values()) for (const id of set) ids.add(id);
    return this.device.channels.filter((c) => ids.has(c.id) && !c.output).map((c) => c.id);
  }

  async #follow(): Promise<void> {
    const union = this.#union();
    const current = this.#started;
    if (this.running && union.length === current.length && union.every((id, i) => id === current[i])) return;
    if (this.running) await this.#stop('the channels watched changed');
    if (union.length > 0 && !this.#closed) await this.#start(union).catch((e: Error) => this.#fail(e));
  }

  #fail(e: Error): void {
    this.#error = e;
    this.emit('error', e);
  }

  async #start(ids: readonly string[]): Promise<void> {
    const buffer = this.device.buffers.find((b) => !b.output);
    if (buffer === undefined) throw new Error(`${this.device.toString()} has no input buffer to capture from`);
    const chosen = ids.map((id) => this.device.channel(id, 'in'));
    // The timestamp, when there is one, comes along: overruns are seen in it.
    const timestamp = buffer.channels.find((c) => c.scanElement?.timestamp === true);
    const open = timestamp === undefined || chosen.includes(timestamp) ? chosen : [...chosen, timestamp];
    this.#rate = (await readNumber(this.device, 'sampling_frequency')) ?? (await readNumber(chosen[0]!, 'sampling_frequency')) ??
      (await this.device.getTrigger().then((t) => (t === null ? undefined : readNumber(t, 'sampling_frequency'))).catch(() => undefined));
    this.#blockSize = captureBlockSize(this.#rate);
    const stream = await this.#open(buffer, open);
    const channels = new Map<string, CaptureChannel>();
    for (const c of stream.channels) {
      if (c.scanElement?.timestamp === true) continue;
      const type = c.scanElement!.type;
      const scale = (await readNumber(c, 'scale')) ?? c.scanElement?.scale ?? 1;
      const offset = (await readNumber(c, 'offset')) ?? c.scanElement?.offset ?? 0;
      channels.set(c.id, { channel: c, ring: new SampleRing(RING_SAMPLES), scale, offset, fullScale: 2 ** (type.realBits - (type.signed ? 1 : 0)) });
    }
    this.#channels = channels;
    this.#started = ids;
    this.#samples = 0;
    this.#error = undefined;
    this.#stream = stream;
    this.#loop = this.#run(stream);
  }

  /**
   * The buffer enabled with `channels`, or with all of its channels when the driver refuses that
   * subset (EINVAL at enable: a scan mask it does not offer, as I/Q converters that enable I and
   * Q together). Enabled here, before the loop queues its blocks, so that the refusal is seen.
   */
  async #open(buffer: IioBuffer, channels: readonly Channel[]): Promise<BufferStream> {
    const options = { blockSize: this.#blockSize, blocks: BLOCKS };
    const started = async (stream: BufferStream): Promise<BufferStream> => {
      try {
        await stream.start();
        return stream;
      } catch (e) {
        await stream.close();
        throw e;
      }
    };
    try {
      return await started(await buffer.open({ ...options, channels }));
    } catch (e) {
      if ((e as { code?: string }).code !== 'EINVAL' || channels.length === buffer.channels.length) throw e;
      return started(await buffer.open({ ...options, channels: buffer.channels }));
    }
  }

  async #run(stream: BufferStream): Promise<void> {
    const rings = [...this.#channels.values()];
    try {
      for await (const block of stream) {
        const n = block.scans;
        for (const c of rings) c.ring.push(block.samples(c.channel.id) as ArrayLike<number>, 0, n);
        this.#samples += n;
        this.#blocks++;
        this.#overruns = stream.overruns;
        this.#lost = stream.samplesLost;
        this.#lastBlockAt = Date.now();
        this.emit('block', block, n, stream);
      }
    } catch (e) {
      if (this.#stream === stream) this.#fail(e as Error);
    }
  }

  async #stop(reason: string): Promise<void> {
    const stream = this.#stream;
    if (stream === undefined) return;
    this.#stream = undefined;
    this.#restarts++;
    this.emit('restart', reason);
    await stream.stop().catch(() => undefined);
    await this.#loop;
    await stream.close();
  }
}
