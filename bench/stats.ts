// Shared helpers for benchmarks: repeated timing, robust summaries and a description of the
// machine, so that every figure is printed with its spread and its context.
import { cpus } from 'node:os';

export interface Summary {
  median: number;
  p10: number;
  p90: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), runs: sorted.length };
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
