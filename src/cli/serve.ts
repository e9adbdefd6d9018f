// `iio serve`: a context to libiio 0.2x clients (iio_info, iio_readdev, pyadi-iio, ...) over
// the iiod protocol, on TCP and/or this machine's USB device port, until interrupted. The first
// line says where it serves (scripts read it); a short guide of what to try follows.
import type { Context } from '../core/context.js';
import { IIOD_DEFAULT_PIPES, IIOD_MAX_PIPES } from '../iiod/usb.js';
import { openKernel } from '../kernel/open.js';
import { DEFAULT_USB_IDS, IIOD_PORT, serve as serveContext, type IiodServer, type UsbServeOptions } from '../server/iiod/index.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, UsageError, integerArg, openFromArgs, operands, parseCommand } from './args.js';
import { untilInterrupted, type CliEnv } from './env.js';
import { iioCommand, PACKAGE_ROOT } from './invocation.js';

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

export const serveHelp = `Usage: iio serve [-u <uri>] [--listen <address>] [-p <port>] [--no-network]
                 [--usb | --ffs <dir>] [--pipes <n>] [--udc <name>] [--vid <id>] [--pid <id>]
                 [--serial <text>] [--manufacturer <text>] [--product <text>] [--copy]
                 [--read-only] [-v]

Serves a context over the iiod protocol that libiio 0.2x clients speak, until interrupted
(Ctrl-C or SIGTERM): on TCP (only this machine can connect unless --listen says otherwise) and,
with --usb or --ffs, on this machine's USB device port to libiio's usb: clients on the host.
Every error answered to a client is logged to stderr with its reason (clients see only the
errno), and so is every client disconnected for not reading its data.

USB: --usb makes a configfs gadget with iiod's FunctionFS function, mounts FunctionFS, writes
the descriptors, binds the UDC, and removes all of it on exit (also what a crashed run left).
--ffs uses a FunctionFS mount the board's init scripts made instead, as iiod -F does (bind the
UDC once the descriptors are written). Where the UDC and the IIO buffer both take DMABUFs,
samples go between them with no copy (FUNCTIONFS_DMABUF_TRANSFER); each buffer's path, and why,
is printed when a client opens it.

Options:
${CONTEXT_HELP}
  --listen <address>      address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  -p, --port <port>       TCP port (default ${IIOD_PORT}, libiio's; 0 picks a free one)
  --no-network            do not serve TCP (with --usb or --ffs)
  --usb                   serve on the USB device port (a gadget made here)
  --ffs <dir>             serve on the FunctionFS mounted at <dir> (its gadget is the board's)
  --pipes <n>             bulk endpoint pairs, as iiod -n (default ${IIOD_DEFAULT_PIPES}, 1 to ${IIOD_MAX_PIPES}): one for the
                          context, one per buffer streaming at once
  --udc <name>            the UDC to bind (default: the only one in /sys/class/udc)
  --vid <id>, --pid <id>  the gadget's ids (default ${hex4(DEFAULT_USB_IDS.vendorId)}:${hex4(DEFAULT_USB_IDS.productId)}; hosts find iiod by its
                          "IIO" interface string, not by ids)
  --serial <text>, --manufacturer <text>, --product <text>
                          the gadget's strings
  --copy                  never move samples by DMABUF (copy every byte)
  --read-only             refuse attribute writes, trigger changes and output buffers (EACCES)
  -v, --verbose           also log connections, USB requests, and buffer opens and closes

Examples:
  iio serve -u sim:                        (then, elsewhere: iio_info -u ip:127.0.0.1)
  iio serve --listen 0.0.0.0 --read-only
  iio serve -u local: --usb --no-network   (then, on the host: iio_info -u usb:)
  iio serve -u local: --ffs /dev/iio_ffs --pipes 5
`;

/** A 16-bit USB id in hexadecimal, with or without 0x (lsusb prints them without). */
function usbIdArg(text: string, what: string): number {
  const t = text.trim();
  const n = /^(0[xX])?[0-9a-fA-F]{1,4}$/.test(t) ? parseInt(t.replace(/^0[xX]/, ''), 16) : NaN;
  if (!(n >= 0 && n <= 0xffff)) throw new UsageError(`${what} must be a 16-bit hexadecimal id (e.g. 0x1d6b), got ${JSON.stringify(text)}`);
  return n;
}

export async function serve(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    listen: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', short: 'p', default: String(IIOD_PORT) },
    'read-only': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    'no-network': { type: 'boolean' },
    usb: { type: 'boolean' },
    ffs: { type: 'string' },
    pipes: { type: 'string' },
    udc: { type: 'string' },
    vid: { type: 'string' },
    pid: { type: 'string' },
    serial: { type: 'string' },
    manufacturer: { type: 'string' },
    product: { type: 'string' },
    copy: { type: 'boolean' },
  });
  operands(positionals, 0, 0, '');
  const port = integerArg(values.port, '-p/--port', 0, 65535);
  const usbOptions = usbArgs(values);
  if (values['no-network'] === true && usbOptions === undefined) throw new UsageError('--no-network leaves nothing to serve: add --usb or --ffs <dir>');
  await using ctx = await openFromArgs(values, env);
  const readOnly = values['read-only'] === true;
  const line = (text: string): void => void env.stderr.write(`iio serve: ${text}\n`);
  const log = { info: values.verbose === true ? line : () => undefined, error: line, notice: line };
  // A remote context (ip:) is served on this machine's own USB device port.
  const usb = usbOptions === undefined ? undefined : { ...usbOptions, ...(ctx.kernel === undefined ? { kernel: openKernel('local:') } : {}) };
  await using server = await serveContext(ctx, { host: values.listen, port, readOnly, log, network: values['no-network'] !== true, ...(usb === undefined ? {} : { usb }) });
  // The TCP line first, as before (scripts read the port from it), then the USB one.
  let guideUri: string | undefined;
  if (values['no-network'] !== true) {
    const { address, family } = server.address();
    const where = family === 'IPv6' ? `[${address}]:${server.port}` : `${address}:${server.port}`;
    const uriOf = (host: string): string => `ip:${host}${server.port === IIOD_PORT ? '' : `:${server.port}`}`;
    const bracketed = (a: string): string => (family === 'IPv6' ? `[${a}]` : a);
    const everywhere = address === '0.0.0.0' || address === '::';
    env.stdout.write(`serving ${values.uri} on ${where}${readOnly ? ' (read-only)' : ''}; clients: -u ${uriOf(everywhere ? '<this host>' : bracketed(address))}\n`);
    // The guide's commands run on this machine: they connect to its loopback when it listens everywhere.
    guideUri = uriOf(bracketed(everywhere ? (family === 'IPv6' ? '::1' : '127.0.0.1') : address));
  }
  if (server.usb !== undefined) env.stdout.write(`${usbLine(values.uri ?? 'local:', server, readOnly)}\n`);
  if (guideUri !== undefined) env.stdout.write(guide(ctx, guideUri));
  await untilInterrupted(env.interrupt);
  return 0; // stopping is what the user asked for
}

function usbArgs(values: Record<string, string | boolean | undefined>): UsbServeOptions | undefined {
  const text = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const usbOnly = ['pipes', 'udc', 'vid', 'pid', 'serial', 'manufacturer', 'product'].filter((k) => values[k] !== undefined);
  if (values.usb !== true && text('ffs') === undefined) {
    if (usbOnly.length > 0 || values.copy === true) throw new UsageError(`--${usbOnly[0] ?? 'copy'} is for serving USB: add --usb or --ffs <dir>`);
    return undefined;
  }
  if (values.usb === true && text('ffs') !== undefined) throw new UsageError('--usb makes a gadget, --ffs uses one the board made: give one of them');
  const gadgetOnly = ['udc', 'vid', 'pid', 'serial', 'manufacturer', 'product'].filter((k) => values[k] !== undefined);
  if (text('ffs') !== undefined && gadgetOnly.length > 0) throw new UsageError(`--${gadgetOnly[0]} is for the gadget --usb makes; with --ffs the board's scripts make it`);
  const o: UsbServeOptions = {};
  if (text('ffs') !== undefined) o.ffs = text('ffs')!;
  if (text('pipes') !== undefined) o.pipes = integerArg(text('pipes')!, '--pipes', 1, IIOD_MAX_PIPES);
  if (text('udc') !== undefined) o.udc = text('udc')!;
  if (text('vid') !== undefined) o.vendorId = usbIdArg(text('vid')!, '--vid');
  if (text('pid') !== undefined) o.productId = usbIdArg(text('pid')!, '--pid');
  if (text('serial') !== undefined) o.serialNumber = text('serial')!;
  if (text('manufacturer') !== undefined) o.manufacturer = text('manufacturer')!;
  if (text('product') !== undefined) o.product = text('product')!;
  if (values.copy === true) o.zeroCopy = false;
  return o;
}

/** The USB side's first line: where, on which UDC, how many pipes, what hosts open. */
function usbLine(uri: string, server: IiodServer, readOnly: boolean): string {
  const usb = server.usb!;
  const where = usb.gadget === undefined
    ? `${usb.mountpoint} (bind its gadget's UDC now: the descriptors are written)`
    : `${usb.udc} (gadget ${usb.gadget}, FunctionFS at ${usb.mountpoint})`;
  return `serving ${uri} over USB on ${where}, ${usb.pipes} pipes${readOnly ? ' (read-only)' : ''}; hosts: -u usb:`;
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
