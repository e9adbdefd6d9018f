// A device's event fd (kernel-abi §1.1): IIO_GET_EVENT_FD_IOCTL on the device node, then 16-byte
// iio_event_data records, read without blocking and waited for with POLLIN.
import { decodeIioEventId, F_GETFL, F_SETFL, IIO_GET_EVENT_FD_IOCTL, iioEventDataStruct, O_NONBLOCK, O_RDONLY, POLLIN } from '../../abi/index.js';
import { isSystemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';
import type { EventHandle, IioEvent, OpOptions } from '../backend.js';

export async function openLocalEvents(port: KernelPort, node: string): Promise<EventHandle> {
  const devfd = await port.open(node, O_RDONLY | O_NONBLOCK);
  const out = Int32Array.of(-1);
  try {
    port.ioctl(devfd, IIO_GET_EVENT_FD_IOCTL, out);
  } finally {
    port.close(devfd); // the event fd keeps the device; others may open the node again
  }
  const fd = out[0]!;
  try {
    port.fcntl(fd, F_SETFL, port.fcntl(fd, F_GETFL) | O_NONBLOCK);
  } catch (e) {
    port.close(fd);
    throw e;
  }
  return {
    async read(options: OpOptions = {}): Promise<IioEvent> {
      // Each read has its own record: concurrent reads must not share one.
      const record = new Uint8Array(iioEventDataStruct.size);
      for (;;) {
        try {
          const n = await port.read(fd, record);
          if (n === record.length) {
            const { id, timestamp } = iioEventDataStruct.decode(record);
            return { ...decodeIioEventId(id), id, timestamp };
          }
        } catch (e) {
          if (!isSystemError(e, 'EAGAIN')) throw e;
        }
        await port.poll(fd, POLLIN, options.signal ? { signal: options.signal } : {});
      }
    },
    close: () => port.close(fd),
  };
}
