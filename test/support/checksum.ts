// The playback checksum both kernels keep for a DAC: 32-bit FNV-1a over every byte received,
// in order (the sim's DmaStats.checksum; the lab module's lab-dac `checksum` attribute).
export const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a over `bytes`, continuing from `h`. */
export function fnv1a(bytes: Uint8Array, h = FNV_OFFSET): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}
