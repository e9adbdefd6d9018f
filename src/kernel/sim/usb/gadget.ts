// The gadget API (include/linux/usb/gadget.h) between the UDC and the gadget drivers above it:
// endpoints (usb_ep), requests (usb_request), the driver's callbacks (usb_gadget_driver) and
// endpoint autoconfiguration (epautoconf.c). The UDC (dummy-udc.ts) implements the endpoints'
// queues and moves the bytes; the composite layer (composite.ts) is the driver.
import { errnoOf } from '../../../errors.js';
import {
  USB_DIR_IN,
  USB_ENDPOINT_XFER_BULK,
  USB_ENDPOINT_XFER_INT,
  USB_ENDPOINT_XFER_ISOC,
  USB_ENDPOINT_XFERTYPE_MASK,
  type UsbCtrlRequest,
  type UsbEndpointDescriptor,
} from '../../../abi/usb.js';
import type { DmaBuf } from '../dma-buf.js';
import { kerr } from '../errno.js';
import type { UsbSpeed } from './link.js';

/** -EINPROGRESS: a request's status while it is queued. */
export const EINPROGRESS = -errnoOf('EINPROGRESS');
/** Returned by a setup handler that will queue the status stage later (USB_GADGET_DELAYED_STATUS). */
export const USB_GADGET_DELAYED_STATUS = 0x7fff;

/** struct usb_request: one transfer the gadget side queues on an endpoint. */
export interface UsbRequest {
  readonly length: number;
  /** The request's kernel buffer (req->buf), or none for a scatter-gather request. */
  readonly buf?: Uint8Array;
  /** A scatter-gather request over a mapped DMABUF from its start (sg_was_mapped, usb.md §A4). */
  readonly sg?: DmaBuf;
  /** End an IN transfer whose length is a multiple of wMaxPacketSize with a zero-length packet. */
  readonly zero: boolean;
  actual: number;
  /** EINPROGRESS while queued; then 0 or a negative errno (-ECONNRESET dequeued, -ESHUTDOWN disabled). */
  status: number;
  /** Called once the request leaves the queue (usb_gadget_giveback_request). */
  readonly complete: (req: UsbRequest) => void;
}

export function usbRequest(init: Omit<UsbRequest, 'actual' | 'status'>): UsbRequest {
  return { ...init, actual: 0, status: EINPROGRESS };
}

/** Copies into a request's memory at `offset` (an OUT transfer landing). */
export function requestWrite(req: UsbRequest, offset: number, from: Uint8Array): void {
  if (req.sg !== undefined) req.sg.write(offset, from);
  else req.buf!.set(from, offset);
}

/** Copies out of a request's memory at `offset` (an IN transfer leaving). */
export function requestRead(req: UsbRequest, offset: number, into: Uint8Array): void {
  if (req.sg !== undefined) req.sg.read(offset, into);
  else into.set(req.buf!.subarray(offset, offset + into.length));
}

export type EndpointType = 'control' | 'bulk' | 'int' | 'iso';

/** struct usb_ep_caps, as the UDC names them (ep1in-bulk, ep-aout, ...). */
export interface EndpointCaps {
  readonly types: readonly EndpointType[];
  readonly in: boolean;
  readonly out: boolean;
}

/** struct usb_ep: what a gadget driver holds of one hardware endpoint. */
export interface UsbEp {
  readonly name: string;
  readonly caps: EndpointCaps;
  /** Its address once claimed by autoconfig (number | USB_DIR_IN). */
  address: number;
  claimed: boolean;
  /** The descriptor it was enabled with; undefined while disabled. */
  readonly desc: UsbEndpointDescriptor | undefined;
  readonly maxpacket: number;
  /** usb_ep_enable: EINVAL for a descriptor the UDC cannot do at the current speed. */
  enable(desc: UsbEndpointDescriptor): void;
  /** usb_ep_disable: queued requests complete with -ESHUTDOWN. */
  disable(): void;
  /** usb_ep_queue (ESHUTDOWN when disabled or no host is there). */
  queue(req: UsbRequest): void;
  /** usb_ep_dequeue: the request completes with -ECONNRESET; EINVAL if it is not queued. */
  dequeue(req: UsbRequest): void;
  setHalt(): void;
  clearHalt(): void;
  /** usb_ep_fifo_status: bytes in the FIFO, or EOPNOTSUPP (dummy has no FIFO count). */
  fifoStatus(): number;
  fifoFlush(): void;
}

/** enum usb_device_state as usb_state_string() prints it. */
export type GadgetState = 'not attached' | 'powered' | 'default' | 'addressed' | 'configured' | 'suspended';

/** struct usb_gadget as a driver sees it. */
export interface UsbGadget {
  readonly name: string;
  /** The speed of the link (the maximum until connected). */
  readonly speed: UsbSpeed;
  readonly maxSpeed: UsbSpeed;
  /** gadget->sg_supported: the UDC takes scatter-gather requests (dummy_hcd only with the lab's patch). */
  readonly sgSupported: boolean;
  readonly ep0: UsbEp;
  readonly eps: readonly UsbEp[];
  /** The last numbers autoconfig gave generic endpoints (gadget->in_epnum, out_epnum). */
  readonly epnum: { in: number; out: number };
  /** usb_gadget_set_state. */
  setState(state: GadgetState): void;
}

/** struct usb_gadget_driver: the callbacks the UDC calls (the composite layer implements them). */
export interface GadgetDriver {
  /** Binds to the gadget; throws a KernelError to refuse. */
  bind(gadget: UsbGadget): void;
  unbind(): void;
  /** A SETUP the UDC does not answer itself: >= 0 to go on (data queued on ep0, or delayed status), < 0 to stall. */
  setup(ctrl: UsbCtrlRequest): number;
  disconnect(): void;
  reset(): void;
  suspend(): void;
  resume(): void;
}

function endpointType(desc: UsbEndpointDescriptor): EndpointType {
  switch (desc.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK) {
    case USB_ENDPOINT_XFER_BULK:
      return 'bulk';
    case USB_ENDPOINT_XFER_INT:
      return 'int';
    case USB_ENDPOINT_XFER_ISOC:
      return 'iso';
    default:
      return 'control';
  }
}

/** usb_gadget_ep_match_desc: an unclaimed endpoint of the right type and direction. */
function matches(ep: UsbEp, desc: UsbEndpointDescriptor): boolean {
  if (ep.claimed) return false;
  const type = endpointType(desc);
  if (type === 'control' || !ep.caps.types.includes(type)) return false;
  return (desc.bEndpointAddress & USB_DIR_IN) !== 0 ? ep.caps.in : ep.caps.out;
}

/**
 * usb_ep_autoconfig: claims the first matching endpoint and writes its address into `desc`
 * (a fixed-function name like "ep6in-bulk" gives its number; a generic one the next free
 * number). ENOTSUPP (the kernel's internal 524) becomes ENODEV here, the error a UDC bind
 * reports for it.
 */
export function autoconfig(gadget: UsbGadget, desc: UsbEndpointDescriptor): UsbEp {
  const ep = gadget.eps.find((e) => matches(e, desc));
  if (ep === undefined) throw kerr('ENODEV', `${gadget.name} has no free endpoint for 0x${desc.bEndpointAddress.toString(16)}`);
  const dirIn = (desc.bEndpointAddress & USB_DIR_IN) !== 0;
  const fixed = /^ep(\d+)/.exec(ep.name);
  let number: number;
  if (fixed !== null) number = Number(fixed[1]);
  else number = dirIn ? ++gadget.epnum.in : ++gadget.epnum.out;
  if (number > 15) throw kerr('ENODEV', 'endpoint numbers exhausted');
  desc.bEndpointAddress = (dirIn ? USB_DIR_IN : 0) | number;
  if (desc.wMaxPacketSize === 0) desc.wMaxPacketSize = ep.maxpacket;
  ep.address = desc.bEndpointAddress;
  ep.claimed = true;
  return ep;
}

/** usb_ep_autoconfig_reset: every endpoint free again (when the driver unbinds). */
export function autoconfigReset(gadget: UsbGadget): void {
  for (const ep of gadget.eps) {
    ep.claimed = false;
    ep.address = 0;
  }
  gadget.epnum.in = 0;
  gadget.epnum.out = 0;
}
