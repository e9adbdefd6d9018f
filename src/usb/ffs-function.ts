// The userspace half of a FunctionFS function (usb.md §A1): ep0 opened, the descriptors and
// strings written (FunctionFS then makes ep1..epN), and its events read until close: BIND,
// ENABLE, DISABLE, SUSPEND, RESUME, UNBIND go to `onEvent`, every SETUP to `onSetup`, whose
// answer is given on ep0 (a control request's status stage waits for it). The function is
// bound to a UDC by whoever made the gadget; closing ep0 makes the kernel unbind it.
import {
  FUNCTIONFS_SETUP, O_RDWR, POLLIN, USB_DIR_IN, USB_FUNCTIONFS_EVENT_SIZE, decodeFfsEvent, ffsEventName,
  type FfsEvent, type UsbCtrlRequest,
} from '../abi/index.js';
import { isSystemError } from '../errors.js';
import type { KernelPort } from '../kernel/port.js';

export interface FfsFunctionHandlers {
  /**
   * A host-to-device control request for the function (FunctionFS rewrote wIndex to the
   * function's own interface number). Resolving acknowledges it (its status stage); throwing
   * stalls it (the host sees EPIPE at once, not a 1 s timeout). Device-to-host requests stall.
   */
  onSetup(request: UsbCtrlRequest): Promise<void> | void;
  /** Every other event, by name (FUNCTIONFS_ENABLE, ...). */
  onEvent?(name: string, event: FfsEvent): void;
  /** ep0 failed (the mount went away, ...): no more events will come. */
  onError?(error: Error): void;
}

/** Events read at once: the kernel queues at most four (f_fs ffs->ev.types). */
const EVENTS_PER_READ = 4;

export class FfsFunction {
  readonly #kernel: KernelPort;
  readonly #ep0: number;
  readonly #handlers: FfsFunctionHandlers;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(kernel: KernelPort, readonly mountpoint: string, ep0: number, handlers: FfsFunctionHandlers) {
    this.#kernel = kernel;
    this.#ep0 = ep0;
    this.#handlers = handlers;
    this.#loop = this.#run();
  }

  /** Opens `mountpoint`/ep0 and writes both blobs; the endpoint files exist when it resolves. */
  static async open(kernel: KernelPort, mountpoint: string, descriptors: Uint8Array, strings: Uint8Array, handlers: FfsFunctionHandlers): Promise<FfsFunction> {
    const ep0 = await kernel.open(`${mountpoint}/ep0`, O_RDWR);
    try {
      await kernel.write(ep0, descriptors);
      await kernel.write(ep0, strings);
    } catch (e) {
      kernel.close(ep0);
      throw e;
    }
    return new FfsFunction(kernel, mountpoint, ep0, handlers);
  }

  /** Stops reading events and closes ep0. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#loop;
      this.#kernel.close(this.#ep0);
    })();
    return this.#closing;
  }

  async #run(): Promise<void> {
    const bytes = new Uint8Array(EVENTS_PER_READ * USB_FUNCTIONFS_EVENT_SIZE);
    try {
      for (;;) {
        await this.#kernel.poll(this.#ep0, POLLIN, { signal: this.#stop.signal });
        const n = await this.#kernel.read(this.#ep0, bytes);
        for (let at = 0; at + USB_FUNCTIONFS_EVENT_SIZE <= n; at += USB_FUNCTIONFS_EVENT_SIZE) {
          const event = decodeFfsEvent(bytes, at);
          if (event.type === FUNCTIONFS_SETUP) await this.#answer(event.setup);
          else this.#handlers.onEvent?.(ffsEventName(event.type), event);
          if (this.#stop.signal.aborted) return;
        }
      }
    } catch (e) {
      if (this.#stop.signal.aborted) return; // close() cancelled the poll
      this.#handlers.onError?.(e as Error);
    }
  }

  /**
   * Acknowledges or stalls a SETUP. With no data stage (iiod's requests) the acknowledgement is
   * a read of ep0, which FunctionFS cuts to wLength = 0 and turns into the status stage; it has
   * to ask for at least one byte, as Node never issues a zero-length read (usb.md §A4). A stall
   * is an answer in the wrong direction (__ffs_ep0_stall, EL2HLT).
   */
  async #answer(setup: UsbCtrlRequest): Promise<void> {
    // Requests answered with data (IN) are none of ours: they stall, as refused OUT ones do.
    const inbound = (setup.bRequestType & USB_DIR_IN) !== 0;
    let accepted = !inbound;
    if (accepted) {
      try {
        await this.#handlers.onSetup(setup);
      } catch {
        accepted = false;
      }
    }
    // A read acknowledges an OUT request and stalls an IN one; a write stalls an OUT one.
    try {
      if (accepted || inbound) await this.#kernel.read(this.#ep0, new Uint8Array(Math.max(1, setup.wLength)));
      else await this.#kernel.write(this.#ep0, new Uint8Array(1));
    } catch (e) {
      // A stall answers EL2HLT by design; a host that went away meanwhile ends the request too.
      if (!isSystemError(e, 'EL2HLT', 'EIDRM', 'ESHUTDOWN', 'ECONNRESET', 'EINTR', 'EBADFD')) throw e;
    }
  }
}
