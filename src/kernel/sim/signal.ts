// A channel's waveform as raw integer samples: sample n of a WaveformSpec at a sampling rate, in
// the channel's format (values clamped to its realbits range; bigints when realbits > 53).
//
// - sine/square: the frequency is rounded to cycles/period × rate with a whole-sample period
//   (the first continued-fraction convergent of frequency/rate within 1 ppm, at most
//   `maxPeriod` samples), so the signal repeats exactly and a capture pattern can be
//   pre-rendered: 1 kHz at 1 MS/s has period 1000, 440 Hz at 44.1 kS/s 22 cycles in 2205.
//   A frequency too low for that (about rate/maxPeriod) is produced unrounded, with no period.
//   Frequencies at or above rate/2 alias, as sampling does.
// - ramp: start, start+step, ... wrapping within the format's range (period 2^realbits/gcd), or
//   restarting every `period` samples (values beyond the range clamp).
// - noise: uniform in offset ± amplitude from a counter-based PRNG (mulberry32 keyed by seed
//   and sample number), so it is deterministic and repeats every `period` samples.
// - constant: period 1. file: the file's values in order, period = their count.
// - loopback: not generated here; channelSignal returns undefined and the IIO model feeds the
//   samples the source channel played, e.g. through tableSignal().
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { sampleCodec, type SampleValue, type ScanType } from '../../format/index.js';
import type { WaveformSpec } from './scenario-types.js';
import { ScenarioError, formatRange } from './scenario.js';

export type SignalKind = Exclude<WaveformSpec['kind'], 'loopback'> | 'table';

export interface ChannelSignal {
  readonly kind: SignalKind;
  /** Values are bigints (the format has more than 53 real bits), else numbers. */
  readonly wide: boolean;
  /** Samples after which the signal repeats exactly, or undefined if it does not (within 2^53). */
  readonly period: number | undefined;
  /** sine/square: the frequency actually produced (Hz), after rounding. */
  readonly frequency?: number;
  /** Raw value of sample `n` (an integer >= 0), within the format's range. */
  at(n: number): SampleValue;
}

export interface SignalOptions {
  /** Noise seed when the spec has none; give each channel its own (default 1). */
  seed?: number;
  /** Directory a relative `file` path resolves against (default: the current directory). */
  baseDir?: string;
  /** Longest period (samples) a sine/square frequency may be rounded to (default 2^24). */
  maxPeriod?: number;
  /** Noise period when the spec has none (default 4096 samples). */
  noisePeriod?: number;
}

export const DEFAULT_NOISE_PERIOD = 4096;
export const DEFAULT_MAX_PERIOD = 1 << 24;
/** Signals with a period up to this many samples are precomputed into a table. */
const TABLE_LIMIT = 1 << 16;
/** Relative frequency error accepted when rounding to a whole-sample period. */
const FREQUENCY_TOLERANCE = 1e-6;

/** True for the waveform the IIO model wires itself (channelSignal returns undefined). */
export function isLoopback(spec: WaveformSpec | undefined): spec is Extract<WaveformSpec, { kind: 'loopback' }> {
  return spec?.kind === 'loopback';
}

/**
 * The raw samples of a channel with waveform `spec` (undefined = the default ramp) in format
 * `type` at `rateHz` samples per second. Returns undefined for a loopback. A `file` waveform
 * is read here; its errors are ScenarioErrors naming the file (and line).
 */
export function channelSignal(spec: WaveformSpec | undefined, type: ScanType, rateHz: number, options: SignalOptions = {}): ChannelSignal | undefined {
  const q = quantizer(type);
  const range = formatRange(type);
  spec ??= { kind: 'ramp' };
  switch (spec.kind) {
    case 'sine':
    case 'square': {
      if (!(Number.isFinite(rateHz) && rateHz > 0)) throw new RangeError(`sampling rate must be a positive number, got ${rateHz}`);
      if (!(Number.isFinite(spec.frequency) && spec.frequency > 0)) throw new RangeError(`${spec.kind} frequency must be positive, got ${spec.frequency}`);
      const amplitude = spec.amplitude ?? range.span / 4;
      const offset = spec.offset ?? range.centre;
      const shape = spec.kind === 'sine'
        ? ((phase) => Math.sin(2 * Math.PI * phase + (spec.phase ?? 0))) satisfies (p: number) => number
        : ((phase) => (phase < (spec.duty ?? 0.5) ? 1 : -1)) satisfies (p: number) => number;
      const rounded = roundFrequency(spec.frequency, rateHz, options.maxPeriod ?? DEFAULT_MAX_PERIOD);
      if (rounded === undefined) {
        const x = spec.frequency / rateHz;
        return computed(spec.kind, q, undefined, (n) => offset + amplitude * shape((x * n) % 1), spec.frequency);
      }
      const { cycles, period } = rounded;
      return computed(spec.kind, q, period, (m) => offset + amplitude * shape(((cycles * m) % period) / period), (cycles / period) * rateHz);
    }
    case 'ramp':
      return ramp(spec, type, q);
    case 'noise': {
      const period = spec.period ?? options.noisePeriod ?? DEFAULT_NOISE_PERIOD;
      if (!Number.isSafeInteger(period) || period < 1) throw new RangeError(`noise period must be a positive integer, got ${period}`);
      const seed = (spec.seed ?? options.seed ?? 1) >>> 0;
      const amplitude = spec.amplitude ?? range.span / 32;
      const offset = spec.offset ?? range.centre;
      return computed('noise', q, period, (m) => offset + amplitude * (2 * mulberry32At(seed, m) - 1));
    }
    case 'constant': {
      const value = q.value(spec.value);
      return { kind: 'constant', wide: q.wide, period: 1, at: () => value };
    }
    case 'file':
      return fileSignal(spec.path, type, options.baseDir);
    case 'loopback':
      return undefined;
  }
}

/** A signal repeating `values` (clamped to the format's range), e.g. what a DAC channel played. */
export function tableSignal(values: ArrayLike<SampleValue>, type: ScanType): ChannelSignal {
  if (values.length === 0) throw new RangeError('a table signal needs at least one value');
  const q = quantizer(type);
  return table('table', q, Array.from(values, (v) => q.value(v)));
}

/**
 * A whole-sample period whose frequency, cycles/period × rate, is within 1 ppm of `frequency`
 * (aliased into [0, rate)), or undefined if that needs more than `maxPeriod` samples: the
 * first continued-fraction convergent of frequency/rate that is close enough.
 */
export function roundFrequency(frequency: number, rate: number, maxPeriod = DEFAULT_MAX_PERIOD): { cycles: number; period: number } | undefined {
  const x = frequency / rate;
  const xr = x - Math.floor(x);
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let v = xr;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    const h = a * h1 + h0;
    const k = a * k1 + k0;
    if (k > maxPeriod) return undefined;
    if (Math.abs(h / k - xr) * rate <= FREQUENCY_TOLERANCE * frequency) return { cycles: h, period: k };
    [h0, h1, k0, k1] = [h1, h, k1, k];
    const frac = v - a;
    if (frac <= 0) return undefined;
    v = 1 / frac;
  }
  return undefined;
}

/** Converts a computed level to a value of the format: rounded, clamped, number or bigint. */
interface Quantizer {
  wide: boolean;
  value(x: SampleValue): SampleValue;
}

function quantizer(type: ScanType): Quantizer {
  const codec = sampleCodec(type);
  if (codec.wide) {
    const { min, max } = codec;
    const lo = Number(min);
    const hi = Number(max);
    return {
      wide: true,
      value: (x) => {
        let v: bigint;
        if (typeof x === 'bigint') v = x;
        else if (Number.isNaN(x)) v = 0n;
        else v = BigInt(Math.round(Math.min(hi, Math.max(lo, x))));
        return v < min ? min : v > max ? max : v;
      },
    };
  }
  const { min, max } = codec;
  return {
    wide: false,
    value: (x) => {
      if (typeof x === 'bigint') return x < BigInt(min) ? min : x > BigInt(max) ? max : Number(x);
      const v = Math.round(x) + 0; // + 0 turns -0 into 0
      return v < min ? min : v > max ? max : Number.isNaN(v) ? Math.min(max, Math.max(min, 0)) : v;
    },
  };
}

/** `level(m)` for m = n mod period (or n when there is no period), tabulated when short. */
function computed(kind: SignalKind, q: Quantizer, period: number | undefined, level: (m: number) => SampleValue, frequency?: number): ChannelSignal {
  if (period !== undefined && period <= TABLE_LIMIT) {
    const values: SampleValue[] = new Array<SampleValue>(period);
    for (let m = 0; m < period; m++) values[m] = q.value(level(m));
    return table(kind, q, values, frequency);
  }
  const at = period === undefined ? (n: number) => q.value(level(n)) : (n: number) => q.value(level(n % period));
  return frequency === undefined ? { kind, wide: q.wide, period, at } : { kind, wide: q.wide, period, frequency, at };
}

function table(kind: SignalKind, q: Quantizer, values: SampleValue[], frequency?: number): ChannelSignal {
  const period = values.length;
  let at: (n: number) => SampleValue;
  if (q.wide) {
    at = (n) => values[n % period]!;
  } else {
    const numbers = Float64Array.from(values as number[]);
    at = (n) => numbers[n % period]!;
  }
  return frequency === undefined ? { kind, wide: q.wide, period, at } : { kind, wide: q.wide, period, frequency, at };
}

function ramp(spec: Extract<WaveformSpec, { kind: 'ramp' }>, type: ScanType, q: Quantizer): ChannelSignal {
  const codec = sampleCodec(type);
  const min = BigInt(codec.min);
  const start = spec.start === undefined ? min : BigInt(spec.start);
  const step = BigInt(spec.step ?? 1);
  if (spec.period !== undefined) {
    const period = spec.period;
    if (!Number.isSafeInteger(period) || period < 1) throw new RangeError(`ramp period must be a positive integer, got ${period}`);
    return computed('ramp', q, period, (m) => start + step * BigInt(m));
  }
  // Wrap modulo 2^realbits: the period is 2^realbits over the largest power of two dividing step.
  const span = 1n << BigInt(type.realBits);
  const stepMod = ((step % span) + span) % span;
  let periodBig = span;
  for (let s = stepMod; s !== 0n && periodBig > 1n && (s & 1n) === 0n; s >>= 1n) periodBig >>= 1n;
  if (stepMod === 0n) periodBig = 1n;
  const base = (((start - min) % span) + span) % span;
  const period = periodBig <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(periodBig) : undefined;
  return computed('ramp', q, period, (m) => min + ((base + stepMod * BigInt(m)) % span));
}

/** mulberry32's output for counter `m` (state = seed + (m+1)·golden), in [0, 1). */
function mulberry32At(seed: number, m: number): number {
  let t = (seed + Math.imul((m + 1) >>> 0, 0x6d2b79f5)) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function fileSignal(path: string, type: ScanType, baseDir: string | undefined): ChannelSignal {
  const file = isAbsolute(path) ? path : resolve(baseDir ?? process.cwd(), path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ScenarioError(`cannot read waveform file: ${(e as Error).message}`, { source: file, code, cause: e });
  }
  const q = quantizer(type);
  const values: SampleValue[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue; // blank lines (and the final newline) carry no sample
    if (!/^[+-]?[0-9]+$/.test(line)) {
      const shown = line.length > 40 ? `${line.slice(0, 37)}...` : line;
      throw new ScenarioError(`expected one decimal integer per line, got ${JSON.stringify(shown)}`, { source: file, line: i + 1 });
    }
    values.push(q.value(BigInt(line)));
  }
  if (values.length === 0) throw new ScenarioError('no samples (expected one decimal integer per line)', { source: file });
  return table('file', q, values);
}
