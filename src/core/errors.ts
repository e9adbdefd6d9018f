// The core's own errors: lookups that find nothing (Node-style, ENOENT/ENODEV) and attribute
// text that is not the value asked for.
import { errnoOf, systemError, type SystemError } from '../errors.js';

/** Nothing called `key` among `what`; the message lists what there is. */
export function notFound(code: 'ENOENT' | 'ENODEV', where: string, what: string, key: string, candidates: readonly string[]): SystemError {
  const shown = candidates.length === 0 ? 'none' : candidates.slice(0, 40).join(', ') + (candidates.length > 40 ? ', ...' : '');
  return systemError(errnoOf(code), 'find', undefined, `${where} has no ${what} ${JSON.stringify(key)} (there are: ${shown})`);
}

/** An attribute's text is not a number, boolean, integer or `_available` list as asked. */
export class AttrFormatError extends Error {
  readonly code = 'ERR_IIOJS_ATTR_FORMAT';
  constructor(
    /** The attribute, in words. */
    readonly attr: string,
    /** The text read. */
    readonly text: string,
    expected: string,
  ) {
    super(`${attr}: expected ${expected}, read ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}`);
    this.name = 'AttrFormatError';
  }
}
