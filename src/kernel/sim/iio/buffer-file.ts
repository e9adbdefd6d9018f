// The buffer fd (anon_inode:iio:buffer) that IIO_BUFFER_GET_FD_IOCTL returns (kernel-abi
// §1.2–§1.3, §2): read/write/poll in file I/O mode, the DMABUF ioctls (anything else is EINVAL),
// and a release that detaches every DMABUF without cancelling or disabling anything.
import { IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_DETACH_IOCTL, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, O_RDWR } from '../../../abi/index.js';
import { kerr } from '../errno.js';
import { SimFile, type IoctlArg } from '../file.js';
import type { IioBuffer } from './buffer.js';
import { bufferPoll, bufferRead, bufferWrite } from './buffer-io.js';
import type { IioDevice } from './device.js';
import { attachDmabuf, detachDmabuf, enqueueDmabuf } from './dmabuf-ops.js';

export class BufferFile extends SimFile {
  readonly name = 'anon_inode:iio:buffer';
  readonly #unsubscribe: () => void;

  constructor(
    readonly device: IioDevice,
    readonly buffer: IioBuffer,
  ) {
    super(O_RDWR);
    device.holders++;
    this.#unsubscribe = buffer.pollq.add(() => this.waitQueue.wake());
  }

  override read(into: Uint8Array): Promise<number> {
    return bufferRead(this.device, this.buffer, () => this.nonblocking, into);
  }

  override write(from: Uint8Array): Promise<number> {
    return bufferWrite(this.device, this.buffer, () => this.nonblocking, from);
  }

  override poll(_events: number): number {
    return bufferPoll(this.device, this.buffer);
  }

  override ioctl(request: number, arg: IoctlArg): number {
    this.buffer.checkWedged();
    // iio_buffer_chrdev_ioctl checks no liveness: an unknown request is EINVAL, device or not
    // (seen in the lab after a removal).
    if (request !== IIO_BUFFER_DMABUF_ATTACH_IOCTL && request !== IIO_BUFFER_DMABUF_DETACH_IOCTL && request !== IIO_BUFFER_DMABUF_ENQUEUE_IOCTL) {
      throw kerr('EINVAL');
    }
    // Decision: the real core would run the DMABUF ioctls on a buffer whose driver is gone (or
    // unloaded); the sim says ENODEV.
    this.device.checkAlive();
    const ctx = this.device.ctx;
    switch (request) {
      case IIO_BUFFER_DMABUF_ATTACH_IOCTL:
        return attachDmabuf(ctx, this.buffer, arg);
      case IIO_BUFFER_DMABUF_DETACH_IOCTL:
        return detachDmabuf(ctx, this.buffer, arg);
      default:
        return enqueueDmabuf(ctx, this.buffer, arg, this.nonblocking);
    }
  }

  /** iio_buffer_chrdev_release. */
  protected override release(): void {
    this.device.holders--;
    this.buffer.wake();
    for (const attachment of this.buffer.dmabufs.splice(0)) attachment.put();
    this.buffer.busy = false;
    this.#unsubscribe();
  }
}
