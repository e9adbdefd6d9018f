// Which SigMF datatype holds a set of IIO scan elements (scope.md C): SigMF has 8/16/32-bit
// integers and f32/f64, one type for every channel of a recording, complex as interleaved I/Q.
// IIO formats SigMF lacks (`be:s12/16>>4`, 24-bit samples in 32) are widened to the nearest type
// that holds every value exactly, sign-extended and shifted as the demux gives them; the
// conversion is written down in words so the recording says what was done.
import { formatScanType, type ScanType } from '../format/index.js';

export interface SigmfSampleType {
  /** `ri16_le`, `ci16_le`, `ru8`, ... */
  datatype: string;
  complex: boolean;
  signed: boolean;
  /** Bits per component: 8, 16 or 32. */
  bits: 8 | 16 | 32;
  /** What was changed from the IIO formats, per channel; empty when they were stored as they are. */
  conversions: string[];
}

const BITS = [8, 16, 32] as const;

/** The SigMF type of channels `types` (by id); complex when they are I/Q pairs. */
export function sigmfSampleType(types: ReadonlyArray<{ id: string; type: Readonly<ScanType> }>, complex: boolean): SigmfSampleType {
  if (types.length === 0) throw new RangeError('a SigMF recording needs at least one channel');
  const signed = types.some((t) => t.type.signed);
  // An unsigned channel among signed ones needs one more bit to keep its top values.
  const need = Math.max(...types.map((t) => t.type.realBits + (signed && !t.type.signed ? 1 : 0)));
  const bits = BITS.find((b) => b >= need);
  if (bits === undefined) {
    const wide = types.filter((t) => t.type.realBits + (signed && !t.type.signed ? 1 : 0) > 32).map((t) => `${t.id} (${formatScanType(t.type)})`);
    throw new RangeError(`SigMF has no integer type wider than 32 bits for ${wide.join(', ')}: leave ${wide.length === 1 ? 'that channel' : 'those channels'} out`);
  }
  const name = `${complex ? 'c' : 'r'}${signed ? 'i' : 'u'}${bits}${bits === 8 ? '' : '_le'}`;
  const conversions: string[] = [];
  for (const { id, type } of types) {
    const exact = type.realBits === bits && type.storageBits === bits && type.shift === 0 && type.signed === signed &&
      (type.endianness === 'le' || bits === 8) && type.repeat === 1;
    if (exact) continue;
    const steps: string[] = [];
    if (type.shift !== 0) steps.push(`shifted right by ${type.shift}`);
    if (type.realBits !== bits) steps.push(`${type.signed ? 'sign' : 'zero'}-extended from ${type.realBits} to ${bits} bits`);
    if (type.endianness === 'be' && bits !== 8) steps.push('byte-swapped to little-endian');
    if (type.repeat !== 1) steps.push(`its ${type.repeat} repeats stored as ${type.repeat} channels`);
    if (steps.length === 0) steps.push(`stored in ${bits}-bit words`);
    conversions.push(`${id}: ${formatScanType(type)} -> ${name} (${steps.join(', ')})`);
  }
  return { datatype: name, complex, signed, bits, conversions };
}

/** The parts of a datatype string (the schema's pattern; the endianness suffix optional). */
export function parseSigmfDatatype(text: string): { complex: boolean; float: boolean; signed: boolean; bits: number; littleEndian: boolean } {
  const m = /^(c|r)(f32|f64|i32|i16|u32|u16|i8|u8)(_le|_be)?$/.exec(text);
  if (m === null) throw new RangeError(`"${text}" is no SigMF datatype (e.g. ri16_le, ci16_le, cf32_le)`);
  const kind = m[2]!;
  return { complex: m[1] === 'c', float: kind[0] === 'f', signed: kind[0] !== 'u', bits: Number(kind.slice(1)), littleEndian: m[3] !== '_be' };
}
