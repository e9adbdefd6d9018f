// The kernel's string parsers as sysfs store callbacks use them (lib/kstrtox.c semantics):
// one trailing newline is allowed, nothing else around the number; errors are EINVAL (and
// ERANGE on overflow), thrown as KernelErrors.
import { kerr } from '../errno.js';

/** The text without its one allowed trailing newline. */
export function withoutNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** kstrtobool: looks at the first one or two characters only (y/Y/t/T/1, n/N/f/F/0, on/off). */
export function kstrtobool(text: string): boolean {
  const c0 = text[0];
  const c1 = text[1];
  switch (c0) {
    case 'y': case 'Y': case 't': case 'T': case '1':
      return true;
    case 'n': case 'N': case 'f': case 'F': case '0':
      return false;
    case 'o': case 'O':
      if (c1 === 'n' || c1 === 'N') return true;
      if (c1 === 'f' || c1 === 'F') return false;
      break;
  }
  throw kerr('EINVAL', `kstrtobool: ${JSON.stringify(text)}`);
}

/** kstrtoull with base 10 (an optional leading '+'), as a bigint. */
function decimal(text: string): bigint {
  let s = withoutNewline(text);
  if (s.startsWith('+')) s = s.slice(1);
  if (!/^[0-9]+$/.test(s)) throw kerr('EINVAL', `not a decimal number: ${JSON.stringify(text)}`);
  return BigInt(s);
}

/** kstrtouint(s, 10). */
export function kstrtouint(text: string): number {
  const v = decimal(text);
  if (v > 0xffffffffn) throw kerr('ERANGE');
  return Number(v);
}

/** kstrtoint(s, 10). */
export function kstrtoint(text: string): number {
  const s = withoutNewline(text);
  const negative = s.startsWith('-');
  const v = decimal(negative ? s.slice(1) : s);
  const signed = negative ? -v : v;
  if (signed < -0x80000000n || signed > 0x7fffffffn) throw kerr('ERANGE');
  return Number(signed);
}

/**
 * One `%i` conversion of sscanf: optional sign, then 0x.. hex, 0.. octal or decimal. Returns the
 * value and the rest of the text, or undefined when no number starts here (after whitespace).
 */
export function scanInteger(text: string): { value: number; rest: string } | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (m === null) return undefined;
  const digits = m[2]!;
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits[0] === '0' ? parseInt(digits, 8) : parseInt(digits, 10);
  const value = (m[1] === '-' ? -magnitude : magnitude) >>> 0; // %i into an unsigned int
  return { value, rest: text.slice(m[0].length) };
}

/**
 * A value written to an IIO info attribute (iio_str_to_fixpoint): an integer or a decimal
 * fraction, optionally signed, one trailing newline. EINVAL otherwise.
 */
export function parseIioValue(text: string): number {
  const s = withoutNewline(text).trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) throw kerr('EINVAL', `not a number: ${JSON.stringify(text)}`);
  return Number(s);
}

/**
 * kstrtou8/kstrtou16/kstrtouint with base 0 (0x.. hex, 0.. octal, else decimal; one trailing
 * newline), as configfs attributes parse them: EINVAL if not a number, ERANGE above `max`.
 */
export function kstrtouBase0(text: string, max: number): number {
  let s = withoutNewline(text);
  if (s.startsWith('+')) s = s.slice(1);
  const m = /^(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (m === null) throw kerr('EINVAL', `not a number: ${JSON.stringify(text)}`);
  const v = m[1] !== undefined ? BigInt(`0x${m[1]}`) : m[2] !== undefined ? BigInt(`0o${m[2].slice(1) || '0'}`) : BigInt(m[3]!);
  if (v > BigInt(max)) throw kerr('ERANGE', `${s} is above ${max}`);
  return Number(v);
}
