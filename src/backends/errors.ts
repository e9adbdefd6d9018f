// Errors shared by the backends and the core: a typed "unsupported" error callers can test for,
// the error of a closed context, and Node-style system errors re-raised with the IIO object
// they concern (device, channel, attribute) added to the message.
import { isSystemError, systemError, type SystemError } from '../errors.js';
import type { AttrRef } from './backend.js';

/** What a device or backend does not offer. */
export type Feature = 'trigger' | 'registers' | 'available' | 'attribute' | (string & {});

/**
 * The device or backend does not offer `feature` (no trigger support, no `direct_reg_access`,
 * no `_available` list, ...). Test with `instanceof` or `code === 'ERR_IIOJS_UNSUPPORTED'`.
 */
export class UnsupportedError extends Error {
  readonly code = 'ERR_IIOJS_UNSUPPORTED';
  constructor(
    readonly feature: Feature,
    /** What was asked, e.g. `iio:device0 (adc)`. */
    readonly target: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${target}: ${detail}`, options);
    this.name = 'UnsupportedError';
  }
}

/** The error of any operation on a closed context or backend. */
export function closedError(what: string): Error & { code: string } {
  const error = new Error(`${what} is closed`) as Error & { code: string };
  error.code = 'ERR_IIOJS_CLOSED';
  return error;
}

/** A device as messages name it: `iio:device0 (adc4)`. */
export function deviceLabel(id: string, name?: string): string {
  return name === undefined || name === id ? id : `${id} (${name})`;
}

/** Where an attribute is, in words: `attribute "raw" of input channel voltage0 of iio:device0 (adc4)`. */
export function attrLabel(ref: AttrRef, deviceName?: string): string {
  const attr = `"${ref.name}"`;
  switch (ref.kind) {
    case 'context':
      return `context attribute ${attr}`;
    case 'device':
      return `attribute ${attr} of ${deviceLabel(ref.device, deviceName)}`;
    case 'debug':
      return `debug attribute ${attr} of ${deviceLabel(ref.device, deviceName)}`;
    case 'channel':
      return `attribute ${attr} of ${ref.output ? 'output' : 'input'} channel ${ref.channel} of ${deviceLabel(ref.device, deviceName)}`;
    case 'buffer':
      return `attribute ${attr} of buffer${ref.buffer} of ${deviceLabel(ref.device, deviceName)}`;
    case 'event': {
      const channel = ref.channel === undefined ? '' : ` of ${ref.channel.output ? 'output' : 'input'} channel ${ref.channel.id}`;
      return `event attribute ${attr}${channel} of ${deviceLabel(ref.device, deviceName)}`;
    }
  }
}

/**
 * `e` again, with `context` appended to its message: a system error keeps its code, errno,
 * syscall and path — `path` when it had none (node:fs leaves it out of write errors) — and the
 * original becomes its `cause`; anything else is returned as is.
 */
export function withContext(e: unknown, context: string, path?: string): unknown {
  if (!isSystemError(e)) return e;
  const head = `${e.code}: `;
  const pathPart = e.path === undefined ? '' : ` '${e.path}'`;
  // The original's own detail (what the driver said) comes after "code: description, syscall 'path': ".
  const prefixEnd = e.message.indexOf(`, ${e.syscall}${pathPart}`);
  let detail: string | undefined;
  if (e.message.startsWith(head) && prefixEnd >= 0) {
    const rest = e.message.slice(prefixEnd + `, ${e.syscall}${pathPart}`.length);
    if (rest.startsWith(': ')) detail = rest.slice(2);
  }
  const wrapped: SystemError = systemError(e.errno, e.syscall, e.path ?? path, detail === undefined ? context : `${detail} (${context})`);
  wrapped.cause = e;
  return wrapped;
}
