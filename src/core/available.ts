// `_available` attributes (kernel-abi §6.6): a list of values, or a `[min step max]` range.
import { parseAvailableText, type Available } from '../format/available.js';
import { AttrFormatError } from './errors.js';

export type { Available };

export function parseAvailable(text: string, attr: string): Available {
  const available = parseAvailableText(text);
  if (available === undefined) throw new AttrFormatError(attr, text, 'a "[min step max]" range');
  return available;
}
