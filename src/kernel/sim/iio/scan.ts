// One scan's layout for a scan mask (kernel-abi §6.4–§6.5, iio_compute_scan_bytes): which
// channels it carries, where each sits, and its size. Also renders single scans for the
// sample-at-a-time paths (kfifo, events); DMA blocks use ScanPattern (stream.ts).
import { computeScanLayout, sampleCodec, type SampleValue } from '../../../format/index.js';
import type { SimChannel } from './channel.js';

export interface PlacedChannel {
  channel: SimChannel;
  offset: number;
}

export interface ScanLayoutOf {
  scanBytes: number;
  /** Data channels in scan order (the timestamp excluded). */
  elements: PlacedChannel[];
  /** The timestamp channel's place, when enabled. */
  timestamp: PlacedChannel | undefined;
  /** Smallest storage word of the elements (the DMA's default transfer unit). */
  smallestStorage: number;
}

/** The layout of the scan carrying `mask` (scan indices) and, if `withTimestamp`, the timestamp. */
export function layoutScan(channels: readonly SimChannel[], mask: ReadonlySet<number>, withTimestamp: boolean): ScanLayoutOf {
  const picked = channels.filter((c) => c.scanType !== undefined && c.scanIndex !== undefined && (c.isTimestamp ? withTimestamp : mask.has(c.scanIndex)));
  const layout = computeScanLayout(picked.map((c) => ({ index: c.scanIndex!, type: c.scanType!, timestamp: c.isTimestamp })), 'kernel');
  const elements: PlacedChannel[] = [];
  let timestamp: PlacedChannel | undefined;
  for (const i of layout.order) {
    const placed = { channel: picked[i]!, offset: layout.offsets[i]! };
    if (placed.channel.isTimestamp) timestamp = placed;
    else elements.push(placed);
  }
  const smallestStorage = Math.min(...picked.map((c) => c.scanType!.storageBits / 8), Infinity);
  return { scanBytes: layout.scanBytes, elements, timestamp, smallestStorage: Number.isFinite(smallestStorage) ? smallestStorage : 1 };
}

/** Writes one scan: sample `n` of each channel at `rateHz`, and the timestamp `ns`. */
export function renderScan(slot: Uint8Array, layout: ScanLayoutOf, n: number, rateHz: number, ns: bigint): void {
  const view = new DataView(slot.buffer, slot.byteOffset, slot.byteLength);
  for (const { channel, offset } of layout.elements) {
    const type = channel.scanType!;
    const codec = sampleCodec(type);
    const signal = channel.signal(rateHz);
    for (let r = 0; r < type.repeat; r++) codec.encode(view, offset, signal.at(n * type.repeat + r), r);
  }
  if (layout.timestamp !== undefined) sampleCodec(layout.timestamp.channel.scanType!).encode(view, layout.timestamp.offset, ns);
}

/** Decodes the values of `channel` from consecutive scans in `bytes` (what an output played). */
export function decodeChannel(bytes: Uint8Array, layout: ScanLayoutOf, channel: SimChannel): SampleValue[] {
  const placed = layout.elements.find((e) => e.channel === channel);
  if (placed === undefined || layout.scanBytes === 0) return [];
  const type = channel.scanType!;
  const codec = sampleCodec(type);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SampleValue[] = [];
  const scans = Math.floor(bytes.length / layout.scanBytes);
  for (let s = 0; s < scans; s++) {
    for (let r = 0; r < type.repeat; r++) out.push(codec.decode(view, s * layout.scanBytes + placed.offset, r));
  }
  return out;
}
