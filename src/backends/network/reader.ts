// The receiving side of an iiod connection: what the socket delivered, read back as lines
// (status and length lines end in `\n`) or as exact byte counts copied where they belong
// (a block's memory), with a bounded amount buffered: past HIGH_WATER the socket is paused
// until the reader catches up, so a peer that floods cannot grow memory.
import type { Socket } from 'node:net';

const HIGH_WATER = 4 * 1024 * 1024;
const NEWLINE = 0x0a;

/** A line longer than its limit: the peer is not speaking the protocol. */
export class LineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`no end of line within ${limit} bytes`);
    this.name = 'LineTooLongError';
  }
}

export class SocketReader {
  readonly #socket: Socket;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered > HIGH_WATER) socket.pause();
      this.#notify();
    });
  }

  /** Ends every read, now and later, with `error` (the first failure wins). */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#notify();
  }

  get failed(): Error | undefined {
    return this.#failure;
  }

  /** Bytes received and not read yet. */
  get buffered(): number {
    return this.#buffered;
  }

  /** One line without its `\n` (and a `\r` before it), decoded as UTF-8. */
  async line(limit: number): Promise<string> {
    let scanned = 0;
    for (;;) {
      const at = this.#indexOfNewline(scanned);
      if (at >= 0) {
        if (at > limit) throw new LineTooLongError(limit);
        const bytes = this.#take(at + 1);
        const end = at > 0 && bytes[at - 1] === 0x0d ? at - 1 : at;
        return bytes.toString('utf8', 0, end);
      }
      scanned = this.#buffered;
      if (scanned > limit) throw new LineTooLongError(limit);
      await this.#more();
    }
  }

  /** Fills `target` with the next target.length bytes. */
  async into(target: Uint8Array): Promise<void> {
    let done = 0;
    while (done < target.length) {
      if (this.#buffered === 0) await this.#more();
      done += this.#copyOut(target.subarray(done));
    }
  }

  /** Reads and drops `count` bytes. */
  async skip(count: number): Promise<void> {
    let left = count;
    while (left > 0) {
      if (this.#buffered === 0) await this.#more();
      const first = this.#chunks[0]!;
      const n = Math.min(left, first.length);
      this.#consume(n);
      left -= n;
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

  /** The next `count` buffered bytes, as one Buffer. */
  #take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    this.#copyOut(out);
    return out;
  }

  /** Moves buffered bytes into `target` (as many as fit and are there); returns how many. */
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
    if (this.#buffered <= HIGH_WATER / 2 && this.#socket.isPaused()) this.#socket.resume();
  }

  /** Waits for more bytes, or throws the failure. */
  async #more(): Promise<void> {
    const before = this.#buffered;
    while (this.#buffered === before) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#socket.isPaused()) this.#socket.resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
