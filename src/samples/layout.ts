// The layout of a block: which channel sits where in a scan, built once from the enabled
// channels by the kernel's rule (kernel-abi §6.4–§6.5) and reused for every block of a buffer.
// Each channel also carries a precomputed plan of the bytes that hold its bit field, so the
// demux/mux loops do no per-call format arithmetic.
import {
  computeScanLayout,
  parseScanType,
  sampleCodec,
  type ScanLayoutWarning,
  type ScanType,
} from '../format/index.js';
import { HOST_LITTLE_ENDIAN, sampleArrayKind, type SampleArrayKind } from './kinds.js';

/** One enabled channel, as the buffer reports it. */
export interface SampleChannelSpec {
  /** The channel id (e.g. `voltage0`, `timestamp`); unique within a layout. */
  id: string;
  /** The scan index (`_index`). */
  index: number;
  /** The `_type`, parsed or as text. */
  type: ScanType | string;
  /** The timestamp channel, which the kernel places last whatever its index. */
  timestamp?: boolean;
}

/**
 * Where a channel's bit field lies within one storage word, for loops that work on bytes.
 * `fieldBytes` lists the byte offsets (from the start of the word) of the bytes that hold the
 * field, most significant first; the field starts `bit` bits into the least significant one.
 * `mode` is the arithmetic that holds the field exactly: 'int' (32-bit integers, the field and
 * its bit offset fit in 32 bits), 'double' (realbits <= 53) or 'bigint'.
 */
export interface FieldPlan {
  readonly storageBytes: number;
  readonly realBits: number;
  readonly signed: boolean;
  readonly shift: number;
  readonly littleEndian: boolean;
  readonly bit: number;
  readonly fieldBytes: readonly number[];
  readonly mode: 'int' | 'double' | 'bigint';
}

/** A channel placed in the scan. */
export interface LayoutChannel {
  readonly id: string;
  readonly index: number;
  readonly type: ScanType;
  readonly timestamp: boolean;
  /** Byte offset of the channel's element within a scan. */
  readonly offset: number;
  /** Bytes of one value (storagebits/8); repeat slot r starts r × storageBytes into the element. */
  readonly storageBytes: number;
  readonly repeat: number;
  /** storageBytes × repeat. */
  readonly elementBytes: number;
  /** The array kind demux returns for this channel. */
  readonly kind: SampleArrayKind;
  /** Value range (numbers up to 53 bits, bigints above). */
  readonly min: number | bigint;
  readonly max: number | bigint;
  /**
   * The stored word is the value itself, in a JS typed array's native form: 1, 2, 4 or 8 bytes,
   * host byte order (or one byte), no shift, realbits == storagebits.
   */
  readonly natural: boolean;
  readonly field: FieldPlan;
}

/** The layout of the scans in a block, for a fixed set of enabled channels. */
export class ScanLayoutView {
  /** Bytes per scan (the kernel's `bytes_per_datum`). */
  readonly scanBytes: number;
  /** The channels in the order their data appears in a scan (the timestamp last). */
  readonly channels: readonly LayoutChannel[];
  /** computeScanLayout's warnings (e.g. a non-power-of-two element size). */
  readonly warnings: readonly ScanLayoutWarning[];
  readonly #byId: Map<string, LayoutChannel>;

  constructor(specs: readonly SampleChannelSpec[]) {
    if (!Array.isArray(specs)) throw new TypeError('block layout: expected an array of channels');
    if (specs.length === 0) throw new RangeError('block layout: no enabled channels (a buffer needs at least one)');
    const types = specs.map((s, i) => specType(s, i));
    const layout = computeScanLayout(
      specs.map((s, i) => ({ index: s.index, type: types[i]!, timestamp: s.timestamp === true })), 'kernel');
    this.#byId = new Map();
    const channels: LayoutChannel[] = [];
    for (const i of layout.order) {
      const spec = specs[i]!;
      if (this.#byId.has(spec.id)) throw new RangeError(`block layout: channel "${spec.id}" is listed twice`);
      const channel = placeChannel(spec, types[i]!, layout.offsets[i]!);
      this.#byId.set(spec.id, channel);
      channels.push(channel);
    }
    this.scanBytes = layout.scanBytes;
    this.channels = Object.freeze(channels);
    this.warnings = Object.freeze(layout.warnings);
  }

  /** The channel `id` (a LayoutChannel of this layout is returned as is). */
  channel(id: string | LayoutChannel): LayoutChannel {
    if (typeof id === 'string') {
      const found = this.#byId.get(id);
      if (found !== undefined) return found;
      throw new RangeError(`channel "${id}" is not enabled in this layout (enabled: ${[...this.#byId.keys()].join(', ')})`);
    }
    if (typeof id === 'object' && id !== null && this.#byId.get(id.id) === id) return id;
    throw new TypeError(`expected a channel id or a channel of this layout, got ${describe(id)}`);
  }

  /** True when channel `id` is enabled in this layout. */
  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Whole scans in `block` (or in that many bytes); a partial last scan is not counted. */
  scanCount(block: Uint8Array | number): number {
    const bytes = typeof block === 'number' ? block : checkBlock(block).byteLength;
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`byte length must be a non-negative integer, got ${bytes}`);
    return Math.floor(bytes / this.scanBytes);
  }

  /** Values of channel `id` in `block`: whole scans × repeat. */
  sampleCount(block: Uint8Array, id: string | LayoutChannel): number {
    return this.scanCount(block) * this.channel(id).repeat;
  }

  /** Bytes of a block of `scans` scans. */
  blockBytes(scans: number): number {
    if (!Number.isSafeInteger(scans) || scans < 0) throw new RangeError(`scan count must be a non-negative integer, got ${scans}`);
    return scans * this.scanBytes;
  }
}

/** Throws a TypeError unless `block` is a Uint8Array; returns it. */
export function checkBlock(block: Uint8Array): Uint8Array {
  if (!(block instanceof Uint8Array)) throw new TypeError(`a block must be a Uint8Array, got ${describe(block)}`);
  return block;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an Array';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

function specType(spec: SampleChannelSpec, i: number): ScanType {
  if (typeof spec !== 'object' || spec === null) throw new TypeError(`block layout: channel ${i} is not an object`);
  if (typeof spec.id !== 'string' || spec.id === '') {
    throw new TypeError(`block layout: channel ${i} needs a non-empty string id, got ${describe(spec.id)}`);
  }
  return typeof spec.type === 'string' ? parseScanType(spec.type, `channel "${spec.id}"`) : spec.type;
}

function placeChannel(spec: SampleChannelSpec, type: ScanType, offset: number): LayoutChannel {
  const storageBytes = type.storageBits / 8;
  const codec = sampleCodec(type);
  const field = fieldPlan(type);
  const natural = (storageBytes === 1 || storageBytes === 2 || storageBytes === 4 || storageBytes === 8) &&
    type.realBits === type.storageBits && type.shift === 0 &&
    (storageBytes === 1 || field.littleEndian === HOST_LITTLE_ENDIAN);
  return Object.freeze({
    id: spec.id,
    index: spec.index,
    type,
    timestamp: spec.timestamp === true,
    offset,
    storageBytes,
    repeat: type.repeat,
    elementBytes: storageBytes * type.repeat,
    kind: sampleArrayKind(type),
    min: codec.min,
    max: codec.max,
    natural,
    field,
  });
}

function fieldPlan(type: ScanType): FieldPlan {
  const storageBytes = type.storageBits / 8;
  const littleEndian = type.endianness === 'le';
  const bit = type.shift % 8;
  const low = Math.floor(type.shift / 8);
  const high = Math.floor((type.shift + type.realBits - 1) / 8);
  const fieldBytes: number[] = [];
  for (let j = high; j >= low; j--) fieldBytes.push(littleEndian ? j : storageBytes - 1 - j);
  const mode = bit + type.realBits <= 32 ? 'int' : type.realBits <= 53 ? 'double' : 'bigint';
  return Object.freeze({
    storageBytes,
    realBits: type.realBits,
    signed: type.signed,
    shift: type.shift,
    littleEndian,
    bit,
    fieldBytes: Object.freeze(fieldBytes),
    mode,
  });
}
