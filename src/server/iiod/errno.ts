// Errors as the iiod wire carries them: a negative Linux errno. Kernel and lookup errors keep
// their own; the library's typed errors map to the errno libiio would have returned.
import { errnoOf, systemError, type SystemError } from '../../errors.js';

/** -errno for `code` ('EINVAL' → -22). */
function neg(code: string): number {
  return -errnoOf(code);
}

/** A refusal of the server's own: the errno the client gets, the reason the log gives. */
export function refusal(code: string, op: string, reason: string): SystemError {
  return systemError(errnoOf(code), op, undefined, reason);
}

const LIBRARY_CODES: Readonly<Record<string, string>> = {
  ERR_IIOJS_UNSUPPORTED: 'ENOSYS',
  ERR_IIOJS_CLOSED: 'EBADF',
  ERR_IIOJS_ATTR_FORMAT: 'EINVAL',
  ABORT_ERR: 'ECANCELED',
  ERR_OUT_OF_RANGE: 'EINVAL',
  ERR_INVALID_ARG_TYPE: 'EINVAL',
};

/** The negative errno to answer for a failed operation. */
export function wireErrno(e: unknown): number {
  const error = e as { errno?: unknown; code?: unknown };
  if (typeof error?.errno === 'number' && error.errno !== 0) return -Math.abs(error.errno);
  if (typeof error?.code === 'string') {
    const mapped = LIBRARY_CODES[error.code] ?? error.code;
    try {
      return neg(mapped);
    } catch {
      // not an errno name
    }
  }
  if (e instanceof RangeError) return neg('EINVAL');
  return neg('EIO');
}
