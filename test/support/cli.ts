// Running the real `iio` binary as a subprocess, and scenario files for it to boot.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../../src/kernel/sim/scenario-types.js';
import type { Session } from './cli-session-child.js';
import { probeScenario } from './probe-scenario.js';

export const IIO_BIN = fileURLToPath(new URL('../../src/cli/iio.js', import.meta.url));

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** `iio <args>` to completion (bounded: a hang fails the test instead of stalling it), in `cwd` if given. */
export function iio(args: readonly string[], input?: Buffer | string, cwd?: string): Run {
  const run = spawnSync(process.execPath, [IIO_BIN, ...args], { input: input ?? '', cwd, timeout: 60_000, maxBuffer: 256 << 20 });
  if (run.error !== undefined) throw run.error;
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr.toString() };
}

/** `iio <args>` running, its streams piped to this process. */
export function spawnIio(args: readonly string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [IIO_BIN, ...args]);
}

/** Resolves with the exit status (or signal) once the child is gone. */
export function exited(child: ChildProcessWithoutNullStreams): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (status, signal) => resolve({ status, signal })));
}

/** What a child's output stream carried so far, and a wait until it carried enough. */
export interface Collected {
  bytes(): Buffer;
  /** Resolves once `enough(bytes)` holds; rejects if the stream ends before. */
  until(enough: (bytes: Buffer) => boolean): Promise<void>;
}

export function collect(stream: NodeJS.ReadableStream): Collected {
  const chunks: Buffer[] = [];
  const bytes = (): Buffer => Buffer.concat(chunks);
  const waiters = new Set<() => void>();
  let ended = false;
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    for (const w of waiters) w();
  });
  stream.on('end', () => {
    ended = true;
    for (const w of waiters) w();
  });
  return {
    bytes,
    until: (enough) => new Promise((resolve, reject) => {
      const check = (): void => {
        const done = enough(bytes());
        if (!done && !ended) return;
        waiters.delete(check);
        if (done) resolve();
        else reject(new Error(`the stream ended before what was awaited; it carried ${JSON.stringify(bytes().toString().slice(0, 500))}`));
      };
      waiters.add(check);
      check();
    }),
  };
}

/** Scenario files in a temporary directory, removed by `cleanup()`. */
export class ScenarioFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'iiojs-cli-'));

  /** `sim:<file>` for `scenario` written as JSON. */
  uri(name: string, scenario: Scenario): string {
    const file = join(this.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(scenario));
    return `sim:${file}`;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The probe's devices (dummy0, vadc-dma) and triggers (t0, sysfstrig0) as a scenario file. */
export function probeUri(files: ScenarioFiles): string {
  return files.uri('probe', probeScenario);
}

/** u16 words of a little-endian byte capture. */
export function u16le(bytes: Buffer): number[] {
  const words: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) words.push(bytes.readUInt16LE(i));
  return words;
}

export interface SessionResult {
  background?: { status: number; stderr: string };
  steps: Array<{ status: number; stdout: Buffer; stderr: string }>;
}

/** Runs several iio commands in one process on one context (test/support/cli-session-child.ts). */
export function session(spec: Session): SessionResult {
  const child = fileURLToPath(new URL('./cli-session-child.js', import.meta.url));
  const run = spawnSync(process.execPath, [child, JSON.stringify(spec)], { timeout: 60_000, maxBuffer: 64 << 20 });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`the session failed (${run.status}): ${run.stderr.toString()}`);
  const result = JSON.parse(run.stdout.toString()) as { background?: SessionResult['background']; steps: Array<{ status: number; stdout: string; stderr: string }> };
  return { ...result, steps: result.steps.map((s) => ({ ...s, stdout: Buffer.from(s.stdout, 'base64') })) };
}

/** `iio info`'s output as nested sections: each line's children are the lines indented below it. */
export interface InfoNode {
  line: string;
  children: InfoNode[];
}

export function parseTree(text: string): InfoNode[] {
  const root: InfoNode = { line: '', children: [] };
  const stack: Array<{ depth: number; node: InfoNode }> = [{ depth: -1, node: root }];
  for (const raw of text.trimEnd().split('\n')) {
    const depth = raw.length - raw.trimStart().length;
    const node = { line: raw.trimStart(), children: [] };
    while (stack.at(-1)!.depth >= depth) stack.pop();
    stack.at(-1)!.node.children.push(node);
    stack.push({ depth, node });
  }
  return root.children;
}

/** A failed run as iio must fail: exit `status`, one line on stderr matching `message`, nothing on stdout. */
export function oneLineError(run: Run, status: number, message: RegExp): void {
  assert.equal(run.status, status, run.stderr);
  assert.match(run.stderr.trimEnd(), message);
  assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr}`);
  assert.equal(run.stdout.length, 0);
}
