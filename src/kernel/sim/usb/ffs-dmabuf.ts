// FunctionFS DMABUF import (f_fs.c ffs_dmabuf_*; usb.md §A4, kernel-abi.md §5.2): an endpoint
// file attaches DMABUFs, then each TRANSFER queues one scatter-gather request over the buffer
// and returns at once; the request's completion signals a fence whose error is the request's
// status. Directions as 6.12.118 has them after the 2026 fix: an IN endpoint (the device
// sends the buffer) waits for writers and adds a READ fence; an OUT endpoint waits for all
// fences and adds a WRITE fence. So an IIO capture (WRITE fence) chains into an IN transfer,
// and the next IIO enqueue waits for FunctionFS's READ fence.
//
// Each attachment (struct ffs_dmabuf_priv) is referenced by the endpoint's list and by each
// transfer until its fence has signalled; the last reference detaches from the DMABUF. DETACH
// and closing the file dequeue the attachment's last queued request (-ECONNRESET).
import { errnoOf } from '../../../errors.js';
import { USB_FFS_DMABUF_TRANSFER_MASK, usbFfsDmabufTransferReqStruct } from '../../../abi/functionfs.js';
import { dmaBufGet, type DmaBuf, type DmaBufAttachment } from '../dma-buf.js';
import { DmaFence, FenceTimeline, ResvUsage, resvWaitTimeout, usageRw } from '../dma-fence.js';
import { KernelError, kerr } from '../errno.js';
import { KernelOops } from '../iio/oops.js';
import type { FfsEpFile } from './ffs-epfile.js';
import { EINPROGRESS, usbRequest, type UsbEp, type UsbRequest } from './gadget.js';

/** DMABUF_ENQUEUE_TIMEOUT_MS: how long a blocking TRANSFER waits for conflicting fences. */
export const FFS_DMABUF_TIMEOUT_MS = 5000;

/** struct ffs_dmabuf_priv. */
export interface FfsDmabuf {
  readonly handle: DmaBufAttachment;
  /** One fence context per attachment (dma_fence_context_alloc at ATTACH). */
  readonly context: number;
  refs: number;
  /** The last request queued with it, and its endpoint (priv->req, priv->ep). */
  req: UsbRequest | undefined;
  ep: UsbEp | undefined;
}

function put(priv: FfsDmabuf): void {
  if (--priv.refs === 0) priv.handle.detach();
}

/** The attachment of `dmaBuf` on this endpoint (ffs_dmabuf_find_attachment). */
function find(epfile: FfsEpFile, dmaBuf: DmaBuf, syscall: string): FfsDmabuf | undefined {
  // ffs->gadget->dev.parent: with the gadget unbound this dereferences NULL in 6.12
  if (epfile.ffs.gadget === undefined) throw new KernelOops(syscall, 'ffs_dmabuf_find_attachment', 'the gadget is unbound');
  return epfile.dmabufs.find((p) => p.handle.dmaBuf === dmaBuf);
}

/** Dequeues the attachment's pending request, if still queued (usb_ep_dequeue's EINVAL ignored). */
function cancel(priv: FfsDmabuf): void {
  if (priv.ep !== undefined && priv.req !== undefined && priv.req.status === EINPROGRESS) priv.ep.dequeue(priv.req);
}

/** ffs_dmabuf_attach: EPERM unless bound to a UDC with scatter-gather. */
export function attachDmabuf(epfile: FfsEpFile, fd: number): number {
  const gadget = epfile.ffs.gadget;
  if (gadget === undefined || !gadget.sgSupported) {
    throw kerr('EPERM', gadget === undefined ? 'the gadget is not bound to a UDC' : `${gadget.name} does not support scatter-gather`);
  }
  const dmaBuf = dmaBufGet(epfile.ffs.ctx, fd);
  // mapped once, now, for the UDC's parent device; no duplicate check
  const handle = dmaBuf.attach(epfile);
  epfile.dmabufs.unshift({ handle, context: new FenceTimeline('functionfs', '').context, refs: 1, req: undefined, ep: undefined });
  return 0;
}

/** ffs_dmabuf_detach: EPERM if not attached here; a pending transfer is cancelled. */
export function detachDmabuf(epfile: FfsEpFile, fd: number): number {
  const dmaBuf = dmaBufGet(epfile.ffs.ctx, fd);
  const priv = find(epfile, dmaBuf, 'ioctl(FUNCTIONFS_DMABUF_DETACH)');
  if (priv === undefined) throw kerr('EPERM', `this DMABUF is not attached to ${epfile.name}`);
  cancel(priv);
  epfile.dmabufs.splice(epfile.dmabufs.indexOf(priv), 1);
  put(priv);
  return 0;
}

/** ffs_epfile_release's part: every attachment detached, pending transfers cancelled. */
export function releaseDmabufs(epfile: FfsEpFile): void {
  for (const priv of epfile.dmabufs.splice(0)) {
    cancel(priv);
    put(priv);
  }
}

/** ffs_dmabuf_transfer (usb.md §A4 steps 1–13): returns once the request is queued. */
export function transferDmabuf(epfile: FfsEpFile, bytes: Uint8Array, nonblock: boolean): number {
  const { fd, flags, length } = usbFfsDmabufTransferReqStruct.decode(bytes);
  if ((flags & ~USB_FFS_DMABUF_TRANSFER_MASK) !== 0) throw kerr('EINVAL', 'unknown flags');
  const ctx = epfile.ffs.ctx;
  const dmaBuf = dmaBufGet(ctx, fd);
  const size = BigInt(dmaBuf.size);
  if (length === 0n || length > size) throw kerr('EINVAL', `length must be 1..${dmaBuf.size}`);
  const priv = find(epfile, dmaBuf, 'ioctl(FUNCTIONFS_DMABUF_TRANSFER)');
  if (priv === undefined) throw kerr('EPERM', `this DMABUF is not attached to ${epfile.name}`);
  priv.refs++; // the transfer's reference, dropped once its fence has signalled
  const scheduler = ctx.scheduler;
  let ep;
  try {
    ep = epfile.waitEpSync(nonblock);
    // An IN transfer reads the buffer: it waits for writers; an OUT transfer waits for everyone.
    const usage = usageRw(!epfile.in);
    if (!resvWaitTimeout(dmaBuf.resv, usage, scheduler, nonblock ? 0 : FFS_DMABUF_TIMEOUT_MS)) {
      throw kerr('EBUSY', nonblock ? 'a conflicting fence is pending (O_NONBLOCK)' : `conflicting fences did not signal within ${FFS_DMABUF_TIMEOUT_MS} ms`);
    }
    if (epfile.ep !== ep) throw kerr('ESHUTDOWN', `${epfile.name} was disabled`);
  } catch (e) {
    put(priv);
    throw e;
  }
  const fence = new DmaFence(priv.context, ++epfile.seqno, 'functionfs', '');
  dmaBuf.resv.add(fence, epfile.in ? ResvUsage.READ : ResvUsage.WRITE);
  const done = (status: number) => {
    fence.signal(status);
    scheduler.soon(() => put(priv)); // ffs_dmabuf_cleanup, on the completion workqueue
  };
  const req = usbRequest({ length: Number(length), sg: dmaBuf, zero: false, complete: (r) => done(r.status) });
  try {
    ep.ep.queue(req);
  } catch (e) {
    if (e instanceof KernelError) done(-errnoOf(e.code));
    throw e;
  }
  priv.req = req;
  priv.ep = ep.ep;
  return 0;
}
