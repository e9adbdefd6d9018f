// The generator of output devices (IIO Oscilloscope's DDS/DAC buffer modes, Scopy's DAC plugin):
// a tone per channel (frequency, amplitude as a fraction of full scale, phase; an I/Q pair gets
// one complex tone, Q lagging I by 90°) or a file (CSV, one column per channel, no header, or
// raw scans in the buffer's layout), played as one cyclic block the hardware repeats or streamed
// block after block. A tone's block holds a whole number of periods, so the frequency played is
// the nearest one that repeats seamlessly; the answer says which.
import type { BufferStream } from '../core/buffer-stream.js';
import { layoutOf } from '../core/buffer.js';
import type { Device } from '../core/device.js';
import { isIqPairs } from '../sigmf/recording.js';

export interface Tone {
  frequency: number;
  /** 0…1 of full scale. */
  amplitude: number;
  /** Degrees. */
  phase: number;
}

export type GeneratorSource =
  | { kind: 'tone'; tones: Tone[] }
  | { kind: 'csv'; text: string }
  | { kind: 'raw'; bytes: Uint8Array };

export interface GeneratorRequest {
  channels: string[];
  mode: 'cyclic' | 'streamed';
  source: GeneratorSource;
}

export interface GeneratorStatus {
  device: string;
  channels: string[];
  mode: 'cyclic' | 'streamed';
  samples: number;
  /** Tones: the frequencies played (Hz). */
  frequencies?: number[];
  rate: number | undefined;
}

/** Longest block a file or tone is played in at once. */
export const MAX_GENERATOR_SAMPLES = 1 << 22;
const STREAM_BLOCK = 4096;

/** The block length (≤ 65536, a multiple of 4) whose whole periods come nearest `frequency` at `rate`. */
export function toneLength(frequency: number, rate: number): { length: number; cycles: number } {
  if (!(frequency > 0 && frequency < rate / 2)) throw new RangeError(`a tone's frequency must be above 0 and below half the rate (${rate / 2} Hz), got ${frequency}`);
  let best = { length: 0, cycles: 0, error: Infinity };
  for (let length = 1024; length <= 65536; length += 4) {
    const cycles = Math.round((frequency * length) / rate);
    if (cycles === 0) continue;
    const error = Math.abs((cycles * rate) / length - frequency);
    if (error < best.error - 1e-9) best = { length, cycles, error };
  }
  if (best.cycles === 0) throw new RangeError(`a tone of ${frequency} Hz needs more than 65536 samples at ${rate} Hz`);
  return best;
}

function fullScale(device: Device, id: string): number {
  const t = device.channel(id, 'out').scanElement?.type;
  return t === undefined ? 32767 : 2 ** (t.realBits - (t.signed ? 1 : 0)) - 1;
}

/** Columns of numbers from CSV text (commas, semicolons or blanks between values; no header). */
export function parseCsvColumns(text: string, width: number): Float64Array[] {
  const rows = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (rows.length === 0) throw new RangeError('the CSV file holds no rows');
  if (rows.length > MAX_GENERATOR_SAMPLES) throw new RangeError(`the CSV file holds ${rows.length} rows; at most ${MAX_GENERATOR_SAMPLES} are played`);
  const columns = Array.from({ length: width }, () => new Float64Array(rows.length));
  rows.forEach((row, r) => {
    const cells = row.split(/[,;\s]+/);
    if (cells.length !== width) throw new RangeError(`CSV line ${r + 1} has ${cells.length} values, ${width} channels are played: one column per channel`);
    cells.forEach((cell, c) => {
      const v = Number(cell);
      if (!Number.isFinite(v)) throw new RangeError(`CSV line ${r + 1}, column ${c + 1}: ${JSON.stringify(cell)} is not a number`);
      columns[c]![r] = v;
    });
  });
  return columns;
}

export class Generator {
  readonly device: Device;
  readonly status: GeneratorStatus;
  readonly #stream: BufferStream;
  readonly #done: Promise<void>;
  #stopped = false;

  private constructor(device: Device, stream: BufferStream, status: GeneratorStatus, play: (g: Generator) => Promise<void>) {
    this.device = device;
    this.#stream = stream;
    this.status = status;
    this.#done = play(this).catch((e: unknown) => {
      if (!this.#stopped) throw e;
    });
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Resolves when playing failed or stopped; rejects with the failure. */
  get done(): Promise<void> {
    return this.#done;
  }

  static async start(device: Device, request: GeneratorRequest, rate: number | undefined): Promise<Generator> {
    const buffer = device.buffers.find((b) => b.output);
    if (buffer === undefined) throw new Error(`${device.toString()} has no output buffer to play on`);
    const channels = request.channels.length === 0 ? buffer.channels.map((c) => c.id) : request.channels.map((id) => device.channel(id, 'out').id);
    const { source } = request;
    let columns: ArrayLike<number>[] | undefined;
    let frequencies: number[] | undefined;
    let raw: Uint8Array | undefined;
    if (source.kind === 'tone') {
      if (rate === undefined) throw new Error(`${device.toString()} has no sampling_frequency: a tone's frequency means nothing without it`);
      ({ columns, frequencies } = toneColumns(device, channels, source.tones, rate));
    } else if (source.kind === 'csv') columns = parseCsvColumns(source.text, channels.length);
    else raw = source.bytes;
    const cyclic = request.mode === 'cyclic';
    const scanBytes = layoutOf(buffer.channels.filter((c) => channels.includes(c.id))).scanBytes;
    if (raw !== undefined && raw.length % scanBytes !== 0) throw new RangeError(`the raw file holds ${raw.length} bytes, not a whole number of ${scanBytes}-byte scans of ${channels.join(', ')}`);
    const samples = columns?.[0]?.length ?? raw!.length / scanBytes;
    if (samples === 0) throw new RangeError('nothing to play: the file is empty');
    if (samples > MAX_GENERATOR_SAMPLES) throw new RangeError(`the file holds ${samples} samples; at most ${MAX_GENERATOR_SAMPLES} are played`);
    const stream = await buffer.open({ channels, blockSize: cyclic ? samples : Math.min(samples, STREAM_BLOCK), blocks: cyclic ? 1 : 4, cyclic });
    const status: GeneratorStatus = { device: device.id, channels, mode: request.mode, samples, rate, ...(frequencies === undefined ? {} : { frequencies }) };
    const data = (from: number, to: number) => raw !== undefined
      ? raw.subarray(from * stream.layout.scanBytes, to * stream.layout.scanBytes)
      : Object.fromEntries(channels.map((id, i) => [id, (columns![i]! as Float64Array).subarray(from, to)]));
    return new Generator(device, stream, status, async (g) => {
      if (cyclic) {
        await stream.writeCyclic(data(0, samples));
        return;
      }
      // Streamed: the blocks go round the hardware again and again, until stopped.
      while (!g.stopped) {
        for (let at = 0; at < samples && !g.stopped; at += stream.blockSize) await stream.write(data(at, Math.min(samples, at + stream.blockSize)));
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#stream.close();
    await this.#done.catch(() => undefined);
  }
}

function toneColumns(device: Device, channels: readonly string[], tones: readonly Tone[], rate: number): { columns: Int32Array[]; frequencies: number[] } {
  const iq = isIqPairs(channels);
  const count = iq ? channels.length / 2 : channels.length;
  if (tones.length !== count) throw new RangeError(`${count} tone(s) needed for ${channels.join(', ')}${iq ? ' (one per I/Q pair)' : ''}, got ${tones.length}`);
  tones.forEach((t, i) => {
    if (!(t.amplitude >= 0 && t.amplitude <= 1)) throw new RangeError(`tone ${i + 1}: amplitude must be 0…1 of full scale, got ${t.amplitude}`);
    if (!Number.isFinite(t.phase)) throw new RangeError(`tone ${i + 1}: phase must be a number of degrees, got ${t.phase}`);
  });
  // One block for all the tones: the length that fits the first best; the others are rounded to it.
  const { length } = toneLength(tones[0]!.frequency, rate);
  const frequencies = tones.map((t) => (Math.max(1, Math.round((t.frequency * length) / rate)) * rate) / length);
  const columns = channels.map(() => new Int32Array(length));
  tones.forEach((t, k) => {
    const w = (2 * Math.PI * frequencies[k]!) / rate;
    const phase = (t.phase * Math.PI) / 180;
    const ids = iq ? [channels[2 * k]!, channels[2 * k + 1]!] : [channels[k]!];
    ids.forEach((id, j) => {
      const a = t.amplitude * fullScale(device, id);
      const out = columns[channels.indexOf(id)]!;
      for (let n = 0; n < length; n++) out[n] = Math.round(a * (j === 0 ? Math.cos(w * n + phase) : Math.sin(w * n + phase)));
    });
  });
  return { columns, frequencies };
}
