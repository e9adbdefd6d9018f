// Control transfers the kernel itself makes (message.c): usb_control_msg with its timeout, and
// the string fetches of usb_string/usb_cache_string (LANGID from string descriptor 0, then the
// string in that language, asked for with wLength 255). The hub driver enumerates with these.
import { systemError, errnoOf } from '../../../../errors.js';
import { USB_DIR_IN, USB_DT_STRING, USB_LANGID_EN_US, USB_REQ_GET_DESCRIPTOR, type UsbCtrlRequest } from '../../../../abi/usb.js';
import { nowMs } from '../../clock.js';
import { kerr, type KernelError } from '../../errno.js';
import type { Scheduler } from '../../scheduler.js';
import { HcdUrb, type UsbPipe } from './hcd.js';

/** USB_CTRL_GET_TIMEOUT and USB_CTRL_SET_TIMEOUT (ms). */
export const USB_CTRL_TIMEOUT_MS = 5000;
const ENOENT = -errnoOf('ENOENT');

/** The KernelError for a negative URB status. */
export function statusError(status: number, detail?: string): KernelError {
  return kerr(systemError(status, 'usb').code, detail);
}

/**
 * usb_control_msg: resolves with the bytes moved in the data stage, rejects with the URB's status
 * as a KernelError (ETIMEDOUT when `timeoutMs` passed first: the URB is killed, as the kernel does).
 */
export function controlMessage(
  pipe: UsbPipe,
  scheduler: Scheduler,
  setup: UsbCtrlRequest,
  data: Uint8Array = new Uint8Array(setup.wLength),
  timeoutMs = USB_CTRL_TIMEOUT_MS,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let cancelTimer = () => {};
    let timedOut = false;
    const urb = controlUrb(setup, data, (u, status) => {
      cancelTimer();
      if (status === 0) resolve(u.actual);
      else reject(status === ENOENT && timedOut ? kerr('ETIMEDOUT') : statusError(status));
    });
    try {
      pipe.submit(urb);
    } catch (e) {
      reject(e);
      return;
    }
    if (urb.done) return;
    cancelTimer = scheduler.at(nowMs() + timeoutMs, () => {
      timedOut = true;
      pipe.kill(urb, ENOENT);
    });
  });
}

/** A control URB on ep0: IN when the request is and has a data stage. */
export function controlUrb(
  setup: UsbCtrlRequest,
  data: Uint8Array = new Uint8Array(setup.wLength),
  onGiveback: (urb: HcdUrb, status: number) => void = () => undefined,
): HcdUrb {
  return new HcdUrb({
    endpoint: setup.bRequestType & USB_DIR_IN && setup.wLength > 0 ? USB_DIR_IN : 0,
    type: 'control',
    setup,
    buffer: data.subarray(0, setup.wLength),
    onGiveback,
  });
}

/** GET_DESCRIPTOR (standard, device recipient) into a new buffer of `length`; resolves with the bytes received. */
export async function getDescriptor(pipe: UsbPipe, scheduler: Scheduler, type: number, index: number, length: number, langId = 0): Promise<Uint8Array> {
  const data = new Uint8Array(length);
  const setup = { bRequestType: USB_DIR_IN, bRequest: USB_REQ_GET_DESCRIPTOR, wValue: (type << 8) | index, wIndex: langId, wLength: length };
  const n = await controlMessage(pipe, scheduler, setup, data);
  return data.subarray(0, n);
}

/** The strings of one device, fetched as usb_string does (the LANGID is read once). */
export class StringFetcher {
  #langId: number | undefined;

  constructor(
    private readonly pipe: UsbPipe,
    private readonly scheduler: Scheduler,
  ) {}

  /** usb_cache_string: the string at `index`, or undefined (index 0, an error, or an empty string). */
  async cache(index: number): Promise<string | undefined> {
    if (index === 0) return undefined;
    try {
      this.#langId ??= await this.#fetchLangId();
      const units = await this.#fetch(index, this.#langId);
      const text = String.fromCharCode(...units);
      return text === '' ? undefined : text;
    } catch {
      return undefined;
    }
  }

  /** usb_get_langid: the first LANGID of string descriptor 0; a malformed one means 0x0409. */
  async #fetchLangId(): Promise<number> {
    let units: number[];
    try {
      units = await this.#fetch(0, 0);
    } catch (e) {
      if ((e as KernelError).code === 'ENODATA') return USB_LANGID_EN_US;
      throw e;
    }
    return units[0] ?? USB_LANGID_EN_US;
  }

  /** usb_string_sub: the descriptor's 16-bit units; ENODATA if it is not a string descriptor, EINVAL if too short. */
  async #fetch(index: number, langId: number): Promise<number[]> {
    const bytes = await getDescriptor(this.pipe, this.scheduler, USB_DT_STRING, index, 255, langId);
    if (bytes.length > 1 && bytes[1] !== USB_DT_STRING) throw kerr('ENODATA');
    let n = Math.min(bytes.length, bytes[0] ?? 0);
    n -= n & 1;
    if (n < 2) throw kerr('EINVAL');
    const units: number[] = [];
    for (let at = 2; at < n; at += 2) units.push(bytes[at]! | (bytes[at + 1]! << 8));
    return units;
  }
}

/**
 * usbfs_start_wait_urb for the blocking usbfs calls (CONTROL, BULK, SETCONFIGURATION...): submits
 * `urb` and waits on the calling thread, running the kernel's events as they fall due. The sim
 * cannot sleep in a syscall while this process's userspace (a FunctionFS gadget, say) answers,
 * so when no kernel event is due before the deadline the wait ends at once as Linux's would at
 * the deadline: the URB is killed and the status is -ETIMEDOUT (`timeoutMs` 0, no timeout,
 * ends so when nothing at all is pending). Returns the URB's status.
 */
export function waitUrbSync(pipe: UsbPipe, scheduler: Scheduler, urb: HcdUrb, timeoutMs: number): number {
  pipe.submit(urb);
  if (!scheduler.blockUntil(() => urb.done, timeoutMs === 0 ? Infinity : timeoutMs, true)) {
    pipe.kill(urb, ENOENT);
    if (urb.status === ENOENT) return -errnoOf('ETIMEDOUT');
  }
  return urb.status!;
}
