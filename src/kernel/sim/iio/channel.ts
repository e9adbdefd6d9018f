// A channel of a simulated IIO device (struct iio_chan_spec plus the "hardware" behind it): its
// scan type, the signal an input produces at a given rate, the value an output holds, and what
// an output last played (which loopback inputs hear).
import { parseScanType, type ScanType, type SampleValue } from '../../../format/index.js';
import type { ChannelSpec } from '../scenario-types.js';
import { channelSignal, isLoopback, tableSignal, type ChannelSignal } from '../signal.js';
import { channelPrefix } from './naming.js';

export class SimChannel {
  readonly prefix: string;
  readonly scanType: ScanType | undefined;
  /** Output channels: the value last written to `_raw` (the DAC setpoint). */
  outRaw = 0;
  /** Output channels: the samples it played last (one block or kfifo batch), for loopbacks. */
  played: SampleValue[] | undefined;
  /** Bumped whenever `played` changes, so capture patterns built from it are rebuilt. */
  playedVersion = 0;
  readonly #signals = new Map<number, ChannelSignal | undefined>();
  #loopback: { version: number; signal: ChannelSignal } | undefined;

  constructor(
    readonly spec: ChannelSpec,
    /** Position in the device's channel list (what loopback waveforms and events refer to). */
    readonly position: number,
    /** Resolves a loopback waveform's source channel. */
    private readonly loopbackSource: (device: string, channel: number) => SimChannel | undefined,
  ) {
    this.prefix = channelPrefix(spec);
    this.scanType = spec.format === undefined ? undefined : parseScanType(spec.format);
  }

  get direction(): 'in' | 'out' {
    return this.spec.direction ?? 'in';
  }

  get isTimestamp(): boolean {
    return this.spec.type === 'timestamp';
  }

  get scanIndex(): number | undefined {
    return this.spec.scanIndex;
  }

  /** The loopback source channel, if this input's waveform is a loopback. */
  get source(): SimChannel | undefined {
    const w = this.spec.waveform;
    return isLoopback(w) ? this.loopbackSource(w.device, w.channel) : undefined;
  }

  /** Raw samples at `rateHz` in the channel's scan format (a 16-bit signed default without one). */
  signal(rateHz: number): ChannelSignal {
    const type = this.scanType ?? parseScanType('le:s16/16>>0');
    const source = this.source;
    if (source !== undefined || isLoopback(this.spec.waveform)) {
      const version = source?.playedVersion ?? -1;
      if (this.#loopback === undefined || this.#loopback.version !== version) {
        const played = source?.played;
        this.#loopback = { version, signal: tableSignal(played !== undefined && played.length > 0 ? played : [source?.outRaw ?? 0], type) };
      }
      return this.#loopback.signal;
    }
    const rate = rateHz > 0 && Number.isFinite(rateHz) ? rateHz : 1;
    if (!this.#signals.has(rate)) {
      this.#signals.set(rate, channelSignal(this.spec.waveform, type, rate, { seed: this.position + 1 }));
    }
    return this.#signals.get(rate)!;
  }

  /** The loopback version this channel's signal depends on (-1: none). */
  get signalVersion(): number {
    return this.source?.playedVersion ?? -1;
  }

  /** What `_raw` reads now: an output's setpoint, an input's current sample. */
  rawNow(rateHz: number, sample: number): SampleValue {
    if (this.direction === 'out') return this.outRaw;
    return this.signal(rateHz).at(sample);
  }
}
