// The iiod server on a USB device port (usb.md §A1): a FunctionFS function with iiod's
// descriptors and strings, on a configfs gadget made (and removed at close, or when a crashed
// run left it) here — or on a FunctionFS mount someone else made (`ffs`, as `iiod -F DIR`).
// ep0's vendor requests open and close pipes; each open pipe runs a session of its own, with
// the same interpreter and bounds as a TCP client. A request naming no pipe of ours stalls (the
// host sees EPIPE); a pipe failing ends that pipe only.
import { FUNCTIONFS_UNBIND, type UsbCtrlRequest } from '../../abi/index.js';
import { errnoOf, systemError } from '../../errors.js';
import {
  IIOD_CLOSE_PIPE, IIOD_DEFAULT_PIPES, IIOD_OPEN_PIPE, IIOD_REQUEST_TYPE, IIOD_RESET_PIPES, IIOD_STRINGS,
  IIOD_USB_CTRL_TIMEOUT_MS, iiodDescriptors,
} from '../../iiod/usb.js';
import type { KernelPort } from '../../kernel/port.js';
import { createFfsGadget, removeStaleGadget, type FfsGadget } from '../../usb/configfs-gadget.js';
import { FfsFunction } from '../../usb/ffs-function.js';
import { Session, type SessionShared } from './session.js';
import { UsbPipe } from './usb-pipe.js';

/** Linux Foundation's "Multifunction Composite Gadget": not a vendor's ids (hosts find iiod by its "IIO" string). */
export const DEFAULT_USB_IDS = Object.freeze({ vendorId: 0x1d6b, productId: 0x0104 });

export interface UsbServeOptions {
  /** The kernel whose USB device port serves (default: the context's own, for local: and sim:; required for others). */
  kernel?: KernelPort;
  /** An existing FunctionFS mount to serve on (its gadget is someone else's to make and bind), as `iiod -F`. */
  ffs?: string;
  /** The UDC to bind (default: the only one in /sys/class/udc). */
  udc?: string;
  /** Bulk endpoint pairs (iiod's `-n`, default 3): one for the context, one per buffer streaming. */
  pipes?: number;
  vendorId?: number;
  productId?: number;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** The configfs gadget's name (default `iiojs`); its FunctionFS is mounted at /dev/ffs-NAME. */
  name?: string;
  /** false: every byte over the copy path, never a DMABUF transfer (default true). */
  zeroCopy?: boolean;
}

/** What the USB side is doing, for the operator and tests. */
export interface UsbServing {
  readonly mountpoint: string;
  /** The configfs gadget made here (undefined with `ffs`). */
  readonly gadget: string | undefined;
  /** The UDC bound here (undefined with `ffs`). */
  readonly udc: string | undefined;
  readonly pipes: number;
  /** Pipes with a session now. */
  readonly openPipes: number;
  /** Bytes sent and received over every pipe so far, by write()/read() and by DMABUF transfer. */
  readonly traffic: UsbTraffic;
}

export interface UsbTraffic {
  written: number;
  read: number;
  dmabufSent: number;
  dmabufReceived: number;
}

export class UsbServer implements UsbServing {
  readonly mountpoint: string;
  readonly pipes: number;
  readonly traffic: UsbTraffic = { written: 0, read: 0, dmabufSent: 0, dmabufReceived: 0 };
  readonly #kernel: KernelPort;
  readonly #shared: SessionShared;
  readonly #zeroCopy: boolean;
  readonly #gadget: FfsGadget | undefined;
  #function: FfsFunction | undefined;
  /** The session of each open pipe. */
  readonly #open = new Map<number, Session>();
  /** Pipes being closed, until their session has freed everything. */
  readonly #closing = new Map<number, Promise<void>>();
  #closed: Promise<void> | undefined;

  private constructor(kernel: KernelPort, shared: SessionShared, mountpoint: string, pipes: number, zeroCopy: boolean, gadget: FfsGadget | undefined) {
    this.#kernel = kernel;
    this.#shared = shared;
    this.mountpoint = mountpoint;
    this.pipes = pipes;
    this.#zeroCopy = zeroCopy;
    this.#gadget = gadget;
  }

  get gadget(): string | undefined {
    return this.#gadget?.dir;
  }

  get udc(): string | undefined {
    return this.#gadget?.udc;
  }

  get openPipes(): number {
    return this.#open.size;
  }

  /** Makes the gadget (unless `ffs`), writes iiod's descriptors and strings, binds the UDC. */
  static async start(kernel: KernelPort, shared: SessionShared, options: UsbServeOptions): Promise<UsbServer> {
    const pipes = options.pipes ?? IIOD_DEFAULT_PIPES;
    const descriptors = iiodDescriptors(pipes); // RangeError for a count FunctionFS cannot take
    let gadget: FfsGadget | undefined;
    if (options.ffs === undefined) {
      const name = options.name ?? 'iiojs';
      const mountpoint = `/dev/ffs-${name}`;
      if (await removeStaleGadget(kernel, name, mountpoint)) shared.log.notice?.(`usb: removed gadget ${name} left by an earlier run`);
      gadget = await createFfsGadget(kernel, {
        name, mountpoint,
        vendorId: options.vendorId ?? DEFAULT_USB_IDS.vendorId,
        productId: options.productId ?? DEFAULT_USB_IDS.productId,
        manufacturer: options.manufacturer ?? 'iiojs',
        product: options.product ?? 'iiojs IIO server',
        ...(options.serialNumber === undefined ? {} : { serialNumber: options.serialNumber }),
        configuration: 'iiod',
      });
    }
    const server = new UsbServer(kernel, shared, options.ffs ?? gadget!.mountpoint, pipes, options.zeroCopy !== false, gadget);
    try {
      server.#function = await FfsFunction.open(kernel, server.mountpoint, descriptors, IIOD_STRINGS, {
        onSetup: (request) => server.#setup(request),
        onEvent: (name, event) => {
          shared.log.info(`usb: ${name}`);
          // The host is gone (or the gadget unbound): what the pipes wait for will not come.
          if (name === 'FUNCTIONFS_DISABLE' || event.type === FUNCTIONFS_UNBIND) server.#closeAll();
        },
        onError: (error) => shared.log.error(`usb: ${server.mountpoint}/ep0: ${error.message}`),
      });
      if (gadget !== undefined) await gadget.bind(options.udc);
    } catch (e) {
      await server.close().catch(() => undefined);
      throw e;
    }
    return server;
  }

  /** Ends every pipe, closes ep0, unbinds and removes the gadget made here. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const failures: unknown[] = [];
      const step = async (work: () => Promise<void> | undefined): Promise<void> => {
        try {
          await work();
        } catch (e) {
          failures.push(e);
        }
      };
      this.#closeAll();
      await Promise.allSettled(this.#closing.values());
      await step(() => this.#function?.close());
      await step(() => this.#gadget?.close());
      if (failures.length > 0) throw failures[0];
    })();
    return this.#closed;
  }

  /** ep0's vendor requests (usb.md §A1); anything else stalls. */
  async #setup(r: UsbCtrlRequest): Promise<void> {
    const name = `bRequestType 0x${r.bRequestType.toString(16)} bRequest ${r.bRequest} wValue ${r.wValue}`;
    const refuse = (why: string): never => {
      this.#shared.log.error(`usb: stalled ${name}: ${why}`);
      throw systemError(errnoOf('EINVAL'), 'setup', this.mountpoint, why);
    };
    if (r.bRequestType !== IIOD_REQUEST_TYPE) refuse('not an iiod request (vendor, host to device, to the interface)');
    if (r.wLength !== 0) refuse(`a data stage of ${r.wLength} bytes (iiod's requests have none)`);
    switch (r.bRequest) {
      case IIOD_RESET_PIPES:
        this.#shared.log.info('usb: RESET_PIPES');
        this.#closeAll();
        return;
      case IIOD_OPEN_PIPE:
        if (r.wValue >= this.pipes) refuse(`pipe ${r.wValue}: this server has ${this.pipes} (0 to ${this.pipes - 1})`);
        await this.#openPipe(r.wValue);
        return;
      case IIOD_CLOSE_PIPE:
        if (r.wValue >= this.pipes) refuse(`pipe ${r.wValue}: this server has ${this.pipes} (0 to ${this.pipes - 1})`);
        this.#shared.log.info(`usb: CLOSE_PIPE ${r.wValue}`);
        this.#closePipe(r.wValue);
        return;
      default:
        refuse(`unknown request ${r.bRequest}`);
    }
  }

  /**
   * Starts a session on pipe `p`, once the one before (if any) has freed what it held: a client
   * reopening a pipe finds its buffers free. The wait stays within the host's control timeout.
   */
  async #openPipe(p: number): Promise<void> {
    this.#closePipe(p);
    const previous = this.#closing.get(p);
    if (previous !== undefined) {
      await Promise.race([previous, new Promise((resolve) => setTimeout(resolve, IIOD_USB_CTRL_TIMEOUT_MS / 2).unref())]);
    }
    const pipe = await UsbPipe.open({ kernel: this.#kernel, mountpoint: this.mountpoint, pipe: p, zeroCopy: this.#zeroCopy, traffic: this.traffic });
    const session = new Session(pipe, this.#shared);
    this.#open.set(p, session);
    void session.run().catch((e: unknown) => this.#shared.log.error(`usb: pipe ${p}: ${(e as Error).message}`)).finally(() => {
      if (this.#open.get(p) === session) this.#open.delete(p);
    });
    this.#shared.log.info(`usb: OPEN_PIPE ${p}`);
  }

  #closePipe(p: number): void {
    const session = this.#open.get(p);
    if (session === undefined) return;
    this.#open.delete(p);
    const closed = session.close().then(() => undefined, () => undefined);
    this.#closing.set(p, closed);
    void closed.finally(() => {
      if (this.#closing.get(p) === closed) this.#closing.delete(p);
    });
  }

  #closeAll(): void {
    for (const p of [...this.#open.keys()]) this.#closePipe(p);
  }
}
