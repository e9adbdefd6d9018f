// `node beside.js <background.sh> <next.sh>`: the doc-snippet convention for a server
// (test/support/snippets.ts). Runs the background block until it prints its first line, then the
// next block beside it, then interrupts the first as Ctrl-C does (SIGINT to its process group).
// Exits with the next block's status, or 1 when the background one ended before its first line
// or did not exit 0 once interrupted. Its output goes to stderr, the next block's where it goes.
// Meant to run in test/support/sandbox.ts, whose time limit bounds every wait here.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BASH_OPTIONS } from './snippets.js';

const [background, next] = process.argv.slice(2) as [string, string];

const server = spawn('bash', [...BASH_OPTIONS, background], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
const serverExit = once(server, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
server.stderr.pipe(process.stderr);
const started = await new Promise<boolean>((resolve) => {
  let out = '';
  server.stdout.on('data', (d: Buffer) => {
    process.stderr.write(d);
    out += d.toString();
    if (out.includes('\n')) resolve(true);
  });
  void serverExit.then(() => resolve(false));
});
if (!started) {
  const [code, signal] = await serverExit;
  process.stderr.write(`beside: the background block ended (${code ?? signal}) before printing a line\n`);
  process.exit(1);
}

const client = spawn('bash', [...BASH_OPTIONS, next], { stdio: 'inherit' });
const [status] = (await once(client, 'exit')) as [number | null];
if (server.exitCode === null && server.signalCode === null) process.kill(-server.pid!, 'SIGINT');
const [code, signal] = await serverExit;
if (code !== 0) {
  process.stderr.write(`beside: the background block ended with ${code ?? signal} when interrupted (0 expected)\n`);
  process.exit(1);
}
process.exit(status ?? 1);
