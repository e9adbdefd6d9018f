// The kfifo buffer (drivers/iio/buffer/kfifo_buf.c): a ring of whole scans. Every triggered
// buffer uses it. No DMABUF ops (ATTACH is EPERM, kernel-abi §2.3). Its kfifo holds
// roundup_pow_of_two(length) scans and is reallocated (or just emptied) at each enable. When it
// is full, store_to refuses the new scan: the newest samples are the ones lost (counted in
// `lost`). data_available is kfifo_len, i.e. in scans, not bytes.
import { kerr } from '../errno.js';
import { IioBuffer, type BufferMode } from './buffer.js';

const KFIFO_MODES: ReadonlySet<BufferMode> = new Set(['software', 'triggered']);

function roundupPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class KfifoBuffer extends IioBuffer {
  readonly kind = 'kfifo';
  readonly modes = KFIFO_MODES;
  readonly fixedWatermark = false;
  readonly supportsDmabuf = false;
  #updateNeeded = true;
  #ring: Uint8Array | undefined;
  #capacity = 0;
  #esize = 0;
  /** Scans ever put in / taken out (their difference is the fill level). */
  #in = 0;
  #out = 0;

  override setLength(length: number): void {
    const n = Math.max(2, length);
    if (n !== this.length) {
      this.length = n;
      this.#updateNeeded = true;
    }
  }

  override setBytesPerDatum(bytes: number): void {
    if (bytes !== this.bytesPerDatum) {
      this.bytesPerDatum = bytes;
      this.#updateNeeded = true;
    }
  }

  override requestUpdate(): void {
    if (this.#updateNeeded) {
      if (this.length === 0 || this.bytesPerDatum === 0) throw kerr('EINVAL');
      this.#capacity = roundupPowerOfTwo(this.length);
      this.#esize = this.bytesPerDatum;
      this.#ring = new Uint8Array(this.#capacity * this.#esize);
      this.#updateNeeded = false;
      this.#in = this.#out = 0;
    } else {
      this.#out = this.#in; // kfifo_reset_out: unread data is discarded
    }
  }

  override enable(): void {}
  override disable(): void {}

  /** Scans in the fifo. */
  get level(): number {
    return this.#in - this.#out;
  }

  /** Free room, in scans. */
  get room(): number {
    return this.#capacity - this.level;
  }

  override dataAvailable(): number {
    this.device.catchUp();
    return this.level;
  }

  override spaceAvailable(): number {
    this.device.catchUp();
    return this.room;
  }

  /** store_to: appends one scan (written by `render` into the slot); false when full. */
  store(render: (slot: Uint8Array) => void): boolean {
    if (this.#ring === undefined || this.room === 0) {
      this.lost++;
      return false;
    }
    const at = (this.#in % this.#capacity) * this.#esize;
    render(this.#ring.subarray(at, at + this.#esize));
    this.#in++;
    return true;
  }

  /** remove_from: takes the oldest scan out (for output consumers); undefined when empty. */
  remove(): Uint8Array | undefined {
    if (this.#ring === undefined || this.level === 0) return undefined;
    const at = (this.#out % this.#capacity) * this.#esize;
    this.#out++;
    return this.#ring.subarray(at, at + this.#esize);
  }

  override read(into: Uint8Array): number {
    this.device.catchUp();
    if (this.#ring === undefined || into.length < this.#esize) throw kerr('EINVAL');
    const scans = Math.min(Math.floor(into.length / this.#esize), this.level);
    for (let i = 0; i < scans; i++) {
      const at = (this.#out % this.#capacity) * this.#esize;
      into.set(this.#ring.subarray(at, at + this.#esize), i * this.#esize);
      this.#out++;
    }
    return scans * this.#esize;
  }

  override write(from: Uint8Array): number {
    this.device.catchUp();
    if (this.#ring === undefined || from.length < this.#esize) throw kerr('EINVAL');
    const scans = Math.min(Math.floor(from.length / this.#esize), this.room);
    for (let i = 0; i < scans; i++) {
      const at = (this.#in % this.#capacity) * this.#esize;
      this.#ring.set(from.subarray(i * this.#esize, (i + 1) * this.#esize), at);
      this.#in++;
    }
    return scans * this.#esize;
  }
}
