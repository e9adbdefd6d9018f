// FunctionFS endpoint files ep1..epN (f_fs.c ffs_epfile_*): read and write queue one request on
// the endpoint and sleep until it completes, the ioctls (halt, revmap, descriptor, DMABUF in
// ffs-dmabuf.ts). What the kernel does, in order (ffs_epfile_io):
// * not ACTIVE → ENODEV; the endpoint not enabled yet: O_NONBLOCK → EAGAIN, else sleep until
//   the host configures the device (EINTR on a signal);
// * reading an IN endpoint or writing an OUT one halts it and answers EBADMSG (isochronous:
//   EINVAL);
// * epfile->mutex: O_NONBLOCK while another call holds it → EAGAIN;
// * the endpoint changed meanwhile (disabled) → ESHUTDOWN; the request's status otherwise
//   (-ESHUTDOWN when disabled mid-transfer, -EOVERFLOW when the host's packet did not fit);
// * a signal while the request is queued dequeues it: EINTR, unless it completed first (then
//   its result stands, so bytes read are never lost).
// Reads are not rounded up to wMaxPacketSize: usb_ep_align_maybe does that only for UDCs with
// quirk_ep_out_aligned_size, which dummy_udc lacks. ep files have no poll (always ready).
import {
  FUNCTIONFS_CLEAR_HALT,
  FUNCTIONFS_DMABUF_ATTACH,
  FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER,
  FUNCTIONFS_ENDPOINT_DESC,
  FUNCTIONFS_ENDPOINT_REVMAP,
  FUNCTIONFS_FIFO_FLUSH,
  FUNCTIONFS_FIFO_STATUS,
} from '../../../abi/functionfs.js';
import { encodeDescriptor, USB_DIR_IN } from '../../../abi/usb.js';
import { errnoCode } from '../../../errors.js';
import { kerr } from '../errno.js';
import { SimFile, type IoctlArg } from '../file.js';
import { KernelOops } from '../iio/oops.js';
import { KMutex } from '../kmutex.js';
import { userBytes, userInt } from '../uaccess.js';
import { waitEvent } from '../wait.js';
import { attachDmabuf, detachDmabuf, releaseDmabufs, transferDmabuf, type FfsDmabuf } from './ffs-dmabuf.js';
import type { FfsEp } from './ffs-function.js';
import type { FfsData } from './functionfs.js';
import { EINPROGRESS, usbRequest } from './gadget.js';

/** struct ffs_epfile. */
export class FfsEpFile {
  readonly name: string;
  /** The enabled endpoint; undefined until the host configures the device, and after DISABLE. */
  ep: FfsEp | undefined;
  /** The direction, from the descriptors at creation (6.12.118, usb.md §A1). */
  readonly in: boolean;
  isoc = false;
  readonly mutex = new KMutex();
  readonly dmabufs: FfsDmabuf[] = [];
  /** The DMABUF fences' sequence numbers (epfile->seqno). */
  seqno = 0;

  constructor(
    readonly ffs: FfsData,
    readonly index: number,
    address: number,
  ) {
    this.name = `ep${index}`;
    this.in = (address & USB_DIR_IN) !== 0;
  }

  /** ffs_epfile_open. */
  open(flags: number, path: string): SimFile {
    if (this.ffs.state !== 'active') throw kerr('ENODEV');
    this.ffs.openedFile();
    return new EpFile(this, flags, path);
  }

  /** ffs_epfile_wait_ep. */
  async waitEp(nonblock: boolean, signal: AbortSignal | undefined): Promise<FfsEp> {
    if (this.ep !== undefined) return this.ep;
    if (nonblock) throw kerr('EAGAIN', `${this.name} is not enabled yet (the host has not configured the device)`);
    if (!(await waitEvent(this.ffs.waitq, () => this.ep !== undefined, signal))) throw kerr('EINTR');
    return this.ep!;
  }

  /** ffs_epfile_wait_ep for the synchronous ioctls: the sim can only wait for scheduled events. */
  waitEpSync(nonblock: boolean): FfsEp {
    if (this.ep !== undefined) return this.ep;
    if (nonblock) throw kerr('EAGAIN', `${this.name} is not enabled yet (the host has not configured the device)`);
    if (!this.ffs.ctx.scheduler.blockUntil(() => this.ep !== undefined, Infinity)) {
      throw kerr('EINTR', 'nothing scheduled can enable the endpoint (the real call would block until a signal)');
    }
    return this.ep!;
  }
}

/** An open ep file. */
class EpFile extends SimFile {
  #released = false;

  constructor(
    readonly epfile: FfsEpFile,
    flags: number,
    readonly name: string,
  ) {
    super(flags);
  }

  override read(into: Uint8Array, signal?: AbortSignal): Promise<number> {
    return this.#io(into, true, signal);
  }

  override write(from: Uint8Array, signal?: AbortSignal): Promise<number> {
    return this.#io(from, false, signal);
  }

  /** ffs_epfile_io, synchronous (non-AIO) path. */
  async #io(data: Uint8Array, read: boolean, signal: AbortSignal | undefined): Promise<number> {
    const epfile = this.epfile;
    if (epfile.ffs.state !== 'active') throw kerr('ENODEV');
    const ep = await epfile.waitEp(this.nonblocking, signal);
    const halt = read === epfile.in;
    if (halt && epfile.isoc) throw kerr('EINVAL');
    await epfile.mutex.lock(this.nonblocking, signal);
    try {
      if (epfile.ep !== ep) throw kerr('ESHUTDOWN', `${epfile.name} was disabled`);
      if (halt) {
        ep.ep.setHalt();
        throw kerr('EBADMSG', `${read ? 'read of the IN' : 'write to the OUT'} endpoint ${epfile.name} halts it`);
      }
      const buf = read ? new Uint8Array(data.length) : data.slice();
      let done = false;
      const req = usbRequest({
        length: buf.length,
        buf,
        zero: false, // FunctionFS never sets req->zero in 6.12 (usb.md §A1)
        complete: () => {
          done = true;
          epfile.ffs.waitq.wake();
        },
      });
      ep.ep.queue(req);
      if (!(await waitEvent(epfile.ffs.waitq, () => done, signal))) {
        if (epfile.ep !== ep) throw kerr('ESHUTDOWN', `${epfile.name} was disabled`);
        if (req.status === EINPROGRESS) ep.ep.dequeue(req);
        if (req.status < 0) throw kerr('EINTR');
      }
      if (req.status < 0) throw kerr(errnoCode(req.status), `the transfer on ${epfile.name} ended with status ${req.status}`);
      if (read) data.set(buf.subarray(0, req.actual));
      return req.actual;
    } finally {
      epfile.mutex.unlock();
    }
  }

  /** ffs_epfile_ioctl. */
  override ioctl(request: number, arg: IoctlArg): number {
    const epfile = this.epfile;
    if (epfile.ffs.state !== 'active') throw kerr('ENODEV');
    switch (request) {
      case FUNCTIONFS_DMABUF_ATTACH:
        return attachDmabuf(epfile, userInt(arg));
      case FUNCTIONFS_DMABUF_DETACH:
        return detachDmabuf(epfile, userInt(arg));
      case FUNCTIONFS_DMABUF_TRANSFER:
        return transferDmabuf(epfile, userBytes(arg, 16), this.nonblocking);
    }
    const ep = epfile.waitEpSync(this.nonblocking);
    if (epfile.ep !== ep) throw kerr('ESHUTDOWN');
    switch (request) {
      case FUNCTIONFS_FIFO_STATUS:
        return ep.ep.fifoStatus();
      case FUNCTIONFS_FIFO_FLUSH:
        ep.ep.fifoFlush();
        return 0;
      case FUNCTIONFS_CLEAR_HALT:
        ep.ep.clearHalt();
        return 0;
      case FUNCTIONFS_ENDPOINT_REVMAP:
        return ep.num;
      case FUNCTIONFS_ENDPOINT_DESC: {
        const desc = ep.descs[epfile.ffs.gadgetSpeedIndex];
        if (desc === undefined) throw new KernelOops('ioctl(FUNCTIONFS_ENDPOINT_DESC)', 'ffs_epfile_ioctl', 'no descriptor for this speed');
        const bytes = encodeDescriptor(desc);
        userBytes(arg, bytes.length).set(bytes);
        return 0;
      }
      default:
        throw kerr('ENOTTY');
    }
  }

  /** ffs_epfile_release: attached DMABUFs are detached (their pending transfer dequeued). */
  protected override release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseDmabufs(this.epfile);
    this.epfile.ffs.closed();
  }
}
