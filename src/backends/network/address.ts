// `ip:host[:port]` (iiod-protocol.md §4a: TCP, port 30431 by default). IPv6 literals go in
// brackets (`ip:[::1]:30431`); a bare IPv6 literal without a port is accepted too, as libiio
// does. An empty host would need DNS-SD discovery, which iiojs does not do.

import { IIOD_PORT } from '../../iiod/port.js';

export interface IiodAddress {
  host: string;
  port: number;
  /** `host:port` (`[::1]:30431`), for messages. */
  label: string;
}

/** The host and port of an `ip:` URI; throws ERR_INVALID_URI for anything else. */
export function parseIpUri(uri: string): IiodAddress {
  const invalid = (why: string): never => {
    const error = new Error(`invalid URI ${JSON.stringify(uri)}: ${why}`) as Error & { code: string };
    error.code = 'ERR_INVALID_URI';
    throw error;
  };
  if (!uri.startsWith('ip:')) invalid('an iiod URI starts with ip:');
  const rest = uri.slice(3);
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) invalid('unterminated [IPv6 address]');
    host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    if (after !== '' && !after.startsWith(':')) invalid(`unexpected ${JSON.stringify(after)} after the address`);
    if (after !== '') portText = after.slice(1);
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    host = rest; // a bare IPv6 literal: no port
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    if (colon >= 0) portText = rest.slice(colon + 1);
  }
  if (host === '') invalid('no host (iiojs does not discover iiod servers through DNS-SD; name the host)');
  if (/[\s/]/.test(host)) invalid(`${JSON.stringify(host)} is not a host name or address`);
  let port = IIOD_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) invalid(`port ${JSON.stringify(portText)} is not in 1..65535`);
    port = Number(portText);
  }
  const label = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, label };
}
