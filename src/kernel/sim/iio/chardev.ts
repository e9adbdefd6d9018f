// /dev/iio:deviceN (iio_chrdev_open, iio_ioctl, the legacy buffer wrappers; kernel-abi §1.1–§1.2):
// exclusive open, the event and buffer ioctl handlers (anything else, or anything once the
// device is gone, is ENODEV), and read/write/poll on buffer 0 until its buffer fd is handed out.
import { IIO_BUFFER_GET_FD_IOCTL, IIO_GET_EVENT_FD_IOCTL } from '../../../abi/index.js';
import { kerr } from '../errno.js';
import { SimFile, type IoctlArg } from '../file.js';
import { userBytes } from '../uaccess.js';
import { BufferFile } from './buffer-file.js';
import { bufferPoll, bufferRead, bufferWrite } from './buffer-io.js';
import type { IioDevice } from './device.js';

export class DeviceFile extends SimFile {
  readonly name: string;
  #unsubscribe: (() => void) | undefined;

  private constructor(
    readonly device: IioDevice,
    flags: number,
  ) {
    super(flags);
    this.name = device.devNode;
    this.#unsubscribe = device.buffers[0]?.pollq.add(() => this.waitQueue.wake());
  }

  static open(device: IioDevice, flags: number): DeviceFile {
    if (device.gone) throw kerr('ENODEV');
    if (device.chardevBusy) throw kerr('EBUSY', `${device.devNode} is already open (opens are exclusive)`);
    device.chardevBusy = true;
    device.openDeviceFds++;
    device.holders++;
    return new DeviceFile(device, flags);
  }

  /** Buffer 0, as the legacy read/write/poll see it; undefined while its buffer fd is out. */
  #legacyBuffer() {
    return this.device.buffers[0];
  }

  override read(into: Uint8Array): Promise<number> {
    const buffer = this.#legacyBuffer();
    if (buffer === undefined) return Promise.reject(kerr('EINVAL'));
    if (buffer.busy) return Promise.reject(kerr('EBUSY', 'buffer 0 was handed out by IIO_BUFFER_GET_FD_IOCTL'));
    return bufferRead(this.device, buffer, () => this.nonblocking, into);
  }

  override write(from: Uint8Array): Promise<number> {
    const buffer = this.#legacyBuffer();
    if (buffer === undefined) return Promise.reject(kerr('EINVAL'));
    if (buffer.busy) return Promise.reject(kerr('EBUSY', 'buffer 0 was handed out by IIO_BUFFER_GET_FD_IOCTL'));
    return bufferWrite(this.device, buffer, () => this.nonblocking, from);
  }

  override poll(_events: number): number {
    const buffer = this.#legacyBuffer();
    if (buffer === undefined || buffer.busy) return 0;
    return bufferPoll(this.device, buffer);
  }

  override ioctl(request: number, arg: IoctlArg): number {
    const device = this.device;
    if (device.gone) throw kerr('ENODEV');
    if (request === IIO_GET_EVENT_FD_IOCTL && device.events !== undefined) return device.events.getFd(arg);
    if (request === IIO_BUFFER_GET_FD_IOCTL && device.buffers.length > 0) return this.#getFd(arg);
    throw kerr('ENODEV');
  }

  /** §1.2: the int holds the index in and the new fd out. */
  #getFd(arg: IoctlArg): number {
    const bytes = userBytes(arg, 4);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
    const index = view.getInt32(0, true) >>> 0; // compared as unsigned: -1 is huge
    const buffer = this.device.buffers[index];
    if (index >= this.device.buffers.length || buffer === undefined) throw kerr('ENODEV', `no buffer${index}`);
    if (buffer.busy) throw kerr('EBUSY', `buffer${index} already has an open buffer fd`);
    buffer.busy = true;
    const fd = this.device.ctx.fds.install(new BufferFile(this.device, buffer), true);
    view.setInt32(0, fd, true);
    return 0;
  }

  protected override release(): void {
    this.device.chardevBusy = false;
    this.device.openDeviceFds--;
    this.device.holders--;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
