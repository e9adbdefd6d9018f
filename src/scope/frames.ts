// A viewer's frames, built from a capture's rings when the viewer's timer asks: the time window
// (free-running, triggered, or rolling), reduced to min/max per pixel column, with measurements
// of the full-rate samples; the spectrum of the newest FFT-size samples (real, or complex I/Q);
// and XY points. Each builder answers undefined when there is nothing new to show.
import type { CaptureChannel, DeviceCapture } from './capture.js';
import { isWindowName, SpectrumTrace } from './fft.js';
import { measure } from './measure.js';
import type { ViewConfig } from './protocol.js';
import { maxColumns, minMaxColumns } from './reduce.js';
import { findEdge } from './trigger.js';

export interface Frame {
  header: Record<string, unknown>;
  arrays: Float32Array[];
}

/** How long a triggered view waits for an edge before it shows the signal untriggered (a scope's auto mode). */
const AUTO_TRIGGER_MS = 250;
/** The trigger point sits this far into the window (the rest is after it). */
const PRE_TRIGGER = 0.1;
/** XY/constellation points per frame at most. */
const MAX_XY_POINTS = 8192;

function toUnits(c: CaptureChannel, values: Float32Array, physical: boolean): void {
  if (!physical) return;
  for (let i = 0; i < values.length; i++) values[i] = (values[i]! + c.offset) * c.scale;
}

function fromUnits(c: CaptureChannel, value: number, physical: boolean): number {
  return physical ? value / c.scale - c.offset : value;
}

export class FrameBuilder {
  readonly #capture: DeviceCapture;
  readonly config: ViewConfig;
  /** The rings' end when the last frame was built. */
  #shownEnd = -1;
  #lastTriggerAt = Date.now();
  #spectrum: SpectrumTrace | undefined;
  #spectrumRate: number | undefined;

  constructor(capture: DeviceCapture, config: ViewConfig) {
    this.#capture = capture;
    this.config = config;
  }

  #channels(): CaptureChannel[] | undefined {
    const all = this.config.channels.map((id) => this.#capture.channels.get(id));
    return all.every((c) => c !== undefined) && all.length > 0 ? (all as CaptureChannel[]) : undefined;
  }

  build(): Frame | undefined {
    const channels = this.#channels();
    if (channels === undefined) return undefined;
    const end = channels[0]!.ring.end;
    if (end === this.#shownEnd) return undefined;
    const frame = this.config.view === 'time' ? this.#time(channels, end) : this.config.view === 'spectrum' ? this.#fft(channels, end) : this.#xy(channels, end);
    if (frame !== undefined) {
      frame.header.capturedAt = this.#capture.lastBlockAt;
      frame.header.rate = this.#capture.rate ?? null;
      frame.header.device = this.#capture.device.id;
    }
    return frame;
  }

  #time(channels: CaptureChannel[], end: number): Frame | undefined {
    const { samples, columns, rolling, trigger, units } = this.config;
    const physical = units === 'physical';
    const held = end - channels[0]!.ring.start;
    let from: number;
    let count = samples;
    let triggered = false;
    if (rolling) {
      count = Math.min(samples, held);
      from = end - count;
    } else {
      if (held < samples || (this.#shownEnd >= 0 && end - this.#shownEnd < samples && trigger === null)) return undefined;
      from = end - samples;
      if (trigger !== null) {
        const t = this.#capture.channels.get(trigger.channel) ?? channels[0]!;
        const pre = Math.floor(samples * PRE_TRIGGER);
        const latest = end - (samples - pre);
        const edge = findEdge(t.ring, trigger.edge, fromUnits(t, trigger.level, physical), Math.max(latest - samples * 4, end - held + pre + 1), latest);
        if (edge !== undefined) {
          from = edge - pre;
          triggered = true;
          this.#lastTriggerAt = Date.now();
        } else if (Date.now() - this.#lastTriggerAt < AUTO_TRIGGER_MS) return undefined;
      }
    }
    this.#shownEnd = end;
    // A rolling window not yet full takes its share of the columns.
    const shown = Math.max(1, Math.round((columns * count) / samples));
    const reduce = count > 2 * shown;
    const arrays: Float32Array[] = [];
    const measurements: Record<string, unknown> = {};
    for (const c of channels) {
      const values = new Float32Array(count);
      c.ring.copy(from, values);
      toUnits(c, values, physical);
      measurements[c.channel.id] = measure(values, this.#capture.rate);
      arrays.push(reduce ? minMaxColumns(values, shown) : values);
    }
    return {
      header: {
        type: 'time', samples, count, from, columns, reduced: reduce, triggered, units,
        channels: channels.map((c) => ({ id: c.channel.id, scale: c.scale, offset: c.offset })), measurements,
      },
      arrays,
    };
  }

  #fft(channels: CaptureChannel[], end: number): Frame | undefined {
    const { fft, columns } = this.config;
    const complex = fft.complex && channels.length >= 2;
    const rate = this.#capture.rate ?? 1;
    if (!isWindowName(fft.window)) throw new RangeError(`unknown window "${fft.window}"`);
    const settings = { size: fft.size, window: fft.window, average: Math.max(1, fft.average), peakHold: fft.peakHold };
    const s = this.#spectrum;
    if (s === undefined || s.complex !== complex || this.#spectrumRate !== rate || JSON.stringify(s.settings) !== JSON.stringify(settings)) {
      this.#spectrum = new SpectrumTrace(settings, complex);
      this.#spectrumRate = rate;
    }
    const trace = this.#spectrum!;
    const [ic, qc] = channels as [CaptureChannel, CaptureChannel | undefined];
    if (end - ic.ring.start < fft.size) return undefined;
    this.#shownEnd = end;
    const i = new Float32Array(fft.size);
    ic.ring.copy(end - fft.size, i);
    let q: Float32Array | undefined;
    if (complex) {
      q = new Float32Array(fft.size);
      qc!.ring.copy(end - fft.size, q);
    }
    const { dbfs, hold } = trace.add(i, q, ic.fullScale);
    const frequency = (bin: number): number => trace.frequency(bin, rate);
    const peaks = SpectrumTrace.peaks(dbfs, Math.max(0, Math.min(10, fft.markers)), 3, frequency);
    const reduce = dbfs.length > 2 * columns;
    const arrays = [reduce ? maxColumns(dbfs, columns) : dbfs];
    if (hold !== undefined) arrays.push(reduce ? maxColumns(hold, columns) : hold);
    return {
      header: {
        type: 'spectrum', size: fft.size, bins: dbfs.length, complex, startHz: frequency(0), binHz: rate / fft.size,
        reduced: reduce, hold: hold !== undefined, peaks, channels: channels.slice(0, complex ? 2 : 1).map((c) => c.channel.id),
      },
      arrays,
    };
  }

  #xy(channels: CaptureChannel[], end: number): Frame | undefined {
    if (channels.length < 2) return undefined;
    const [xc, yc] = channels as [CaptureChannel, CaptureChannel];
    const n = Math.min(this.config.samples, MAX_XY_POINTS, end - xc.ring.start);
    if (n < 1) return undefined;
    this.#shownEnd = end;
    const physical = this.config.units === 'physical';
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    xc.ring.copy(end - n, x);
    yc.ring.copy(end - n, y);
    toUnits(xc, x, physical);
    toUnits(yc, y, physical);
    return { header: { type: 'xy', count: n, units: this.config.units, channels: [xc.channel.id, yc.channel.id] }, arrays: [x, y] };
  }
}
