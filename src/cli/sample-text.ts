// Captured scans as text: CSV (a header of channel ids, one row per scan) or JSON Lines (one
// object per scan, keyed by channel id). Raw integers by default; physical values,
// (raw + offset) × scale (src/samples/units.ts), for channels that have a scale or offset,
// printed to the decimal places their scale and offset give them (physicalDecimals).
// Integers are printed exactly, 64-bit ones too (as JSON number literals).
import type { Channel } from '../core/channel.js';
import type { BlockLayout } from '../samples/block-layout.js';
import type { SampleArray } from '../samples/kinds.js';
import { physicalDecimals, type PhysicalArray } from '../samples/units.js';

export type TextFormat = 'csv' | 'json';

interface Column {
  /** The channel's id, and which of its repeated values (`id[r]` when it repeats). */
  name: string;
  channel: string;
  repeat: number;
  slot: number;
  conversion: { scale?: number; offset?: number } | undefined;
  text: (value: number | bigint) => string;
}

export class ScanText {
  readonly #columns: Column[];
  readonly #layout: BlockLayout;
  readonly #format: TextFormat;
  readonly #keys: string[];

  constructor(format: TextFormat, layout: BlockLayout, channels: readonly Channel[], physical: boolean) {
    this.#format = format;
    this.#layout = layout;
    const byId = new Map(channels.map((c) => [c.id, c]));
    this.#columns = layout.channels.flatMap((ch) => {
      const scan = byId.get(ch.id)?.scanElement;
      const hasConversion = scan !== undefined && (scan.scale !== undefined || scan.offset !== undefined);
      const conversion = physical && hasConversion ? { ...(scan.scale === undefined ? {} : { scale: scan.scale }), ...(scan.offset === undefined ? {} : { offset: scan.offset }) } : undefined;
      const text = conversion === undefined ? String : physicalText(physicalDecimals(conversion));
      return Array.from({ length: ch.repeat }, (_, slot) => ({
        name: ch.repeat === 1 ? ch.id : `${ch.id}[${slot}]`, channel: ch.id, repeat: ch.repeat, slot, conversion, text,
      }));
    });
    this.#keys = this.#columns.map((c) => `${JSON.stringify(c.name)}:`);
  }

  /** What comes before the first scan: the CSV header line. */
  header(): string {
    return this.#format === 'csv' ? `${this.#columns.map((c) => csvField(c.name)).join(',')}\n` : '';
  }

  /** The lines of the whole scans in `bytes`. */
  lines(bytes: Uint8Array): string {
    const values = new Map<string, SampleArray | PhysicalArray>();
    for (const c of this.#columns) {
      if (values.has(c.channel)) continue;
      values.set(c.channel, c.conversion === undefined ? this.#layout.samples(bytes, c.channel) : this.#layout.physical(bytes, c.channel, c.conversion));
    }
    const scans = this.#layout.scanCount(bytes);
    const columns = this.#columns.map((c) => ({ values: values.get(c.channel)!, repeat: c.repeat, slot: c.slot, text: c.text }));
    const out: string[] = [];
    const row: string[] = new Array<string>(columns.length);
    for (let n = 0; n < scans; n++) {
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i]!;
        row[i] = c.text(c.values[n * c.repeat + c.slot]!);
      }
      out.push(this.#format === 'csv' ? row.join(',') : `{${row.map((v, i) => this.#keys[i] + v).join(',')}}`);
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}

/** Physical values rounded to `decimals` places, in their shortest text (toFixed takes up to 100). */
function physicalText(decimals: number): (value: number | bigint) => string {
  return decimals <= 100 ? (value) => String(Number((value as number).toFixed(decimals))) : String;
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
