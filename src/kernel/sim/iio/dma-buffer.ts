// The IIO DMA buffer (industrialio-buffer-dma.c, as the dmaengine buffer uses it): a queue of
// blocks between the IIO core and a DMA engine. In file I/O mode it splits `length` into two
// blocks that read()/write() walk through; in DMABUF mode each attached DMABUF is a block that
// ENQUEUE hands to the engine (kernel-abi §1.3, §2.3–§2.11). Hardware mode only, fixed watermark,
// length at least 2 (watermark = length / 2), initial length PAGE_SIZE.
import { errnoOf } from '../../../errors.js';
import { kerr } from '../errno.js';
import type { DmaFence } from '../dma-fence.js';
import type { DmaBuf } from '../dma-buf.js';
import type { BufferSpec } from '../scenario-types.js';
import { IioBuffer, type BufferMode } from './buffer.js';
import type { IioAttachment } from './attachment.js';
import { DmaBlock } from './block.js';
import type { IioDevice } from './device.js';
import { DmaEngine } from './dma-engine.js';
import { KernelOops } from './oops.js';

const DMA_MODES: ReadonlySet<BufferMode> = new Set(['hardware']);
const EINTR = -errnoOf('EINTR');

function pageAlign(n: number, page: number): number {
  return Math.ceil(n / page) * page;
}

export class DmaBuffer extends IioBuffer {
  readonly kind = 'dma';
  readonly modes = DMA_MODES;
  readonly fixedWatermark = true;
  readonly supportsDmabuf = true;
  readonly engine: DmaEngine;
  /** queue->fileio.enabled: enabled without DMABUFs and not disabled since. */
  fileioEnabled = false;
  /** The two file I/O blocks; null once freed (after a DMABUF attach, or device removal). */
  #blocks: [DmaBlock, DmaBlock] | null = null;
  #activeBlock: DmaBlock | null = null;
  #pos = 0;
  #nextDequeue = 0;
  #blockSize = 0;
  #incoming: DmaBlock[] = [];
  /** queue->active: between enable and disable. */
  #queueActive = false;
  /** iio_dma_buffer_exit ran (queue->ops == NULL): submitted blocks go to limbo. */
  #exited = false;
  /** DMABUF blocks alive (queue->num_dmabufs): file I/O stays off while any exist. */
  numDmabufs = 0;

  constructor(device: IioDevice, index: number, spec: BufferSpec) {
    super(device, index, spec);
    this.length = device.ctx.pageSize;
    this.watermark = this.length / 2;
    this.engine = new DmaEngine(device, this);
  }

  override setLength(length: number): void {
    const n = Math.max(2, length);
    this.length = n;
    this.watermark = Math.floor(n / 2);
  }

  /** File I/O mode possible: already on, or no DMABUF block exists. */
  #canUseFileio(): boolean {
    return this.fileioEnabled || this.numDmabufs === 0;
  }

  override requestUpdate(): void {
    const size = Math.ceil((this.bytesPerDatum * this.length) / 2);
    this.fileioEnabled = this.#canUseFileio();
    if (!this.fileioEnabled) return;
    const page = this.device.ctx.pageSize;
    const tryReuse = pageAlign(this.#blockSize, page) === pageAlign(size, page);
    this.#blockSize = size;
    this.#activeBlock = null;
    this.#incoming = [];
    const blocks: DmaBlock[] = [];
    for (let i = 0; i < 2; i++) {
      let block = this.#blocks?.[i];
      if (block !== undefined && (!tryReuse || (block.state !== 'queued' && block.state !== 'done'))) {
        block.state = 'dead'; // still with the engine: it completes into nothing
        block = undefined;
      }
      block ??= DmaBlock.fileio(size);
      block.bytesUsed = block.size;
      if (this.direction === 'in') {
        block.state = 'queued';
        this.#incoming.push(block);
      } else {
        block.state = 'done';
      }
      blocks.push(block);
    }
    this.#blocks = [blocks[0]!, blocks[1]!];
    this.#nextDequeue = 0;
  }

  override enable(): void {
    this.#queueActive = true;
    this.engine.start();
    const incoming = this.#incoming.splice(0);
    for (const block of incoming) this.#submit(block);
  }

  override disable(): void {
    this.#queueActive = false;
    if (!this.#exited) this.#abort(this.engine.abort());
  }

  /** Device removal (iio_dma_buffer_exit): frees file I/O, empties the incoming list, stops submits. */
  override exit(): void {
    this.#fileioFree();
    this.#exited = true;
  }

  #submit(block: DmaBlock): void {
    if (this.#exited) return; // the hardware is gone: the block stays in limbo forever
    block.state = 'active';
    // iio_dma_buffer_submit_block: a refused block's fence fails at once (inside ENQUEUE when
    // the buffer is enabled), and the block stays ACTIVE: 6.12 never takes it back, so it cannot
    // be queued again (EBUSY), even after a disable (verified in the lab, test/lab/module.test.ts).
    const refused = this.engine.takeSubmitError();
    if (refused !== undefined) {
      if (!block.fileio) this.#signal(block, refused);
      return;
    }
    this.engine.submit(block);
  }

  /** iio_dma_buffer_block_done: called by the engine; `error` is 0 or a negative errno. */
  blockDone(block: DmaBlock, error: number): void {
    if (block.state !== 'dead') block.state = 'done';
    if (!block.fileio) this.#signal(block, error);
    this.wake();
  }

  /** iio_dma_buffer_block_list_abort: the engine's in-flight blocks, aborted by a disable. */
  #abort(blocks: DmaBlock[]): void {
    for (const block of blocks) {
      block.bytesUsed = 0;
      if (block.state !== 'dead') block.state = 'done';
      if (!block.fileio) this.#signal(block, EINTR);
    }
    this.fileioEnabled = false;
    this.wake();
  }

  #signal(block: DmaBlock, error: number): void {
    const fence = block.fence;
    const attachment = block.attachment;
    block.fence = undefined;
    block.attachment = undefined;
    fence?.signal(error);
    attachment?.put(); // iio_buffer_cleanup: the transfer's reference
  }

  /** iio_dma_buffer_enqueue: back to the engine, or onto the incoming list while disabled. */
  #enqueue(block: DmaBlock): void {
    if (block.state === 'dead') return;
    if (this.#queueActive) {
      this.#submit(block);
    } else {
      block.state = 'queued';
      this.#incoming.push(block);
    }
  }

  #fileioFree(): void {
    for (const block of this.#blocks ?? []) block.state = 'dead';
    this.#incoming = []; // DMABUF blocks waiting for enable are dropped too (kernel-abi §2.4)
    this.#blocks = null;
    this.#activeBlock = null;
  }

  // ---- DMABUF ops ---------------------------------------------------------------------------

  /** iio_dma_buffer_attach_dmabuf: EBUSY in file I/O mode; frees the file I/O blocks. */
  attachDmabuf(dmaBuf: DmaBuf): DmaBlock {
    if (this.fileioEnabled) throw kerr('EBUSY', 'the buffer is enabled in file I/O mode');
    const block = DmaBlock.dmabuf(dmaBuf);
    this.numDmabufs++;
    this.#fileioFree();
    return block;
  }

  /** iio_dma_buffer_detach_dmabuf + the block's release. */
  detachDmabuf(block: DmaBlock): void {
    block.state = 'dead';
    this.numDmabufs--;
  }

  /** iio_dma_buffer_enqueue_dmabuf (steps 12–13 of kernel-abi §2.6). */
  enqueueDmabuf(block: DmaBlock, fence: DmaFence, attachment: IioAttachment, bytesUsed: number, cyclic: boolean): void {
    if (this.fileioEnabled) throw kerr('EBUSY', 'the buffer is in file I/O mode');
    if (block.state === 'queued') throw kerr('EPERM', 'this DMABUF is already queued, waiting for enable');
    if (block.state === 'active' || block.state === 'dead') throw kerr('EBUSY', 'this DMABUF is still being transferred');
    block.bytesUsed = bytesUsed;
    block.cyclic = cyclic; // stored and ignored, like mainline's dmaengine buffer (§2.7)
    block.fence = fence;
    block.attachment = attachment;
    this.#enqueue(block);
  }

  // ---- file I/O -----------------------------------------------------------------------------

  #dequeue(syscall: string): DmaBlock | null {
    if (this.#blocks === null) {
      const oops = new KernelOops(syscall, 'iio_dma_buffer_dequeue (iio_dma_buffer_io+0x70)');
      this.wedged = oops;
      throw oops;
    }
    const block = this.#blocks[this.#nextDequeue]!;
    if (block.state !== 'done') return null;
    this.#nextDequeue = (this.#nextDequeue + 1) % 2;
    return block;
  }

  #io(data: Uint8Array, toDevice: boolean): number {
    if (data.length < this.bytesPerDatum) throw kerr('EINVAL');
    let block = this.#activeBlock;
    if (block === null) {
      block = this.#dequeue(toDevice ? 'write' : 'read');
      if (block === null) return 0;
      this.#pos = 0;
      this.#activeBlock = block;
    }
    let n = data.length - (data.length % this.bytesPerDatum);
    n = Math.min(n, block.bytesUsed - this.#pos);
    const memory = block.memory;
    if (toDevice) memory.set(data.subarray(0, n), this.#pos);
    else data.set(memory.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    if (this.#pos === block.bytesUsed) {
      this.#activeBlock = null;
      this.#enqueue(block);
    }
    return n;
  }

  override read(into: Uint8Array): number {
    return this.#io(into, false);
  }

  override write(from: Uint8Array): number {
    return this.#io(from, true);
  }

  /** iio_dma_buffer_usage: bytes of file I/O blocks ready for the application (0 in DMABUF mode). */
  #usage(): number {
    if (this.#blocks === null) return 0;
    let bytes = this.#activeBlock?.size ?? 0;
    for (const block of this.#blocks) {
      if (block !== this.#activeBlock && block.state === 'done') bytes += block.size;
    }
    return bytes;
  }

  override dataAvailable(): number {
    this.device.ctx.scheduler.runDue();
    return this.#usage();
  }

  override spaceAvailable(): number {
    this.device.ctx.scheduler.runDue();
    return this.#usage();
  }

  /** DMABUF mode: the file I/O blocks are gone, so read()/write() would oops. */
  get dmabufMode(): boolean {
    return this.#blocks === null;
  }

  /** Blocks waiting on the incoming list (for tests and the control API). */
  get queuedBlocks(): number {
    return this.#incoming.length;
  }
}
