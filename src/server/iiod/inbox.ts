// What a client sends, as the iiod text protocol reads it: command lines ending in `\n`, and raw
// payloads of a stated size (WRITE values, WRITEBUF samples) right after their line. Memory is
// bounded: a line longer than `maxLine` is reported once as an overflow and skipped up to its
// `\n` without being kept, and the source is paused while more than `highWater` bytes wait
// unread (a TCP client then sees backpressure). A socket pushes what arrives; a USB pipe is
// pulled, one read when the inbox waits for more, so that no read is pending on its OUT
// endpoint while the session hands that endpoint to a DMABUF transfer. Memory follows the bytes,
// not the reads: small reads are copied into shared slabs, so a payload sent one byte per TCP
// segment costs about its size, not a Buffer per byte.
import type { Socket } from 'node:net';

/** Where an inbox's bytes come from. */
export interface ChunkSource {
  /** Delivers each chunk read to `chunk`, and the end of input (or a failure) to `end`, once. */
  start(chunk: (data: Buffer) => void, end: () => void): void;
  /**
   * The inbox waits for input (`wanted` bytes of a payload, or a line when undefined): a pulled
   * source reads once now; a pushing one reads anyway.
   */
  demand(wanted?: number): void;
  pause(): void;
  resume(): void;
}

/** A socket as a source: it pushes, and pausing it is TCP backpressure. */
export function socketSource(socket: Socket): ChunkSource {
  return {
    start(chunk, end) {
      socket.on('data', chunk);
      socket.on('end', end);
      socket.on('close', end);
    },
    demand: () => undefined,
    pause: () => void socket.pause(),
    resume: () => {
      if (socket.isPaused()) socket.resume();
    },
  };
}

export type LineEvent =
  | { kind: 'line'; text: string }
  /** The line outgrew `maxLine`; its bytes up to the next `\n` are being dropped. */
  | { kind: 'overflow' }
  /** The client closed its side (or the socket is gone). */
  | { kind: 'eof' };

export interface InboxOptions {
  /** Longest command line, its `\r\n` excluded (default 4096). */
  maxLine?: number;
  /** Unread bytes above which the socket is paused (default 256 KiB). */
  highWater?: number;
}

/** Reads shorter than this are copied into a slab instead of being kept as they came. */
const SMALL_READ = 16 * 1024;
const SLAB_BYTES = 64 * 1024;

export class Inbox {
  readonly #source: ChunkSource;
  #paused = false;
  readonly #maxLine: number;
  readonly #highWater: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #ended = false;
  /** Dropping an overlong line until its `\n`. */
  #skipping = false;
  #wake: (() => void) | undefined;
  /** The slab small reads are appended to, and how much of it is filled. */
  #slab: Buffer | undefined;
  #slabUsed = 0;

  constructor(source: Socket | ChunkSource, options: InboxOptions = {}) {
    this.#source = 'demand' in source ? source : socketSource(source);
    this.#maxLine = options.maxLine ?? 4096;
    this.#highWater = options.highWater ?? 256 * 1024;
    this.#source.start((chunk: Buffer) => {
      if (this.#skipping) chunk = this.#skip(chunk);
      if (chunk.length > 0) {
        this.#store(chunk);
        if (this.#bytes > this.#highWater && !this.#paused) {
          this.#paused = true;
          this.#source.pause();
        }
      }
      this.#notify();
    }, () => {
      this.#ended = true;
      this.#notify();
    });
  }

  /** Bytes received and not yet taken. */
  get buffered(): number {
    return this.#bytes;
  }

  /** The next line (`\r` and trailing blanks removed), an overflow, or the end of input. */
  async line(): Promise<LineEvent> {
    for (;;) {
      // `maxLine` counts the command, not its `\r\n`.
      const at = this.#indexOfNewline();
      if (at > this.#maxLine + 1) {
        this.#drop(at + 1);
        return { kind: 'overflow' };
      }
      if (at >= 0) {
        const raw = this.#take(at + 1);
        return { kind: 'line', text: raw.toString('latin1', 0, at).replace(/[ \t\r]+$/, '') };
      }
      if (this.#bytes > this.#maxLine + 1) {
        this.#drop(this.#bytes);
        this.#skipping = true;
        return { kind: 'overflow' };
      }
      if (this.#ended) return { kind: 'eof' };
      await this.#next();
    }
  }

  /**
   * The next `n` payload bytes as views of the memory they were stored in (no copies; about
   * one view per slab or large read), or null if the input ends first.
   */
  async bytes(n: number): Promise<Buffer[] | null> {
    const out: Buffer[] = [];
    let wanted = n;
    while (wanted > 0) {
      if (this.#bytes === 0) {
        if (this.#ended) return null;
        await this.#next(wanted);
        continue;
      }
      const first = this.#chunks[0]!;
      const piece = first.length <= wanted ? first : first.subarray(0, wanted);
      this.#drop(piece.length);
      const last = out.at(-1);
      // Bytes that follow the previous piece in the same memory extend it.
      if (last !== undefined && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
        out[out.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + piece.length);
      } else {
        out.push(piece);
      }
      wanted -= piece.length;
    }
    return out;
  }

  /**
   * Keeps a read: a large one as it is, a small one copied to the end of the current slab
   * (slabs are only appended to, so views of what was taken stay valid).
   */
  #store(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (chunk.length >= SMALL_READ) {
      this.#chunks.push(chunk);
      this.#slab = undefined;
      return;
    }
    if (this.#slab === undefined || this.#slabUsed + chunk.length > SLAB_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    chunk.copy(this.#slab, at);
    this.#slabUsed += chunk.length;
    const last = this.#chunks.at(-1);
    // The queue's last chunk ends where this read was put: it grows instead of a new entry.
    if (last !== undefined && last.buffer === this.#slab.buffer && last.byteOffset + last.length === this.#slab.byteOffset + at) {
      this.#chunks[this.#chunks.length - 1] = this.#slab.subarray(last.byteOffset - this.#slab.byteOffset, this.#slabUsed);
    } else {
      this.#chunks.push(this.#slab.subarray(at, this.#slabUsed));
    }
  }

  #indexOfNewline(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      const i = chunk.indexOf(10);
      if (i >= 0) return offset + i;
      offset += chunk.length;
    }
    return -1;
  }

  /** Removes and returns the first `n` bytes (a copy only when they span chunks; lines are short). */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out = first;
    if (first.length < n) {
      let k = 0;
      for (let covered = 0; covered < n; k++) covered += this.#chunks[k]!.length;
      out = Buffer.concat(this.#chunks.slice(0, k));
    }
    out = out.subarray(0, n);
    this.#drop(n);
    return out;
  }

  #drop(n: number): void {
    this.#bytes -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= n) {
        this.#chunks.shift();
        n -= first.length;
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
    if (this.#bytes <= this.#highWater && this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  /** Drops the overlong line's bytes up to its `\n`; returns what follows it. */
  #skip(chunk: Buffer): Buffer {
    const i = chunk.indexOf(10);
    if (i < 0) return chunk.subarray(chunk.length);
    this.#skipping = false;
    return chunk.subarray(i + 1);
  }

  #next(wanted?: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#source.demand(wanted);
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
