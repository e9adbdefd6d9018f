// One input buffer shared by every client that opened it, as iiod does (iiod-protocol.md §3
// "Legacy internals"): the buffer runs with the union of the clients' masks and the largest
// samples count, re-opened whenever a client joins or leaves and the union changes; each block
// goes to every client with a READBUF pending, behind the mask line that says which channels
// the data holds (libiio's client demuxes its own channels out of it).
//
// Blocks are the stream's own memory: a READBUF is answered with a view of the block (the
// mapped DMABUF in DMABUF mode), and the block goes back to the hardware only once every
// socket write of it has completed, so the bytes are never copied here and never overwritten
// while the kernel still sends them.
import type { BufferStream } from '../../core/buffer-stream.js';
import type { IioBuffer } from '../../core/buffer.js';
import type { StreamBlock } from '../../core/stream-block.js';
import { formatMask } from '../../iiod/mask.js';
import { neg, wireErrno } from './errno.js';

/** Writes reply parts to the client in order; resolves once the socket has taken them all. */
export type Send = (parts: ReadonlyArray<string | Uint8Array>) => Promise<void>;

/** What one client opened: its channel positions, samples count and blocks. */
export interface CaptureConfig {
  positions: readonly number[];
  samples: number;
  blocks: number;
}

/** One client of the share. */
export class CaptureMember {
  /** The READBUF being answered, if any. */
  request: ReadRequest | undefined;
  constructor(readonly config: CaptureConfig) {}
}

interface ReadRequest {
  /** Bytes still owed. */
  remaining: number;
  /** The mask line is still to be sent (it follows the first count of each READBUF). */
  first: boolean;
  send: Send;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Settles the session's READBUF once its last bytes are written. */
  done: () => void;
}

/** The stream in use, with its iterator and its pump's state. */
interface Run {
  stream: BufferStream;
  blocks: AsyncIterator<StreamBlock>;
  key: string;
  /** The mask line of its READBUFs: the channels the data holds. */
  mask: string;
  pumping: boolean;
  /** Socket writes of the current block; the block is recycled after them. */
  inflight: Promise<unknown>;
}

export class CaptureShare {
  readonly buffer: IioBuffer;
  readonly #members = new Set<CaptureMember>();
  #run: Run | undefined;
  /** Joins, leaves and re-opens, one at a time. */
  #lock: Promise<unknown> = Promise.resolve();

  constructor(buffer: IioBuffer) {
    this.buffer = buffer;
  }

  /** Adds a client; the buffer is (re-)opened for the new union. Rejects (and leaves nothing) if that fails. */
  join(member: CaptureMember): Promise<void> {
    return this.#serial(async () => {
      this.#members.add(member);
      try {
        await this.#reconfigure();
      } catch (e) {
        this.#members.delete(member);
        await this.#reconfigure().catch(() => undefined);
        throw e;
      }
    });
  }

  /** Removes a client (its READBUF, if any, is dropped unanswered); re-opens or closes the buffer. */
  leave(member: CaptureMember): Promise<void> {
    this.#finish(member, undefined);
    this.#members.delete(member);
    return this.#serial(() => this.#reconfigure());
  }

  /**
   * Answers READBUF of `bytes` for `member` through `send`: counts, the mask line, block data,
   * `0\n` when less than one sample is left, or `-errno\n`. Resolves once the reply is written.
   * `timeoutMs` (0: none) bounds the wait for data (-110 ETIMEDOUT).
   */
  async read(member: CaptureMember, bytes: number, send: Send, timeoutMs: number): Promise<void> {
    if (!this.#members.has(member)) throw new Error('READBUF from a client that left the share');
    try {
      // A stream that failed was dropped: open it again for this request. (Joins and leaves
      // keep a running stream in step with the members, so otherwise there is nothing to do.)
      if (this.#run === undefined) await this.#serial(() => this.#reconfigure());
    } catch (e) {
      await send([`${wireErrno(e)}\n`]);
      return;
    }
    if (!this.#members.has(member)) return; // the client left meanwhile
    await new Promise<void>((resolve) => {
      const request: ReadRequest = { remaining: bytes, first: true, send, timer: undefined, done: resolve };
      if (timeoutMs > 0) {
        request.timer = setTimeout(() => {
          if (member.request !== request) return;
          this.#finish(member, `${neg('ETIMEDOUT')}\n`);
        }, timeoutMs);
      }
      member.request = request;
      this.#kick();
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#lock.then(work);
    this.#lock = result.catch(() => undefined);
    return result;
  }

  /** What the buffer should run with: the union of masks, the largest samples and blocks counts. */
  #wanted(): CaptureConfig | undefined {
    if (this.#members.size === 0) return undefined;
    const positions = new Set<number>();
    let samples = 0;
    let blocks = 0;
    for (const m of this.#members) {
      for (const p of m.config.positions) positions.add(p);
      samples = Math.max(samples, m.config.samples);
      blocks = Math.max(blocks, m.config.blocks);
    }
    return { positions: [...positions].sort((a, b) => a - b), samples, blocks };
  }

  async #reconfigure(): Promise<void> {
    const wanted = this.#wanted();
    const key = JSON.stringify(wanted);
    if (this.#run?.key === key) return;
    await this.#stop();
    if (wanted === undefined) return;
    let stream: BufferStream | undefined;
    try {
      stream = await this.buffer.open({ mask: wanted.positions, blockSize: wanted.samples, blocks: wanted.blocks });
      // Started now, as libiio starts a buffer when it is created: what the kernel refuses
      // (a triggered device with no trigger, ...) is OPEN's error, and data is ready for READBUF.
      for (const block of stream.blocks) await block.enqueue();
      await stream.start();
    } catch (e) {
      await stream?.close().catch(() => undefined);
      const reply = `${wireErrno(e)}\n`;
      for (const m of this.#members) this.#finish(m, reply);
      throw e;
    }
    const mask = formatMask(stream.channels.map((c) => c.position), this.buffer.device.channels.length);
    this.#run = { stream, blocks: stream[Symbol.asyncIterator](), key, mask, pumping: false, inflight: Promise.resolve() };
    this.#kick();
  }

  /** Closes the stream once its block is written; READBUFs half answered end early (`0\n`). */
  async #stop(): Promise<void> {
    const run = this.#run;
    if (run === undefined) return;
    this.#run = undefined;
    await run.inflight;
    for (const m of this.#members) if (m.request?.first === false) this.#finish(m, '0\n');
    await run.stream.close();
  }

  #kick(): void {
    const run = this.#run;
    if (run !== undefined && !run.pumping && this.#pending()) void this.#pump(run);
  }

  #pending(): boolean {
    for (const m of this.#members) if (m.request !== undefined) return true;
    return false;
  }

  /** Hands blocks of `run` to the READBUFs pending, while there are any and `run` is current. */
  async #pump(run: Run): Promise<void> {
    run.pumping = true;
    try {
      while (this.#run === run && this.#pending()) {
        let next: IteratorResult<StreamBlock>;
        try {
          next = await run.blocks.next();
        } catch (e) {
          if (this.#run !== run) return; // closed under us for a re-open
          const reply = `${wireErrno(e)}\n`;
          for (const m of this.#members) this.#finish(m, reply);
          // The iterator is finished: drop the stream; the next READBUF opens a new one.
          void this.#serial(() => (this.#run === run ? this.#stop() : Promise.resolve())).catch(() => undefined);
          return;
        }
        if (this.#run !== run || next.done === true) return;
        this.#serve(run, next.value);
        await run.inflight;
      }
    } finally {
      run.pumping = false;
    }
  }

  /** Sends `block` to every pending READBUF: whole samples only, the mask line first. */
  #serve(run: Run, block: StreamBlock): void {
    const data = block.bytes;
    const scan = run.stream.layout.scanBytes;
    const usable = data.length - (data.length % scan);
    const writes: Array<Promise<void>> = [];
    for (const m of this.#members) {
      const r = m.request;
      if (r === undefined) continue;
      const take = Math.min(usable, r.remaining - (r.remaining % scan));
      const parts: Array<string | Uint8Array> = [];
      if (take > 0) {
        parts.push(r.first ? `${take}\n${run.mask}\n` : `${take}\n`, data.subarray(0, take));
        r.first = false;
        r.remaining -= take;
      }
      const finished = r.remaining < scan;
      // Less than one sample left: `0\n` ends the READBUF early (the client keeps what it has).
      if (finished && r.remaining > 0) parts.push('0\n');
      if (parts.length === 0) continue;
      const written = r.send(parts);
      writes.push(written);
      if (finished) {
        this.#detach(m);
        written.then(r.done, r.done);
      }
    }
    run.inflight = Promise.allSettled(writes);
  }

  /** Ends `member`'s READBUF: with `reply` sent, or silently (the client is gone or closing). */
  #finish(member: CaptureMember, reply: string | undefined): void {
    const r = member.request;
    if (r === undefined) return;
    this.#detach(member);
    if (reply === undefined) r.done();
    else r.send([reply]).then(r.done, r.done);
  }

  #detach(member: CaptureMember): void {
    const r = member.request;
    if (r === undefined) return;
    clearTimeout(r.timer);
    member.request = undefined;
  }
}
