// struct iio_dma_buffer_block: one unit of DMA work, either one of the two file I/O blocks of a
// DMA buffer (its own memory) or the block of an attached DMABUF (the DMABUF's memory).
import type { DmaFence } from '../dma-fence.js';
import type { DmaBuf } from '../dma-buf.js';
import type { IioAttachment } from './attachment.js';

/** IIO_BLOCK_STATE_*: waiting on the incoming list, with the DMA engine, done, or being freed. */
export type BlockState = 'queued' | 'active' | 'done' | 'dead';

export class DmaBlock {
  state: BlockState = 'done';
  bytesUsed = 0;
  cyclic = false;
  /** DMABUF blocks: the fence of the current transfer. */
  fence: DmaFence | undefined;
  /** DMABUF blocks: the attachment whose reference the current transfer holds. */
  attachment: IioAttachment | undefined;
  readonly #own: Uint8Array | undefined;

  private constructor(
    readonly size: number,
    readonly fileio: boolean,
    readonly dmaBuf: DmaBuf | undefined,
  ) {
    this.#own = dmaBuf === undefined ? new Uint8Array(size) : undefined;
  }

  static fileio(size: number): DmaBlock {
    return new DmaBlock(size, true, undefined);
  }

  static dmabuf(dmaBuf: DmaBuf): DmaBlock {
    return new DmaBlock(dmaBuf.size, false, dmaBuf);
  }

  /** The memory of [0, length) as a scatterlist; fresh views each time (never keep them). */
  segments(length = this.bytesUsed): Uint8Array[] {
    if (this.dmaBuf !== undefined) return this.dmaBuf.segments(0, length);
    return [this.#own!.subarray(0, length)];
  }

  /** File I/O blocks: their memory. */
  get memory(): Uint8Array {
    if (this.#own === undefined) throw new Error('a DMABUF block has no memory of its own');
    return this.#own;
  }
}
