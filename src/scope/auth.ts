// The scope's access rules (as Jupyter's): a random token in the URL it prints, required on every
// HTTP request (the query's `token`, or the cookie the page got with it) and every WebSocket; a
// WebSocket's Origin must be the page's own, so another site open in the same browser cannot
// drive the scope even on loopback.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'iiojs-scope-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token the request carries: `?token=` or the cookie. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const query = url.searchParams.get('token');
  if (query !== null) return query;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return undefined;
}

export function hasToken(req: IncomingMessage, url: URL, token: string): boolean {
  const given = requestToken(req, url);
  return given !== undefined && same(given, token);
}

/** A WebSocket's Origin is the page's: `http://<the Host it connected to>`. Non-browser clients send none. */
export function originAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return req.headers.host !== undefined && origin === `http://${req.headers.host}`;
}
