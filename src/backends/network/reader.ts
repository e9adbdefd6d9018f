// The receiving side of an iiod connection: what the socket delivers, read back as lines
// (status and length lines end in `\n`) or as exact byte counts put where they belong (a block's
// memory). The socket reads through `onread`: while a payload is awaited and nothing is queued,
// the kernel writes straight into its destination (or the scratch buffer's bytes are copied
// there at once); anything else is queued as a copy of the scratch buffer. At most HIGH_WATER bytes are queued: past that the socket pauses until
// the reader catches up, so a peer that floods cannot grow memory.
import type { OnReadOpts, Socket } from 'node:net';

const HIGH_WATER = 4 * 1024 * 1024;
const SCRATCH_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** A line longer than its limit: the peer is not speaking the protocol. */
export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`no end of line within ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export class SocketReader {
  #socket: Socket | undefined;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** A payload awaited with nothing queued: reads land in target from `done` on. */
  #direct: { target: Uint8Array; done: number } | undefined;
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  /** The `onread` option of the socket this reader reads (pass it to net.connect, then attach()). */
  readonly onread: OnReadOpts = {
    buffer: () => {
      const d = this.#direct;
      return d !== undefined && d.done < d.target.length && this.#buffered === 0 ? d.target.subarray(d.done) : this.#scratch;
    },
    callback: (n: number, buf: Uint8Array) => {
      const d = this.#direct;
      if (buf !== this.#scratch) d!.done += n;
      else {
        // Reads come in bursts before the awaiting reader runs again: what is for the payload
        // being awaited goes there now, the rest is queued.
        let used = 0;
        if (d !== undefined && this.#buffered === 0) {
          used = Math.min(n, d.target.length - d.done);
          d.target.set(buf.subarray(0, used), d.done);
          d.done += used;
        }
        if (used < n) {
          const chunk = Buffer.allocUnsafe(n - used);
          chunk.set(buf.subarray(used, n));
          this.#chunks.push(chunk);
          this.#buffered += chunk.length;
        }
      }
      this.#notify();
      return this.#buffered <= HIGH_WATER; // false pauses the socket
    },
  };

  attach(socket: Socket): void {
    this.#socket = socket;
  }

  /** Ends every read, now and later, with `error` (the first failure wins). */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#notify();
  }

  get failed(): Error | undefined {
    return this.#failure;
  }

  /** One line without its `\n` (and a `\r` before it), decoded as UTF-8. */
  async line(limit: number): Promise<string> {
    let scanned = 0;
    for (;;) {
      const at = this.#indexOfNewline(scanned);
      if (at >= 0) {
        if (at > limit) throw new LineTooLongError(limit);
        const bytes = Buffer.allocUnsafe(at + 1);
        this.#copyOut(bytes);
        const end = at > 0 && bytes[at - 1] === 0x0d ? at - 1 : at;
        return bytes.toString('utf8', 0, end);
      }
      scanned = this.#buffered;
      if (scanned > limit) throw new LineTooLongError(limit);
      await this.#next();
    }
  }

  /** Fills `target` with the next target.length bytes. */
  async into(target: Uint8Array): Promise<void> {
    let done = this.#copyOut(target);
    while (done < target.length) {
      const direct = { target, done };
      this.#direct = direct;
      try {
        await this.#next();
      } finally {
        this.#direct = undefined;
      }
      done = direct.done;
      done += this.#copyOut(target.subarray(done));
    }
  }

  #indexOfNewline(from: number): number {
    let base = 0;
    for (const chunk of this.#chunks) {
      if (from < base + chunk.length) {
        const at = chunk.indexOf(NEWLINE, Math.max(0, from - base));
        if (at >= 0) return base + at;
      }
      base += chunk.length;
    }
    return -1;
  }

  /** Moves queued bytes into `target` (as many as fit and are there); returns how many. */
  #copyOut(target: Uint8Array): number {
    let done = 0;
    while (done < target.length && this.#chunks.length > 0) {
      const first = this.#chunks[0]!;
      const n = Math.min(target.length - done, first.length);
      target.set(first.subarray(0, n), done);
      this.#consume(n);
      done += n;
    }
    return done;
  }

  #consume(n: number): void {
    const first = this.#chunks[0]!;
    if (n === first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#buffered -= n;
    if (this.#buffered <= HIGH_WATER / 2 && this.#socket?.isPaused() === true) this.#socket.resume();
  }

  /** Waits until the socket delivers something or fails; throws a failure already there. */
  async #next(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#socket?.isPaused() === true) this.#socket.resume();
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
