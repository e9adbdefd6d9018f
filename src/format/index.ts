// Scan-element formats: the `_type` string and the layout of one scan.
export {
  SCAN_TYPE_LIMITS,
  ScanTypeError,
  assertScanType,
  elementBytes,
  formatScanType,
  parseScanType,
} from './scan-type.js';
export type { Endianness, ScanType } from './scan-type.js';
export { ScanLayoutError, compareScanOrder, computeScanLayout, kernelAlign, roundUp } from './scan-layout.js';
export type {
  ScanElement,
  ScanLayout,
  ScanLayoutRule,
  ScanLayoutWarning,
  ScanLayoutWarningCode,
} from './scan-layout.js';
export {
  MAX_NUMBER_BITS,
  clampSample,
  decodeSample,
  encodeSample,
  isWideScanType,
  sampleCodec,
  sampleRange,
  toPhysical,
} from './sample-codec.js';
export type { BigIntCodec, NumberCodec, SampleCodec, SampleValue } from './sample-codec.js';
