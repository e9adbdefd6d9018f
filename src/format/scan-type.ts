// The scan-element `_type` string (kernel-abi §6.3):
//   be|le ':' s|u|S|U realbits '/' storagebits ['X' repeat] '>>' shift
// The kernel prints it; libiio-derived code also accepts upper-case S/U ("fully defined").

export type Endianness = 'le' | 'be';

export interface ScanType {
  endianness: Endianness;
  signed: boolean;
  /**
   * Spelled with upper-case `S`/`U` (libiio: "fully defined", bits == storagebits, so no
   * masking or sign extension is needed). The kernel always prints lower case, so `false`
   * for every sysfs string; test `realBits === storageBits` for the libiio meaning.
   */
  fullyDefined: boolean;
  realBits: number;
  storageBits: number;
  /** 1 when the string has no `X<repeat>`. */
  repeat: number;
  shift: number;
}

/**
 * Bounds. The docs only require storagebits to be a multiple of 8 and
 * storagebits >= realbits + shift; the kernel keeps realbits, storagebits, shift and repeat in
 * 8-bit fields, so nothing it prints exceeds 255 (248 for a multiple of 8). Values beyond
 * that cannot come from a kernel and are rejected rather than trusted.
 */
export const SCAN_TYPE_LIMITS = Object.freeze({
  maxStorageBits: 248,
  maxRepeat: 255,
});

// Longest valid text is "be:U248/248X255>>0" plus a newline; anything far longer is noise.
const MAX_TEXT_LENGTH = 64;

/** A malformed `_type` string or an inconsistent ScanType. */
export class ScanTypeError extends Error {
  readonly code = 'EINVAL';
  /** The offending text as given (null when a ScanType object was checked). */
  readonly text: string | null;
  /** Where the text came from (e.g. a sysfs path), if the caller said. */
  readonly source: string | undefined;
  /** What is wrong, without the text and source. */
  readonly reason: string;

  constructor(reason: string, text: string | null, source?: string, shown?: string) {
    const what = shown ?? (text === null ? 'scan type' : JSON.stringify(clip(text)));
    super(`invalid scan element type ${what}${source === undefined ? '' : ` (${source})`}: ${reason}`);
    this.name = 'ScanTypeError';
    this.text = text;
    this.source = source;
    this.reason = reason;
  }
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Parse a `_type` string. One trailing newline (as read from sysfs) is accepted; anything
 * else outside the grammar, leading zeros, `X0` and out-of-range numbers are rejected.
 * `X1` is accepted as repeat 1 (formatScanType never prints it). `source` goes into errors.
 */
export function parseScanType(text: string, source?: string): ScanType {
  if (typeof text !== 'string') {
    throw new ScanTypeError(`expected a string, got ${typeof text}`, null, source);
  }
  const fail = (reason: string): never => {
    throw new ScanTypeError(reason, text, source);
  };
  if (text.length > MAX_TEXT_LENGTH) fail(`longer than ${MAX_TEXT_LENGTH} characters`);
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  let pos = 0;

  const describe = (at: number): string => {
    if (at >= body.length) return 'end of text';
    const c = body[at];
    if (c === '\n') return 'a newline (only one trailing newline is allowed)';
    if (c !== undefined && /\s/.test(c)) return `whitespace ${JSON.stringify(c)}`;
    return JSON.stringify(c);
  };
  const expect = (literal: string, what: string): void => {
    if (!body.startsWith(literal, pos)) {
      // Point at the first character that differs, not the start of the literal.
      let at = pos;
      while (at < body.length && at - pos < literal.length && body[at] === literal[at - pos]) at++;
      fail(`expected ${what} at offset ${at}, found ${describe(at)}`);
    }
    pos += literal.length;
  };
  const number = (what: string): number => {
    const start = pos;
    while (pos < body.length && isAsciiDigit(body.charCodeAt(pos))) pos++;
    if (pos === start) fail(`expected ${what} (decimal digits) at offset ${start}, found ${describe(start)}`);
    const digits = body.slice(start, pos);
    // The kernel prints with %d/%u: a leading zero never comes from it and is ambiguous.
    if (digits.length > 1 && digits[0] === '0') fail(`${what} ${digits} has a leading zero`);
    if (digits.length > 3) fail(`${what} ${digits} is out of range`);
    return Number(digits);
  };

  // On a bad second letter ("lx"), point at it rather than at the "l".
  const endianAt = body[0] === 'l' || body[0] === 'b' ? 1 : 0;
  const endianness: Endianness = body.startsWith('le') ? 'le'
    : body.startsWith('be') ? 'be'
    : fail(`expected endianness "le" or "be" at offset ${endianAt}, found ${describe(endianAt)}`);
  pos = 2;
  expect(':', '":" after the endianness');

  const signChar = body[pos];
  if (signChar !== 's' && signChar !== 'u' && signChar !== 'S' && signChar !== 'U') {
    fail(`expected sign "s" or "u" (or "S"/"U") at offset ${pos}, found ${describe(pos)}`);
  }
  pos++;
  const realBits = number('real bits');
  expect('/', '"/" after the real bits');
  const storageBits = number('storage bits');
  let repeat = 1;
  if (body[pos] === 'X') {
    pos++;
    repeat = number('repeat');
  }
  expect('>>', '">>" and the shift');
  const shift = number('shift');
  if (pos !== body.length) fail(`unexpected ${describe(pos)} at offset ${pos} after the shift`);

  const type: ScanType = {
    endianness,
    signed: signChar === 's' || signChar === 'S',
    fullyDefined: signChar === 'S' || signChar === 'U',
    realBits,
    storageBits,
    repeat,
    shift,
  };
  const problem = scanTypeProblem(type);
  if (problem !== null) fail(problem);
  return type;
}

function isAsciiDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Why `t` is not a valid ScanType, or null. Shared by the parser and assertScanType. */
function scanTypeProblem(t: ScanType): string | null {
  if (t.endianness !== 'le' && t.endianness !== 'be') return `endianness must be "le" or "be", got ${String(t.endianness)}`;
  if (typeof t.signed !== 'boolean') return 'signed must be a boolean';
  if (typeof t.fullyDefined !== 'boolean') return 'fullyDefined must be a boolean';
  for (const key of ['realBits', 'storageBits', 'repeat', 'shift'] as const) {
    if (!Number.isSafeInteger(t[key])) return `${key} must be an integer, got ${String(t[key])}`;
  }
  const { realBits, storageBits, repeat, shift } = t;
  if (storageBits < 8 || storageBits % 8 !== 0) {
    return `storage bits ${storageBits} is not a positive multiple of 8`;
  }
  if (storageBits > SCAN_TYPE_LIMITS.maxStorageBits) {
    return `storage bits ${storageBits} exceeds ${SCAN_TYPE_LIMITS.maxStorageBits}`;
  }
  if (realBits < 1) return `real bits ${realBits} must be at least 1`;
  if (shift < 0) return `shift ${shift} must not be negative`;
  if (storageBits < realBits + shift) {
    return `storage bits ${storageBits} < real bits ${realBits} + shift ${shift} (the kernel rejects such channels)`;
  }
  if (repeat < 1) return `repeat ${repeat} must be at least 1 (the kernel prints X only for repeat > 1)`;
  if (repeat > SCAN_TYPE_LIMITS.maxRepeat) return `repeat ${repeat} exceeds ${SCAN_TYPE_LIMITS.maxRepeat}`;
  if (t.fullyDefined && realBits !== storageBits) {
    return `upper-case sign (fully defined) requires real bits == storage bits, got ${realBits}/${storageBits}`;
  }
  return null;
}

/** Throw a ScanTypeError if `t` breaks any rule parseScanType enforces. */
export function assertScanType(t: ScanType, source?: string): void {
  if (typeof t !== 'object' || t === null) {
    throw new ScanTypeError(`expected a ScanType object, got ${t === null ? 'null' : typeof t}`, null, source);
  }
  const problem = scanTypeProblem(t);
  if (problem !== null) throw new ScanTypeError(problem, null, source, safeJson(t));
}

function safeJson(t: ScanType): string {
  try {
    return clip(JSON.stringify(t));
  } catch {
    return 'scan type';
  }
}

/** The kernel's print form: `>>shift` always, `X<repeat>` only for repeat > 1. */
export function formatScanType(t: ScanType): string {
  assertScanType(t);
  const sign = t.signed ? 's' : 'u';
  const repeat = t.repeat > 1 ? `X${t.repeat}` : '';
  return `${t.endianness}:${t.fullyDefined ? sign.toUpperCase() : sign}${t.realBits}/${t.storageBits}${repeat}>>${t.shift}`;
}

/** Bytes one scan element occupies: storagebits/8 × repeat (`iio_storage_bytes_for_si`). */
export function elementBytes(t: ScanType): number {
  return (t.storageBits / 8) * t.repeat;
}
