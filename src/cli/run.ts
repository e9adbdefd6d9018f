// The `iio` dispatcher: one module per subcommand, `--help` for each, and the exit status —
// 0 done, 1 failed (one line on stderr naming what), 2 a command line it cannot run, 128 + n
// stopped by signal n (130: Ctrl-C), 141 stdout's reader went away.
import { IIOJS_VERSION_TEXT } from '../version.js';
import { CONTEXT_URIS } from '../backends/open.js';
import { UsageError, uriLines } from './args.js';
import { attr, attrHelp } from './attr.js';
import { bench, benchHelp } from './bench.js';
import { doctor, doctorHelp } from './doctor.js';
import { errorLine, stopStatus, type CliEnv, type StopReason } from './env.js';
import { genxml, genxmlHelp } from './genxml.js';
import { info, infoHelp } from './info.js';
import { read, readHelp } from './read.js';
import { reg, regHelp } from './reg.js';
import { scope, scopeHelp } from './scope.js';
import { serve, serveHelp } from './serve.js';
import { write, writeHelp } from './write.js';

interface Command {
  run: (args: string[], env: CliEnv) => Promise<number>;
  help: string;
  summary: string;
}

const commands: Record<string, Command> = {
  info: { run: info, help: infoHelp, summary: 'show a context: devices, channels, attributes, buffers, triggers' },
  attr: { run: attr, help: attrHelp, summary: 'read or write attributes (as iio_attr)' },
  read: { run: read, help: readHelp, summary: 'capture samples to stdout: raw, CSV or JSON (as iio_readdev)' },
  write: { run: write, help: writeHelp, summary: 'play samples from stdin (as iio_writedev)' },
  reg: { run: reg, help: regHelp, summary: 'read or write a device register (as iio_reg)' },
  genxml: { run: genxml, help: genxmlHelp, summary: "print the context as libiio's XML (as iio_genxml)" },
  bench: { run: bench, help: benchHelp, summary: "measure a buffer's throughput" },
  serve: { run: serve, help: serveHelp, summary: 'serve a context to libiio clients (iiod protocol, as iiod)' },
  scope: { run: scope, help: scopeHelp, summary: 'a browser scope: plots, spectrum, attributes, generator, SigMF recording' },
  doctor: { run: doctor, help: doctorHelp, summary: "check what this machine's kernel offers" },
};

function usage(): string {
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`);
  return `Usage: iio <command> [options]\n\nCommands:\n${list.join('\n')}\n\n` +
    "Run 'iio <command> --help' for a command's options and examples. Most take -u <uri>:\n" +
    uriLines(CONTEXT_URIS).map((line) => `  ${line}\n`).join('');
}

/** Runs `iio <argv>` and resolves with its exit status; errors are reported on env.stderr. */
export async function runIio(argv: readonly string[], env: CliEnv): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    env.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    env.stdout.write(`iiojs ${IIOJS_VERSION_TEXT}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    env.stderr.write(`iio: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    env.stdout.write(command.help);
    return 0;
  }
  try {
    return await command.run(args, env);
  } catch (e) {
    // Interrupted while opening or configuring: a stop, not a failure.
    if (env.interrupt.aborted) return stopStatus(env.interrupt.reason as StopReason);
    // A command line it cannot run: a usage error, or a URI of no form the library opens.
    if (e instanceof UsageError || (e as { code?: unknown }).code === 'ERR_INVALID_URI') {
      env.stderr.write(`${errorLine(e)} (see 'iio ${name} --help')\n`);
      return 2;
    }
    env.stderr.write(`${errorLine(e)}\n`);
    return 1;
  }
}
