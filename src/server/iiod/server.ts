// serve(): any Context over the iiod text protocol that libiio 0.2x clients speak, on TCP
// (port 30431 by default, loopback unless told otherwise) and on a USB device port
// (usb-server.ts), one session per TCP client and per open USB pipe. The server only uses the public
// object model (Context, Device, IioBuffer, BufferStream), so it serves whatever the context
// reaches: `local:`, `sim:`, or another server through `ip:`.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Context } from '../../core/context.js';
import { checkTimeout } from '../../backends/waits.js';
import { IIOD_PORT } from '../../iiod/port.js';
import { BinaryIndex } from './binary-index.js';
import { DeviceBuffers } from './device-buffers.js';
import { SILENT_LOG, type ServerLog } from './log.js';
import { Session, type SessionShared } from './session.js';
import { tcpTransport } from './transport.js';
import { UsbServer, type UsbServeOptions, type UsbServing } from './usb-server.js';

export { IIOD_PORT };
export type { ServerLog, UsbServeOptions, UsbServing };

/** One host's share of the TCP slots when serve() is not told (a quarter of the default maxClients). */
const DEFAULT_CLIENTS_PER_ADDRESS = 16;

export interface ServeOptions {
  /** TCP port (default 30431; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1: only this machine). `0.0.0.0` or `::` for every interface. */
  host?: string;
  /** Serve TCP (default true); false serves USB only. */
  network?: boolean;
  /**
   * Serve over this machine's USB device port too, to libiio's `usb:` clients (usb.md §A1):
   * true for the defaults (a configfs gadget with iiod's function, bound to the only UDC).
   */
  usb?: boolean | UsbServeOptions;
  /**
   * Answer `BINARY` and speak libiio v1's binary protocol as on libiio main at 4e3cfe61
   * (iiod-protocol.md §4b) — attributes, triggers, registers and formats only so far: its
   * buffer, block and event opcodes answer -ENOSYS, so v1 clients stream only through the text
   * protocol they fall back to when this is off (the default).
   */
  binary?: boolean;
  /** Refuse every attribute write, SETTRIG and output buffer with -EACCES (-13). */
  readOnly?: boolean;
  /** TCP connections served at once; further ones are refused (default 64). */
  maxClients?: number;
  /**
   * TCP connections served at once from one address; further ones are refused and logged
   * (default 16): one host cannot take every slot.
   */
  maxClientsPerAddress?: number;
  /**
   * A TCP client with nothing open that sends no command for this long (ms) is disconnected
   * (default 0: never, as libiio's iiod; libiio clients do not reconnect their context socket).
   */
  idleTimeoutMs?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Where connections, opens, closes and every error answered (with its reason) are reported (default: nowhere). */
  log?: ServerLog;
}

export interface IiodServer extends AsyncDisposable {
  /** Where the server listens on TCP (throws ERR_SERVER_NOT_RUNNING with `network: false`). */
  address(): AddressInfo;
  /** The TCP port (0 with `network: false`). */
  readonly port: number;
  /** TCP clients connected now. */
  readonly sessions: number;
  /** The USB side, when serving USB. */
  readonly usb: UsbServing | undefined;
  /** Stops listening, ends every session and frees every buffer (and the USB gadget made). Idempotent. */
  close(): Promise<void>;
}

/** Serves `ctx` until closed. The context stays the caller's (close it after the server). */
export async function serve(ctx: Context, options: ServeOptions = {}): Promise<IiodServer> {
  const shared: SessionShared = {
    ctx,
    xml: Buffer.from(ctx.toXml(), 'utf8'),
    buffers: new DeviceBuffers(),
    readOnly: options.readOnly === true,
    log: options.log ?? SILENT_LOG,
    idleTimeoutMs: 0,
    ...(options.binary === true ? { binary: new BinaryIndex(ctx) } : {}),
  };
  if (options.network === false && (options.usb === undefined || options.usb === false)) {
    throw new RangeError('serve(): with network: false, usb must say what to serve on');
  }
  const sessions = new Set<Session>();
  const tcp = options.network === false ? undefined : await listen(options, shared, sessions);
  let usb: UsbServer | undefined;
  if (options.usb !== undefined && options.usb !== false) {
    const usbOptions = options.usb === true ? {} : options.usb;
    try {
      const kernel = usbOptions.kernel ?? ctx.kernel;
      if (kernel === undefined) throw new RangeError(`serve(): ${ctx.uri} has no kernel of its own: usb.kernel says whose USB device port serves it`);
      usb = await UsbServer.start(kernel, shared, usbOptions);
    } catch (e) {
      await new Promise((resolve) => tcp?.close(resolve) ?? resolve(undefined));
      throw e;
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => (tcp === undefined ? resolve() : tcp.close(() => resolve())));
      await Promise.allSettled([...[...sessions].map((s) => s.close()), usb?.close()]);
      await stopped;
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  if (options.signal?.aborted === true) await close();

  const address = tcp?.address() as AddressInfo | undefined;
  return {
    address: () => {
      if (address === undefined) throw Object.assign(new Error('the server does not listen on TCP (network: false)'), { code: 'ERR_SERVER_NOT_RUNNING' });
      return { ...address };
    },
    port: address?.port ?? 0,
    get sessions() {
      return sessions.size;
    },
    usb,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The TCP listener: one session per connection. */
async function listen(options: ServeOptions, shared: SessionShared, sessions: Set<Session>): Promise<Server> {
  const perAddress = options.maxClientsPerAddress ?? DEFAULT_CLIENTS_PER_ADDRESS;
  if (!(Number.isSafeInteger(perAddress) && perAddress >= 1)) {
    throw Object.assign(new RangeError(`maxClientsPerAddress must be a positive integer, got ${perAddress}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  // The idle timeout is TCP's: a USB host has its pipes to itself.
  const tcpShared: SessionShared = { ...shared, idleTimeoutMs: checkTimeout(options.idleTimeoutMs ?? 0) };
  const clientsOf = new Map<string, number>();
  // As iiod: no Nagle delay on replies, keepalive to notice peers that vanished.
  const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 }, (socket: Socket) => {
    socket.on('error', () => undefined); // a reset peer ends its session through 'close'
    const from = socket.remoteAddress ?? '';
    const clients = clientsOf.get(from) ?? 0;
    if (clients >= perAddress) {
      shared.log.error(`${from}:${socket.remotePort}: refused: ${clients} clients from ${from} already (maxClientsPerAddress)`);
      socket.destroy();
      return;
    }
    clientsOf.set(from, clients + 1);
    const session = new Session(tcpTransport(socket), tcpShared);
    sessions.add(session);
    void session.run().catch(() => undefined).finally(() => {
      sessions.delete(session);
      const left = clientsOf.get(from)! - 1;
      if (left === 0) clientsOf.delete(from);
      else clientsOf.set(from, left);
    });
  });
  server.maxConnections = options.maxClients ?? 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? IIOD_PORT, host: options.host ?? '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
