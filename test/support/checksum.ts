// FNV-1a (32-bit) over bytes, continuing from `h`: the checksum the sim keeps of what its
// playback engines consumed (BufferStats.checksum).
export function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}
