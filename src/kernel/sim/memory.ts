// Pages: the memory behind memfds and DMABUFs. Simulated DMA reads and writes it directly and
// mmap() hands out views of it, so data moves with no copy. When the last mapping goes away the
// backing ArrayBuffer moves to a new owner object (a transfer, not a copy), which detaches every
// view the program still holds, as munmap makes the real pages unreachable. Kernel code therefore
// never keeps views: it asks for one (view()) each time it touches the memory.
import { kerr } from './errno.js';

interface ResizableArrayBuffer extends ArrayBuffer {
  resize(length: number): void;
  readonly maxByteLength: number;
}

const ResizableArrayBuffer = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/** The largest memfd the sim backs (address space is reserved up front, memory is not). */
export const MEMORY_LIMIT = 1 << 30;

export class Memory {
  #buffer: ResizableArrayBuffer;
  #mappings = 0;

  /** `maxSize` bounds growth; fixed-size memory (a DMA heap buffer) passes `size` and reserves no more. */
  constructor(size: number, maxSize = Math.max(size, MEMORY_LIMIT)) {
    this.#buffer = new ResizableArrayBuffer(size, { maxByteLength: maxSize });
  }

  get size(): number {
    return this.#buffer.byteLength;
  }

  /** Live mmap()s of this memory. */
  get mappings(): number {
    return this.#mappings;
  }

  resize(size: number): void {
    if (size > this.#buffer.maxByteLength) throw kerr('EFBIG', `the sim backs at most ${MEMORY_LIMIT} bytes per file`);
    this.#buffer.resize(size);
  }

  /** A view for kernel use now; do not keep it past the current operation. */
  view(offset = 0, length = this.size - offset): Uint8Array {
    return new Uint8Array(this.#buffer, offset, length);
  }

  /** A view for mmap(): counted until unmap(). */
  map(offset: number, length: number): Uint8Array {
    this.#mappings++;
    return this.view(offset, length);
  }

  unmap(): void {
    if (--this.#mappings > 0) return;
    this.#buffer = structuredClone(this.#buffer, { transfer: [this.#buffer] }) as ResizableArrayBuffer;
  }
}
