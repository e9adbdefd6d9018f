// An IIO buffer streamed from an iiod server (iiod-protocol.md §4a): a connection of its own
// (libiio's buffer socket), `OPEN <dev> <samples> <mask> [CYCLIC]` when the buffer is enabled,
// then one READBUF (capture) or WRITEBUF (playback) per queued block, in queue order, into or
// from the block's plain memory. A server sharing the device with other clients may send more
// channels than this buffer's: READBUFs then go on until the block holds its own samples.
// Disabling with a transfer on the wire, or closing, shuts the socket down (the only way to
// stop a READBUF); an idle buffer says `CLOSE` and `EXIT`.
import type { ScanElement } from '../../format/scan-layout.js';
import { errnoOf, systemError } from '../../errors.js';
import { formatMask, maskLength, parseMask } from '../../iiod/mask.js';
import type { BlockHandle, BufferHandle, OpOptions, WaitBlockOptions } from '../backend.js';
import { UnsupportedError, closedError } from '../errors.js';
import { bounded, withResolvers, type Resolvers } from '../waits.js';
import { inStep, type IiodConnection, type Wire } from './connection.js';
import { UnionDemux } from './union-demux.js';

/** How long close() waits for CLOSE's answer when the context has no timeout. */
const FAREWELL_MS = 5000;

export interface NetworkBufferSpec {
  /** The buffer socket (not yet connected). */
  connection: IiodConnection;
  device: string;
  index: number;
  output: boolean;
  /** Channel positions to enable, and how many channels the device has (mask width). */
  mask: readonly number[];
  channelCount: number;
  /** The scan element at a channel position (to demux data with more channels than `mask`). */
  element: (position: number) => ScanElement;
  /** libiio's sample size of the enabled channels: OPEN counts samples of it. */
  sampleBytes: number;
  blockBytes: number;
  blocks: number;
  /** The limit of one transfer (client side), ms; 0: none. */
  timeoutMs: () => number;
  /** Called once the buffer is closed. */
  onClose: () => void;
}

interface Block extends BlockHandle {
  bytesUsed: number;
  cyclic: boolean;
  queued: boolean;
  /** Settles when the transfer is over: the bytes moved, or why not. */
  done?: Resolvers<number>;
}

export class NetworkBuffer implements BufferHandle {
  readonly mode = 'fileio';
  readonly mask: readonly number[];
  readonly name: string;
  readonly #spec: NetworkBufferSpec;
  readonly #conn: IiodConnection;
  readonly #blocks: Block[];
  /** Queued blocks not transferred yet, in queue order. */
  readonly #pending: Block[] = [];
  #enabled = false;
  /** OPEN was answered on the current socket (a new socket needs OPEN again). */
  #opened = false;
  #cyclic = false;
  /** The transfer on the wire. */
  #inFlight: Block | undefined;
  #pump: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** The last union the server sent (its demux) and the memory its READBUFs land in. */
  #union: { key: string; demux: UnionDemux } | undefined;
  #scratch: Uint8Array | undefined;

  constructor(spec: NetworkBufferSpec) {
    this.#spec = spec;
    this.#conn = spec.connection;
    this.mask = Object.freeze([...spec.mask]);
    this.name = `${spec.device}/buffer${spec.index}`;
    this.#blocks = Array.from({ length: spec.blocks }, () => ({ data: new Uint8Array(spec.blockBytes), size: spec.blockBytes, bytesUsed: 0, cyclic: false, queued: false }));
  }

  get blocks(): readonly BlockHandle[] {
    return this.#blocks;
  }

  async enable(options: OpOptions = {}): Promise<void> {
    this.#check();
    if (this.#enabled) return;
    const cyclic = this.#pending[0]?.cyclic === true;
    const dev = this.#spec.device;
    const open = `OPEN ${dev} ${this.#spec.blockBytes / this.#spec.sampleBytes} ${formatMask(this.mask, this.#spec.channelCount)}${cyclic ? ' CYCLIC' : ''}`;
    await this.#conn.run('OPEN', `opening ${this.name}`, async (wire) => {
      wire.line(open);
      const status = await wire.status();
      if (status < 0) throw wire.remote(status);
    }, this.#runOptions(options));
    this.#opened = true;
    this.#cyclic = cyclic;
    this.#enabled = true;
    this.#kick();
  }

  async disable(options: OpOptions = {}): Promise<void> {
    this.#check();
    if (!this.#enabled) return;
    this.#enabled = false;
    const stopped = systemError(errnoOf('EINTR'), 'disable', this.name, 'the buffer was disabled');
    if (this.#inFlight !== undefined) this.#conn.abort(stopped);
    await this.#pump;
    this.#endAll(stopped);
    if (this.#opened && !this.#conn.closed) {
      this.#opened = false;
      await this.#conn.run('CLOSE', `closing ${this.name}`, async (wire) => {
        wire.line(`CLOSE ${this.#spec.device}`);
        const status = await wire.status();
        if (status < 0) throw wire.remote(status);
      }, this.#runOptions(options));
    }
  }

  async enqueue(i: number, bytesUsed: number, cyclic: boolean): Promise<void> {
    this.#check();
    const b = this.#block(i);
    if (!(Number.isSafeInteger(bytesUsed) && bytesUsed >= 1 && bytesUsed <= b.data.length)) {
      throw new RangeError(`${this.name}: bytesUsed must be in [1, ${b.data.length}], got ${bytesUsed}`);
    }
    if (bytesUsed % this.#spec.sampleBytes !== 0) throw new RangeError(`${this.name}: ${bytesUsed} bytes is not a whole number of ${this.#spec.sampleBytes}-byte samples`);
    if (b.queued) throw systemError(errnoOf('EBUSY'), 'enqueue', this.name, `block ${i} is already queued`);
    if (cyclic && !this.#spec.output) throw new RangeError(`${this.name}: cyclic blocks are for output buffers`);
    if (this.#enabled && cyclic !== this.#cyclic) {
      throw new UnsupportedError('cyclic', this.name, `iiod takes cyclic or not when the buffer is opened; this one was opened ${this.#cyclic ? '' : 'non-'}cyclic`);
    }
    b.bytesUsed = bytesUsed;
    b.cyclic = cyclic;
    b.queued = true;
    b.done = withResolvers<number>();
    this.#pending.push(b);
    this.#kick();
  }

  async dequeue(i: number, options: WaitBlockOptions = {}): Promise<number> {
    this.#check();
    const b = this.#block(i);
    if (!b.queued || b.done === undefined) throw systemError(errnoOf('EINVAL'), 'dequeue', this.name, `block ${i} is not queued`);
    const done = b.done;
    try {
      // A timeout or an abort of this wait leaves the block queued: its transfer goes on.
      const bytes = await bounded(done.promise, options, (ms) => systemError(errnoOf('ETIMEDOUT'), 'dequeue', this.name, `no block within ${ms} ms`));
      b.bytesUsed = bytes;
      return bytes;
    } finally {
      if (done.settled) {
        b.queued = false;
        b.done = undefined;
      }
    }
  }

  queued(i: number): boolean {
    return this.#block(i).queued;
  }

  cpuAccess(): void {
    // Plain memory: nothing to synchronise.
  }

  releaseSync(): void {
    const closed = closedError(this.name);
    this.#enabled = false;
    this.#conn.abort(closed);
    void this.#conn.close();
    this.#endAll(closed);
    this.#spec.onClose();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const closed = closedError(this.name);
    this.#enabled = false;
    if (this.#inFlight !== undefined) {
      // libiio's cancel: a READBUF cannot be stopped but by shutting the socket down.
      this.#conn.abort(closed);
      this.#opened = false;
    }
    await this.#pump;
    this.#endAll(closed);
    const opened = this.#opened;
    this.#opened = false;
    // CLOSE of an output buffer waits for what is queued to play: bounded like a transfer.
    await this.#conn.close(opened ? async (wire) => {
      wire.line(`CLOSE ${this.#spec.device}`);
      await wire.status();
      wire.line('\r\nEXIT');
    } : undefined, this.#spec.timeoutMs() || FAREWELL_MS);
    this.#spec.onClose();
  }

  /** Starts the transfer loop if there is work and none runs. */
  #kick(): void {
    if (!this.#enabled || this.#pump !== undefined || this.#pending.length === 0) return;
    this.#pump = this.#transferAll().finally(() => {
      this.#pump = undefined;
      this.#kick();
    });
  }

  async #transferAll(): Promise<void> {
    while (this.#enabled && this.#pending.length > 0) {
      const b = this.#pending[0]!;
      this.#inFlight = b;
      try {
        const bytes = await this.#conn.run(this.#spec.output ? 'WRITEBUF' : 'READBUF', `${this.#spec.output ? 'writing' : 'reading'} ${this.name}`,
          (wire) => this.#spec.output ? this.#write(wire, b) : this.#read(wire, b), this.#runOptions({}));
        this.#pending.shift();
        // A cyclic block stays with the server until the buffer is disabled.
        if (!b.cyclic) b.done!.resolve(bytes);
      } catch (e) {
        const error = e as Error;
        if (inStep(error) && this.#enabled) {
          // The server refused this block with a complete reply: the next one may go.
          this.#pending.shift();
          b.done!.reject(error);
          continue;
        }
        // The connection is gone or out of step, and the server's buffer with it.
        this.#opened = false;
        this.#enabled = false;
        this.#endAll(error);
        return;
      } finally {
        this.#inFlight = undefined;
      }
    }
  }

  /** READBUFs until the block is full or one ends early (`0\n`); resolves with the bytes it holds. */
  async #read(wire: Wire, b: Block): Promise<number> {
    const want = b.bytesUsed;
    let got = 0;
    while (got < want) {
      const { bytes, ended } = await this.#readOnce(wire, b.data.subarray(got, want));
      got += bytes;
      // `0\n` ends a block early; one that ends with no data at all would be asked for again and again.
      if (ended && got === 0) throw wire.remote(-errnoOf('EPROTO'), `iiod ended READBUF of ${want} bytes with no data`);
      if (ended) break;
    }
    return got;
  }

  /**
   * One READBUF of `into.length` bytes: chunks of `<len>\n` + bytes, the first with the mask
   * line, until that many came or `0\n` ended it. Data of this buffer's own channels lands in
   * `into`; data of more channels (a union) lands in scratch memory and is demuxed into it.
   */
  async #readOnce(wire: Wire, into: Uint8Array): Promise<{ bytes: number; ended: boolean }> {
    const want = into.length;
    wire.line(`READBUF ${this.#spec.device} ${want}`);
    let got = 0;
    let demux: UnionDemux | undefined;
    let target = into;
    for (let first = true; got < want; first = false) {
      const count = await wire.status();
      if (count < 0) throw wire.remote(count);
      if (count === 0) return { bytes: this.#demuxed(demux, target, into, got), ended: true };
      if (count > want - got) throw wire.malformed(`a chunk of ${count} bytes, ${want - got} were left to read`);
      if (first) {
        demux = this.#demuxFor(wire, await wire.readLine(maskLength(this.#spec.channelCount) + 2));
        if (demux !== undefined) target = (this.#scratch ??= new Uint8Array(this.#spec.blockBytes)).subarray(0, want);
      }
      await wire.readInto(target.subarray(got, got + count));
      got += count;
    }
    return { bytes: this.#demuxed(demux, target, into, got), ended: false };
  }

  /** The demux for a READBUF's mask line; undefined when it holds exactly this buffer's channels. */
  #demuxFor(wire: Wire, line: string): UnionDemux | undefined {
    let sent: number[];
    try {
      sent = parseMask(line.trim(), this.#spec.channelCount);
    } catch (e) {
      throw wire.malformed(`bad mask line: ${(e as Error).message}`);
    }
    const key = sent.join();
    if (key === this.mask.join()) return undefined;
    if (this.#union?.key !== key) {
      try {
        this.#union = { key, demux: new UnionDemux(this.mask, sent, this.#spec.element) };
      } catch (e) {
        throw wire.malformed(`the server sent channels [${key}] for a buffer of channels [${this.mask.join(', ')}]: ${(e as Error).message}`);
      }
    }
    return this.#union.demux;
  }

  /** The bytes of own samples in `into` once `got` bytes of `target` arrived. */
  #demuxed(demux: UnionDemux | undefined, target: Uint8Array, into: Uint8Array, got: number): number {
    return demux === undefined ? got : demux.extract(target.subarray(0, got), into);
  }

  /** WRITEBUF: `0\n` (go ahead), the bytes, then the count the server took. */
  async #write(wire: Wire, b: Block): Promise<number> {
    wire.line(`WRITEBUF ${this.#spec.device} ${b.bytesUsed}`);
    const go = await wire.status();
    if (go < 0) throw wire.remote(go);
    await wire.bytes(b.data.subarray(0, b.bytesUsed));
    const taken = await wire.status();
    if (taken < 0) throw wire.remote(taken);
    return b.bytesUsed;
  }

  /** Ends every queued block's transfer with `error`. */
  #endAll(error: Error): void {
    for (const b of this.#blocks) if (b.done !== undefined && !b.done.settled) b.done.reject(error);
    this.#pending.length = 0;
  }

  #runOptions(options: OpOptions): { signal?: AbortSignal; timeoutMs: number } {
    return { timeoutMs: this.#spec.timeoutMs(), ...(options.signal === undefined ? {} : { signal: options.signal }) };
  }

  #block(i: number): Block {
    const b = this.#blocks[i];
    if (b === undefined) throw new RangeError(`${this.name}: no block ${i}`);
    return b;
  }

  #check(): void {
    if (this.#closing !== undefined || this.#conn.closed) throw closedError(this.name);
  }
}
