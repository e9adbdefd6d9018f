// A buffer's own channels out of READBUF data that carries more: an iiod server shares an input
// buffer among its clients with the union of their channels, and each READBUF's mask line says
// which channels the data holds (iiod-protocol.md §4a, "Legacy internals"). Both sides lay
// samples out by libiio's rule; the bytes of each own channel are copied as they are.
import { computeScanLayout, type ScanElement } from '../../format/scan-layout.js';
import { elementBytes } from '../../format/scan-type.js';

export class UnionDemux {
  /** libiio's sample size of the data sent, and of the buffer's own channels. */
  readonly sentBytes: number;
  readonly ownBytes: number;
  /** Per own channel: its offset in a sent sample, in an own sample, and its size. */
  readonly #copies: ReadonlyArray<readonly [number, number, number]>;

  /**
   * `own` must be a subset of `sent` (both ascending positions); `element(p)` is the scan
   * element at channel position p. Throws RangeError when a channel of `own` was not sent.
   */
  constructor(own: readonly number[], sent: readonly number[], element: (position: number) => ScanElement) {
    const ownLayout = computeScanLayout(own.map(element), 'libiio');
    const sentLayout = computeScanLayout(sent.map(element), 'libiio');
    this.ownBytes = ownLayout.scanBytes;
    this.sentBytes = sentLayout.scanBytes;
    this.#copies = own.map((p, i) => {
      const j = sent.indexOf(p);
      if (j < 0) throw new RangeError(`channel ${p} is not in the data sent (channels ${sent.join(', ')})`);
      return [sentLayout.offsets[j]!, ownLayout.offsets[i]!, elementBytes(element(p).type)] as const;
    });
  }

  /** Copies the own channels of every whole sample of `from` into `to`; returns the bytes written. */
  extract(from: Uint8Array, to: Uint8Array): number {
    const samples = Math.floor(from.length / this.sentBytes);
    for (let s = 0; s < samples; s++) {
      const src = s * this.sentBytes;
      const dst = s * this.ownBytes;
      for (const [at, into, size] of this.#copies) {
        for (let k = 0; k < size; k++) to[dst + into + k] = from[src + at + k]!;
      }
    }
    return samples * this.ownBytes;
  }
}
