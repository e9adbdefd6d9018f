// The wire inside the simulated dummy_hcd: what its host-controller half (usbcore's root hub port,
// driven by hub enumeration and usbfs) and its device half (the dummy UDC and the gadget bound to
// it) exchange. Only URBs, resets and connect/disconnect cross it, as on a real cable, so the host
// side knows the device by what it answers on ep0 and the gadget side by what it is asked.
import type { UsbCtrlRequest } from '../../../abi/usb.js';

export type UsbSpeed = 'full' | 'high' | 'super';

/** One transfer as the host controller sees it (the kernel's struct urb). */
export interface Urb {
  /**
   * Endpoint address: bit 7 set = IN (device to host). The default control pipe is endpoint 0:
   * the host half sends 0 for it, and a UDC takes 0 or 0x80 alike, since a control transfer's
   * direction is in its SETUP packet (bRequestType bit 7), not in the address.
   */
  readonly endpoint: number;
  readonly type: 'control' | 'bulk' | 'interrupt';
  /** Control transfers: the SETUP packet; its data stage is `buffer` (wLength bytes). */
  readonly setup?: UsbCtrlRequest;
  /** The transfer's kernel memory: IN data lands here, OUT data is taken from here. */
  readonly buffer: Uint8Array;
  /** URB_SHORT_NOT_OK: a short IN transfer completes with -EREMOTEIO. */
  readonly shortNotOk: boolean;
  /** URB_ZERO_PACKET: an OUT transfer whose length is a multiple of wMaxPacketSize ends with a ZLP. */
  readonly zeroPacket: boolean;
  /** Bytes moved so far; final when `complete` is called. */
  actual: number;
  /**
   * Called once, asynchronously (never inside submit): 0, or a negative errno as the kernel's
   * urb->status (-ENOENT/-ECONNRESET unlinked, -ESHUTDOWN/-ENODEV device gone, -EPIPE stall,
   * -EREMOTEIO short with shortNotOk, -EOVERFLOW babble).
   */
  complete(status: number): void;
}

/** The device end of the wire, as the host controller drives it. */
export interface UsbPortDevice {
  readonly speed: UsbSpeed;
  /** Port reset: the device drops its address and configuration (default state). */
  reset(): void;
  /** Queues an URB to the device; throws a KernelError (e.g. ENODEV once disconnected). */
  submit(urb: Urb): void;
  /** Cancels a queued URB, which then completes with `status`; false if it already completed. */
  unlink(urb: Urb, status: number): boolean;
}

/** The host end: one root-hub port of a simulated bus. */
export interface UsbRootPort {
  /** A device appears (the UDC's pull-up on: a gadget bound and connected); the hub enumerates it. */
  connect(device: UsbPortDevice): void;
  /** It goes away (UDC unbound, soft disconnect): its URBs complete with -ESHUTDOWN, its usbfs files see POLLHUP/ENODEV. */
  disconnect(): void;
}
