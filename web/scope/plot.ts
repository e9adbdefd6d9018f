// Canvas drawing of the plots: a grid with labelled axes, traces (min/max columns or samples),
// vertical cursors and markers. Every plot is drawn whole each frame.

export const COLORS = ['#f5c542', '#4fc3f7', '#ef6f6c', '#7bd88f', '#c792ea', '#ffab70', '#82aaff', '#e6e6e6'];
export const MARGIN = { left: 64, right: 12, top: 10, bottom: 30 };

export interface Axis {
  min: number;
  max: number;
  label: string;
  format?: (v: number) => string;
}

/** Engineering format: 1.5 k, 250 m, 4 µ. */
export function eng(v: number, digits = 3): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const prefixes: Array<[number, string]> = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n']];
  const a = Math.abs(v);
  const [scale, prefix] = prefixes.find(([s]) => a >= s) ?? prefixes[prefixes.length - 1]!;
  return `${Number((v / scale).toPrecision(digits))} ${prefix}`;
}

export class Plot {
  readonly canvas: HTMLCanvasElement;
  readonly g: CanvasRenderingContext2D;
  x: Axis = { min: 0, max: 1, label: '' };
  y: Axis = { min: -1, max: 1, label: '' };

  constructor(canvas: HTMLCanvasElement) {
    this.canvas = canvas;
    this.g = canvas.getContext('2d')!;
  }

  /** Pixel columns of the plotting area. */
  get columns(): number {
    return this.canvas.width - MARGIN.left - MARGIN.right;
  }

  get rows(): number {
    return this.canvas.height - MARGIN.top - MARGIN.bottom;
  }

  px(x: number): number {
    return MARGIN.left + ((x - this.x.min) / (this.x.max - this.x.min || 1)) * this.columns;
  }

  py(y: number): number {
    return MARGIN.top + (1 - (y - this.y.min) / (this.y.max - this.y.min || 1)) * this.rows;
  }

  /** The x value at a pixel of the canvas. */
  xAt(pixel: number): number {
    return this.x.min + ((pixel - MARGIN.left) / this.columns) * (this.x.max - this.x.min);
  }

  clear(): void {
    const { g } = this;
    g.fillStyle = '#0f1620';
    g.fillRect(0, 0, this.canvas.width, this.canvas.height);
    g.strokeStyle = '#26323f';
    g.fillStyle = '#9fb3c8';
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 10; i++) {
      const x = MARGIN.left + (i * this.columns) / 10;
      g.beginPath(); g.moveTo(x + 0.5, MARGIN.top); g.lineTo(x + 0.5, MARGIN.top + this.rows); g.stroke();
      const v = this.x.min + (i * (this.x.max - this.x.min)) / 10;
      g.textAlign = 'center';
      if (i % 2 === 0) g.fillText((this.x.format ?? eng)(v), x, MARGIN.top + this.rows + 13);
    }
    for (let i = 0; i <= 8; i++) {
      const y = MARGIN.top + (i * this.rows) / 8;
      g.beginPath(); g.moveTo(MARGIN.left, y + 0.5); g.lineTo(MARGIN.left + this.columns, y + 0.5); g.stroke();
      const v = this.y.max - (i * (this.y.max - this.y.min)) / 8;
      g.textAlign = 'right';
      g.fillText((this.y.format ?? eng)(v), MARGIN.left - 4, y + 4);
    }
    g.textAlign = 'center';
    g.fillText(this.x.label, MARGIN.left + this.columns / 2, this.canvas.height - 3);
    g.save();
    g.translate(11, MARGIN.top + this.rows / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(this.y.label, 0, 0);
    g.restore();
  }

  /** min[0..n) then max[0..n) of a trace whose n columns span x0…x1. */
  minMax(data: Float32Array, color: string, x0: number, x1: number): void {
    const n = data.length / 2;
    const { g } = this;
    const left = this.px(x0);
    const width = this.px(x1) - left;
    g.strokeStyle = color;
    g.beginPath();
    for (let c = 0; c < n; c++) {
      const x = Math.floor(left + (c * width) / n) + 0.5;
      const lo = this.py(data[c]!);
      const hi = this.py(data[n + c]!);
      if (c === 0) g.moveTo(x, lo);
      else g.lineTo(x, lo);
      g.lineTo(x, Math.min(hi, lo - 0.5));
    }
    g.stroke();
  }

  /** A line through `values`, spread over x.min…x.max. */
  line(values: Float32Array, color: string, from = 0, step = 1): void {
    const { g } = this;
    g.strokeStyle = color;
    g.beginPath();
    for (let i = 0; i < values.length; i++) {
      const x = this.px(from + i * step);
      const y = this.py(values[i]!);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
    g.stroke();
  }

  points(xs: Float32Array, ys: Float32Array, color: string): void {
    const { g } = this;
    g.fillStyle = color;
    for (let i = 0; i < xs.length; i++) g.fillRect(this.px(xs[i]!) - 1, this.py(ys[i]!) - 1, 2, 2);
  }

  vertical(x: number, color: string, label: string): void {
    const { g } = this;
    const px = Math.round(this.px(x)) + 0.5;
    g.strokeStyle = color;
    g.setLineDash([4, 3]);
    g.beginPath(); g.moveTo(px, MARGIN.top); g.lineTo(px, MARGIN.top + this.rows); g.stroke();
    g.setLineDash([]);
    g.fillStyle = color;
    g.textAlign = 'left';
    g.fillText(label, px + 3, MARGIN.top + 12);
  }

  marker(x: number, y: number, color: string, label: string): void {
    const { g } = this;
    const px = this.px(x);
    const py = this.py(y);
    g.fillStyle = color;
    g.beginPath(); g.moveTo(px, py - 2); g.lineTo(px - 5, py - 10); g.lineTo(px + 5, py - 10); g.closePath(); g.fill();
    g.textAlign = 'center';
    g.fillText(label, px, py - 13);
  }
}

/**
 * A range that grows at once and shrinks only when the traces use less than half of it, so a
 * steady signal keeps a steady scale (and a triggered trace the same pixels).
 */
export class AutoRange {
  min = Infinity;
  max = -Infinity;

  update(lo: number, hi: number): { min: number; max: number } {
    if (!(hi > lo)) {
      hi = lo + 1;
      lo -= 1;
    }
    const pad = (hi - lo) * 0.08;
    const grow = lo - pad < this.min || hi + pad > this.max;
    const shrink = hi - lo < (this.max - this.min) / 2;
    if (grow || shrink || !Number.isFinite(this.min)) {
      this.min = Math.min(lo - pad, shrink ? Infinity : this.min);
      this.max = Math.max(hi + pad, shrink ? -Infinity : this.max);
    }
    return { min: this.min, max: this.max };
  }

  reset(): void {
    this.min = Infinity;
    this.max = -Infinity;
  }
}
