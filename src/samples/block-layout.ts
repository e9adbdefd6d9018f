// The public face of src/samples: a ScanLayoutView with the operations on blocks as methods.
// Build one per buffer configuration (enabled channels) and reuse it for every block.
import { samples, samplesAll, samplesAllInto, samplesInto } from './demux.js';
import type { SampleArray, SampleInput } from './kinds.js';
import { ScanLayoutView, type LayoutChannel } from './layout.js';
import { fill, writeSamples } from './mux.js';
import { physicalSamples, type ChannelConversion, type PhysicalArray } from './units.js';
import { stridedView, viewProblem, type StridedView } from './views.js';

type ChannelRef = string | LayoutChannel;

export class BlockLayout extends ScanLayoutView {
  /** A new block of `scans` zeroed scans. */
  allocate(scans: number): Uint8Array {
    return new Uint8Array(this.blockBytes(scans));
  }

  /** The channel's values (n × repeat + r), in a new array of its kind (see sampleArrayKind). */
  samples(block: Uint8Array, channel: ChannelRef): SampleArray {
    return samples(this, block, channel);
  }

  /** Demux into `out` without allocating; returns the number of values written. */
  samplesInto(block: Uint8Array, channel: ChannelRef, out: SampleArray): number {
    return samplesInto(this, block, channel, out);
  }

  /** Every channel's values, keyed by id. */
  samplesAll(block: Uint8Array): Record<string, SampleArray> {
    return samplesAll(this, block);
  }

  /** Demux the channels named in `outs` into their arrays; returns the number of scans. */
  samplesAllInto(block: Uint8Array, outs: Readonly<Record<string, SampleArray>>): number {
    return samplesAllInto(this, block, outs);
  }

  /** The channel's values in physical units, `(raw + offset) × scale`. */
  physical<O extends PhysicalArray = Float64Array>(block: Uint8Array, channel: ChannelRef, conv?: ChannelConversion, out?: O): O {
    return physicalSamples(this, block, channel, conv, out);
  }

  /** A zero-copy view of the channel, or null (viewProblem says why). */
  view(block: Uint8Array, channel: ChannelRef): StridedView | null {
    return stridedView(this, block, channel);
  }

  /** Why the channel cannot be viewed in place (in `block`, if given), or null. */
  viewProblem(channel: ChannelRef, block?: Uint8Array): string | null {
    return viewProblem(this, channel, block);
  }

  /** Mux `values` (clamped) into the channel; returns the number of values used. */
  write(block: Uint8Array, channel: ChannelRef, values: SampleInput): number {
    return writeSamples(this, block, channel, values);
  }

  /** Mux several channels at once; channels not named keep their bytes. Returns the scans. */
  fill(block: Uint8Array, values: Readonly<Record<string, SampleInput>>): number {
    return fill(this, block, values);
  }
}
