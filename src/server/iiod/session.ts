// One client speaking the iiod text protocol (iiod-protocol.md §4a), over TCP or a USB pipe
// (transport.ts): reads command lines one at a time, answers each, and on disconnect (or EXIT,
// or the server closing) frees every buffer it opened. Replies are written in order, in the
// parts iiod writes them in; before reading the next command the session waits for the
// transport to drain, so a client that does not read its replies stops being read instead of
// growing a queue here. Every error answered is logged with its reason (the wire carries only
// the errno).
import type { Context } from '../../core/context.js';
import type { Device } from '../../core/device.js';
import { libiioSampleSize, parseMask } from '../../iiod/mask.js';
import { IIOJS_VERSION } from '../../version.js';
import { readAttrs, writeAttrs } from './attributes.js';
import { CaptureMember, type CapturePeer, type CaptureShare } from './capture-share.js';
import { DeviceBuffers } from './device-buffers.js';
import { refusal, wireErrno } from './errno.js';
import { Inbox } from './inbox.js';
import type { ServerLog } from './log.js';
import { ParseError, parseLine, type Command } from './parser.js';
import type { Playback } from './playback.js';
import type { Transport } from './transport.js';

/** A reply: one part, or parts each written on its own (on USB, each one transfer). */
type Reply = string | Buffer | ReadonlyArray<string | Buffer>;

/** Limits that keep one client's memory bounded whatever it sends. */
export const LIMITS = Object.freeze({
  /** Longest command line. */
  line: 4096,
  /** Largest WRITE payload (an attribute value, or every value of a write-all). */
  attrPayload: 1 << 20,
  /** Largest block a client may ask for (samples × its sample size). */
  blockBytes: 16 << 20,
  /** Most blocks per buffer (SET BUFFERS_COUNT). */
  blocks: 8,
});

/** Kernel buffers per opened buffer when the client sets none (libiio's default). */
const DEFAULT_BLOCKS = 4;

/** What the session's server shares with every session. */
export interface SessionShared {
  ctx: Context;
  /** The context's XML, built once (PRINT). */
  xml: Buffer;
  buffers: DeviceBuffers;
  readOnly: boolean;
  log: ServerLog;
}

type Opened =
  | { kind: 'capture'; share: CaptureShare; member: CaptureMember; /** READBUF's bound: samples × the client's sample size. */ bytes: number }
  | { kind: 'playback'; playback: Playback };

const HELP = `Available commands (libiio 0.24 text protocol):
  HELP | VERSION | PRINT | ZPRINT | EXIT | TIMEOUT <ms>
  OPEN <device> <samples_count> <mask> [CYCLIC] | CLOSE <device>
  READ <device> [DEBUG|BUFFER|INPUT <channel>|OUTPUT <channel>] [<attribute>]
  WRITE <device> [DEBUG|BUFFER|INPUT <channel>|OUTPUT <channel>] [<attribute>] <bytes>, then the bytes
  READBUF <device> <bytes> | WRITEBUF <device> <bytes>, then the bytes
  GETTRIG <device> | SETTRIG <device> [<trigger>] | SET <device> BUFFERS_COUNT <count>
`;

/** `VERSION`'s answer: the protocol this server speaks (0.24) and a 7-character tag. */
const VERSION_LINE = `0.24.${IIOJS_VERSION.git.slice(0, 7).padEnd(7)}\n`;

export class Session {
  readonly #transport: Transport;
  readonly #shared: SessionShared;
  readonly #inbox: Inbox;
  readonly #opened = new Map<Device, Opened>();
  readonly #buffersCount = new Map<Device, number>();
  /** TIMEOUT: the bound of READBUF waits in ms, 0 for none (v0 semantics). */
  #timeoutMs = 0;
  /** The client is gone: whatever an OPEN in progress opens is freed at once. */
  #closed = false;
  readonly #freeing: Array<Promise<unknown>> = [];
  #done: Promise<void> | undefined;
  /** The peer's address, which starts every log line of the session. */
  readonly #peer: string;
  /** The command being answered, for log lines. */
  #command = '';
  /** What capture shares need of this client. */
  readonly #capturePeer: CapturePeer;

  constructor(transport: Transport, shared: SessionShared) {
    this.#transport = transport;
    this.#shared = shared;
    this.#peer = transport.peer;
    this.#inbox = new Inbox(transport.input, { maxLine: LIMITS.line });
    this.#capturePeer = {
      send: (parts) => transport.send(parts),
      drop: (reason) => {
        shared.log.error(`${this.#peer}: disconnected: ${reason}`);
        transport.destroy();
      },
      error: (reason) => shared.log.error(`${this.#peer}: ${this.#command}: ${reason}`),
      ...(transport.sink === undefined ? {} : { sink: transport.sink }),
    };
    shared.log.info(`${this.#peer}: connected`);
    transport.onClose(() => {
      this.#closed = true;
      shared.log.info(`${this.#peer}: disconnected`);
      this.#release();
    });
  }

  /** Serves commands until the client leaves; resolves once everything it opened is freed. */
  run(): Promise<void> {
    this.#done ??= (async () => {
      try {
        await this.#serve();
      } finally {
        this.#release();
        await Promise.allSettled(this.#freeing);
      }
    })();
    return this.#done;
  }

  /** Ends the session (server shutdown, a USB pipe closed): the client is cut off and its buffers freed. */
  close(): Promise<void> {
    this.#transport.destroy();
    return this.run();
  }

  async #serve(): Promise<void> {
    try {
      for (;;) {
        const event = await this.#inbox.line();
        if (event.kind === 'eof') return;
        if (event.kind === 'overflow') {
          this.#command = '(a line)';
          this.#reply(this.#failure(refusal('EINVAL', 'line', `longer than ${LIMITS.line} bytes`)));
          continue;
        }
        this.#command = event.text.length > 80 ? `${event.text.slice(0, 77)}...` : event.text;
        let command: Command | null;
        try {
          command = parseLine(event.text);
        } catch (e) {
          if (!(e instanceof ParseError)) throw e;
          this.#reply(this.#failure(e));
          continue;
        }
        if (command === null) continue;
        let more: boolean;
        try {
          more = await this.#dispatch(command);
        } catch (e) {
          // A failure no handler turned into an errno still gets an answer; the session goes on.
          this.#reply(this.#failure(e));
          more = true;
        }
        if (!more) return;
        await this.#drained();
      }
    } finally {
      // EXIT, end of input, or an unframeable payload: send what is queued, then close.
      this.#transport.end();
    }
  }

  /**
   * Frees everything the client opened. Runs as soon as the socket closes, so that a READBUF
   * or WRITEBUF still waiting for the hardware ends at once (and with it #serve).
   */
  #release(): void {
    const opened = [...this.#opened.values()];
    this.#opened.clear();
    if (opened.length > 0) this.#freeing.push(Promise.allSettled(opened.map((o) => this.#free(o, false))));
  }

  async #free(o: Opened, flush: boolean): Promise<void> {
    if (o.kind === 'capture') await o.share.leave(o.member);
    else await this.#shared.buffers.closePlayback(o.playback, flush, this.#timeoutMs || 5000);
  }

  /** Answers one command; false when the session must end (its payload cannot be framed). */
  async #dispatch(c: Command): Promise<boolean> {
    switch (c.op) {
      case 'VERSION':
        this.#reply(VERSION_LINE);
        return true;
      case 'PRINT':
        this.#reply(`${this.#shared.xml.length}\n`);
        this.#reply(this.#shared.xml);
        this.#reply('\n');
        return true;
      case 'ZPRINT': // no zstd here: 0.2x clients fall back to PRINT
        this.#reply(this.#failure(refusal('EINVAL', 'ZPRINT', 'this server sends no compressed XML (clients fall back to PRINT)'), 'info'));
        return true;
      case 'BINARY': // a 0.2x server: a v1 client stays in the text protocol
        this.#reply(this.#failure(refusal('EINVAL', 'BINARY', 'this server speaks the 0.24 text protocol only'), 'info'));
        return true;
      case 'HELP':
        this.#reply(HELP);
        return true;
      case 'TIMEOUT':
        this.#timeoutMs = c.ms;
        this.#reply('0\n');
        return true;
      case 'WRITE':
        return this.#write(c);
      case 'WRITEBUF':
        return this.#writeBuffer(c);
      case 'EXIT':
        return false;
      default:
        this.#reply(await this.#answer(c));
        return true;
    }
  }

  /** Commands whose whole answer is computed, then sent. */
  async #answer(c: Extract<Command, { device: string }>): Promise<Reply> {
    const device = this.#shared.ctx.find(c.device);
    try {
      if (device === undefined) throw refusal('ENODEV', c.op, `no device ${c.device}`);
      switch (c.op) {
        case 'READ':
          return await readAttrs(device, c.target, c.attr);
        case 'OPEN':
          await this.#open(device, c.samples, c.mask, c.cyclic);
          this.#shared.log.info(`${this.#peer}: ${this.#command}: opened`);
          return '0\n';
        case 'CLOSE': {
          const o = this.#opened.get(device);
          if (o === undefined) throw refusal('ENXIO', 'CLOSE', `${device.toString()} is not opened by this client`);
          this.#opened.delete(device);
          await this.#free(o, true);
          this.#shared.log.info(`${this.#peer}: ${this.#command}: closed`);
          return '0\n';
        }
        case 'READBUF':
          await this.#readBuffer(device, c.bytes);
          return '';
        case 'GETTRIG': {
          // The trigger's name (libiio maps it back among the context's triggers).
          const trigger = await device.getTrigger();
          if (trigger === null) return '0\n';
          const name = trigger.name ?? trigger.id;
          return [`${Buffer.byteLength(name)}\n`, `${name}\n`];
        }
        case 'SETTRIG':
          if (this.#shared.readOnly) throw refusal('EACCES', 'SETTRIG', 'the server is read-only');
          await device.setTrigger(c.trigger ?? null);
          return '0\n';
        case 'SET_BUFFERS_COUNT':
          if (c.count < 1 || c.count > LIMITS.blocks) throw refusal('EINVAL', 'SET', `BUFFERS_COUNT must be 1 to ${LIMITS.blocks}`);
          this.#buffersCount.set(device, c.count);
          return '0\n';
        case 'WRITE':
        case 'WRITEBUF':
          throw new Error(`${c.op} carries a payload: #dispatch handles it`);
      }
    } catch (e) {
      // A device that takes no trigger has no trigger to get or set (iiod answers ENOENT).
      if ((c.op === 'GETTRIG' || c.op === 'SETTRIG') && (e as { code?: unknown }).code === 'ERR_IIOJS_UNSUPPORTED') {
        return this.#failure(refusal('ENOENT', c.op, (e as Error).message), 'info');
      }
      return this.#failure(e);
    }
  }

  /** OPEN: resolves once the buffer is open for this client; throws why not. */
  async #open(device: Device, samples: number, maskText: string, cyclic: boolean): Promise<void> {
    if (this.#opened.has(device)) throw refusal('EBUSY', 'OPEN', `this client has ${device.toString()} open already`);
    let positions: number[];
    try {
      positions = parseMask(maskText, device.channels.length);
    } catch (e) {
      throw refusal('EINVAL', 'OPEN', (e as Error).message);
    }
    if (samples === 0 || positions.length === 0) throw refusal('EINVAL', 'OPEN', samples === 0 ? 'a samples count of 0' : 'an empty mask');
    const buffer = DeviceBuffers.carrying(device, positions);
    if (buffer === undefined) throw refusal('EINVAL', 'OPEN', `no buffer of ${device.toString()} carries every channel of mask ${maskText}`);
    const elements = positions.map((p) => device.channels[p]!.scanElement!);
    const bytes = samples * libiioSampleSize(elements);
    if (bytes > LIMITS.blockBytes) throw refusal('EINVAL', 'OPEN', `${bytes}-byte blocks are more than the ${LIMITS.blockBytes} this server allows`);
    const config = { positions, samples, blocks: this.#buffersCount.get(device) ?? DEFAULT_BLOCKS };
    if (buffer.output) {
      if (this.#shared.readOnly) throw refusal('EACCES', 'OPEN', 'the server is read-only');
      const playback = await this.#shared.buffers.openPlayback(buffer, config, cyclic, this.#transport.source);
      if (this.#transport.source !== undefined) this.#shared.log.notice?.(`${this.#peer}: ${buffer.toString()}: ${playback.path}`);
      this.#keep(device, { kind: 'playback', playback });
    } else {
      if (cyclic) throw refusal('EINVAL', 'OPEN', `${buffer.toString()} is an input buffer: CYCLIC is for output`);
      const share = this.#shared.buffers.capture(buffer);
      const member = new CaptureMember(config, this.#capturePeer);
      await share.join(member);
      if (this.#transport.sink !== undefined) this.#shared.log.notice?.(`${this.#peer}: ${buffer.toString()}: ${share.path(member, bytes)}`);
      this.#keep(device, { kind: 'capture', share, member, bytes });
    }
  }

  /** Records an opened buffer, or frees it at once if the client left during the OPEN. */
  #keep(device: Device, o: Opened): void {
    if (this.#closed) this.#freeing.push(this.#free(o, false));
    else this.#opened.set(device, o);
  }

  async #readBuffer(device: Device, bytes: number): Promise<void> {
    const o = this.#opened.get(device);
    if (o?.kind !== 'capture') throw refusal('EBADF', 'READBUF', `this client has no input buffer of ${device.toString()} open`);
    if (bytes === 0 || bytes > o.bytes) throw refusal('EINVAL', 'READBUF', `${bytes} bytes: this client opened ${o.bytes}-byte blocks`);
    await o.share.read(o.member, bytes, this.#timeoutMs);
  }

  /** WRITE: reads the payload (always, so the stream stays framed), then writes the value(s). */
  async #write(c: Extract<Command, { op: 'WRITE' }>): Promise<boolean> {
    if (c.bytes > LIMITS.attrPayload) {
      // The payload can be neither kept nor skipped in bounded time: refuse and hang up.
      this.#reply(this.#failure(refusal('EINVAL', 'WRITE', `a ${c.bytes}-byte value is more than ${LIMITS.attrPayload}: disconnecting`)));
      return false;
    }
    const chunks = await this.#inbox.bytes(c.bytes);
    if (chunks === null) return false;
    const device = this.#shared.ctx.find(c.device);
    try {
      if (device === undefined) throw refusal('ENODEV', 'WRITE', `no device ${c.device}`);
      if (this.#shared.readOnly) throw refusal('EACCES', 'WRITE', 'the server is read-only');
      this.#reply(`${await writeAttrs(device, c.target, c.attr, Buffer.concat(chunks, c.bytes))}\n`);
    } catch (e) {
      this.#reply(this.#failure(e));
    }
    return true;
  }

  /** WRITEBUF: `0\n` (go ahead) or -errno; then the samples, queued as one block; then the byte count. */
  async #writeBuffer(c: Extract<Command, { op: 'WRITEBUF' }>): Promise<boolean> {
    const device = this.#shared.ctx.find(c.device);
    const o = device === undefined ? undefined : this.#opened.get(device);
    let refused: Error | undefined;
    if (device === undefined) refused = refusal('ENODEV', 'WRITEBUF', `no device ${c.device}`);
    else if (o?.kind !== 'playback') refused = refusal('EBADF', 'WRITEBUF', `this client has no output buffer of ${device.toString()} open`);
    else refused = o.playback.check(c.bytes);
    if (refused !== undefined) {
      this.#reply(this.#failure(refused));
      return true;
    }
    const playback = (o as Extract<Opened, { kind: 'playback' }>).playback;
    this.#reply('0\n');
    // Straight into a DMABUF only when no byte of the payload was read already.
    if (playback.zeroCopy && this.#inbox.buffered === 0) {
      try {
        await playback.receive(c.bytes);
      } catch (e) {
        // Where the payload stopped cannot be known: the pipe ends rather than lose its framing.
        this.#reply(this.#failure(e));
        return false;
      }
      this.#reply(`${c.bytes}\n`);
      return true;
    }
    const chunks = await this.#inbox.bytes(c.bytes);
    if (chunks === null) return false;
    try {
      await playback.write(chunks, c.bytes);
      this.#reply(`${c.bytes}\n`);
    } catch (e) {
      this.#reply(this.#failure(e));
    }
    return true;
  }

  /** The `-errno\n` answer to a failed command, logged with its reason (`info` for expected refusals). */
  #failure(e: unknown, level: 'error' | 'info' = 'error'): string {
    const errno = wireErrno(e);
    this.#shared.log[level](`${this.#peer}: ${this.#command}: ${errno}: ${(e as Error).message}`);
    return `${errno}\n`;
  }

  #reply(reply: Reply): void {
    if (typeof reply === 'string' || reply instanceof Uint8Array) this.#transport.write(reply);
    else for (const part of reply) this.#transport.write(part);
  }

  /** Waits while the transport holds too many unsent replies. */
  #drained(): Promise<void> {
    return this.#transport.drained();
  }
}
