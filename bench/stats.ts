// Shared helpers for benchmarks: repeated timing, robust summaries and a description of the
// machine, so that every figure is printed with its spread and its context.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';

export interface Summary {
  median: number;
  p10: number;
  p90: number;
  p99: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), p99: at(0.99), runs: sorted.length };
}

export function machine(): { cores: number; cpu: string; node: string; arch: string } {
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, arch: process.arch };
}

/** Nanoseconds per call of `op`, once per run, after one warm-up run. */
export function timeSync(op: () => void, iterations: number, runs: number): number[] {
  const samples: number[] = [];
  for (let r = -1; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) op();
    if (r >= 0) samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return samples;
}

/** Nanoseconds per awaited call of `op`, once per run, after one warm-up run. */
export async function timeAsync(op: () => Promise<void>, iterations: number, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let r = -1; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await op();
    if (r >= 0) samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return samples;
}

/** One line of the performance table (docs/performance.md): a figure beside its baseline. */
export interface Row {
  figure: string;
  value: number;
  unit: string;
  /** How the runs spread, e.g. `p10–p90 5.8–7.1` or `p99 7.4`. */
  spread?: string;
  /** The baseline measured in the same run, when the figure has one. */
  baseline?: { name: string; value: number; unit: string };
  /** figure / baseline, oriented so that the goal reads naturally (stated in `goal`). */
  ratio?: number;
  goal?: string;
  met?: boolean;
}

/** `p10–p90 a–b` of a summary, with `digits` decimals. */
export function spreadOf(s: Summary, digits = 2): string {
  return `p10–p90 ${s.p10.toFixed(digits)}–${s.p90.toFixed(digits)}`;
}

/** Rounds to `digits` significant digits for the report. */
export function sig(x: number, digits = 3): number {
  return Number(x.toPrecision(digits));
}

/** Runs a shell `command` under bash's `time`: its wall seconds and the CPU seconds it used. */
export async function timed(command: string): Promise<{ seconds: number; cpuSeconds: number }> {
  const t0 = process.hrtime.bigint();
  const p = spawn('bash', ['-c', `TIMEFORMAT='%3U %3S'; time ${command}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const times = /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(stderr);
  if (code !== 0 || times === null) throw new Error(`${command} failed (${code}): ${stderr}`);
  return { seconds, cpuSeconds: Number(times[1]) + Number(times[2]) };
}
