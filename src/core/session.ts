// What every object of one context shares: the backend, whether the context is still open, and
// the context's triggers by id (a device's current trigger is one of them).
import type { Backend, OpOptions } from '../backends/backend.js';
import { closedError } from '../backends/errors.js';
import { abortError } from '../errors.js';
import type { Trigger } from './device.js';

export class Session {
  closed = false;
  readonly triggers = new Map<string, Trigger>();
  /** Open buffer streams: closing the context closes them first. */
  readonly streams = new Set<{ close(): Promise<void> }>();

  constructor(readonly backend: Backend) {}

  /** Throws if the context is closed or `options.signal` has fired. */
  check(options?: OpOptions): void {
    if (this.closed) throw closedError(`the context ${this.backend.uri}`);
    if (options?.signal?.aborted === true) throw abortError(options.signal);
  }
}
