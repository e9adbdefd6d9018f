// `iio serve`: a context to libiio 0.2x clients (iio_info, iio_readdev, pyadi-iio, ...) over
// the iiod protocol, until SIGINT or SIGTERM.
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { openContext } from '../open.js';
import { IIOD_PORT, serve as serveContext } from '../server/iiod/index.js';

export const serveHelp = `Usage: iio serve [-u <uri>] [--listen <address>] [-p <port>] [--read-only]

Serves a context over the iiod network protocol that libiio 0.2x clients speak, until
interrupted (Ctrl-C or SIGTERM). Only this machine can connect unless --listen says otherwise.

Options:
  -u, --uri <uri>       local: (this machine's kernel, the default), sim: or sim:<scenario.json>
  --listen <address>    address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  -p, --port <port>     TCP port (default ${IIOD_PORT}, libiio's; 0 picks a free one)
  --read-only           refuse attribute writes, trigger changes and output buffers (EACCES)

Examples:
  iio serve -u sim:
  iio_info -u ip:127.0.0.1
  iio serve --listen 0.0.0.0 --read-only
`;

export async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      uri: { type: 'string', short: 'u', default: 'local:' },
      listen: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', short: 'p', default: String(IIOD_PORT) },
      'read-only': { type: 'boolean' },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port!) || port > 65535) throw new Error(`invalid port ${JSON.stringify(values.port)}: expected 0..65535`);
  const ctx = await openContext(values.uri!);
  try {
    const readOnly = values['read-only'] === true;
    await using server = await serveContext(ctx, { host: values.listen!, port, readOnly });
    const { address, family } = server.address();
    const where = family === 'IPv6' ? `[${address}]:${server.port}` : `${address}:${server.port}`;
    const host = address === '0.0.0.0' || address === '::' ? '<this host>' : family === 'IPv6' ? `[${address}]` : address;
    const uri = `ip:${host}${server.port === IIOD_PORT ? '' : `:${server.port}`}`;
    process.stdout.write(`serving ${values.uri} on ${where}${readOnly ? ' (read-only)' : ''}; clients: -u ${uri}\n`);
    await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
  } finally {
    await ctx.close();
  }
  return 0;
}
