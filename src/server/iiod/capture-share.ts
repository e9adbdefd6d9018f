// One input buffer shared by every client that opened it. The buffer runs with the union of the
// clients' channels (each READBUF says so in its mask line; libiio's client demuxes its own
// channels out of it, as ours does), and every client reads the same data at its own pace:
//
// - Each member has a position in the stream of the run's data. A READBUF is answered from the
//   blocks held at that position, across as many blocks as it needs, so block sizes and masks
//   may differ freely and every reader gets contiguous samples.
// - A dequeued block is held until every member's position is past it and no socket write of
//   it is in flight (writes are views of the block: the mapped DMABUF in DMABUF mode, never
//   copied here), then it goes back to the hardware.
// - A member whose transport takes DMABUFs (a USB pipe, transport.ts BlockSink) and whose
//   READBUF asks for a whole block gets it by DMABUF: the block is neither mapped nor synced
//   (the stream brackets CPU access only for blocks the CPU touches), and it is held until the
//   USB transfer's fence has signalled.
// - When a member needs data and every block is held, the members still holding the oldest
//   block have LAG_DEADLINE_MS to move on. One that is sending but makes no progress is
//   disconnected; one that is not reading loses its place (an overrun): its next READBUF is
//   answered -EPIPE and it goes on from the newest data. A reader never gets a silent gap.
// - The buffer is re-opened only when a joiner needs channels the run lacks; members that had
//   data then get -EPIPE too (their stream has a gap). Nothing here holds a lock across a socket
//   write: a client that stops reading stalls at most itself, and others for LAG_DEADLINE_MS.
import { setTimeout as sleep } from 'node:timers/promises';
import type { BufferStream } from '../../core/buffer-stream.js';
import type { IioBuffer } from '../../core/buffer.js';
import type { StreamBlock } from '../../core/stream-block.js';
import { formatMask } from '../../iiod/mask.js';
import { errnoOf, systemError } from '../../errors.js';
import { wireErrno } from './errno.js';
import type { BlockSink } from './transport.js';

/** Writes reply parts to the client in order; resolves once the socket has taken them all. */
export type Send = (parts: ReadonlyArray<string | Uint8Array>) => Promise<void>;

/** What one client opened: its channel positions, samples count and blocks. */
export interface CaptureConfig {
  positions: readonly number[];
  samples: number;
  blocks: number;
}

/** The client behind a member: how to write to it, how to cut it off, how to tell the operator. */
export interface CapturePeer {
  send: Send;
  /** Disconnects the client (its writes then settle with an error). */
  drop(reason: string): void;
  /** Logs an error answered to the client, with its reason. */
  error(reason: string): void;
  /** Where whole blocks go by DMABUF, if the client's transport has that path. */
  sink?: BlockSink;
}

/** How long members holding the oldest block may keep everyone else waiting for a new one. */
export const LAG_DEADLINE_MS = 500;
/** Largest single socket write: each one completing is progress of a slow reader. */
const PART_BYTES = 128 << 10;

interface ReadRequest {
  /** Bytes still owed. */
  remaining: number;
  /** The mask line is still to be sent (it follows the first count of each READBUF). */
  first: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Settles the session's READBUF once its last bytes are written. */
  done: () => void;
}

/** One client of the share. */
export class CaptureMember {
  /** The READBUF being answered, if any. */
  request: ReadRequest | undefined;
  /** Byte position in the current run's data; undefined until the next READBUF places it. */
  position: number | undefined;
  /** Why data this member would have read was dropped: its next READBUF says so (-EPIPE). */
  gap: string | undefined;
  /** Socket writes in flight, the last one issued, and when one last completed. */
  writing = 0;
  lastWrite: Promise<void> = Promise.resolve();
  progressAt = 0;
  constructor(readonly config: CaptureConfig, readonly peer: CapturePeer) {}
}

/** A dequeued block and where its data sits in the run's stream. */
interface Held {
  block: StreamBlock;
  start: number;
  end: number;
  /** Socket writes of its memory in flight, by member. */
  writers: Map<CaptureMember, number>;
}

/** The stream in use and its blocks' whereabouts. */
interface Run {
  stream: BufferStream;
  positions: readonly number[];
  /** The mask line of its READBUFs: the channels the data holds. */
  mask: string;
  scan: number;
  /** Dequeued blocks, oldest first; `head` is where the next one's data starts. */
  held: Held[];
  head: number;
  /** Blocks with the hardware, in the order they complete, each once its enqueue is done. */
  queued: Array<Promise<StreamBlock>>;
  fetching: boolean;
  stopping: boolean;
  lagTimer: ReturnType<typeof setTimeout> | undefined;
  /** Every socket write of the run's memory not yet settled. */
  inflight: Set<Promise<void>>;
}

export class CaptureShare {
  readonly buffer: IioBuffer;
  readonly #members = new Set<CaptureMember>();
  #run: Run | undefined;
  /** Opens and closes of the stream, one at a time (never held across a socket write). */
  #lock: Promise<unknown> = Promise.resolve();

  constructor(buffer: IioBuffer) {
    this.buffer = buffer;
  }

  /** Adds a client, re-opening the buffer if the run lacks its channels. Rejects (and leaves nothing) if that fails. */
  join(member: CaptureMember): Promise<void> {
    return this.#serial(async () => {
      this.#members.add(member);
      const run = this.#run;
      if (run !== undefined && member.config.positions.every((p) => run.positions.includes(p))) return;
      try {
        await this.#reopen(`re-opened for the channels of a new reader`);
      } catch (e) {
        this.#members.delete(member);
        if (this.#members.size > 0) await this.#reopen('re-opened after a failed join').catch(() => undefined);
        throw e;
      }
    });
  }

  /**
   * How `member`'s READBUFs of `bytes` get their data, and why, as the operator is told: by
   * DMABUF when its transport takes the run's blocks (attached here, once) and each READBUF is a
   * whole block; else copied.
   */
  path(member: CaptureMember, bytes: number): string {
    const run = this.#run;
    const sink = member.peer.sink;
    if (sink === undefined) return 'copied to the socket';
    if (run === undefined) return 'not running';
    if (run.stream.mode !== 'dmabuf') return 'copied: the IIO buffer takes no DMABUFs (file I/O)';
    if (!run.stream.blocks.every((b) => sink.accepts(b))) return `copied: ${sink.refused}`;
    const blockBytes = run.stream.blockSize * run.scan;
    if (bytes !== blockBytes) return `copied: READBUFs of ${bytes} bytes are not whole ${blockBytes}-byte blocks (another reader's block size, or the client's sample size differs from the kernel's)`;
    return `zero-copy: blocks go to ${sink.name} by FUNCTIONFS_DMABUF_TRANSFER, never mapped`;
  }

  /** Removes a client (its READBUF, if any, is dropped unanswered); the last one closes the buffer. */
  leave(member: CaptureMember): Promise<void> {
    this.#finish(member, undefined);
    this.#members.delete(member);
    this.#kick(); // what it held may go back to the hardware
    return this.#serial(async () => {
      if (this.#members.size === 0) await this.#stop();
    });
  }

  /**
   * Answers READBUF of `bytes` for `member`: counts, the mask line, data from the member's
   * position, `0\n` when less than one sample is left, or `-errno\n`. Resolves once the reply is
   * written. `timeoutMs` (0: none) bounds the wait for data (-110 ETIMEDOUT).
   */
  async read(member: CaptureMember, bytes: number, timeoutMs: number): Promise<void> {
    if (!this.#members.has(member)) throw new Error('READBUF from a client that left the share');
    try {
      // A stream that failed is dropped: open it again for this request.
      if (this.#run?.stopping !== false) await this.#serial(() => (this.#run?.stopping !== false ? this.#reopen('re-opened') : Promise.resolve()));
    } catch (e) {
      member.peer.error((e as Error).message);
      await member.peer.send([`${wireErrno(e)}\n`]);
      return;
    }
    if (!this.#members.has(member)) return; // the client left meanwhile
    await new Promise<void>((resolve) => {
      const request: ReadRequest = { remaining: bytes, first: true, timer: undefined, done: resolve };
      if (timeoutMs > 0) {
        request.timer = setTimeout(() => {
          if (member.request !== request) return;
          const error = systemError(errnoOf('ETIMEDOUT'), 'READBUF', this.buffer.toString(), `no data within ${timeoutMs} ms`);
          member.peer.error(error.message);
          this.#finish(member, `${error.errno}\n`);
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

  /** Closes the run (if any) and opens one for the members' union. */
  async #reopen(why: string): Promise<void> {
    await this.#stop(why);
    if (this.#members.size === 0) return;
    const positions = new Set<number>();
    let samples = 0;
    let blocks = 0;
    for (const m of this.#members) {
      for (const p of m.config.positions) positions.add(p);
      samples = Math.max(samples, m.config.samples);
      blocks = Math.max(blocks, m.config.blocks);
    }
    const mask = [...positions].sort((a, b) => a - b);
    let stream: BufferStream | undefined;
    try {
      stream = await this.buffer.open({ mask, blockSize: samples, blocks, cpuAccess: 'on-touch' });
      // Started now, as libiio starts a buffer when it is created: what the kernel refuses
      // (a triggered device with no trigger, ...) is OPEN's error, and data is ready for READBUF.
      for (const block of stream.blocks) await block.enqueue();
      await stream.start();
    } catch (e) {
      await stream?.close().catch(() => undefined);
      this.#failRequests(e);
      throw e;
    }
    this.#run = {
      stream, positions: mask, scan: stream.layout.scanBytes, held: [], head: 0, fetching: false, stopping: false,
      mask: formatMask(stream.channels.map((c) => c.position), this.buffer.device.channels.length),
      queued: stream.blocks.map((b) => Promise.resolve(b)), lagTimer: undefined, inflight: new Set(),
    };
    this.#kick();
  }

  /**
   * Closes the run. Its memory is unmapped, so writes of it must settle first: members whose
   * writes make no progress for LAG_DEADLINE_MS are disconnected. Members that had data get a
   * gap (`why`); READBUFs half answered end early (`0\n`).
   */
  async #stop(why = 'closed'): Promise<void> {
    const run = this.#run;
    if (run === undefined) return;
    this.#run = undefined;
    run.stopping = true;
    clearTimeout(run.lagTimer);
    for (const m of this.#members) {
      if (m.position !== undefined) m.gap ??= `the buffer was ${why}`;
      m.position = undefined;
      if (m.request?.first === false) this.#finish(m, '0\n');
    }
    while (run.inflight.size > 0) {
      const settled = Promise.allSettled([...run.inflight]);
      const idle = await Promise.race([settled.then(() => false), sleep(LAG_DEADLINE_MS, true, { ref: false })]);
      if (!idle) continue;
      for (const m of this.#members) if (m.writing > 0 && performance.now() - m.progressAt >= LAG_DEADLINE_MS) m.peer.drop(`it took no data for ${LAG_DEADLINE_MS} ms while ${this.buffer.toString()} closed`);
    }
    // DMABUF sinks forget the blocks before their fds close (and may be reused).
    await Promise.allSettled([...this.#members].map((m) => m.peer.sink?.release(run.stream.blocks)));
    await run.stream.close();
  }

  /** Serves what can be served, recycles free blocks, and fetches or waits for the next one. */
  #kick(): void {
    const run = this.#run;
    if (run === undefined || run.stopping) return;
    for (const m of this.#members) this.#serve(run, m);
    this.#recycle(run);
    const needed = this.#needsBlock(run);
    if (needed && run.queued.length > 0) {
      clearTimeout(run.lagTimer);
      run.lagTimer = undefined;
      if (!run.fetching) void this.#fetch(run);
    } else if (needed && !run.fetching) {
      run.lagTimer ??= setTimeout(() => this.#lagged(run), LAG_DEADLINE_MS).unref();
    } else {
      clearTimeout(run.lagTimer);
      run.lagTimer = undefined;
    }
  }

  /** Sends `m` as much of its READBUF as the held blocks have from its position. */
  #serve(run: Run, m: CaptureMember): void {
    const r = m.request;
    if (r === undefined) return;
    if (m.gap !== undefined && r.first) {
      m.peer.error(`${this.buffer.toString()}: samples were dropped: ${m.gap}`);
      m.gap = undefined;
      m.position = undefined;
      this.#finish(m, `${-errnoOf('EPIPE')}\n`);
      return;
    }
    m.position ??= run.head; // a new reader starts with the next block
    while (r.remaining >= run.scan && m.position < run.head) {
      const h = run.held.find((x) => m.position! < x.end)!;
      const take = Math.min(h.end - m.position, r.remaining - (r.remaining % run.scan));
      // The count and the mask are lines of their own (on USB, transfers of their own).
      const header = r.first ? [`${take}\n`, `${run.mask}\n`] : [`${take}\n`];
      const whole = m.position === h.start && take === h.block.bytesUsed;
      if (whole && m.peer.sink?.accepts(h.block) === true) this.#track(run, m, h, m.peer.sink.send(header, h.block, take));
      else this.#write(run, m, h, header, h.block.bytes.subarray(m.position - h.start, m.position - h.start + take));
      r.first = false;
      r.remaining -= take;
      m.position += take;
    }
    if (r.remaining < run.scan) {
      // Less than one sample left: `0\n` ends the READBUF early (the client keeps what it has).
      const last = r.remaining > 0 ? m.peer.send(['0\n']) : m.lastWrite;
      this.#detach(m);
      last.then(r.done, r.done);
    }
  }

  /** Writes `header` then `data` (a view of `h`'s memory) in parts; `h` stays held until they settle. */
  #write(run: Run, m: CaptureMember, h: Held, header: string[], data: Uint8Array): void {
    for (let at = 0; at < data.length; at += PART_BYTES) {
      const part = data.subarray(at, at + PART_BYTES);
      this.#track(run, m, h, m.peer.send(at === 0 ? [...header, part] : [part]));
    }
  }

  /** Keeps `h` held until `written` (a write of its memory to `m`) settles. */
  #track(run: Run, m: CaptureMember, h: Held, written: Promise<void>): void {
    m.lastWrite = written;
    h.writers.set(m, (h.writers.get(m) ?? 0) + 1);
    m.writing++;
    m.progressAt = performance.now();
    const settled = written.then(() => {
      m.progressAt = performance.now();
    }, (e: unknown) => {
      // A DMABUF transfer that failed after its header went out: the pipe cannot be kept in step.
      if (m.peer.sink !== undefined) m.peer.drop((e as Error).message);
    }).finally(() => {
      const left = h.writers.get(m)! - 1;
      if (left === 0) h.writers.delete(m);
      else h.writers.set(m, left);
      m.writing--;
      run.inflight.delete(settled);
      this.#kick();
    });
    run.inflight.add(settled);
  }

  /** Gives back to the hardware, oldest first, the blocks nobody still needs. */
  #recycle(run: Run): void {
    while (run.held.length > 0) {
      const h = run.held[0]!;
      if (this.#holders(h).size > 0) return;
      run.held.shift();
      run.queued.push(h.block.enqueue().then(() => h.block));
      run.queued.at(-1)!.catch((e: unknown) => this.#fail(run, e));
    }
  }

  /** Members still reading `h` (their position is inside it) or writing it to their socket. */
  #holders(h: Held): Set<CaptureMember> {
    const holders = new Set(h.writers.keys());
    for (const m of this.#members) if (m.position !== undefined && m.position < h.end) holders.add(m);
    return holders;
  }

  /** A reader waits at the end of the held data for a new block. */
  #needsBlock(run: Run): boolean {
    for (const m of this.#members) {
      if (m.request !== undefined && m.request.remaining >= run.scan && m.position === run.head) return true;
    }
    return false;
  }

  async #fetch(run: Run): Promise<void> {
    run.fetching = true;
    try {
      const block = await run.queued.shift()!;
      await block.dequeue();
      if (run.stopping) return;
      const usable = block.bytesUsed - (block.bytesUsed % run.scan);
      run.held.push({ block, start: run.head, end: run.head + usable, writers: new Map() });
      run.head += usable;
    } catch (e) {
      this.#fail(run, e);
      return;
    } finally {
      run.fetching = false;
    }
    this.#kick();
  }

  /** Every block is held and the oldest one's holders did not move on in time. */
  #lagged(run: Run): void {
    run.lagTimer = undefined;
    const oldest = run.held[0];
    if (run.stopping || oldest === undefined) return;
    const now = performance.now();
    for (const m of this.#holders(oldest)) {
      if (oldest.writers.has(m)) {
        if (now - m.progressAt >= LAG_DEADLINE_MS) m.peer.drop(`it took no data for ${LAG_DEADLINE_MS} ms while other readers of ${this.buffer.toString()} waited`);
      } else {
        m.gap = `the reader fell ${run.held.length} blocks behind the others and did not read for ${LAG_DEADLINE_MS} ms`;
        m.position = undefined;
      }
    }
    this.#kick();
  }

  /** A transfer failed: READBUFs in progress get its errno, other readers a gap; the next READBUF re-opens. */
  #fail(run: Run, e: unknown): void {
    if (run.stopping || this.#run !== run) return;
    run.stopping = true; // nothing more is served from it
    for (const m of this.#members) if (m.request === undefined && m.position !== undefined) m.gap = (e as Error).message;
    this.#failRequests(e);
    void this.#serial(() => (this.#run === run ? this.#stop('stopped by an error') : Promise.resolve())).catch(() => undefined);
  }

  #failRequests(e: unknown): void {
    const reply = `${wireErrno(e)}\n`;
    for (const m of this.#members) {
      if (m.request === undefined) continue;
      m.peer.error((e as Error).message);
      m.position = undefined; // told: no gap to report later
      this.#finish(m, reply);
    }
  }

  /** Ends `member`'s READBUF: with `reply` sent, or silently (the client is gone or closing). */
  #finish(member: CaptureMember, reply: string | undefined): void {
    const r = member.request;
    if (r === undefined) return;
    this.#detach(member);
    if (reply === undefined) r.done();
    else member.peer.send([reply]).then(r.done, r.done);
  }

  #detach(member: CaptureMember): void {
    const r = member.request;
    if (r === undefined) return;
    clearTimeout(r.timer);
    member.request = undefined;
  }
}
