// `iio serve`: a context to libiio 0.2x clients (iio_info, iio_readdev, pyadi-iio, ...) over
// the iiod protocol, until interrupted. The first line says where it listens (scripts read it);
// a short guide of what to try follows.
import type { Context } from '../core/context.js';
import { IIOD_PORT, serve as serveContext } from '../server/iiod/index.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, operands, parseCommand } from './args.js';
import { untilInterrupted, type CliEnv } from './env.js';
import { iioCommand, PACKAGE_ROOT } from './invocation.js';

export const serveHelp = `Usage: iio serve [-u <uri>] [--listen <address>] [-p <port>] [--read-only] [-v]

Serves a context over the iiod network protocol that libiio 0.2x clients speak, until
interrupted (Ctrl-C or SIGTERM). Only this machine can connect unless --listen says otherwise.
Every error answered to a client is logged to stderr with its reason (clients see only the
errno), and so is every client disconnected for not reading its data.

Options:
${CONTEXT_HELP}
  --listen <address>      address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  -p, --port <port>       TCP port (default ${IIOD_PORT}, libiio's; 0 picks a free one)
  --read-only             refuse attribute writes, trigger changes and output buffers (EACCES)
  -v, --verbose           also log connections, and buffer opens and closes

Examples:
  iio serve -u sim:                        (then, elsewhere: iio_info -u ip:127.0.0.1)
  iio serve --listen 0.0.0.0 --read-only
`;

export async function serve(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    listen: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', short: 'p', default: String(IIOD_PORT) },
    'read-only': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
  });
  operands(positionals, 0, 0, '');
  const port = integerArg(values.port, '-p/--port', 0, 65535);
  await using ctx = await openFromArgs(values, env);
  const readOnly = values['read-only'] === true;
  const line = (text: string): void => void env.stderr.write(`iio serve: ${text}\n`);
  const log = { info: values.verbose === true ? line : () => undefined, error: line };
  await using server = await serveContext(ctx, { host: values.listen, port, readOnly, log });
  const { address, family } = server.address();
  const where = family === 'IPv6' ? `[${address}]:${server.port}` : `${address}:${server.port}`;
  const uriOf = (host: string): string => `ip:${host}${server.port === IIOD_PORT ? '' : `:${server.port}`}`;
  const bracketed = (a: string): string => (family === 'IPv6' ? `[${a}]` : a);
  const everywhere = address === '0.0.0.0' || address === '::';
  env.stdout.write(`serving ${values.uri} on ${where}${readOnly ? ' (read-only)' : ''}; clients: -u ${uriOf(everywhere ? '<this host>' : bracketed(address))}\n`);
  // The guide's commands run on this machine: they connect to its loopback when it listens everywhere.
  env.stdout.write(guide(ctx, uriOf(bracketed(everywhere ? (family === 'IPv6' ? '::1' : '127.0.0.1') : address))));
  await untilInterrupted(env.interrupt);
  return 0; // stopping is what the user asked for
}

/**
 * What to try against the server, with this context's own device names: every indented line is
 * a shell command (or a comment) that works from any directory, as pasted.
 */
function guide(ctx: Context, uri: string): string {
  const iio = iioCommand();
  const capture = ctx.devices.find((d) => d.buffers.some((b) => !b.output && b.channels.length > 0));
  const lines = [
    'Try, from another terminal:',
    `  iio_info -u ${uri}   # libiio's tools see every device`,
    `  ${iio} info -u ${uri}   # ours, through the ip: client`,
  ];
  if (capture !== undefined) {
    const channel = capture.buffers.find((b) => !b.output)!.channels[0]!;
    lines.push(`  ${iio} read -u ${uri} ${capture.name ?? capture.id} ${channel.id} -s 8 --format csv`);
    lines.push(`  iio_readdev -u ${uri} -b 4096 -s 4096 ${capture.name ?? capture.id} | od -A d -t d2 | head`);
  }
  if (iio !== 'iio') lines.push(`  # to type iio instead: npm link, in ${PACKAGE_ROOT}`);
  lines.push('Ctrl-C stops the server.', '');
  return lines.join('\n');
}
