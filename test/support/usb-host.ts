// The host side of a USB link in a test, through usbfs (/dev/bus/usb/BBB/DDD) and the Kernel port
// only, so it runs on the simulated kernel and on Linux alike (usb.md §A2). Transfers are URBs,
// never the blocking USBDEVFS_CONTROL/BULK: the gadget's userspace runs in the same process and
// answers only while the event loop runs. A URB is submitted, and reaped when poll(2) reports
// POLLOUT on the usbfs fd (devio.c usbdev_poll), so no wait here ever blocks the loop.
import {
  O_RDWR,
  POLLHUP,
  POLLOUT,
  USBDEVFS_CLAIMINTERFACE,
  USBDEVFS_DISCARDURB,
  USBDEVFS_REAPURBNDELAY,
  USBDEVFS_RELEASEINTERFACE,
  USBDEVFS_SUBMITURB,
  USBDEVFS_URB_TYPE_BULK,
  USBDEVFS_URB_TYPE_CONTROL,
  USBDEVFS_URB_ZERO_PACKET,
  USB_CTRLREQUEST_SIZE,
  encodeCtrlRequest,
  parseDescriptors,
  usbdevfsUrbStruct,
  type UsbCtrlRequest,
  type UsbDescriptor,
} from '../../src/abi/index.js';
import { isSystemError } from '../../src/errors.js';
import type { KernelPort } from '../../src/kernel/port.js';

/** How long a test waits for a URB that should complete (a loaded 2-core TCG guest is slow). */
export const URB_WAIT_MS = 20_000;

/** A completed URB as usbfs reports it at reap time. */
export interface UrbResult {
  /** 0, or the negative errno of urb->status (-EPIPE stalled, -ESHUTDOWN/-ENODEV device gone...). */
  status: number;
  /** Bytes transferred (for a control URB: of the data stage, the 8-byte SETUP excluded). */
  actual: number;
  /** What an IN URB received: `actual` bytes (empty for OUT). */
  data: Uint8Array;
}

/** A submitted URB. Its memory is the port's to keep until it is reaped (port.ts ioctl). */
export interface Urb {
  readonly id: number;
  readonly endpoint: number;
  /** Settles when a reap returns this URB. */
  readonly done: Promise<UrbResult>;
}

interface Pending {
  urb: Urb;
  bytes: Uint8Array;
  buffer: Uint8Array;
  /** Where the data stage starts in `buffer` (8 for control URBs, after the SETUP packet). */
  dataOffset: number;
  inbound: boolean;
  resolve: (r: UrbResult) => void;
}

export interface BulkOptions {
  /** USBDEVFS_URB_ZERO_PACKET: an OUT transfer of a multiple of wMaxPacketSize ends with a ZLP. */
  zeroPacket?: boolean;
}

/** One open usbfs device file and its URBs in flight. */
export class UsbHost {
  readonly #k: KernelPort;
  readonly fd: number;
  readonly path: string;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  private constructor(k: KernelPort, fd: number, path: string) {
    this.#k = k;
    this.fd = fd;
    this.path = path;
  }

  /** Opens the usbfs node read-write (POLLOUT, i.e. reapable URBs, is reported only then). */
  static async open(k: KernelPort, path: string): Promise<UsbHost> {
    return new UsbHost(k, await k.open(path, O_RDWR), path);
  }

  /**
   * The device and configuration descriptors, as usbfs read() gives them (devio.c
   * usbdev_read), parsed. Reads from the file's position: call once, right after open.
   */
  async descriptors(): Promise<UsbDescriptor[]> {
    const bytes = new Uint8Array(4096);
    let n = 0;
    for (let got; n < bytes.length && (got = await this.#k.read(this.fd, bytes.subarray(n))) > 0;) n += got;
    return parseDescriptors(bytes.subarray(0, n));
  }

  claim(intf: number): void {
    this.#k.ioctl(this.fd, USBDEVFS_CLAIMINTERFACE, Uint32Array.of(intf));
  }

  release(intf: number): void {
    this.#k.ioctl(this.fd, USBDEVFS_RELEASEINTERFACE, Uint32Array.of(intf));
  }

  /**
   * A control transfer on ep0: the 8-byte SETUP then the data stage (`data` for OUT, wLength
   * bytes received for IN) in one buffer, as usbfs takes it.
   */
  control(setup: UsbCtrlRequest, data?: Uint8Array): Urb {
    const buffer = new Uint8Array(USB_CTRLREQUEST_SIZE + setup.wLength);
    encodeCtrlRequest(setup, buffer, 0);
    const inbound = (setup.bRequestType & 0x80) !== 0;
    if (!inbound && data !== undefined) buffer.set(data.subarray(0, setup.wLength), USB_CTRLREQUEST_SIZE);
    return this.#submit(USBDEVFS_URB_TYPE_CONTROL, 0, buffer, USB_CTRLREQUEST_SIZE, 0);
  }

  /** A bulk OUT transfer of `data` to `endpoint` (bit 7 clear). */
  bulkOut(endpoint: number, data: Uint8Array, options: BulkOptions = {}): Urb {
    return this.#submit(USBDEVFS_URB_TYPE_BULK, endpoint, data.slice(), 0, options.zeroPacket === true ? USBDEVFS_URB_ZERO_PACKET : 0);
  }

  /** A bulk IN transfer of up to `length` bytes from `endpoint` (bit 7 set). */
  bulkIn(endpoint: number, length: number): Urb {
    return this.#submit(USBDEVFS_URB_TYPE_BULK, endpoint, new Uint8Array(length), 0, 0);
  }

  /** USBDEVFS_DISCARDURB: the URB then completes (is reaped) with -ENOENT. */
  discard(urb: Urb): void {
    const p = this.#pending.get(urb.id);
    if (p === undefined) throw new Error(`URB ${urb.id} on ${this.path} is not in flight`);
    this.#k.ioctl(this.fd, USBDEVFS_DISCARDURB, p.bytes);
  }

  /** True while `urb` has not been reaped. */
  inFlight(urb: Urb): boolean {
    return this.#pending.has(urb.id);
  }

  /**
   * Reaps every URB completed by now (REAPURBNDELAY until EAGAIN, or ENODEV once the device is
   * gone and nothing is left); returns how many.
   */
  reapReady(): number {
    let n = 0;
    for (;;) {
      const context = new BigUint64Array(1);
      try {
        this.#k.ioctl(this.fd, USBDEVFS_REAPURBNDELAY, context);
      } catch (e) {
        if (isSystemError(e, 'EAGAIN', 'ENODEV')) return n;
        throw e;
      }
      this.#complete(Number(context[0]));
      n++;
    }
  }

  /**
   * Waits until `urb` is reaped: poll(POLLOUT) on the usbfs fd, then reap what is ready, for at
   * most `ms`. A URB that does not complete in time is an error naming it.
   */
  async reap(urb: Urb, ms = URB_WAIT_MS): Promise<UrbResult> {
    const deadline = performance.now() + ms;
    let hungUp = false;
    while (this.#pending.has(urb.id)) {
      const reaped = this.reapReady();
      if (!this.#pending.has(urb.id)) break;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`URB ${urb.id} (endpoint 0x${urb.endpoint.toString(16)}) on ${this.path} did not complete within ${ms} ms`);
      // After a disconnect POLLHUP stays set, and usbcore kills the URBs a moment after it
      // marks the device gone: wait for them without spinning.
      if (hungUp && reaped === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      hungUp = ((await this.#pollOut(left)) & POLLHUP) !== 0;
    }
    return urb.done;
  }

  /** Discards every URB still in flight and reaps them, so the file closes clean. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      for (const p of [...this.#pending.values()]) {
        try {
          this.discard(p.urb);
        } catch {
          // completed meanwhile, or the device is gone: the reap below, or close, takes it
        }
      }
      for (const p of [...this.#pending.values()]) await this.reap(p.urb, 5000).catch(() => undefined);
    } finally {
      this.#k.close(this.fd);
    }
  }

  #submit(type: number, endpoint: number, buffer: Uint8Array, dataOffset: number, flags: number): Urb {
    const id = this.#nextId++;
    const bytes = usbdevfsUrbStruct.encode({ type, endpoint, flags, bufferLength: buffer.byteLength, usercontext: BigInt(id) });
    let resolve!: (r: UrbResult) => void;
    const done = new Promise<UrbResult>((r) => (resolve = r));
    const urb: Urb = { id, endpoint, done };
    this.#k.ioctl(this.fd, USBDEVFS_SUBMITURB, bytes, [[usbdevfsUrbStruct.fields.buffer.offset, buffer]]);
    const inbound = type === USBDEVFS_URB_TYPE_CONTROL ? (buffer[0]! & 0x80) !== 0 : (endpoint & 0x80) !== 0;
    this.#pending.set(id, { urb, bytes, buffer, dataOffset, inbound, resolve });
    return urb;
  }

  #complete(id: number): void {
    const p = this.#pending.get(id);
    if (p === undefined) throw new Error(`reaped an unknown URB (usercontext ${id}) on ${this.path}`);
    this.#pending.delete(id);
    const { status, actualLength } = usbdevfsUrbStruct.decode(p.bytes);
    const data = p.inbound ? p.buffer.slice(p.dataOffset, p.dataOffset + actualLength) : new Uint8Array(0);
    p.resolve({ status, actual: actualLength, data });
  }

  /** poll(POLLOUT) for at most `ms`: the revents, 0 if none in time. */
  async #pollOut(ms: number): Promise<number> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), ms);
    try {
      return await this.#k.poll(this.fd, POLLOUT, { signal: abort.signal });
    } catch (e) {
      if ((e as Error).name !== 'AbortError') throw e;
      return 0;
    } finally {
      clearTimeout(timer);
    }
  }
}
