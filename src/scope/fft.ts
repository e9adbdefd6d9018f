// Spectra from full-rate samples: a radix-2 FFT, the usual windows (IIO Oscilloscope's list), dBFS
// with the window's coherent gain corrected, so a full-scale tone reads 0 dBFS whatever the
// window, real input as bins 0…N/2 and complex (I/Q) input as −rate/2…+rate/2.

export const FFT_SIZES = Object.freeze(Array.from({ length: 12 }, (_, i) => 32 << i)); // 32 … 65536

export const WINDOWS = Object.freeze({
  rectangular: () => 1,
  hann: (x: number) => 0.5 - 0.5 * Math.cos(2 * Math.PI * x),
  hamming: (x: number) => 0.54 - 0.46 * Math.cos(2 * Math.PI * x),
  blackman: (x: number) => 0.42659 - 0.49656 * Math.cos(2 * Math.PI * x) + 0.076849 * Math.cos(4 * Math.PI * x),
  'blackman-harris': (x: number) => 0.35875 - 0.48829 * Math.cos(2 * Math.PI * x) + 0.14128 * Math.cos(4 * Math.PI * x) - 0.01168 * Math.cos(6 * Math.PI * x),
  'flat-top': (x: number) => 0.21557895 - 0.41663158 * Math.cos(2 * Math.PI * x) + 0.277263158 * Math.cos(4 * Math.PI * x) - 0.083578947 * Math.cos(6 * Math.PI * x) + 0.006947368 * Math.cos(8 * Math.PI * x),
  triangular: (x: number) => 1 - Math.abs(2 * x - 1),
  welch: (x: number) => 1 - (2 * x - 1) ** 2,
  cosine: (x: number) => Math.sin(Math.PI * x),
});

export type WindowName = keyof typeof WINDOWS;

export function isWindowName(name: string): name is WindowName {
  return Object.hasOwn(WINDOWS, name);
}

/** In-place radix-2 FFT of (re, im), length a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = (-2 * Math.PI) / size;
    const wr = Math.cos(step);
    const wi = Math.sin(step);
    for (let start = 0; start < n; start += size) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = start + k;
        const b = a + half;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const next = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = next;
      }
    }
  }
}

export interface SpectrumSettings {
  size: number;
  window: WindowName;
  /** 1: none; n: exponential average of the power with weight 1/n. */
  average: number;
  peakHold: boolean;
}

export interface Peak {
  /** Hz (the bin's center). */
  frequency: number;
  dbfs: number;
  bin: number;
}

/**
 * One spectrum trace over frames: windowing, FFT, dBFS, averaging and peak hold. Settings that
 * change the bins (size, window, input kind, rate) start it over.
 */
export class SpectrumTrace {
  readonly settings: SpectrumSettings;
  readonly complex: boolean;
  readonly #window: Float64Array;
  readonly #gain: number;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  #power: Float64Array | undefined;
  #hold: Float64Array | undefined;

  constructor(settings: SpectrumSettings, complex: boolean) {
    if (!FFT_SIZES.includes(settings.size)) throw new RangeError(`FFT size must be a power of two from 32 to 65536, got ${settings.size}`);
    this.settings = settings;
    this.complex = complex;
    const w = WINDOWS[settings.window];
    this.#window = Float64Array.from({ length: settings.size }, (_, i) => w(i / settings.size));
    this.#gain = this.#window.reduce((a, b) => a + b, 0);
    this.#re = new Float64Array(settings.size);
    this.#im = new Float64Array(settings.size);
  }

  get bins(): number {
    return this.complex ? this.settings.size : this.settings.size / 2 + 1;
  }

  /** The frequency of bin `k` at `rate`. */
  frequency(k: number, rate: number): number {
    const n = this.settings.size;
    return this.complex ? ((k - n / 2) * rate) / n : (k * rate) / n;
  }

  /**
   * Adds a frame: `i` (and `q` for complex input), size samples each in raw units, full scale
   * `fullScale`; returns the (averaged) dBFS bins and the peak-held ones.
   */
  add(i: ArrayLike<number>, q: ArrayLike<number> | undefined, fullScale: number): { dbfs: Float32Array; hold: Float32Array | undefined } {
    const n = this.settings.size;
    let mean = 0;
    if (!this.complex) {
      for (let k = 0; k < n; k++) mean += i[k]!;
      mean /= n; // a real signal's offset is removed: its DC bin's leakage would hide low tones
    }
    for (let k = 0; k < n; k++) {
      this.#re[k] = (i[k]! - mean) * this.#window[k]!;
      this.#im[k] = q === undefined ? 0 : q[k]! * this.#window[k]!;
    }
    fft(this.#re, this.#im);
    const bins = this.bins;
    const scale = (this.complex ? 1 : 2) / (this.#gain * fullScale);
    const power = this.#power ?? new Float64Array(bins);
    const weight = this.#power === undefined ? 1 : 1 / this.settings.average;
    for (let b = 0; b < bins; b++) {
      const k = this.complex ? (b + n / 2) % n : b;
      const amplitude = Math.hypot(this.#re[k]!, this.#im[k]!) * scale;
      power[b] = (1 - weight) * power[b]! + weight * amplitude * amplitude;
    }
    this.#power = power;
    const dbfs = new Float32Array(bins);
    for (let b = 0; b < bins; b++) dbfs[b] = 10 * Math.log10(Math.max(power[b]!, 1e-30));
    let hold: Float32Array | undefined;
    if (this.settings.peakHold) {
      this.#hold ??= new Float64Array(bins).fill(-Infinity);
      for (let b = 0; b < bins; b++) this.#hold[b] = Math.max(this.#hold[b]!, dbfs[b]!);
      hold = Float32Array.from(this.#hold);
    }
    return { dbfs, hold };
  }

  /** The `count` highest local maxima of `dbfs`, at least `spacing` bins apart, highest first. */
  static peaks(dbfs: Float32Array, count: number, spacing: number, frequency: (bin: number) => number): Peak[] {
    const candidates: number[] = [];
    for (let b = 1; b < dbfs.length - 1; b++) if (dbfs[b]! >= dbfs[b - 1]! && dbfs[b]! > dbfs[b + 1]!) candidates.push(b);
    candidates.sort((a, b) => dbfs[b]! - dbfs[a]!);
    const chosen: number[] = [];
    for (const b of candidates) {
      if (chosen.length >= count) break;
      if (chosen.every((c) => Math.abs(c - b) >= spacing)) chosen.push(b);
    }
    return chosen.map((bin) => ({ bin, frequency: frequency(bin), dbfs: dbfs[bin]! }));
  }
}
