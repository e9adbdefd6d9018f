// The root hub's virtual device (hcd.c rh_call_control): its descriptors are the kernel's own
// (usb2/usb3/usb11_rh_dev_descriptor and the matching configuration), its strings are the
// bus name (serial), the controller's product_desc (product) and "Linux <release> <driver>"
// (manufacturer). Control requests it knows complete after the current call; others stall (-EPIPE).
// dummy_hcd sets has_tt, so a USB 2.0 or 1.1 root hub reports bDeviceProtocol 1 (single TT), and
// the root hub can wake the system, so bmAttributes has the remote-wakeup bit (0xe0).
import {
  encodeLangIds,
  encodeStringDescriptor,
  USB_CONFIG_ATT_WAKEUP,
  USB_DIR_IN,
  USB_LANGID_EN_US,
  USB_RECIP_ENDPOINT,
  USB_RECIP_INTERFACE,
  USB_REQ_CLEAR_FEATURE,
  USB_REQ_GET_CONFIGURATION,
  USB_REQ_GET_DESCRIPTOR,
  USB_REQ_GET_INTERFACE,
  USB_REQ_GET_STATUS,
  USB_REQ_SET_ADDRESS,
  USB_REQ_SET_CONFIGURATION,
  USB_REQ_SET_FEATURE,
  USB_REQ_SET_INTERFACE,
  USB_DT_CONFIG,
  USB_DT_DEVICE,
  USB_DT_STRING,
} from '../../../../abi/usb.js';
import { errnoOf } from '../../../../errors.js';
import type { Scheduler } from '../../scheduler.js';
import type { Urb, UsbPortDevice, UsbSpeed } from '../link.js';

/** The kernel whose root hubs these are: bcdDevice is its version in BCD. */
export const KERNEL_RELEASE = '6.12.118';
const BCD_DEVICE = 0x0612;
/** A hub's status-change endpoint: 1 bit per port plus one, for USB_MAXCHILDREN (31) ports. */
const STATUS_EP_SIZE = (31 + 1 + 7) >> 3;

export interface RootHubStrings {
  /** hcd->self.bus_name, e.g. "dummy_hcd.0". */
  serial: string;
  /** hcd->product_desc. */
  product: string;
  /** hcd->driver->description. */
  driver: string;
}

/** The root hub's device descriptor for a controller of `speed`. */
export function rootHubDeviceDescriptor(speed: UsbSpeed): Uint8Array {
  const usb3 = speed === 'super';
  const bcdUsb = usb3 ? 0x0300 : speed === 'high' ? 0x0200 : 0x0110;
  const product = usb3 ? 0x0003 : speed === 'high' ? 0x0002 : 0x0001;
  return Uint8Array.of(
    18, USB_DT_DEVICE, bcdUsb & 0xff, bcdUsb >> 8,
    0x09, 0x00, usb3 ? 0x03 : 0x01, usb3 ? 0x09 : 0x40, // hub class; protocol (has_tt: single TT); ep0 size
    0x6b, 0x1d, product, 0x00, BCD_DEVICE & 0xff, BCD_DEVICE >> 8,
    0x03, 0x02, 0x01, 0x01, // iManufacturer, iProduct, iSerialNumber, bNumConfigurations
  );
}

/** The root hub's configuration: one hub interface with its interrupt status endpoint 0x81. */
export function rootHubConfigDescriptor(speed: UsbSpeed): Uint8Array {
  const usb3 = speed === 'super';
  const total = usb3 ? 0x1f : 0x19;
  const bytes = [
    9, USB_DT_CONFIG, total, 0, 1, 1, 0, 0xc0 | USB_CONFIG_ATT_WAKEUP, 0,
    9, 0x04, 0, 0, 1, 0x09, 0, 0, 0,
    7, 0x05, 0x81, 0x03, speed === 'full' ? 2 : STATUS_EP_SIZE, 0, speed === 'full' ? 0xff : 0x0c,
  ];
  if (usb3) bytes.push(6, 0x30, 0, 0, 2, 0);
  return Uint8Array.from(bytes);
}

/** rh_string's manufacturer: "<sysname> <release> <driver>". */
export function rootHubManufacturer(strings: RootHubStrings): string {
  return `Linux ${KERNEL_RELEASE} ${strings.driver}`;
}

export class RootHubDevice implements UsbPortDevice {
  readonly #pending = new Map<Urb, () => void>();

  constructor(
    readonly speed: UsbSpeed,
    private readonly strings: RootHubStrings,
    private readonly scheduler: Scheduler,
  ) {}

  reset(): void {}

  submit(urb: Urb): void {
    const answer = urb.type === 'control' && urb.setup !== undefined ? this.#control(urb) : undefined;
    const cancel = this.scheduler.soon(() => {
      this.#pending.delete(urb);
      if (answer === undefined) return urb.complete(-errnoOf('EPIPE')); // a protocol stall
      const n = Math.min(answer.length, urb.buffer.length);
      urb.buffer.set(answer.subarray(0, n));
      urb.actual = n;
      urb.complete(0);
    });
    this.#pending.set(urb, cancel);
  }

  unlink(urb: Urb, status: number): boolean {
    const cancel = this.#pending.get(urb);
    if (cancel === undefined) return false;
    cancel();
    this.#pending.delete(urb);
    urb.complete(status);
    return true;
  }

  /** The data stage rh_call_control answers with (empty for an OUT request it accepts), or undefined: stall. */
  #control(urb: Urb): Uint8Array | undefined {
    const { bRequestType, bRequest, wValue } = urb.setup!;
    const none = new Uint8Array(0);
    const recipient = bRequestType & 0x1f;
    const dirIn = (bRequestType & USB_DIR_IN) !== 0;
    if ((bRequestType & 0x60) !== 0) return undefined; // hub class requests: not modelled
    if (recipient === USB_RECIP_ENDPOINT) {
      if (bRequest === USB_REQ_GET_STATUS && dirIn) return Uint8Array.of(0, 0);
      return bRequest === USB_REQ_CLEAR_FEATURE || bRequest === USB_REQ_SET_FEATURE ? none : undefined;
    }
    if (recipient === USB_RECIP_INTERFACE) return undefined;
    switch (bRequest) {
      case USB_REQ_GET_STATUS:
        return dirIn ? Uint8Array.of(0x01, 0) : undefined; // self-powered
      case USB_REQ_GET_CONFIGURATION:
        return dirIn ? Uint8Array.of(1) : undefined;
      case USB_REQ_GET_INTERFACE:
        return dirIn ? Uint8Array.of(0) : undefined;
      case USB_REQ_SET_CONFIGURATION:
      case USB_REQ_SET_INTERFACE:
      case USB_REQ_SET_ADDRESS:
        return dirIn ? undefined : none;
      case USB_REQ_GET_DESCRIPTOR:
        return dirIn ? this.#descriptor(wValue >> 8, wValue & 0xff) : undefined;
      default:
        return undefined;
    }
  }

  #descriptor(type: number, index: number): Uint8Array | undefined {
    switch (type) {
      case USB_DT_DEVICE:
        return rootHubDeviceDescriptor(this.speed);
      case USB_DT_CONFIG:
        return rootHubConfigDescriptor(this.speed);
      case USB_DT_STRING:
        if (index === 0) return encodeLangIds([USB_LANGID_EN_US]);
        if (index > 3) return undefined;
        // ascii2desc: at most 126 characters
        return encodeStringDescriptor([this.strings.serial, this.strings.product, rootHubManufacturer(this.strings)][index - 1]!.slice(0, 126));
      default:
        return undefined;
    }
  }
}
