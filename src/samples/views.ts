// Zero-copy strided views: a channel read in place, through a typed array over the block.
// Possible only when the stored word is the value itself (LayoutChannel.natural: 1, 2, 4 or 8
// bytes, host byte order, shift 0, realbits == storagebits) and the word stays aligned in every
// scan (block byteOffset, element offset and scan size multiples of the word size). Otherwise
// the value needs masking, sign extension, shifting or byte swapping, and only a copy (demux)
// can produce it; viewProblem says why.
import { HOST_LITTLE_ENDIAN } from './kinds.js';
import { checkBlock, type LayoutChannel, type ScanLayoutView } from './layout.js';
import { wordView } from './fast.js';

export type ViewArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/**
 * Channel values in place: value r of scan n is `array[offset + n × stride + r]`, for
 * n < length and r < repeat. `array` may extend past the last whole scan; use `length`.
 * It aliases the block: writes through it change the block.
 */
export interface StridedView<A extends ViewArray = ViewArray> {
  readonly array: A;
  readonly offset: number;
  readonly stride: number;
  readonly repeat: number;
  /** Whole scans in the block. */
  readonly length: number;
}

const CONSTRUCTORS = {
  signed: [Int8Array, Int16Array, null, Int32Array, null, null, null, BigInt64Array],
  unsigned: [Uint8Array, Uint16Array, null, Uint32Array, null, null, null, BigUint64Array],
} as const;

/** Why `channel` cannot be viewed in place (in `block`, if given), or null when it can. */
export function viewProblem(layout: ScanLayoutView, channel: string | LayoutChannel, block?: Uint8Array): string | null {
  const ch = layout.channel(channel);
  const { type, storageBytes: size } = ch;
  const what = `channel "${ch.id}"`;
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    return `${what}: storage is ${size} bytes; typed arrays have 1, 2, 4 or 8-byte elements`;
  }
  if (type.shift !== 0) return `${what}: the value is shifted by ${type.shift} bits within its storage`;
  if (type.realBits !== type.storageBits) {
    return `${what}: ${type.realBits} of ${type.storageBits} storage bits are the value; the rest must be masked off` +
      `${type.signed ? ' and the value sign-extended' : ''}`;
  }
  if (size > 1 && (type.endianness === 'le') !== HOST_LITTLE_ENDIAN) {
    return `${what}: ${type.endianness === 'le' ? 'little' : 'big'}-endian storage on a ` +
      `${HOST_LITTLE_ENDIAN ? 'little' : 'big'}-endian host needs byte swapping`;
  }
  if (ch.offset % size !== 0 || layout.scanBytes % size !== 0) {
    return `${what}: element offset ${ch.offset} in a scan of ${layout.scanBytes} bytes is not aligned to ${size} bytes`;
  }
  if (block !== undefined && checkBlock(block).byteOffset % size !== 0) {
    return `${what}: the block starts at byte ${block.byteOffset} of its buffer, not aligned to ${size} bytes`;
  }
  return null;
}

/** A zero-copy view of `channel` in `block`, or null when none is possible (see viewProblem). */
export function stridedView(layout: ScanLayoutView, block: Uint8Array, channel: string | LayoutChannel): StridedView | null {
  const ch = layout.channel(channel);
  if (viewProblem(layout, ch, block) !== null) return null;
  const size = ch.storageBytes;
  const Ctor = CONSTRUCTORS[ch.type.signed ? 'signed' : 'unsigned'][size - 1]!;
  const array = wordView(block, Ctor)!;
  return { array, offset: ch.offset / size, stride: layout.scanBytes / size, repeat: ch.repeat, length: layout.scanCount(block) };
}
