// The channels a command asked for, when the kernel enabled more (a driver that forces some on,
// another writer of the `_en` files): the stream carries them all (BufferStream follows the
// kernel), while stdout and stdin carry the scans of the asked channels only, as libiio's tools
// do. The others are dropped on capture and played as zeros.
import type { BufferStream } from '../core/buffer-stream.js';
import type { Channel } from '../core/channel.js';
import { layoutOf } from '../core/buffer.js';
import type { BlockLayout } from '../samples/block-layout.js';
import type { SampleArray } from '../samples/kinds.js';

export class ChannelSubset {
  /** The asked channels' scans. */
  readonly layout: BlockLayout;

  private constructor(private readonly stream: BufferStream, readonly channels: readonly Channel[]) {
    this.layout = layoutOf(channels);
  }

  /** The subset of `keys` (channel keys), or undefined when the stream carries just those. */
  static of(stream: BufferStream, keys: readonly string[]): ChannelSubset | undefined {
    const device = stream.buffer.device;
    const asked = new Set(keys.map((k) => device.channel(k, stream.buffer.direction)));
    if (asked.size === 0 || asked.size === stream.channels.length) return undefined;
    return new ChannelSubset(stream, stream.channels.filter((c) => asked.has(c)));
  }

  /** Scans of the stream → scans of the asked channels. */
  extract(bytes: Uint8Array): Uint8Array {
    const values: Record<string, SampleArray> = {};
    for (const c of this.channels) values[c.id] = this.stream.layout.samples(bytes, c.id);
    const out = this.layout.allocate(this.stream.layout.scanCount(bytes));
    this.layout.fill(out, values);
    return out;
  }

  /** Scans of the asked channels → the start of a stream block, the other channels zero; its bytes. */
  fill(block: Uint8Array, scans: Uint8Array): number {
    const bytes = this.layout.scanCount(scans) * this.stream.layout.scanBytes;
    block.fill(0, 0, bytes);
    this.stream.layout.fill(block.subarray(0, bytes), this.layout.samplesAll(scans));
    return bytes;
  }
}
