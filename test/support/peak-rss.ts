// Children whose peak memory a test bounds: `iio` (or any script) run under the peak-rss hook,
// which reports the child's ru_maxrss on a pipe of its own when it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { IIO_BIN } from './cli.js';

const HOOK = new URL('./peak-rss-hook.js', import.meta.url).href;

export interface Measured {
  child: ChildProcess;
  stdout: Readable;
  stderr: Readable;
  /** Everything the child wrote to stderr so far. */
  errors(): string;
  /** Resolves once the child has exited: its status and its peak RSS in MiB. */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; peakMiB: number }>;
}

/** `node <script> <args>` under the hook (`script` defaults to the `iio` binary). */
export function spawnMeasured(args: readonly string[], script: string = IIO_BIN): Measured {
  const child = spawn(process.execPath, ['--import', HOOK, script, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  let report = '';
  (child.stdio[3] as Readable).on('data', (d: Buffer) => (report += d.toString()));
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; peakMiB: number }>((resolve) => {
    child.once('close', (status, signal) => resolve({ status, signal, peakMiB: Number(report.trim()) / 1024 }));
  });
  return { child, stdout: child.stdout!, stderr: child.stderr!, errors: () => errors, exited };
}

/** A script of test/support by its name (compiled alongside). */
export function supportScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}
