// What a subcommand runs with: its standard streams, the user's interrupt, and how a URI becomes
// a Context. The `iio` binary passes the process's own (processEnv); everything else in src/cli
// only sees this interface, so one process can run several commands on one context.
import type { Readable, Writable } from 'node:stream';
import type { Context } from '../core/context.js';
import { openContext } from '../open.js';

export interface CliEnv {
  readonly stdin: Readable;
  /** Data (samples, XML, values). */
  readonly stdout: Writable & { isTTY?: boolean };
  /** Errors, and progress when it is a terminal. */
  readonly stderr: Writable & { isTTY?: boolean };
  /** Aborted when the user interrupts; the reason is the signal's name ('SIGINT', 'SIGTERM'). */
  readonly interrupt: AbortSignal;
  openContext(uri: string): Promise<Context>;
}

/** Why a command stopped early: an interrupt, or its reader went away ('EPIPE'). */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/**
 * The exit status for a stop: 128 + the signal number, as the shell reports a process the
 * signal killed. A broken pipe is SIGPIPE's 141: what `cat` or `yes` give in `… | head`.
 */
export function stopStatus(reason: StopReason): number {
  return { SIGINT: 130, SIGTERM: 143, EPIPE: 141 }[reason];
}

/** This process's streams, and SIGINT/SIGTERM as the interrupt (a second one exits at once). */
export function processEnv(): CliEnv {
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupt.signal.aborted) process.exit(stopStatus(signal));
      interrupt.abort(signal);
    });
  }
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    interrupt: interrupt.signal,
    openContext: (uri) => openContext(uri),
  };
}

/** An error as the one line `iio` prints: `iio: <message>`. */
export function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return `iio: ${message.replace(/\s*\n\s*/g, ' ')}`;
}

/** Waits for the interrupt; a timer keeps the process alive meanwhile (nothing else may). */
export function untilInterrupted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const done = (): void => {
      clearInterval(keepAlive);
      resolve();
    };
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
