// Channel masks on the iiod wire (iiod-protocol.md §4a "Channel numbering and masks"): bit i is
// the channel at position i of the device (libiio's order, which is ours), written as
// ceil(channels/32) words of %08x, most significant word first; and libiio's sample size,
// which a 0.2x client uses to size READBUF and WRITEBUF.
import { computeScanLayout, type ScanElement } from '../format/scan-layout.js';

/** Hex characters a mask of a device with `channelCount` channels has on the wire. */
export function maskLength(channelCount: number): number {
  return 8 * Math.ceil(channelCount / 32);
}

/** The wire text of a mask: e.g. positions [0, 1] of 3 channels → `00000003`. */
export function formatMask(positions: readonly number[], channelCount: number): string {
  const words = new Uint32Array(Math.ceil(channelCount / 32));
  for (const p of positions) {
    if (!(Number.isInteger(p) && p >= 0 && p < channelCount)) throw new RangeError(`channel position ${p} is outside 0..${channelCount - 1}`);
    words[words.length - 1 - (p >> 5)]! |= 1 << (p & 31);
  }
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('');
}

/**
 * The positions of a wire mask, ascending. Throws RangeError for a length other than
 * maskLength(channelCount), a non-hex character, or a bit beyond the last channel.
 */
export function parseMask(text: string, channelCount: number): number[] {
  const length = maskLength(channelCount);
  if (text.length !== length) throw new RangeError(`a mask of ${channelCount} channels has ${length} hex digits, got ${text.length}`);
  if (!/^[0-9a-fA-F]*$/.test(text)) throw new RangeError(`mask ${JSON.stringify(text)} is not hexadecimal`);
  const positions: number[] = [];
  const words = length / 8;
  for (let w = 0; w < words; w++) {
    const word = Number.parseInt(text.slice((words - 1 - w) * 8, (words - w) * 8), 16);
    for (let b = 0; b < 32; b++) {
      if ((word >>> b & 1) === 0) continue;
      const p = w * 32 + b;
      if (p >= channelCount) throw new RangeError(`mask ${text} sets bit ${p}; the device has ${channelCount} channels`);
      positions.push(p);
    }
  }
  return positions;
}

/** libiio's sample size of the enabled scan elements (iiod-protocol.md "Sample size"). */
export function libiioSampleSize(elements: readonly ScanElement[]): number {
  return computeScanLayout(elements, 'libiio').scanBytes;
}
