// A SigMF recording of IIO channels (scope.md C): the interleaved samples of `.sigmf-data` and
// the `.sigmf-meta` that describes them. Channels that are I/Q pairs (`voltage0_i`,
// `voltage0_q`, ...) are recorded as complex samples; the IIO scan formats, scales and offsets go
// into the `iiojs:` namespace, declared in `core:extensions`. Samples the device dropped (an
// overrun) start a new capture segment whose `core:global_index` jumps by what was lost, as
// SigMF marks a discontinuity.
import type { ScanType } from '../format/index.js';
import { formatScanType } from '../format/index.js';
import { HOST_LITTLE_ENDIAN, type SampleArray } from '../samples/index.js';
import { IIOJS_VERSION_TEXT } from '../version.js';
import { sigmfSampleType, type SigmfSampleType } from './datatype.js';

export const SIGMF_VERSION = '1.2.5';
export const SIGMF_NAMESPACE = 'iiojs';

export interface RecordedChannel {
  id: string;
  type: Readonly<ScanType>;
  scale?: number;
  offset?: number;
}

export interface RecordingInfo {
  /** Samples per second (`core:sample_rate`). */
  sampleRate?: number;
  /** Center frequency in Hz (`core:frequency`), e.g. the receiver's LO. */
  frequency?: number;
  /** The hardware, e.g. `iiojs-adc4 (adc4) on sim:`. */
  hw: string;
  description?: string;
  /** When the first sample was taken. */
  datetime: Date;
  /** The IIO device and the URI of its context. */
  device: string;
  uri: string;
}

/** Whether `ids` are I/Q pairs in order: `x_i, x_q, y_i, y_q, ...`. */
export function isIqPairs(ids: readonly string[]): boolean {
  if (ids.length === 0 || ids.length % 2 !== 0) return false;
  for (let i = 0; i < ids.length; i += 2) {
    const m = /^(.*)_i$/.exec(ids[i]!);
    if (m === null || ids[i + 1] !== `${m[1]}_q`) return false;
  }
  return true;
}

type Interleaved = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;

export class SigmfRecording {
  readonly channels: readonly RecordedChannel[];
  readonly sampleType: SigmfSampleType;
  readonly info: RecordingInfo;
  /** Scans recorded so far. */
  #scans = 0;
  #lost = 0;
  readonly #captures: Array<{ sampleStart: number; globalIndex: number }> = [{ sampleStart: 0, globalIndex: 0 }];

  constructor(channels: readonly RecordedChannel[], info: RecordingInfo) {
    this.channels = channels;
    this.info = info;
    this.sampleType = sigmfSampleType(channels, isIqPairs(channels.map((c) => c.id)));
  }

  get scans(): number {
    return this.#scans;
  }

  /** Bytes of `.sigmf-data` per scan (every channel's sample). */
  get scanBytes(): number {
    return (this.channels.length * this.sampleType.bits) / 8;
  }

  /** The `.sigmf-data` bytes of scans [start, end) of `samples` (each channel's, by id), counted as recorded. */
  encode(samples: Readonly<Record<string, SampleArray>>, start: number, end: number): Uint8Array {
    const n = end - start;
    const width = this.channels.length;
    const out = this.#allocate(n * width);
    this.channels.forEach((c, k) => {
      const src = samples[c.id];
      if (src === undefined) throw new RangeError(`no samples of ${c.id} to record`);
      if (src.length < end) throw new RangeError(`${c.id} has ${src.length} samples, ${end} needed`);
      const values = src as ArrayLike<number>;
      for (let i = 0; i < n; i++) out[i * width + k] = values[start + i]!;
    });
    this.#scans += n;
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    if (!HOST_LITTLE_ENDIAN && this.sampleType.bits !== 8) swapBytes(bytes, this.sampleType.bits / 8);
    return bytes;
  }

  /** `lost` samples were dropped before the next scan: a new capture segment. */
  gap(lost: number): void {
    this.#lost += lost;
    this.#captures.push({ sampleStart: this.#scans, globalIndex: this.#scans + this.#lost });
  }

  /** The `.sigmf-meta` object for what was recorded. */
  meta(): Record<string, unknown> {
    const { info, sampleType } = this;
    const global: Record<string, unknown> = {
      'core:datatype': sampleType.datatype,
      'core:version': SIGMF_VERSION,
      'core:num_channels': sampleType.complex ? this.channels.length / 2 : this.channels.length,
      'core:hw': info.hw,
      'core:recorder': `iiojs ${IIOJS_VERSION_TEXT}`,
      'core:extensions': [{ name: SIGMF_NAMESPACE, version: IIOJS_VERSION_TEXT, optional: true }],
      [`${SIGMF_NAMESPACE}:device`]: info.device,
      [`${SIGMF_NAMESPACE}:uri`]: info.uri,
      [`${SIGMF_NAMESPACE}:channels`]: this.channels.map((c) => ({
        id: c.id, format: formatScanType(c.type), ...(c.scale === undefined ? {} : { scale: c.scale }), ...(c.offset === undefined ? {} : { offset: c.offset }),
      })),
    };
    if (info.sampleRate !== undefined) global['core:sample_rate'] = info.sampleRate;
    if (info.description !== undefined) global['core:description'] = info.description;
    if (sampleType.conversions.length > 0) global[`${SIGMF_NAMESPACE}:conversions`] = sampleType.conversions;
    if (this.#lost > 0) global[`${SIGMF_NAMESPACE}:samples_lost`] = this.#lost;
    const periodMs = info.sampleRate === undefined ? undefined : 1000 / info.sampleRate;
    const captures = this.#captures.map((c, i) => {
      const capture: Record<string, unknown> = { 'core:sample_start': c.sampleStart };
      if (this.#captures.length > 1) capture['core:global_index'] = c.globalIndex;
      const at = i === 0 ? info.datetime : periodMs === undefined ? undefined : new Date(info.datetime.getTime() + c.globalIndex * periodMs);
      if (at !== undefined) capture['core:datetime'] = at.toISOString();
      if (info.frequency !== undefined) capture['core:frequency'] = info.frequency;
      return capture;
    });
    return { global, captures, annotations: [] };
  }

  #allocate(n: number): Interleaved {
    const { bits, signed } = this.sampleType;
    if (bits === 8) return signed ? new Int8Array(n) : new Uint8Array(n);
    if (bits === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
    return signed ? new Int32Array(n) : new Uint32Array(n);
  }
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}
