// struct iio_buffer: what every IIO buffer implementation shares (industrialio-buffer.c). The
// length/watermark/enable/scan-element state the sysfs attributes act on, the busy bit of its
// buffer fd, the DMABUF attachment list, and the poll wait queue. Implementations (kfifo.ts,
// dma-buffer.ts) provide the access functions.
import type { BufferSpec } from '../scenario-types.js';
import { WaitQueue } from '../wait.js';
import type { KernelError } from '../errno.js';
import type { IioAttachment } from './attachment.js';
import type { IioDevice } from './device.js';

/** INDIO_BUFFER_TRIGGERED / _HARDWARE / _SOFTWARE. */
export type BufferMode = 'triggered' | 'hardware' | 'software';

export abstract class IioBuffer {
  /** The buffer's wait queue (buffer->pollq): woken when data or space may have appeared. */
  readonly pollq = new WaitQueue();
  length = 2;
  watermark = 1;
  bytesPerDatum = 0;
  /** Scan indices whose `_en` is 1 (the timestamp is kept apart, as the kernel does). */
  readonly scanMask = new Set<number>();
  scanTimestamp = false;
  /** IIO_BUSY_BIT_POS: a buffer fd for this buffer is open. */
  busy = false;
  /** On the device's list of active buffers (`enable` reads 1). */
  active = false;
  /** DMABUFs attached through buffer fds (buffer->dmabufs). */
  readonly dmabufs: IioAttachment[] = [];
  /** Set by a kernel oops in this buffer's code: every later operation on it fails the same way. */
  wedged: KernelError | undefined;
  /** Scans the hardware produced (or wanted) that the buffer could not take: a sim counter. */
  lost = 0;

  constructor(
    readonly device: IioDevice,
    readonly index: number,
    readonly spec: BufferSpec,
  ) {}

  get direction(): 'in' | 'out' {
    return this.spec.direction;
  }

  abstract readonly kind: 'kfifo' | 'dma';
  /** The access functions' modes (access->modes). */
  abstract readonly modes: ReadonlySet<BufferMode>;
  /** INDIO_BUFFER_FLAG_FIXED_WATERMARK: `watermark` is read-only. */
  abstract readonly fixedWatermark: boolean;
  /** Has attach/detach/enqueue_dmabuf. */
  abstract readonly supportsDmabuf: boolean;

  /** access->set_length. */
  abstract setLength(length: number): void;
  /** access->set_bytes_per_datum. */
  setBytesPerDatum(bytes: number): void {
    this.bytesPerDatum = bytes;
  }
  /** access->request_update, called before the buffer goes active. */
  abstract requestUpdate(): void;
  /** access->enable / disable (after / before the device starts or stops sampling). */
  abstract enable(): void;
  abstract disable(): void;
  /** access->data_available (the kfifo counts scans, the DMA buffer bytes). */
  abstract dataAvailable(): number;
  /** access->space_available. */
  abstract spaceAvailable(): number;
  /** access->read: copies out whole scans, 0 when nothing is there. */
  abstract read(into: Uint8Array): number;
  /** access->write: copies in whole scans, 0 when there is no room. */
  abstract write(from: Uint8Array): number;
  /** Device removal: drop what the implementation still holds (iio_dma_buffer_exit). */
  exit(): void {}

  /** Throws the oops error if this buffer was wedged by one. */
  checkWedged(): void {
    if (this.wedged !== undefined) throw this.wedged;
  }

  wake(): void {
    this.pollq.wake();
  }
}
