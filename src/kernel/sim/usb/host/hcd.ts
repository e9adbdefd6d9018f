// The host controller's URB handling (hcd.c, for dummy_hcd's host half): an URB goes to the
// device on the root port, or to the root hub's own virtual device, and is given back exactly
// once (usb_hcd_giveback_urb) — by the device completing it, by an unlink (usb_kill_urb, which
// returns only once the URB is given back), or by a flush when the device goes away
// (usb_hcd_flush_endpoint: -ESHUTDOWN). Whoever submitted it learns the status from `onGiveback`.
import type { UsbCtrlRequest } from '../../../../abi/usb.js';
import type { Urb, UsbPortDevice } from '../link.js';

export interface HcdUrbInit {
  endpoint: number;
  type: Urb['type'];
  setup?: UsbCtrlRequest;
  buffer: Uint8Array;
  shortNotOk?: boolean;
  zeroPacket?: boolean;
  /** Called once with the final status (0 or a negative errno); `actual` is final by then. */
  onGiveback: (urb: HcdUrb, status: number) => void;
}

/** struct urb as the HCD tracks it. */
export class HcdUrb implements Urb {
  readonly endpoint: number;
  readonly type: Urb['type'];
  readonly setup?: UsbCtrlRequest;
  readonly buffer: Uint8Array;
  readonly shortNotOk: boolean;
  readonly zeroPacket: boolean;
  actual = 0;
  /** The status it was given back with; undefined while in flight. */
  status: number | undefined;
  readonly #onGiveback: HcdUrbInit['onGiveback'];
  #giveback: ((urb: HcdUrb) => void) | undefined;

  constructor(init: HcdUrbInit) {
    this.endpoint = init.endpoint;
    this.type = init.type;
    if (init.setup !== undefined) this.setup = init.setup;
    this.buffer = init.buffer;
    this.shortNotOk = init.shortNotOk ?? false;
    this.zeroPacket = init.zeroPacket ?? false;
    this.#onGiveback = init.onGiveback;
  }

  get done(): boolean {
    return this.status !== undefined;
  }

  /** The device's completion; a second one (after an unlink or a flush gave it back) is ignored. */
  complete(status: number): void {
    if (this.done) return;
    this.status = status;
    this.#giveback?.(this);
    this.#onGiveback(this, status);
  }

  /** Set by the controller when the URB is queued: unlinks it from the endpoint's queue. */
  queued(onDone: (urb: HcdUrb) => void): void {
    this.#giveback = onDone;
  }
}

/** One device's pipe: the root port's device or the root hub's virtual device. */
export class UsbPipe {
  readonly #inFlight = new Set<HcdUrb>();
  /** URBs submitted through this pipe (sysfs `urbnum`). */
  urbnum = 0;

  constructor(private readonly device: UsbPortDevice) {}

  /** usb_hcd_submit_urb: throws the device's KernelError (ENODEV once disconnected). */
  submit(urb: HcdUrb): void {
    this.device.submit(urb);
    this.urbnum++;
    if (urb.done) return;
    this.#inFlight.add(urb);
    urb.queued((u) => this.#inFlight.delete(u));
  }

  /** A port reset: the device returns to its default state. */
  reset(): void {
    this.device.reset();
  }

  /** usb_kill_urb: once this returns the URB has been given back (with `status` unless it had completed). */
  kill(urb: HcdUrb, status: number): void {
    if (urb.done) return;
    this.device.unlink(urb, status);
    urb.complete(status);
  }

  /**
   * usb_hcd_flush_endpoint: gives back the URBs in flight (those of endpoints `which` selects)
   * with `status` — -ESHUTDOWN when the device or its configuration goes away.
   */
  flush(status: number, which: (endpoint: number) => boolean = () => true): void {
    for (const urb of [...this.#inFlight]) if (which(urb.endpoint)) this.kill(urb, status);
  }
}
