// `scope(ctx)`: the browser scope's HTTP + WebSocket server. It serves the page built into the
// package (dist/web/scope: nothing from a CDN, works offline), the recordings to download and the
// generator's file uploads, and one ScopeSession per WebSocket; every request needs the token.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Context } from '../core/context.js';
import { hasToken, newToken, originAllowed, TOKEN_COOKIE } from './auth.js';
import { errorInfo } from './attributes.js';
import { ScopeHub } from './hub.js';
import { ScopeSession } from './session.js';

export interface ScopeOptions {
  /** Default 127.0.0.1: this machine only. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Refuse every attribute write, trigger change and output (EACCES). */
  readOnly?: boolean;
  /** Default: a random one. */
  token?: string;
}

export interface ScopeServer extends AsyncDisposable {
  /** The page's address with its token, e.g. `http://127.0.0.1:8431/?token=…`. */
  readonly url: string;
  readonly token: string;
  readonly port: number;
  address(): AddressInfo;
  close(): Promise<void>;
}

/** Largest generator file accepted. */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
const ASSETS = new URL('../../web/scope/', import.meta.url);
const TYPES: Record<string, string> = { 'index.html': 'text/html; charset=utf-8', 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

async function loadAssets(): Promise<Map<string, Buffer>> {
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(TYPES)) {
    try {
      assets.set(name, await readFile(new URL(name, ASSETS)));
    } catch (e) {
      throw Object.assign(new Error(`the scope's page is not built (${new URL(name, ASSETS).pathname}: ${(e as Error).message}): run npm run build`), { code: 'ENOENT' });
    }
  }
  return assets;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(Object.assign(new Error(`the upload is larger than ${limit} bytes`), { code: 'E2BIG', status: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type, 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff',
    'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...headers,
  });
  res.end(body);
}

export async function scope(ctx: Context, options: ScopeOptions = {}): Promise<ScopeServer> {
  const assets = await loadAssets();
  const token = options.token ?? newToken();
  const hub = new ScopeHub(ctx, options.readOnly === true);
  const sessions = new Set<ScopeSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://scope');
    if (!hasToken(req, url, token)) return send(res, 403, 'forbidden: this scope needs the token of the URL it printed\n');
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      return send(res, 200, assets.get('index.html')!, TYPES['index.html'], {
        'set-cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'",
      });
    }
    if (req.method === 'GET' && (path === '/app.js' || path === '/app.css')) return send(res, 200, assets.get(path.slice(1))!, TYPES[path.slice(1)]);
    const download = /^\/recordings\/(\d+)\/([\w.-]+)\.sigmf-(meta|data)$/.exec(path);
    if (req.method === 'GET' && download !== null) {
      const recorder = hub.recordings.get(download[1]!);
      const result = recorder?.result;
      if (recorder === undefined || result === undefined || download[2] !== recorder.name) return send(res, 404, 'no such finished recording\n');
      const file = `${recorder.name}.sigmf-${download[3]}`;
      const headers = { 'content-disposition': `attachment; filename="${file}"` };
      if (download[3] === 'meta') return send(res, 200, `${JSON.stringify(result.meta, null, 2)}\n`, 'application/json', headers);
      return send(res, 200, Buffer.concat(recorder.data), 'application/octet-stream', headers);
    }
    if (req.method === 'POST' && path === '/api/generate') {
      try {
        const body = await readBody(req, MAX_UPLOAD_BYTES);
        const format = url.searchParams.get('format');
        if (format !== 'csv' && format !== 'raw') throw new RangeError('format must be csv or raw');
        const channels = (url.searchParams.get('channels') ?? '').split(',').filter((c) => c !== '');
        const status = await hub.startGenerator(url.searchParams.get('device') ?? '', {
          channels, mode: url.searchParams.get('mode') === 'streamed' ? 'streamed' : 'cyclic',
          source: format === 'csv' ? { kind: 'csv', text: body.toString('utf8') } : { kind: 'raw', bytes: new Uint8Array(body) },
        });
        return send(res, 200, JSON.stringify({ ok: true, generator: status }), 'application/json');
      } catch (e) {
        const status = (e as { status?: number }).status ?? ((e as { code?: string }).code === 'EACCES' ? 403 : 400);
        return send(res, status, JSON.stringify({ ok: false, error: errorInfo(e) }), 'application/json');
      }
    }
    return send(res, 404, 'not found\n');
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  http.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://scope');
    const refuse = (why: string): void => {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${why}\n`);
    };
    if (url.pathname !== '/ws') return refuse('no WebSocket here');
    if (!hasToken(req, url, token)) return refuse('forbidden: the WebSocket needs the token');
    if (!originAllowed(req)) return refuse(`forbidden: Origin ${req.headers.origin} is not this scope's page`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new ScopeSession(hub, ws);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= (async () => {
    await Promise.allSettled([...sessions].map((s) => s.close()));
    wss.close();
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
    await hub.close();
  })());
  return {
    url: `http://${shown}:${address.port}/?token=${token}`,
    token,
    port: address.port,
    address: () => address,
    close,
    [Symbol.asyncDispose]: close,
  };
}
