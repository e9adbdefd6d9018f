// serve(): any Context over the iiod text protocol that libiio 0.2x clients speak, on TCP
// (port 30431 by default, loopback unless told otherwise). The server only uses the public
// object model (Context, Device, IioBuffer, BufferStream), so it serves whatever the context
// reaches: `local:`, `sim:`, or another server through `ip:`.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { Context } from '../../core/context.js';
import { IIOD_PORT } from '../../iiod/port.js';
import { DeviceBuffers } from './device-buffers.js';
import { SILENT_LOG, type ServerLog } from './log.js';
import { Session, type SessionShared } from './session.js';

export { IIOD_PORT };
export type { ServerLog };

export interface ServeOptions {
  /** TCP port (default 30431; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1: only this machine). `0.0.0.0` or `::` for every interface. */
  host?: string;
  /** Refuse every attribute write, SETTRIG and output buffer with -EACCES (-13). */
  readOnly?: boolean;
  /** Connections served at once; further ones are refused (default 64). */
  maxClients?: number;
  /** Closes the server when aborted. */
  signal?: AbortSignal;
  /** Where connections, opens, closes and every error answered (with its reason) are reported (default: nowhere). */
  log?: ServerLog;
}

export interface IiodServer extends AsyncDisposable {
  /** Where the server listens. */
  address(): AddressInfo;
  readonly port: number;
  /** Clients connected now. */
  readonly sessions: number;
  /** Stops listening, ends every session and frees every buffer. Idempotent. */
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
  };
  const sessions = new Set<Session>();
  // As iiod: no Nagle delay on replies, keepalive to notice peers that vanished.
  const server = createServer({ noDelay: true, keepAlive: true, keepAliveInitialDelay: 10_000 }, (socket: Socket) => {
    socket.on('error', () => undefined); // a reset peer ends its session through 'close'
    const session = new Session(socket, shared);
    sessions.add(session);
    void session.run().catch(() => undefined).finally(() => sessions.delete(session));
  });
  server.maxConnections = options.maxClients ?? 64;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? IIOD_PORT, host: options.host ?? '127.0.0.1' }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...sessions].map((s) => s.close()));
      await stopped;
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  if (options.signal?.aborted === true) await close();

  return {
    address: () => ({ ...address }),
    port: address.port,
    get sessions() {
      return sessions.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
