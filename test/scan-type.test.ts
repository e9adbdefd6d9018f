// The scan-element `_type` string: kernel-abi §6.3 (grammar, kernel print form),
// iiod-protocol.md "scan-element" (upper-case S/U = fully defined).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readShared } from './support/shared.js';
import {
  SCAN_TYPE_LIMITS,
  ScanTypeError,
  assertScanType,
  elementBytes,
  formatScanType,
  parseScanType,
  type ScanType,
} from '../src/format/index.js';
import { prng } from './support/prng.js';

const intIn = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

function randomScanType(rand: () => number): ScanType {
  // Bias towards the small sizes real devices use, but cover the whole range.
  const storageBits = rand() < 0.7 ? [8, 16, 24, 32, 64][intIn(rand, 0, 4)]! : 8 * intIn(rand, 1, 31);
  const realBits = rand() < 0.3 ? storageBits : intIn(rand, 1, storageBits);
  const shift = intIn(rand, 0, storageBits - realBits);
  const repeat = rand() < 0.6 ? 1 : rand() < 0.5 ? intIn(rand, 2, 8) : intIn(rand, 2, SCAN_TYPE_LIMITS.maxRepeat);
  return {
    endianness: rand() < 0.5 ? 'le' : 'be',
    signed: rand() < 0.5,
    fullyDefined: realBits === storageBits && rand() < 0.5,
    realBits,
    storageBits,
    repeat,
    shift,
  };
}

// Canonical text built by hand (not with formatScanType) from kernel-abi §6.3's print formats.
function canonical(t: ScanType): string {
  const sign = t.signed ? 's' : 'u';
  return `${t.endianness}:${t.fullyDefined ? sign.toUpperCase() : sign}${t.realBits}/${t.storageBits}` +
    `${t.repeat > 1 ? `X${t.repeat}` : ''}>>${t.shift}`;
}

// An independent acceptance oracle: the doc's suggested regex (kernel-abi §6.3), tightened to
// no leading zeros and at most 3 digits, plus the documented semantic rules.
function oracleAccepts(s: string): boolean {
  const m = /^(be|le):([suSU])(0|[1-9]\d{0,2})\/(0|[1-9]\d{0,2})(?:X(0|[1-9]\d{0,2}))?>>(0|[1-9]\d{0,2})\n?$/.exec(s);
  if (m === null) return false;
  const real = Number(m[3]);
  const storage = Number(m[4]);
  const repeat = m[5] === undefined ? 1 : Number(m[5]);
  const shift = Number(m[6]);
  const upper = m[2] === 'S' || m[2] === 'U';
  return storage % 8 === 0 && storage >= 8 && storage <= 248 && real >= 1 && storage >= real + shift &&
    repeat >= 1 && repeat <= 255 && (!upper || real === storage);
}

function assertTypedError(fn: () => unknown, fragment: string): ScanTypeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ScanTypeError, `expected ScanTypeError, got ${String(caught)}`);
  assert.equal(caught.code, 'EINVAL');
  assert.ok(caught.message.includes(fragment), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(fragment)}`);
  return caught;
}

// kernel-abi §6.3: the `_type` values recorded on Linux 6.12.117 (fixtures/linux-6.12-iio-sysfs.txt).
const FIXTURE_TYPES: ReadonlyArray<[string, string, Partial<ScanType>]> = [
  ['/sys/bus/iio/devices/iio:device0/buffer0/in_accel_x_type', 'le:s16/16>>0', { signed: true, realBits: 16 }],
  ['/sys/bus/iio/devices/iio:device0/buffer0/in_timestamp_type', 'le:s64/64>>0', { signed: true, storageBits: 64 }],
  ['/sys/bus/iio/devices/iio:device0/buffer0/in_voltage0_type', 'le:u13/16>>0', { signed: false, realBits: 13 }],
  ['/sys/bus/iio/devices/iio:device0/buffer0/in_voltage1-voltage2_type', 'le:s12/16>>0', { realBits: 12 }],
  ['/sys/bus/iio/devices/iio:device0/buffer0/in_voltage3-voltage4_type', 'le:s11/16>>0', { realBits: 11 }],
  ['/sys/bus/iio/devices/iio:device1/buffer0/in_voltage0_type', 'le:u16/16>>0', { signed: false, realBits: 16 }],
];

test('§6.3 fixture _type strings parse and format back byte-identical', () => {
  for (const [path, text, expected] of FIXTURE_TYPES) {
    const parsed = parseScanType(`${text}\n`, path); // sysfs content ends in a newline
    assert.deepEqual({ ...parsed, ...expected }, parsed, path);
    assert.equal(parsed.endianness, 'le');
    assert.equal(parsed.fullyDefined, false, 'the kernel prints lower case only');
    assert.equal(parsed.repeat, 1);
    assert.equal(parsed.shift, 0);
    assert.equal(formatScanType(parsed), text);
  }
});

test('§6.3 every _type line of the sysfs fixture file round-trips', () => {
  const lines = readShared('fixtures/linux-6.12-iio-sysfs.txt').split('\n').filter((l) => /_type \|/.test(l));
  assert.ok(lines.length >= 10, 'fixture has _type lines');
  for (const line of lines) {
    const [path, , content] = line.split(' | ');
    assert.ok(path !== undefined && content !== undefined, line);
    assert.equal(formatScanType(parseScanType(content, path)), content, path);
  }
});

test('§6.3 doc examples decode to the documented fields', () => {
  assert.deepEqual(parseScanType('le:s12/16X3>>4'), {
    endianness: 'le', signed: true, fullyDefined: false, realBits: 12, storageBits: 16, repeat: 3, shift: 4,
  });
  assert.deepEqual(parseScanType('be:u24/32>>8\n'), {
    endianness: 'be', signed: false, fullyDefined: false, realBits: 24, storageBits: 32, repeat: 1, shift: 8,
  });
  assert.equal(formatScanType(parseScanType('le:s12/16X3>>4')), 'le:s12/16X3>>4');
});

test('§6.3 format: >>shift always printed, X only for repeat > 1, X1 accepted on input', () => {
  const base: ScanType = {
    endianness: 'be', signed: false, fullyDefined: false, realBits: 10, storageBits: 16, repeat: 1, shift: 0,
  };
  assert.equal(formatScanType(base), 'be:u10/16>>0');
  assert.equal(formatScanType({ ...base, repeat: 2 }), 'be:u10/16X2>>0');
  const x1 = parseScanType('be:u10/16X1>>0');
  assert.deepEqual(x1, base);
  assert.equal(formatScanType(x1), 'be:u10/16>>0');
});

test('iiod-protocol: upper-case S/U parse as fully defined and print back upper case', () => {
  const s = parseScanType('le:S16/16>>0');
  assert.equal(s.fullyDefined, true);
  assert.equal(s.signed, true);
  assert.equal(formatScanType(s), 'le:S16/16>>0');
  const u = parseScanType('be:U32/32X4>>0');
  assert.deepEqual([u.fullyDefined, u.signed, u.repeat], [true, false, 4]);
  assert.equal(formatScanType(u), 'be:U32/32X4>>0');
  // Same width, lower case: not "fully defined" as spelled, so the kernel's text survives.
  assert.equal(parseScanType('le:s16/16>>0').fullyDefined, false);
});

test('limits: the largest values the kernel can print are accepted', () => {
  const big = parseScanType('be:U248/248X255>>0');
  assert.deepEqual([big.storageBits, big.repeat], [248, 255]);
  assert.equal(elementBytes(big), 31 * 255);
  assert.equal(parseScanType('le:u1/248>>247').shift, 247);
});

test('elementBytes is storagebits/8 × repeat (§6.4)', () => {
  assert.equal(elementBytes(parseScanType('le:s12/16>>4')), 2);
  assert.equal(elementBytes(parseScanType('le:s12/16X3>>4')), 6);
  assert.equal(elementBytes(parseScanType('le:s64/64>>0')), 8);
  assert.equal(elementBytes(parseScanType('be:u24/24>>0')), 3);
});

test('malformed _type strings throw ScanTypeError naming what is wrong', () => {
  const cases: Array<[string, string]> = [
    ['', 'expected endianness "le" or "be" at offset 0, found end of text'],
    ['\n', 'found end of text'],
    ['LE:s16/16>>0', 'expected endianness "le" or "be" at offset 0, found "L"'],
    ['lx:s16/16>>0', 'expected endianness "le" or "be" at offset 1, found "x"'],
    ['b', 'expected endianness "le" or "be" at offset 1, found end of text'],
    [' le:s16/16>>0', 'found whitespace " "'],
    ['le s16/16>>0', 'expected ":" after the endianness at offset 2, found whitespace " "'],
    ['le:x16/16>>0', 'expected sign "s" or "u" (or "S"/"U") at offset 3, found "x"'],
    ['le:', 'expected sign'],
    ['le:s/16>>0', 'expected real bits (decimal digits) at offset 4, found "/"'],
    ['le:s 16/16>>0', 'expected real bits (decimal digits) at offset 4, found whitespace " "'],
    ['le:s+16/16>>0', 'expected real bits'],
    ['le:s-1/16>>0', 'expected real bits'],
    ['le:s\u0661\u0666/16>>0', 'expected real bits'], // Arabic-Indic digits are not digits here
    ['le:s16-16>>0', 'expected "/" after the real bits at offset 6, found "-"'],
    ['le:s1e1/16>>0', 'expected "/" after the real bits at offset 5, found "e"'],
    ['le:s16/>>0', 'expected storage bits (decimal digits) at offset 7'],
    ['le:s16/16', 'expected ">>" and the shift at offset 9, found end of text'],
    ['le:s16/16>0', 'expected ">>" and the shift at offset 10, found "0"'],
    ['le:s16/16x3>>0', 'expected ">>" and the shift at offset 9, found "x"'],
    ['le:s16/16X>>0', 'expected repeat (decimal digits) at offset 10'],
    ['le:s16/16>>', 'expected shift (decimal digits) at offset 11, found end of text'],
    ['le:s16/16>>-1', 'expected shift'],
    ['le:s16/16>>0 ', 'unexpected whitespace " " at offset 12 after the shift'],
    ['le:s16/16>>0.0', 'unexpected "." at offset 12'],
    ['le:s16/16>>0\n\n', 'a newline (only one trailing newline is allowed)'],
    ['le:s16/16>>0\r\n', 'whitespace "\\r"'],
    ['le:s016/16>>0', 'real bits 016 has a leading zero'],
    ['le:s16/016>>0', 'storage bits 016 has a leading zero'],
    ['le:s16/16X03>>0', 'repeat 03 has a leading zero'],
    ['le:s16/16>>00', 'shift 00 has a leading zero'],
    ['le:s16/1024>>0', 'storage bits 1024 is out of range'],
    ['le:s16/16>>1099511627776', 'shift 1099511627776 is out of range'],
    ['le:s16/256>>0', 'storage bits 256 exceeds 248'],
    ['le:s16/16X0>>0', 'repeat 0 must be at least 1'],
    ['le:s16/16X256>>0', 'repeat 256 exceeds 255'],
    ['le:s12/12>>0', 'storage bits 12 is not a positive multiple of 8'],
    ['le:s8/0>>0', 'storage bits 0 is not a positive multiple of 8'],
    ['le:s0/16>>0', 'real bits 0 must be at least 1'],
    ['le:s12/16>>5', 'storage bits 16 < real bits 12 + shift 5'],
    ['le:s17/16>>0', 'storage bits 16 < real bits 17 + shift 0'],
    ['le:S12/16>>4', 'upper-case sign (fully defined) requires real bits == storage bits, got 12/16'],
    ['x'.repeat(100), 'longer than 64 characters'],
  ];
  for (const [text, fragment] of cases) {
    const err = assertTypedError(() => parseScanType(text), fragment);
    assert.equal(err.text, text);
    assert.equal(err.source, undefined);
    assert.ok(err.message.includes(fragment) && err.message.endsWith(err.reason), text);
  }
});

test('errors name the offending text (escaped) and the source', () => {
  const path = '/sys/bus/iio/devices/iio:device0/buffer0/in_voltage0_type';
  const err = assertTypedError(() => parseScanType('le:s12/16>>5\n', path), 'storage bits 16 < real bits 12 + shift 5');
  assert.equal(err.message,
    `invalid scan element type "le:s12/16>>5\\n" (${path}): storage bits 16 < real bits 12 + shift 5 ` +
    '(the kernel rejects such channels)');
  assert.equal(err.source, path);
  assert.equal(err.name, 'ScanTypeError');
  assert.ok(err instanceof Error);
  // Huge garbage is clipped in the message but kept whole on the error.
  const long = assertTypedError(() => parseScanType('y'.repeat(500)), '...');
  assert.ok(long.message.length < 200);
  assert.equal(long.text, 'y'.repeat(500));
  assertTypedError(() => parseScanType(42 as unknown as string, 'xml'), 'expected a string, got number');
});

test('format and assertScanType reject objects parse would never produce', () => {
  const ok: ScanType = {
    endianness: 'le', signed: true, fullyDefined: false, realBits: 12, storageBits: 16, repeat: 1, shift: 4,
  };
  assert.doesNotThrow(() => assertScanType(ok));
  const bad: Array<[Partial<ScanType> | Record<string, unknown>, string]> = [
    [{ repeat: 0 }, 'repeat 0 must be at least 1'],
    [{ repeat: 1.5 }, 'repeat must be an integer, got 1.5'],
    [{ storageBits: 12 }, 'storage bits 12 is not a positive multiple of 8'],
    [{ shift: -1 }, 'shift -1 must not be negative'],
    [{ shift: 5 }, 'storage bits 16 < real bits 12 + shift 5'],
    [{ realBits: Number.NaN }, 'realBits must be an integer, got NaN'],
    [{ endianness: 'cpu' }, 'endianness must be "le" or "be", got cpu'],
    [{ signed: 1 }, 'signed must be a boolean'],
    [{ fullyDefined: true }, 'requires real bits == storage bits'],
  ];
  for (const [patch, fragment] of bad) {
    const t = { ...ok, ...patch } as ScanType;
    assertTypedError(() => formatScanType(t), fragment);
    const err = assertTypedError(() => assertScanType(t, 'unit'), fragment);
    assert.equal(err.text, null);
    assert.ok(err.message.includes('(unit)'));
  }
  assertTypedError(() => assertScanType(null as unknown as ScanType), 'expected a ScanType object, got null');
});

test('property: parse(format(t)) deep-equals t for random valid ScanTypes', () => {
  const rand = prng(0x11d0);
  for (let n = 0; n < 5000; n++) {
    const t = randomScanType(rand);
    const text = formatScanType(t);
    assert.equal(text, canonical(t));
    assert.deepEqual(parseScanType(text), t, text);
    assert.deepEqual(parseScanType(`${text}\n`), t, text);
  }
});

test('property: format(parse(s)) === s for random canonical strings', () => {
  const rand = prng(0xb0b);
  for (let n = 0; n < 5000; n++) {
    const s = canonical(randomScanType(rand));
    assert.equal(formatScanType(parseScanType(s)), s);
    assert.equal(formatScanType(parseScanType(`${s}\n`)), s);
  }
});

test('property: mutated strings either parse (and round-trip) or throw ScanTypeError', () => {
  const rand = prng(0x5ca1ab1e);
  const alphabet = 'lebsuSUXx/>:0123456789 \n\t\r-+.e\u0663\u00a0';
  let parsed = 0;
  let rejected = 0;
  for (let n = 0; n < 20000; n++) {
    let s = canonical(randomScanType(rand));
    const edits = intIn(rand, 1, 3);
    for (let k = 0; k < edits; k++) {
      const at = intIn(rand, 0, s.length);
      const c = alphabet[intIn(rand, 0, alphabet.length - 1)]!;
      const op = intIn(rand, 0, 2);
      if (op === 0) s = s.slice(0, at) + s.slice(at + 1);
      else if (op === 1) s = s.slice(0, at) + c + s.slice(at);
      else s = s.slice(0, at) + c + s.slice(at + 1);
    }
    let result: ScanType | undefined;
    try {
      result = parseScanType(s);
    } catch (e) {
      assert.ok(e instanceof ScanTypeError, `${JSON.stringify(s)} threw ${String(e)}`);
      assert.equal(e.code, 'EINVAL');
      assert.ok(e.message.includes(JSON.stringify(s)), `message names the text: ${e.message}`);
      assert.equal(oracleAccepts(s), false, `rejected ${JSON.stringify(s)} that the oracle accepts: ${e.message}`);
      rejected++;
      continue;
    }
    assert.equal(oracleAccepts(s), true, `accepted ${JSON.stringify(s)} that the oracle rejects`);
    const again = formatScanType(result);
    assert.deepEqual(parseScanType(again), result);
    // What was accepted is the canonical text, modulo a trailing newline and "X1".
    assert.equal(again, s.replace(/\n$/, '').replace(/X1>>/, '>>'));
    parsed++;
  }
  // Both outcomes must actually occur, or the test proves nothing.
  assert.ok(parsed > 500, `parsed ${parsed}`);
  assert.ok(rejected > 5000, `rejected ${rejected}`);
});
