#!/usr/bin/env node
// The `iio` command: thin entry point that dispatches to one module per subcommand.
import { readFileSync } from 'node:fs';
import { doctor, doctorHelp } from './doctor.js';
import { serve, serveHelp } from './serve.js';

const commands: Record<string, { run: (args: string[]) => Promise<number>; help: string; summary: string }> = {
  doctor: { run: doctor, help: doctorHelp, summary: "check what this machine's kernel offers" },
  serve: { run: serve, help: serveHelp, summary: 'serve a context to libiio clients (iiod protocol)' },
};

function usage(): string {
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`);
  return `Usage: iio <command> [options]\n\nCommands:\n${list.join('\n')}\n\nRun 'iio <command> --help' for a command's options and examples.\n`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`iiojs ${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`iio: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(command.help);
    return 0;
  }
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: Error) => {
    process.stderr.write(`iio: ${error.message}\n`);
    process.exitCode = 1;
  },
);
