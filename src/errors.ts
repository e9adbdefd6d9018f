// Node-style system errors (`code`, `errno`, `syscall`, optional `path`), as node:fs throws
// them, so callers handle kernel errors the way they handle any Node I/O error.
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

export interface SystemError extends Error {
  code: string;
  /** Negative, as in Node's own errors (e.g. -16 for EBUSY). */
  errno: number;
  syscall: string;
  path?: string;
}

const errnoNumbers: Readonly<Record<string, number>> = constants.errno;

/**
 * Linux errnos the kernel-abi calls return that Node's tables (libuv's) have no name or no
 * description for: udmabuf answers EBADFD for a non-memfd (kernel-abi §4.2); FunctionFS and the
 * USB core answer EL2HLT (ep0 stall), EIDRM (setup cancelled), EBADMSG (endpoint halted),
 * ESHUTDOWN and EREMOTEIO (usb.md §A4). asm-generic numbers, MIPS its own (SPARC's are not
 * listed: no SPARC build of the addon exists).
 */
const MIPS = process.arch.startsWith('mips');
const LINUX_ONLY: ReadonlyMap<string, readonly [number, string]> = new Map([
  ['EBADFD', [MIPS ? 81 : process.arch.startsWith('sparc') ? 93 : 77, 'file descriptor in bad state']],
  ['EL2HLT', [MIPS ? 44 : 51, 'level 2 halted']],
  ['EIDRM', [MIPS ? 36 : 43, 'identifier removed']],
  ['EBADMSG', [MIPS ? 77 : 74, 'bad message']],
  ['EDOM', [33, 'numerical argument out of domain']],
  ['ESHUTDOWN', [MIPS ? 143 : 108, 'cannot send after transport endpoint shutdown']],
  ['EREMOTEIO', [MIPS ? 140 : 121, 'remote I/O error']],
]);
const linuxOnlyByNumber = new Map([...LINUX_ONLY].map(([code, [n, description]]) => [n, [code, description] as const]));

/** The errno number for a code such as 'EBUSY' (positive). */
export function errnoOf(code: string): number {
  const n = errnoNumbers[code] ?? LINUX_ONLY.get(code)?.[0];
  if (n === undefined) throw new RangeError(`unknown errno code ${code}`);
  return n;
}

/** The code of errno `errno` (either sign), e.g. 'ESHUTDOWN' for -108: a request status made an error. */
export function errnoCode(errno: number): string {
  const positive = Math.abs(errno);
  return getSystemErrorMap().get(-positive)?.[0] ?? linuxOnlyByNumber.get(positive)?.[0] ?? `E${positive}`;
}

/**
 * A Node-style error for errno `errno` (either sign) from `syscall`, e.g.
 * `EBUSY: device or resource busy, ioctl(IIO_BUFFER_GET_FD) '/dev/iio:device0'`.
 * `path` names the file or device involved; `detail` adds context after it.
 */
export function systemError(errno: number, syscall: string, path?: string, detail?: string): SystemError {
  const positive = Math.abs(errno);
  const [code, description] = getSystemErrorMap().get(-positive) ?? linuxOnlyByNumber.get(positive) ?? [`E${positive}`, 'unknown error'];
  let message = `${code}: ${description}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (detail !== undefined) message += `: ${detail}`;
  const error = new Error(message) as SystemError;
  error.code = code;
  error.errno = -positive;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  Error.captureStackTrace(error, systemError);
  return error;
}

/** True if `e` is a system error with one of the given codes. */
export function isSystemError(e: unknown, ...codes: string[]): e is SystemError {
  return e instanceof Error && typeof (e as SystemError).code === 'string' &&
    typeof (e as SystemError).errno === 'number' &&
    (codes.length === 0 || codes.includes((e as SystemError).code));
}

/** The rejection of a wait cancelled through an AbortSignal, as Node's own APIs give it. */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}
