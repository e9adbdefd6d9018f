// `iio scope`: the browser scope on a context, until interrupted. The first line is the page's
// URL with its token (scripts and tests read it).
import { scope as serveScope } from '../scope/index.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, operands, parseCommand } from './args.js';
import { untilInterrupted, type CliEnv } from './env.js';

export const SCOPE_PORT = 8431;

export const scopeHelp = `Usage: iio scope [-u <uri>] [-p <port>] [--listen <address>] [--read-only]

Serves a browser scope for a context until interrupted (Ctrl-C or SIGTERM): the context's
devices, channels and attributes, a time plot (trigger, rolling mode, cursors, measurements),
a spectrum (FFT, windows, averaging, peak hold, markers; I/Q as complex), XY, a generator for
output devices and SigMF recordings to download. Open the URL it prints: its token is required
on every request. Only this machine can connect unless --listen says otherwise.

Options:
${CONTEXT_HELP}
  -p, --port <port>       TCP port (default ${SCOPE_PORT}; 0 picks a free one)
  --listen <address>      address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  --read-only             refuse attribute writes, trigger changes and output (EACCES)

Examples:
  iio scope -u sim:
  iio scope -u ip:pluto.local --read-only
`;

export async function scope(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    listen: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', short: 'p', default: String(SCOPE_PORT) },
    'read-only': { type: 'boolean' },
  });
  operands(positionals, 0, 0, '');
  const port = integerArg(values.port, '-p/--port', 0, 65535);
  await using ctx = await openFromArgs(values, env);
  const readOnly = values['read-only'] === true;
  await using server = await serveScope(ctx, { host: values.listen, port, readOnly });
  const { address } = server.address();
  const everywhere = address === '0.0.0.0' || address === '::';
  const url = everywhere ? server.url.replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${server.port}`) : server.url;
  env.stdout.write(`${url}\n`);
  env.stdout.write(`scope of ${values.uri}${readOnly ? ' (read-only)' : ''}${everywhere ? `; from other machines: http://<this host>:${server.port}/?token=${server.token}` : ''}; Ctrl-C stops it\n`);
  await untilInterrupted(env.interrupt);
  return 0;
}
