// One TCP connection to an iiod server, used one command at a time (the text protocol has no
// request ids: replies come back in order). A command runs as a task that owns the socket until
// its reply has been read. Cancelling or timing out a command that is on the wire destroys the
// socket — its reply would otherwise be read by the next command — and the next command
// connects again. A connection lost under a command rejects it and every command queued
// before the loss with ECONNRESET. An idle connection does not keep the process alive.
import { connect, type Socket } from 'node:net';
import { abortError, errnoOf, isSystemError, systemError, type SystemError } from '../../errors.js';
import { closedError } from '../errors.js';
import type { IiodAddress } from './address.js';
import { MAX_ERRNO } from './commands.js';
import { LineTooLongError, SocketReader } from './reader.js';

/** Longest status or length line accepted (they hold one decimal integer or a channels mask). */
const STATUS_LINE_LIMIT = 1024;
/** iiod answers a command with its status line; a few empty lines before it are tolerated, as libiio does. */
const MAX_EMPTY_LINES = 4;
/** Keepalive probes start after this much idle time (iiod uses the same on its side). */
const KEEPALIVE_MS = 10_000;

export interface RunOptions {
  signal?: AbortSignal;
  /** Limit of the whole command (connecting included), ms; 0 or absent: none. */
  timeoutMs?: number;
}

/** What a command's task uses to talk: it owns the socket until it returns. */
export interface Wire {
  /**
   * Queues a command line for sending (`\r\n` is added). Not waited for: the reply is, and a
   * failed write fails the connection, so the read of the reply throws.
   */
  line(text: string): void;
  /** Sends raw bytes (attribute values, WRITEBUF samples); resolves once the socket took them. */
  bytes(data: Uint8Array): Promise<void>;
  /** Reads a status line: 0, a negative errno or a positive length. */
  status(): Promise<number>;
  /** Reads one line of at most `limit` bytes. */
  readLine(limit: number): Promise<string>;
  /** Reads exactly target.length bytes into `target`. */
  readInto(target: Uint8Array): Promise<void>;
  /** A malformed-reply error (EPROTO) for this command. */
  malformed(detail: string): SystemError;
  /**
   * An error that ends this command with the connection still in step: a negative status
   * (`errno` < 0, the server's), or a complete reply we refuse (`detail` says why).
   */
  remote(errno: number, detail?: string): SystemError;
}

/** Errors that end a command but leave the connection in step (a complete negative reply). */
const keptInStep = new WeakSet<Error>();

/** Whether `error` ended a command with its reply read in full (the connection is still usable). */
export function inStep(error: unknown): boolean {
  return error instanceof Error && keptInStep.has(error);
}

interface Active {
  command: string;
  what: string;
}

export interface ConnectionOptions {
  /** Run on every new socket before the first command (e.g. TIMEOUT), under that command's limits. */
  onConnect?: (wire: Wire) => Promise<void>;
}

export class IiodConnection {
  readonly address: IiodAddress;
  readonly #onConnect: ((wire: Wire) => Promise<void>) | undefined;
  #socket: Socket | undefined;
  #reader: SocketReader | undefined;
  /** The tail of the command queue. */
  #tail: Promise<void> = Promise.resolve();
  #queued = 0;
  /** Counts losses: a command queued before one is rejected with it. */
  #epoch = 0;
  #lost: SystemError | undefined;
  #active: Active | undefined;
  #closed = false;

  constructor(address: IiodAddress, options: ConnectionOptions = {}) {
    this.address = address;
    this.#onConnect = options.onConnect;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one command: `command` is the protocol keyword (the error's `syscall`), `what` names
   * the object for messages (`attribute "raw" of input channel voltage0 of iio:device0`).
   */
  async run<T>(command: string, what: string, task: (wire: Wire) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (this.#closed) throw closedError(`the connection to iiod at ${this.address.label}`);
    const { signal } = options;
    if (signal?.aborted === true) throw abortError(signal);
    const epoch = this.#epoch;
    const turn = this.#tail;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#tail = turn.then(() => mine);
    this.#queued++;
    let failure: Error | undefined;
    let started = false;
    let rejectWait: ((e: Error) => void) | undefined;
    const stop = (error: Error): void => {
      failure ??= error;
      if (started) this.#reset(failure);
      else rejectWait?.(failure);
    };
    const onAbort = (): void => stop(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        rejectWait = reject;
        void turn.then(resolve);
      });
      if (this.#closed) throw closedError(`the connection to iiod at ${this.address.label}`);
      if (this.#epoch !== epoch && this.#lost !== undefined) throw this.#lost;
      started = true;
      this.#active = { command, what };
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
        const ms = options.timeoutMs;
        timer = setTimeout(() => stop(systemError(errnoOf('ETIMEDOUT'), command, this.address.label, `no reply within ${ms} ms (${what})`)), ms);
      }
      this.#socket?.ref();
      const wire = await this.#connected(command, what);
      return await task(wire);
    } catch (e) {
      if (failure !== undefined) throw failure;
      if (inStep(e)) throw e;
      // Anything else leaves the reply half read: the connection is out of step.
      if (started) this.#reset(e instanceof Error ? e : new Error(String(e)));
      throw e;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (started) this.#active = undefined;
      if (--this.#queued === 0) this.#socket?.unref();
      release();
    }
  }

  /** Destroys the socket now: the command on the wire rejects with `error`. */
  abort(error: Error): void {
    this.#reset(error);
  }

  /**
   * Closes: `farewell` (e.g. `CLOSE` + `EXIT`) runs as a last command if the socket is open,
   * bounded by `timeoutMs`; then the socket ends. Later commands reject with ERR_IIOJS_CLOSED.
   */
  async close(farewell?: (wire: Wire) => Promise<void>, timeoutMs = 1000): Promise<void> {
    if (this.#closed) return;
    if (farewell !== undefined && this.#socket !== undefined && !this.#socket.destroyed) {
      await this.run('EXIT', 'closing the connection', farewell, { timeoutMs }).catch(() => undefined);
    }
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#reader?.fail(closedError(`the connection to iiod at ${this.address.label}`));
    socket?.unref();
    socket?.end(() => socket.destroy());
  }

  async #connected(command: string, what: string): Promise<Wire> {
    if (this.#socket === undefined) await this.#open(command, what);
    return this.#wire(this.#reader!, this.#socket!, command, what);
  }

  async #open(command: string, what: string): Promise<void> {
    const reader = new SocketReader();
    const socket = connect({ host: this.address.host, port: this.address.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: KEEPALIVE_MS, onread: reader.onread });
    reader.attach(socket);
    this.#socket = socket;
    this.#reader = reader;
    let connected = false;
    socket.on('error', (e: Error) => {
      if (this.#socket !== socket) return;
      const errno = isSystemError(e) && Number.isInteger(e.errno) ? e.errno : errnoOf('ECONNRESET');
      const lost = systemError(errno, connected ? (this.#active?.command ?? command) : 'connect', this.address.label,
        connected ? `the connection to iiod was lost (${this.#active?.what ?? what})` : `cannot reach iiod (${what})`);
      lost.cause = e;
      this.#lose(socket, reader, lost);
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      const active = this.#active;
      this.#lose(socket, reader, systemError(errnoOf('ECONNRESET'), active?.command ?? command, this.address.label,
        `iiod closed the connection${active === undefined ? '' : ` (${active.what})`}`));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('close', () => reject(reader.failed ?? closedError(`the connection to iiod at ${this.address.label}`)));
    });
    connected = true;
    if (this.#onConnect !== undefined) await this.#onConnect(this.#wire(reader, socket, 'connect', `setting up the connection, before ${command}`));
  }

  /** The connection is gone under us (not by #reset): commands queued before now fail with `error`. */
  #lose(socket: Socket, reader: SocketReader, error: SystemError): void {
    this.#epoch++;
    this.#lost = error;
    reader.fail(error);
    socket.destroy();
    this.#socket = undefined;
    this.#reader = undefined;
  }

  /** Drops the socket on purpose (cancel, timeout, reply out of step); the next command reconnects. */
  #reset(error: Error): void {
    const socket = this.#socket;
    this.#reader?.fail(error);
    this.#socket = undefined;
    this.#reader = undefined;
    socket?.destroy();
  }

  #wire(reader: SocketReader, socket: Socket, command: string, what: string): Wire {
    const label = this.address.label;
    const malformed = (detail: string): SystemError => systemError(errnoOf('EPROTO'), command, label, `malformed reply from iiod (${what}): ${detail}`);
    const write = (data: Uint8Array): Promise<void> => {
      if (reader.failed !== undefined) return Promise.reject(reader.failed);
      return new Promise<void>((resolve, reject) => {
        socket.write(data, (e) => {
          if (e == null) resolve();
          else reject(reader.failed ?? e);
        });
      });
    };
    const readLine = async (limit: number): Promise<string> => {
      try {
        return await reader.line(limit);
      } catch (e) {
        if (e instanceof LineTooLongError) throw malformed(e.message);
        throw e;
      }
    };
    return {
      line: (text) => {
        if (reader.failed !== undefined) throw reader.failed;
        socket.write(`${text}\r\n`);
      },
      bytes: (data) => write(data),
      status: async () => {
        for (let empty = 0; ; empty++) {
          const text = (await readLine(STATUS_LINE_LIMIT)).trim();
          if (text === '' && empty < MAX_EMPTY_LINES) continue;
          if (!/^-?\d{1,10}$/.test(text)) throw malformed(`expected a decimal status, got ${JSON.stringify(text.slice(0, 40))}`);
          const value = Number(text);
          if (value < -MAX_ERRNO) throw malformed(`status ${text} is no errno (-1 to -${MAX_ERRNO})`);
          if (value > 2 ** 31 - 1) throw malformed(`status ${text} is outside the 32-bit range`);
          return value;
        }
      },
      readLine,
      readInto: (target) => reader.into(target),
      malformed,
      remote: (errno, detail) => {
        const error = systemError(errno, command, label, detail === undefined ? what : `${detail} (${what})`);
        keptInStep.add(error);
        return error;
      },
    };
  }
}
