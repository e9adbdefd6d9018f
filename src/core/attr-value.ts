// Attribute text ⇄ typed values. Writes use the forms the kernel's parsers take: integers in
// decimal, fractions in plain decimal notation (iio_str_to_fixpoint knows no exponents),
// booleans as 1/0 (kstrtobool). Reads accept what drivers print: "71.000000 dB" is 71.
import { AttrFormatError } from './errors.js';

export type AttrValue = string | number | boolean | bigint;

const NUMBER = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?0[xX][0-9a-fA-F]+)(?:\s*[A-Za-z%°µ/]+)?\s*$/;
const INTEGER = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|\d+)\s*$/;

/** The text written for `value`. */
export function encodeAttrValue(value: AttrValue): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
      return value ? '1' : '0';
    case 'bigint':
      return value.toString();
    case 'number':
      return encodeNumber(value);
    default: {
      const error = new TypeError(`an attribute value is a string, number, boolean or bigint, got ${value === null ? 'null' : typeof value}`) as TypeError & { code: string };
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
  }
}

function encodeNumber(n: number): string {
  if (!Number.isFinite(n)) {
    const error = new RangeError(`cannot write ${n} to an attribute`) as RangeError & { code: string };
    error.code = 'ERR_OUT_OF_RANGE';
    throw error;
  }
  if (Object.is(n, -0)) return '0';
  const text = String(n);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  // Below 1e-6 String() switches to exponents; 20 decimals cover the kernel's nano precision.
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

export function decodeNumber(text: string, attr: string): number {
  const m = NUMBER.exec(text);
  if (m === null) throw new AttrFormatError(attr, text, 'a number');
  const t = m[1]!;
  const hex = /^([+-]?)0[xX]/.exec(t);
  return hex === null ? Number(t) : (hex[1] === '-' ? -1 : 1) * Number(t.slice(hex[1]!.length));
}

export function decodeBigInt(text: string, attr: string): bigint {
  const m = INTEGER.exec(text);
  if (m === null) throw new AttrFormatError(attr, text, 'an integer');
  const magnitude = BigInt(m[2]!);
  return m[1] === '-' ? -magnitude : magnitude;
}

/** An integer (non-zero is true, as libiio's read_bool) or kstrtobool's words: y/n, t/f, on/off. */
export function decodeBoolean(text: string, attr: string): boolean {
  const t = text.trim();
  if (INTEGER.test(t)) return decodeBigInt(t, attr) !== 0n;
  if (/^(y|yes|t|true|on)$/i.test(t)) return true;
  if (/^(n|no|f|false|off)$/i.test(t)) return false;
  throw new AttrFormatError(attr, text, 'a boolean (0/1, y/n, true/false, on/off)');
}
