// `_available` attributes (kernel-abi §6.6): a list of values, or a `[min step max]` range.
import { AttrFormatError } from './errors.js';

export type Available =
  | { kind: 'list'; values: string[] }
  | { kind: 'range'; min: number; step: number; max: number };

export function parseAvailable(text: string, attr: string): Available {
  const t = text.trim();
  if (t.startsWith('[')) {
    const inner = /^\[\s*([^\]]*?)\s*\]$/.exec(t);
    const parts = inner === null ? [] : inner[1]!.split(/\s+/);
    const numbers = parts.map(Number);
    if (parts.length !== 3 || numbers.some((n, i) => parts[i] === '' || !Number.isFinite(n))) {
      throw new AttrFormatError(attr, text, 'a "[min step max]" range');
    }
    const [min, step, max] = numbers as [number, number, number];
    return { kind: 'range', min, step, max };
  }
  return { kind: 'list', values: t === '' ? [] : t.split(/\s+/) };
}
