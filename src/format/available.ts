// The text of `_available` attributes (kernel-abi §6.6): a list of values, or a `[min step max]`
// range. The library reads it (core/available.ts); the simulated kernel's drivers check writes
// against it, so both live with the other kernel string grammars.

export type Available =
  | { kind: 'list'; values: string[] }
  | { kind: 'range'; min: number; step: number; max: number };

/** The list or range `text` shows; undefined when it opens a `[` that is no `[min step max]`. */
export function parseAvailableText(text: string): Available | undefined {
  const t = text.trim();
  if (!t.startsWith('[')) return { kind: 'list', values: t === '' ? [] : t.split(/\s+/) };
  const inner = /^\[\s*([^\]]*?)\s*\]$/.exec(t);
  const parts = inner === null ? [] : inner[1]!.split(/\s+/);
  const numbers = parts.map(Number);
  if (parts.length !== 3 || numbers.some((n, i) => parts[i] === '' || !Number.isFinite(n))) return undefined;
  const [min, step, max] = numbers as [number, number, number];
  return { kind: 'range', min, step, max };
}

/**
 * `value` is min + k·step for a whole k within [min, max]. The tolerance absorbs binary
 * rounding of decimal steps: (0.3 - 0.1) / 0.1 is 1.9999999999999998.
 */
export function inRange(value: number, range: { min: number; step: number; max: number }): boolean {
  if (!(value >= range.min && value <= range.max)) return false;
  const steps = (value - range.min) / range.step;
  return Math.abs(steps - Math.round(steps)) <= 1e-9 * Math.max(1, steps);
}

/**
 * Whether `available` admits `value`: a range takes numbers (text only if it is one), a list
 * compares numbers by value (`4.0` is `4`) and text as written.
 */
export function isAvailable(available: Available, value: string | number): boolean {
  if (available.kind === 'range') {
    const n = typeof value === 'number' ? value : /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
    return inRange(n, available);
  }
  return available.values.some((v) => (typeof value === 'number' ? Number(v) === value : v === value));
}
