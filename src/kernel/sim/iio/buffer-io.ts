// read(), write() and poll() on a buffer (iio_buffer_read, iio_buffer_write, iio_buffer_poll,
// iio_buffer_ready; kernel-abi §1.3), shared by the buffer fd and the legacy device fd. A blocking
// call sleeps on the buffer's wait queue (the returned promise stays pending and keeps the
// process alive, as a blocked read would) until enough data or room is there, or the device
// goes away (ENODEV).
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../../abi/index.js';
import { kerr } from '../errno.js';
import type { IioBuffer } from './buffer.js';
import type { IioDevice } from './device.js';
import { DmaBuffer } from './dma-buffer.js';

/** Sleeps until the buffer's wait queue is woken. */
function sleepOn(buffer: IioBuffer): Promise<void> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const remove = buffer.pollq.add(() => {
      remove();
      clearInterval(keepAlive);
      resolve();
    });
  });
}

/** iio_buffer_ready: `toWait` scans available (one, once disabled), or the device is gone. */
function ready(device: IioDevice, buffer: IioBuffer, toWait: number): boolean {
  if (device.gone) return true;
  const wanted = buffer.active ? toWait : Math.min(toWait, 1);
  const avail = buffer.dataAvailable();
  if (avail >= wanted) return true;
  device.armWake(wanted - avail);
  return false;
}

/** With DMABUFs attached the DMA buffer's file I/O blocks are gone: reaching them oopses. */
function unguarded(buffer: IioBuffer): boolean {
  return buffer instanceof DmaBuffer && buffer.dmabufMode && buffer.bytesPerDatum > 0;
}

export async function bufferRead(device: IioDevice, buffer: IioBuffer, nonblocking: () => boolean, into: Uint8Array): Promise<number> {
  device.checkAlive();
  buffer.checkWedged();
  if (buffer.direction !== 'in') throw kerr('EPERM');
  const datum = buffer.bytesPerDatum;
  if (datum === 0) return 0;
  // With DMABUFs attached, a non-blocking read goes straight to the freed file I/O blocks and
  // oopses (recorded); a blocking one sleeps (nothing ever counts as available) until removal.
  if (nonblocking() && unguarded(buffer)) return buffer.read(into);
  for (;;) {
    device.checkAlive();
    const toWait = nonblocking() ? 0 : Math.min(Math.floor(into.length / datum), buffer.watermark);
    if (!ready(device, buffer, toWait)) {
      await sleepOn(buffer);
      continue;
    }
    device.checkAlive();
    const n = buffer.read(into);
    if (n > 0) return n;
    if (nonblocking()) throw kerr('EAGAIN');
    await sleepOn(buffer);
  }
}

export async function bufferWrite(device: IioDevice, buffer: IioBuffer, nonblocking: () => boolean, from: Uint8Array): Promise<number> {
  device.checkAlive();
  buffer.checkWedged();
  if (buffer.direction !== 'out') throw kerr('EPERM');
  // With DMABUFs attached no space is ever available (the file I/O blocks are gone): EAGAIN, or
  // a sleep until removal. write() never reaches the freed blocks, so it cannot oops.
  let written = 0;
  while (written !== from.length) {
    device.checkAlive();
    if (buffer.spaceAvailable() === 0) {
      if (nonblocking()) {
        if (written === 0) throw kerr('EAGAIN');
        break;
      }
      device.armWake(1);
      await sleepOn(buffer);
      continue;
    }
    const n = buffer.write(from.subarray(written));
    if (n === 0) {
      // Room was reported but none taken (a partial scan is left): wait like the kernel loop.
      if (nonblocking()) break;
      await sleepOn(buffer);
      continue;
    }
    written += n;
  }
  return written;
}

export function bufferPoll(device: IioDevice, buffer: IioBuffer): number {
  if (device.gone || buffer.wedged !== undefined) return 0;
  if (buffer.direction === 'in') return ready(device, buffer, buffer.watermark) ? POLLIN | POLLRDNORM : 0;
  if (buffer.spaceAvailable() > 0) return POLLOUT | POLLWRNORM;
  device.armWake(1);
  return 0;
}
