/**
 * The kernel ABI of kernel-abi.md §0.2–§5 and of USB (usb.md) in one import: `_IOC` encoding, the
 * struct codec, every ioctl number, struct and flag, plus a registry that maps a
 * request number back to the display name used in error `syscall` strings.
 */

import { dmaBufIoctls } from './dma-buf.js';
import { dmaHeapIoctls } from './dma-heap.js';
import { functionfsIoctls } from './functionfs.js';
import { iioIoctls } from './iio.js';
import { CURRENT_IOC_LAYOUT, type IocLayout } from './ioc.js';
import { syncFileIoctls } from './sync-file.js';
import { udmabufIoctls } from './udmabuf.js';
import { usbfsIoctls } from './usbfs.js';

export * from './ioc.js';
export * from './struct.js';
export * from './fcntl.js';
export * from './iio.js';
export * from './iio-sysfs.js';
export * from './dma-buf.js';
export * from './dma-heap.js';
export * from './udmabuf.js';
export * from './sync-file.js';
export * from './functionfs.js';
export * from './usb.js';
export * from './usbfs.js';
export * from './ioctl-args.js';

/** Every request number of kernel-abi §1–§5 and usbfs for one `_IOC` layout, keyed by kernel name. */
export function abiIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return Object.freeze({
    ...iioIoctls(layout),
    ...dmaBufIoctls(layout),
    ...dmaHeapIoctls(layout),
    ...udmabufIoctls(layout),
    ...syncFileIoctls(layout),
    ...functionfsIoctls(layout),
    ...usbfsIoctls(layout),
  });
}

const SUFFIX = '_IOCTL';
const names: ReadonlyMap<number, string> = new Map(
  Object.entries(abiIoctls()).map(([name, request]) => [
    request,
    name.endsWith(SUFFIX) ? name.slice(0, -SUFFIX.length) : name,
  ]),
);

/**
 * The display name of a request number for this arch: the kernel name without a
 * trailing `_IOCTL` (`IIO_BUFFER_DMABUF_ENQUEUE`, `DMA_BUF_IOCTL_SYNC`), or
 * `0x%08x` for unknown requests. Signed (C `int`) forms are accepted.
 */
export function ioctlName(request: number): string {
  const v = request >>> 0;
  return names.get(v) ?? `0x${v.toString(16).padStart(8, '0')}`;
}
