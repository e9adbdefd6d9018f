// struct iio_dmabuf_priv: a DMABUF attached to an IIO buffer. The buffer's list holds one
// reference and every enqueued transfer one more, dropped after its fence has signalled, so a
// DETACH (or closing the buffer fd) never cancels a transfer (kernel-abi §2.5). The last
// reference releases the block (DEAD) and the dma-buf attachment.
import type { DmaBufAttachment } from '../dma-buf.js';
import { FenceTimeline } from '../dma-fence.js';
import type { DmaBlock } from './block.js';

export class IioAttachment {
  /** One fence context per attachment, sequence numbers per transfer (kernel-abi §2.9). */
  readonly timeline = new FenceTimeline('iio', 'iio');
  #refs = 1;

  constructor(
    readonly handle: DmaBufAttachment,
    readonly block: DmaBlock,
    private readonly onRelease: (attachment: IioAttachment) => void,
  ) {}

  get dmaBuf() {
    return this.handle.dmaBuf;
  }

  get(): this {
    this.#refs++;
    return this;
  }

  put(): void {
    if (--this.#refs > 0) return;
    this.onRelease(this);
    this.handle.detach();
  }
}
