// Random valid scan element types for property-style tests.
import type { ScanType } from '../../src/format/index.js';

/** An integer in [lo, hi] from `rand`. */
export const intIn = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

export interface RandomScanTypeOptions {
  /** Storage sizes to favour, and the chance of picking one of them rather than any multiple of 8 up to `maxStorageBits`. */
  common: readonly number[];
  commonChance: number;
  maxStorageBits: number;
  /** Largest repeat count. */
  maxRepeat: number;
}

export function randomScanType(rand: () => number, o: RandomScanTypeOptions): ScanType {
  const storageBits = rand() < o.commonChance ? o.common[intIn(rand, 0, o.common.length - 1)]! : 8 * intIn(rand, 1, o.maxStorageBits / 8);
  const realBits = rand() < 0.3 ? storageBits : intIn(rand, 1, storageBits);
  return {
    endianness: rand() < 0.5 ? 'le' : 'be',
    signed: rand() < 0.5,
    fullyDefined: false,
    realBits,
    storageBits,
    repeat: rand() < 0.75 ? 1 : intIn(rand, 2, o.maxRepeat),
    shift: rand() < 0.4 ? 0 : intIn(rand, 0, storageBits - realBits),
  };
}

/** A random raw value that fits `t` (bigint), biased towards the edges of its range. */
export function randomValue(rand: () => number, t: ScanType): bigint {
  const r = BigInt(t.realBits);
  const min = t.signed ? -(1n << (r - 1n)) : 0n;
  const max = t.signed ? (1n << (r - 1n)) - 1n : (1n << r) - 1n;
  const pick = rand();
  if (pick < 0.1) return min;
  if (pick < 0.2) return max;
  if (pick < 0.25) return 0n;
  if (pick < 0.3 && t.signed) return -1n;
  let v = 0n;
  for (let i = 0; i < Math.ceil(t.realBits / 16); i++) v = (v << 16n) | BigInt(intIn(rand, 0, 0xffff));
  return min + (v % (max - min + 1n));
}
