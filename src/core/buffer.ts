// A hardware buffer of a device (libiio v1's iio_buffer): its index, direction, attributes and
// the scan elements it carries; open() streams it with a channels mask (buffer-stream.ts). Not
// called `Buffer`, which would shadow Node's.
import type { BufferDescription, BufferHandle, DmabufSupport, OpOptions, TransferMode } from '../backends/backend.js';
import { UnsupportedError } from '../backends/errors.js';
import { checkTimeout } from '../backends/waits.js';
import { errnoOf, systemError } from '../errors.js';
import { BlockLayout } from '../samples/block-layout.js';
import { Attr, attrMap } from './attr.js';
import { BufferStream } from './buffer-stream.js';
import type { CpuAccess } from './stream-block.js';
import type { Channel } from './channel.js';
import type { Device } from './device.js';
import { notFound } from './errors.js';
import { overrunFinder, type OverrunFinder, type SampleCounter } from './overruns.js';
import type { Session } from './session.js';

export interface OpenStreamOptions {
  /** The channels to enable (Channels, or keys for Device.channel); default: all the buffer's. */
  channels?: ReadonlyArray<Channel | string>;
  /** Or the channel positions (bits of a channels mask). */
  mask?: readonly number[];
  /** Samples (scans) per block. */
  blockSize: number;
  /** Blocks going round (default 4). */
  blocks?: number;
  /** 'auto' (default): DMABUF when the buffer takes it, else file I/O. */
  mode?: TransferMode | 'auto';
  /** Playback: write() queues its block as cyclic (repeated until stop; DMABUF mode). */
  cyclic?: boolean;
  /**
   * Bracket CPU access with DMA_BUF_IOCTL_SYNC (default true); false when data is only passed
   * on; 'on-touch' for each block whose memory is touched, from the first touch (blocks handed
   * on by their fd are then neither synced nor mapped).
   */
  cpuAccess?: CpuAccess;
  /** Default bound of each block wait of the iterator and the writer, in ms (default: the context's limit). */
  timeoutMs?: number;
  /**
   * DMABUF mode, local backend: read each transfer's fence status, so that a failed transfer
   * (aborted, refused by the driver) rejects its dequeue. Costs 3 syscalls a block
   * (EXPORT_SYNC_FILE, SYNC_IOC_FILE_INFO, close; see docs/performance.md). Default true; without
   * it a failed transfer comes back as if it had succeeded.
   */
  checkTransfers?: boolean;
  /**
   * Capture: the channel that counts samples, to see overruns by (BufferStream's 'overrun'
   * event). Without it, the timestamp channel is used when it is enabled and the rate is known.
   */
  counter?: SampleCounter;
  signal?: AbortSignal;
}

export class IioBuffer {
  readonly device: Device;
  readonly index: number;
  readonly direction: 'in' | 'out';
  readonly attrs: ReadonlyMap<string, Attr>;
  /** The scan elements it carries, in mask order. */
  readonly channels: readonly Channel[];

  readonly #session: Session;

  /** @internal */
  constructor(session: Session, device: Device, d: BufferDescription) {
    this.#session = session;
    this.device = device;
    this.index = d.index;
    this.direction = d.direction;
    this.channels = Object.freeze(d.channels.map((p) => device.channels[p]!));
    this.attrs = attrMap((siblings) => d.attributes.map((a) =>
      new Attr(session, { kind: 'buffer', device: device.id, buffer: d.index, name: a.name }, a, device.name, siblings)));
  }

  get output(): boolean {
    return this.direction === 'out';
  }

  attr(name: string): Attr {
    const attr = this.attrs.get(name);
    if (attr === undefined) throw notFound('ENOENT', this.toString(), 'attribute', name, [...this.attrs.keys()]);
    return attr;
  }

  /**
   * Opens the buffer for streaming: enables the scan elements of `channels` (or `mask`), makes
   * `blocks` blocks of `blockSize` scans, and picks the transfer mode. Close the stream (or
   * `await using` it) to stop. The stream follows the channels the kernel enabled (read back):
   * when that is more than asked, `stream.channels` lists them all and the blocks are sized
   * for them; fewer than asked is EINVAL.
   */
  async open(options: OpenStreamOptions): Promise<BufferStream> {
    this.#session.check(options);
    const backend = this.#session.backend;
    if (backend.openBuffer === undefined) throw new UnsupportedError('buffer', this.toString(), `the ${backend.uri} backend cannot stream buffers`);
    if (!(Number.isSafeInteger(options.blockSize) && options.blockSize >= 1)) throw new RangeError(`${this.toString()}: blockSize must be a positive number of samples, got ${options.blockSize}`);
    if (options.cyclic === true && !this.output) throw new RangeError(`${this.toString()}: cyclic streams are for output buffers`);
    if (options.counter !== undefined && this.output) throw new RangeError(`${this.toString()}: a sample counter is for input buffers`);
    if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs);
    if (![undefined, true, false, 'on-touch'].includes(options.cpuAccess)) throw new RangeError(`${this.toString()}: cpuAccess is true, false or 'on-touch', got ${String(options.cpuAccess)}`);
    const requested = this.#mask(options);
    let { handle, layout } = await this.#openHandle(requested, options);
    if (handle.mask.join() !== requested.join()) {
      // The kernel enabled other channels than asked (another writer of the `_en` files, a
      // driver that forces some on). A superset is fine: plan the blocks for what it took.
      const took = handle.mask;
      await handle.close();
      if (!requested.every((p) => took.includes(p))) {
        throw systemError(errnoOf('EINVAL'), 'open', undefined, `${this.toString()}: asked for channels at [${requested.join(', ')}], the kernel enabled [${took.join(', ')}]`);
      }
      ({ handle, layout } = await this.#openHandle(took, options));
      if (handle.mask.join() !== took.join()) {
        await handle.close();
        throw systemError(errnoOf('EBUSY'), 'open', undefined, `${this.toString()}: the enabled channels keep changing ([${took.join(', ')}], then [${handle.mask.join(', ')}]): another process is writing its scan elements`);
      }
    }
    let overruns: OverrunFinder | undefined;
    try {
      overruns = this.output ? undefined : await overrunFinder(this, layout, options.counter, options);
    } catch (e) {
      await handle.close();
      throw e;
    }
    const session = this.#session;
    const stream = new BufferStream(this, handle, this.#channelsAt(handle.mask), layout, options.blockSize, {
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      cpuAccess: options.cpuAccess ?? true,
      cyclic: options.cyclic === true,
      overruns,
    }, () => session.streams.delete(stream));
    session.streams.add(stream);
    return stream;
  }

  async #openHandle(mask: readonly number[], options: OpenStreamOptions): Promise<{ handle: BufferHandle; layout: BlockLayout }> {
    const layout = layoutOf(this.#channelsAt(mask));
    const handle = await this.#session.backend.openBuffer!(this.device.id, this.index, mask, {
      mode: options.mode ?? 'auto',
      blocks: options.blocks ?? 4,
      blockBytes: options.blockSize * layout.scanBytes,
      scanBytes: layout.scanBytes,
      ...(options.checkTransfers === undefined ? {} : { checkTransfers: options.checkTransfers }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return { handle, layout };
  }

  /**
   * Whether the buffer takes DMABUF zero-copy blocks, found by attaching one (the buffer's scan
   * elements and state are left alone); undefined when the backend cannot tell (ip:).
   */
  async dmabufSupport(options: OpOptions = {}): Promise<DmabufSupport | undefined> {
    this.#session.check(options);
    return this.#session.backend.probeDmabuf?.(this.device.id, this.index, options);
  }

  #mask(options: OpenStreamOptions): number[] {
    let positions: number[];
    if (options.mask !== undefined) positions = [...options.mask];
    else if (options.channels !== undefined) {
      positions = options.channels.map((c) => typeof c === 'string' ? this.device.channel(c, this.direction).position : c.position);
    } else positions = this.channels.map((c) => c.position);
    const carried = new Set(this.channels.map((c) => c.position));
    for (const p of positions) {
      if (!carried.has(p)) throw systemError(errnoOf('EINVAL'), 'open', undefined, `${this.toString()} does not carry channel position ${p} (it carries ${this.channels.map((c) => `${c.id}@${c.position}`).join(', ')})`);
    }
    if (positions.length === 0) throw new RangeError(`${this.toString()}: no channels to enable`);
    return [...new Set(positions)].sort((a, b) => a - b);
  }

  #channelsAt(positions: readonly number[]): Channel[] {
    return positions.map((p) => this.device.channels[p]!);
  }

  /** e.g. `buffer0 of iio:device0 (adc4)`. */
  toString(): string {
    return `buffer${this.index} of ${this.device.toString()}`;
  }
}

/** The block layout of scan elements `channels`, in their order. */
export function layoutOf(channels: readonly Channel[]): BlockLayout {
  return new BlockLayout(channels.map((c) => {
    const scan = c.scanElement!;
    return { id: c.id, index: scan.index, type: scan.type, timestamp: scan.timestamp === true };
  }));
}
