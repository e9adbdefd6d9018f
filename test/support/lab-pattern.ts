// What the lab module's capture devices write (vm/module/iio_vadc_dma.c), to check a capture
// sample by sample wherever it arrived (a DMABUF, usbfs, a libiio tool's output).

/** lab-adc's scan with voltage0..2 enabled: le:u16 n, le:s16 -(n mod 2^15), le:u32 3n. */
export const LAB_ADC_SCAN = 8;

/** Scan numbers broken in `bytes` if it holds lab-adc scans `first`, `first + 1`, ...; -1 if all hold. */
export function firstBadScan(bytes: Uint8Array, first: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.byteLength / LAB_ADC_SCAN; i++) {
    const n = first + i;
    const at = i * LAB_ADC_SCAN;
    if (view.getUint16(at, true) !== (n & 0xffff) || view.getInt16(at + 2, true) !== -(n & 0x7fff)
      || view.getUint32(at + 4, true) !== (3 * n) >>> 0) return n;
  }
  return -1;
}

/** The scan number of the lab-adc scan at the start of `bytes` (from its u32 3n, while 3n < 2^32). */
export function labAdcScanAt(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) / 3;
}

/** Where vadc-dma's counter breaks in `bytes` (le:u16 words, each the last plus 1 mod 2^16); -1 if nowhere. */
export function firstBadCount(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 1; i < bytes.byteLength >> 1; i++) {
    if (view.getUint16(2 * i, true) !== ((view.getUint16(2 * i - 2, true) + 1) & 0xffff)) return i;
  }
  return -1;
}
