// The latest samples of one channel, as the capture took them at full rate: a ring the frames
// read from (time windows, trigger search, FFT input) without ever holding the capture up.
// Positions are absolute sample numbers since the capture started.

export class SampleRing {
  readonly capacity: number;
  readonly #data: Float32Array;
  /** Samples pushed since the capture started: the position after the newest. */
  #end = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#data = new Float32Array(capacity);
  }

  get end(): number {
    return this.#end;
  }

  /** The oldest position still held. */
  get start(): number {
    return Math.max(0, this.#end - this.capacity);
  }

  push(values: ArrayLike<number>, from = 0, to = values.length): void {
    for (let i = from; i < to; i++) this.#data[(this.#end + i - from) % this.capacity] = values[i]!;
    this.#end += to - from;
  }

  at(position: number): number {
    return this.#data[position % this.capacity]!;
  }

  /** Positions [from, from + out.length) into `out`; from must be within [start, end - out.length]. */
  copy(from: number, out: Float32Array | Float64Array): void {
    if (from < this.start || from + out.length > this.#end) throw new RangeError(`samples [${from}, ${from + out.length}) are not held (the ring holds [${this.start}, ${this.#end}))`);
    const first = from % this.capacity;
    const head = Math.min(out.length, this.capacity - first);
    out.set(this.#data.subarray(first, first + head));
    if (head < out.length) out.set(this.#data.subarray(0, out.length - head), head);
  }
}
