// The caller's memory as an ioctl handler sees it (copy_from_user / copy_to_user). The port hands
// a by-address argument over as the caller's bytes. A by-value argument (or none) is an address
// the sim cannot follow, and reading past the bytes the caller passed would read memory the
// caller never gave the kernel: both are EFAULT here. (The port already refuses arguments
// shorter than the size encoded in the request, as the Linux port does.)
import { kerr } from './errno.js';
import type { IoctlArg } from './file.js';

/** The caller's argument bytes, of which the handler needs the first `size`; else EFAULT. */
export function userBytes(arg: IoctlArg, size: number): Uint8Array {
  if (!(arg instanceof Uint8Array) || arg.length < size) throw kerr('EFAULT');
  return arg;
}

/** The int the argument points to (copy_from_user of 4 bytes), e.g. a DMABUF fd. */
export function userInt(arg: IoctlArg): number {
  const bytes = userBytes(arg, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}

/**
 * A NUL-terminated string the caller points to, as strndup_user(ptr, limit) reads it: the NUL
 * must come within `limit` bytes (EINVAL otherwise). Running off the caller's bytes before that
 * is EFAULT. Returns the bytes without the NUL.
 */
export function userString(arg: IoctlArg, limit: number): Uint8Array {
  if (!(arg instanceof Uint8Array)) throw kerr('EFAULT');
  const nul = arg.subarray(0, limit).indexOf(0);
  if (nul >= 0) return arg.slice(0, nul);
  throw kerr(arg.length >= limit ? 'EINVAL' : 'EFAULT');
}

/** Writes `text` as a C string into `into[offset, offset + size)`, truncated like strscpy, NUL padded. */
const utf8 = new TextEncoder();

export function putCString(into: Uint8Array, offset: number, size: number, text: string | Uint8Array): void {
  const field = into.subarray(offset, offset + size);
  field.fill(0);
  if (typeof text === 'string') utf8.encodeInto(text, field.subarray(0, size - 1));
  else field.set(text.subarray(0, size - 1));
}
