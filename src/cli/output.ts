// Standard output for data: each write resolves once the stream took the bytes (so a block's
// memory can go back to the hardware), and one signal says when to stop — the user's interrupt,
// or a reader that went away (EPIPE: `iio read … | head -c 100`), which is not an error. An
// interrupt leaves the sink writing: what was captured before it still goes out.
import type { Writable } from 'node:stream';
import { abortError } from '../errors.js';
import type { StopReason } from './env.js';

export class DataSink {
  readonly #stream: Writable;
  /** Aborted when the stream fails: broken pipe or a write error. */
  readonly #failed = new AbortController();
  /** Aborted on interrupt, broken pipe or a write error; `reason` is a StopReason or the error. */
  readonly signal: AbortSignal;

  constructor(stream: Writable, interrupt: AbortSignal) {
    this.#stream = stream;
    this.signal = AbortSignal.any([interrupt, this.#failed.signal]);
    // Without a listener, EPIPE would be an uncaught exception with a stack trace.
    stream.on('error', (e: NodeJS.ErrnoException) => this.#fail(e));
  }

  /** Why the sink stopped, if it stopped for a StopReason; undefined if not stopped. */
  get stopReason(): StopReason | undefined {
    const reason: unknown = this.signal.reason;
    return this.signal.aborted && typeof reason === 'string' ? reason as StopReason : undefined;
  }

  /** Throws the write error that stopped the sink, if one did. */
  throwIfFailed(): void {
    if (this.signal.aborted && this.signal.reason instanceof Error) throw this.signal.reason;
  }

  /** Resolves when the stream has taken `chunk`; rejects once the stream failed (EPIPE included). */
  write(chunk: Uint8Array | string): Promise<void> {
    const failed = this.#failed.signal;
    if (failed.aborted) return Promise.reject(abortError(failed));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError(failed));
      failed.addEventListener('abort', onAbort, { once: true });
      this.#stream.write(chunk, (error) => {
        failed.removeEventListener('abort', onAbort);
        if (error) {
          this.#fail(error);
          reject(abortError(failed));
        } else resolve();
      });
    });
  }

  #fail(e: NodeJS.ErrnoException): void {
    if (!this.#failed.signal.aborted) this.#failed.abort(e.code === 'EPIPE' ? 'EPIPE' : e);
  }
}
