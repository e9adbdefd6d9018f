// The buffer-fd DMABUF ioctls of the IIO core (iio_buffer_attach_dmabuf, _detach_dmabuf,
// _enqueue_dmabuf; kernel-abi §2.3–§2.9), with their validation order and errnos. The buffer
// implementation's part (file I/O mode, block states) is in dma-buffer.ts.
import { iioDmabufStruct, IIO_BUFFER_DMABUF_CYCLIC, IIO_BUFFER_DMABUF_SUPPORTED_FLAGS } from '../../../abi/index.js';
import { errnoOf } from '../../../errors.js';
import type { SimContext } from '../context.js';
import { dmaBufGet, type DmaBuf } from '../dma-buf.js';
import { ResvUsage, resvWaitTimeout, usageRw } from '../dma-fence.js';
import { KernelError, kerr } from '../errno.js';
import type { IoctlArg } from '../file.js';
import { userBytes, userInt } from '../uaccess.js';
import { IioAttachment } from './attachment.js';
import type { IioBuffer } from './buffer.js';
import { DmaBuffer } from './dma-buffer.js';

/** DMABUF_ENQUEUE_TIMEOUT_MS: how long a blocking ENQUEUE waits for conflicting fences. */
export const ENQUEUE_TIMEOUT_MS = 5000;

function find(buffer: IioBuffer, dmaBuf: DmaBuf): IioAttachment | undefined {
  return buffer.dmabufs.find((a) => a.dmaBuf === dmaBuf);
}

/** §2.4. */
export function attachDmabuf(ctx: SimContext, buffer: IioBuffer, arg: IoctlArg): number {
  if (!(buffer instanceof DmaBuffer)) throw kerr('EPERM', 'this buffer has no DMABUF support');
  const dmaBuf = dmaBufGet(ctx, userInt(arg));
  const handle = dmaBuf.attach(buffer);
  let block;
  try {
    block = buffer.attachDmabuf(dmaBuf);
  } catch (e) {
    handle.detach();
    throw e;
  }
  const attachment = new IioAttachment(handle, block, (a) => buffer.detachDmabuf(a.block));
  // The duplicate check comes after the buffer's attach work (which already emptied the queue).
  if (find(buffer, dmaBuf) !== undefined) {
    attachment.put();
    throw kerr('EBUSY', 'this DMABUF is already attached to this buffer');
  }
  buffer.dmabufs.unshift(attachment);
  return 0;
}

/** §2.5: drops the list's reference; transfers in flight keep theirs and run on. */
export function detachDmabuf(ctx: SimContext, buffer: IioBuffer, arg: IoctlArg): number {
  const dmaBuf = dmaBufGet(ctx, userInt(arg));
  const attachment = find(buffer, dmaBuf);
  if (attachment === undefined) throw kerr('EPERM', 'this DMABUF is not attached to this buffer');
  buffer.dmabufs.splice(buffer.dmabufs.indexOf(attachment), 1);
  attachment.put();
  return 0;
}

/** §2.6, steps 1–13. */
export function enqueueDmabuf(ctx: SimContext, buffer: IioBuffer, arg: IoctlArg, nonblock: boolean): number {
  // field by field: the path of every block, where a decoded object and a bigint cost more than the rest
  const bytes = userBytes(arg, iioDmabufStruct.size);
  const flags = iioDmabufStruct.number(bytes, 'flags');
  const bytesUsed = iioDmabufStruct.number(bytes, 'bytesUsed');
  if ((flags & ~IIO_BUFFER_DMABUF_SUPPORTED_FLAGS) !== 0) throw kerr('EINVAL', 'unknown flags');
  const cyclic = (flags & IIO_BUFFER_DMABUF_CYCLIC) !== 0;
  if (cyclic && buffer.direction !== 'out') throw kerr('EINVAL', 'CYCLIC is for output buffers only');
  const dmaBuf = dmaBufGet(ctx, iioDmabufStruct.number(bytes, 'fd') | 0);
  if (bytesUsed === 0 || bytesUsed > dmaBuf.size) throw kerr('EINVAL', `bytes_used must be 1..${dmaBuf.size}`);
  const found = find(buffer, dmaBuf);
  if (found === undefined || !(buffer instanceof DmaBuffer)) throw kerr('EPERM', 'this DMABUF is not attached to this buffer');
  const attachment = found.get();
  const fence = attachment.timeline.create();
  const toRam = buffer.direction === 'in';
  const resv = dmaBuf.resv;
  // Step 9: a capture waits for every fence, a playback for writers only.
  const usage = usageRw(toRam);
  if (!resvWaitTimeout(resv, usage, ctx.scheduler, nonblock ? 0 : ENQUEUE_TIMEOUT_MS)) {
    attachment.put();
    throw kerr('EBUSY', nonblock ? 'a conflicting fence is pending (O_NONBLOCK)' : `conflicting fences did not signal within ${ENQUEUE_TIMEOUT_MS} ms`);
  }
  resv.add(fence, toRam ? ResvUsage.WRITE : ResvUsage.READ);
  try {
    buffer.enqueueDmabuf(attachment.block, fence, attachment, bytesUsed, cyclic);
  } catch (e) {
    if (e instanceof KernelError) {
      // The fence is already in the reservation object: it signals with the same error.
      fence.signal(-errnoOf(e.code));
      attachment.put();
    }
    throw e;
  }
  return 0;
}
