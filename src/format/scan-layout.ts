// Where each enabled scan element sits inside one scan, and how big a scan is, by either
// the kernel's rule (kernel-abi §6.4–§6.5, `iio_compute_scan_bytes`) or libiio's
// (iiod-protocol.md "Sample size"). The two disagree in corner cases, and a client sizing
// READBUF must use libiio's while the kernel's `bytes_per_datum` follows its own.
import { assertScanType, elementBytes, type ScanType } from './scan-type.js';

export type ScanLayoutRule = 'kernel' | 'libiio';

/** One enabled scan element (a channel whose `_en` is 1). */
export interface ScanElement {
  /** The channel's `_index` (a non-negative integer). */
  index: number;
  type: ScanType;
  /**
   * The timestamp channel (`in_timestamp_en`). The kernel keeps it outside the scan mask and
   * places it last whatever its index; libiio places it by index like any other channel.
   */
  timestamp?: boolean;
}

export type ScanLayoutWarningCode =
  /** storagebits/8 × repeat is not a power of two: the kernel's ALIGN mask is not a round-up. */
  | 'NON_POWER_OF_TWO_ELEMENT'
  /** The timestamp's index is below another element's: the rules order it differently. */
  | 'TIMESTAMP_NOT_LAST_INDEX'
  /** libiio: elements sharing an index (and so storage) have different sizes. */
  | 'SHARED_INDEX_SIZE_MISMATCH';

export interface ScanLayoutWarning {
  code: ScanLayoutWarningCode;
  message: string;
  /** Input positions of the elements concerned. */
  positions: number[];
}

export interface ScanLayout {
  rule: ScanLayoutRule;
  /** Bytes per scan (the kernel's `bytes_per_datum`, libiio's sample size); 0 for no elements. */
  scanBytes: number;
  /** The largest element size counted (0 for no elements). */
  largest: number;
  /** `offsets[i]` is the byte offset of input element `i` within a scan. */
  offsets: number[];
  /** Input positions in the order their data appears in a scan. */
  order: number[];
  /**
   * libiio only: `sharedWith[i]` is the input position of the element whose storage element
   * `i` shares (same index as the element before it), or null. Always null for 'kernel'.
   */
  sharedWith: (number | null)[];
  warnings: ScanLayoutWarning[];
}

/** The element set cannot be laid out (bad index, duplicate index for the kernel, ...). */
export class ScanLayoutError extends RangeError {
  readonly code = 'EINVAL';
  /** Input positions of the offending elements. */
  readonly positions: number[];

  constructor(message: string, positions: number[]) {
    super(message);
    this.name = 'ScanLayoutError';
    this.positions = positions;
  }
}

/**
 * The kernel's `ALIGN(x, a)`, `(x + a - 1) & ~(a - 1)`, literally: a round-up only when `a`
 * is a power of two (kernel-abi §6.5). Kept 32-bit like the kernel's unsigned arithmetic.
 */
export function kernelAlign(x: number, a: number): number {
  if (x + a - 1 > 0x7fffffff) throw new ScanLayoutError(`scan size overflows 2^31 bytes`, []);
  return (x + a - 1) & ~(a - 1);
}

/** A true round-up to a multiple of `a` (libiio's modulo form; also the demux's `roundup()`). */
export function roundUp(x: number, a: number): number {
  const r = x % a;
  return r === 0 ? x : x + (a - r);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

/**
 * Lay out `elements` (the enabled ones; input order does not matter) by `rule`.
 *
 * - 'kernel': ascending index, timestamp last, each element at `ALIGN(bytes, L)`, total
 *   `ALIGN(bytes, largest)`. Indices must be unique (the kernel refuses duplicate scan
 *   indices), so a duplicate throws.
 * - 'libiio': ascending index (ties by shift, then input order), timestamp by its index; an
 *   element with the same index as the previous one shares its storage and adds nothing;
 *   each counted element at the running size rounded up (modulo) to L; no final padding.
 *
 * Both rules throw ScanLayoutError for a negative or non-integer index or more than one
 * timestamp, and ScanTypeError for an invalid type. No elements gives a scan size of 0.
 */
export function computeScanLayout(elements: readonly ScanElement[], rule: ScanLayoutRule): ScanLayout {
  if (rule !== 'kernel' && rule !== 'libiio') {
    throw new ScanLayoutError(`unknown scan layout rule ${JSON.stringify(rule)}`, []);
  }
  const sizes = elements.map((e, i) => checkElement(e, i));
  const warnings: ScanLayoutWarning[] = [];

  const stamps = positionsWhere(elements, (e) => e.timestamp === true);
  if (stamps.length > 1) {
    throw new ScanLayoutError(`more than one timestamp element (positions ${stamps.join(', ')})`, stamps);
  }
  const stamp = stamps[0];
  if (stamp !== undefined) {
    const ts = elements[stamp]!.index;
    const above = positionsWhere(elements, (e) => e.index > ts);
    if (above.length > 0) {
      warnings.push({
        code: 'TIMESTAMP_NOT_LAST_INDEX',
        message: `timestamp index ${ts} is below other enabled indices; the kernel places it last, ` +
          `libiio by index, so the two layouts differ`,
        positions: [stamp, ...above],
      });
    }
  }
  for (const [i, bytes] of sizes.entries()) {
    if (!isPowerOfTwo(bytes)) {
      warnings.push({
        code: 'NON_POWER_OF_TWO_ELEMENT',
        message: `element ${i} (index ${elements[i]!.index}) is ${bytes} bytes, not a power of two: ` +
          `the kernel's ALIGN and its demux's roundup() disagree, so the layout is unreliable`,
        positions: [i],
      });
    }
  }

  const layout = rule === 'kernel'
    ? kernelLayout(elements, sizes, stamp)
    : libiioLayout(elements, sizes, warnings);
  return { rule, ...layout, warnings };
}

type Placement = Pick<ScanLayout, 'scanBytes' | 'largest' | 'offsets' | 'order' | 'sharedWith'>;

function kernelLayout(elements: readonly ScanElement[], sizes: number[], stamp: number | undefined): Placement {
  const seen = new Map<number, number>();
  for (const [i, e] of elements.entries()) {
    const first = seen.get(e.index);
    if (first !== undefined) {
      throw new ScanLayoutError(
        `duplicate scan index ${e.index} (elements ${first} and ${i}); the kernel requires unique scan indices`,
        [first, i]);
    }
    seen.set(e.index, i);
  }
  // for_each_set_bit over the mask, then the timestamp, which is not in the mask.
  const order = positionsWhere(elements, (_e, i) => i !== stamp)
    .sort((a, b) => elements[a]!.index - elements[b]!.index);
  if (stamp !== undefined) order.push(stamp);

  const offsets = new Array<number>(elements.length).fill(0);
  let bytes = 0;
  let largest = 0;
  for (const i of order) {
    const length = sizes[i]!;
    bytes = kernelAlign(bytes, length);
    offsets[i] = bytes;
    bytes += length;
    largest = Math.max(largest, length);
  }
  const scanBytes = order.length === 0 ? 0 : kernelAlign(bytes, largest);
  return { scanBytes, largest, offsets, order, sharedWith: elements.map(() => null) };
}

/**
 * libiio's order of scan elements, which is also the channel (mask) order: by index, ties
 * broken by shift (iiod-protocol.md "Channel numbering and masks").
 */
export function compareScanOrder(a: Pick<ScanElement, 'index' | 'type'>, b: Pick<ScanElement, 'index' | 'type'>): number {
  return a.index - b.index || a.type.shift - b.type.shift;
}

function libiioLayout(elements: readonly ScanElement[], sizes: number[], warnings: ScanLayoutWarning[]): Placement {
  const order = elements.map((_e, i) => i).sort((a, b) => compareScanOrder(elements[a]!, elements[b]!) || a - b);

  const offsets = new Array<number>(elements.length).fill(0);
  const sharedWith = elements.map((): number | null => null);
  let size = 0;
  let largest = 0;
  let owner: number | undefined;
  for (const i of order) {
    const length = sizes[i]!;
    if (owner !== undefined && elements[owner]!.index === elements[i]!.index) {
      offsets[i] = offsets[owner]!;
      sharedWith[i] = owner;
      if (length !== sizes[owner]) {
        warnings.push({
          code: 'SHARED_INDEX_SIZE_MISMATCH',
          message: `elements ${owner} and ${i} share index ${elements[i]!.index} but are ` +
            `${sizes[owner]} and ${length} bytes; libiio counts only the first`,
          positions: [owner, i],
        });
      }
      continue;
    }
    size = roundUp(size, length);
    offsets[i] = size;
    size += length;
    largest = Math.max(largest, length);
    owner = i;
  }
  return { scanBytes: size, largest, offsets, order, sharedWith };
}

function checkElement(e: ScanElement, i: number): number {
  if (typeof e !== 'object' || e === null) throw new ScanLayoutError(`element ${i} is not an object`, [i]);
  if (!Number.isSafeInteger(e.index) || e.index < 0) {
    throw new ScanLayoutError(
      `element ${i} has scan index ${String(e.index)}; only non-negative integer indices are scan elements`, [i]);
  }
  assertScanType(e.type, `scan element ${i}, index ${e.index}`);
  return elementBytes(e.type);
}

function positionsWhere(elements: readonly ScanElement[], test: (e: ScanElement, i: number) => boolean): number[] {
  const out: number[] = [];
  for (const [i, e] of elements.entries()) if (test(e, i)) out.push(i);
  return out;
}
