// iiod server tests: a server over a simulated kernel the test holds (for its controls and fd
// table), a raw protocol client that reads replies exactly as framed, and a check that a
// server is back to its baseline (no session, no fd the buffers took).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { LocalBackend } from '../../src/backends/local/backend.js';
import { Context } from '../../src/core/context.js';
import { SimKernel, type SimKernelOptions } from '../../src/kernel/sim/index.js';
import { serve, type IiodServer, type ServeOptions } from '../../src/server/iiod/index.js';

export interface Served {
  kernel: SimKernel;
  ctx: Context;
  server: IiodServer;
  /** The sim's open fds once the context is up, before any client. */
  baseline: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A simulated kernel, a context over it, and a server on an ephemeral port of 127.0.0.1. */
export async function serveSim(options: { sim?: SimKernelOptions; serve?: ServeOptions } = {}): Promise<Served> {
  const kernel = new SimKernel(options.sim ?? {});
  const ctx = await Context.open(new LocalBackend(kernel, { uri: 'sim:' }));
  const server = await serve(ctx, { port: 0, ...options.serve });
  const close = async (): Promise<void> => {
    await server.close();
    await ctx.close();
  };
  return { kernel, ctx, server, baseline: kernel.context.fds.size, close, [Symbol.asyncDispose]: close };
}

/** Waits (bounded) until every session has ended and the sim's fd table is back to its baseline. */
export async function assertSettled(served: Served, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (served.server.sessions > 0 || served.kernel.context.fds.size !== served.baseline) {
    if (Date.now() > deadline) {
      assert.fail(`not settled after ${timeoutMs} ms: ${served.server.sessions} sessions, ${served.kernel.context.fds.size} fds (baseline ${served.baseline})`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client speaking the text protocol byte by byte: send lines, read replies as framed. */
export class RawClient {
  readonly socket: Socket;
  #data: Buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;
  /** Bytes received in all. */
  received = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      this.#data = this.#data.length === 0 ? chunk : Buffer.concat([this.#data, chunk]);
      this.#notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#ended = true;
      this.#notify();
    });
  }

  /** `localAddress`: the address to connect from (e.g. another 127.x for a second host). */
  static async connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    const socket = connect({ port, host, ...(localAddress === undefined ? {} : { localAddress }) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** The next line, without its `\n`. */
  async line(timeoutMs = 5000): Promise<string> {
    const at = await this.#until(() => this.#data.indexOf(10), timeoutMs, 'a line');
    const text = this.#data.toString('latin1', 0, at);
    this.#data = this.#data.subarray(at + 1);
    return text;
  }

  /** The next `n` bytes. */
  async bytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.#until(() => (this.#data.length >= n ? n : -1), timeoutMs, `${n} bytes`);
    const out = Buffer.from(this.#data.subarray(0, n));
    this.#data = this.#data.subarray(n);
    return out;
  }

  /** Sends `line` + CRLF and reads the integer reply line. */
  async command(line: string, timeoutMs = 5000): Promise<number> {
    this.send(`${line}\r\n`);
    return this.integer(timeoutMs);
  }

  async integer(timeoutMs = 5000): Promise<number> {
    const text = await this.line(timeoutMs);
    assert.match(text, /^-?\d+$/, `expected an integer line, got ${JSON.stringify(text)}`);
    return Number(text);
  }

  /** READ's reply: the value (its NUL dropped), or the negative errno. */
  async value(line: string): Promise<string | number> {
    const n = await this.command(line);
    if (n < 0) return n;
    const bytes = await this.bytes(n + 1);
    assert.equal(bytes[n], 10, 'a value ends with \\n');
    assert.equal(bytes[n - 1], 0, 'a value is NUL-terminated');
    return bytes.toString('utf8', 0, n - 1);
  }

  /** Resolves once the server has closed the connection (bounded). */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    await this.#until(() => (this.#ended ? 0 : -1), timeoutMs, 'the connection to close');
  }

  /** Nothing more arrived within `ms`. */
  async silent(ms = 100): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.#data.length === 0;
  }

  destroy(): void {
    this.socket.destroy();
  }

  async #until(found: () => number, timeoutMs: number, what: string): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = found();
      if (at >= 0) return at;
      if (this.#ended) throw new Error(`connection closed while waiting for ${what} (${this.#data.length} bytes unread)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (${this.#data.length} bytes unread: ${JSON.stringify(this.#data.subarray(0, 40).toString('latin1'))})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
