// Live progress of a long operation on stderr — samples, bytes, throughput — redrawn in place
// a few times a second, and a summary line at the end. Only on a terminal: stdout carries data,
// and a log file or pipe on stderr should not fill up with redraws.
import type { Writable } from 'node:stream';

const REDRAW_MS = 250;

/** 1234567 → "1.23 M"; below 1000 as is. */
export function si(n: number): string {
  // 999.5 and up print as 1.00 of the next unit, not as "1.00e+3".
  if (n < 999.5) return `${n < 100 ? Math.round(n * 100) / 100 : Math.round(n)} `;
  const units = ['k', 'M', 'G', 'T'];
  let i = -1;
  while (n >= 999.5 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toPrecision(3)} ${units[i]}`;
}

export class Progress {
  #samples = 0;
  #bytes = 0;
  readonly #start = performance.now();
  readonly #timer: ReturnType<typeof setInterval> | undefined;

  /** Shows progress on `stderr` if it is a terminal; otherwise counts silently. */
  constructor(private readonly stderr: Writable & { isTTY?: boolean }, private readonly label: string) {
    if (stderr.isTTY !== true) return;
    this.#timer = setInterval(() => this.#draw(), REDRAW_MS);
    this.#timer.unref();
  }

  add(samples: number, bytes: number): void {
    this.#samples += samples;
    this.#bytes += bytes;
  }

  /** Stops redrawing; on a terminal, replaces the line with a summary. */
  done(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.stderr.write(`\r\x1b[K${this.#line()}\n`);
  }

  #draw(): void {
    this.stderr.write(`\r\x1b[K${this.#line()}`);
  }

  #line(): string {
    const s = Math.max((performance.now() - this.#start) / 1000, 1e-6);
    return `${this.label}: ${si(this.#samples)}samples, ${si(this.#bytes)}B in ${s.toFixed(1)} s` +
      ` (${si(this.#bytes / s)}B/s, ${si(this.#samples / s)}samples/s)`;
  }
}
