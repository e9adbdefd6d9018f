/**
 * usbfs, the host side's raw access to a USB device (`/dev/bus/usb/BBB/DDD`,
 * include/uapi/linux/usbdevice_fs.h, usb.md §A2): the ioctl structs (host byte order, unlike
 * the descriptors and SETUP packets they carry, see usb.ts) and request numbers.
 *
 * The structs hold user pointers (`void __user *`) and are laid out here for 64-bit
 * processes: a 32-bit process has 16-byte ctrl/bulk transfers and a 44-byte urb, so other
 * request numbers.
 */

import { CURRENT_IOC_LAYOUT, io, ior, iow, iowr, type IocLayout } from './ioc.js';
import { defineStruct, s32, u16, u32, u64, u8, type DecodedStruct } from './struct.js';

export const USBDEVFS_IOC_TYPE = 'U';

/** `sizeof(void *)`: the REAPURB requests are `_IOW('U', n, void *)`. */
const SIZEOF_POINTER = 8;

/** `struct usbdevfs_ctrltransfer`: a blocking control transfer; `data` points to `wLength` bytes. */
export const usbdevfsCtrlTransferStruct = defineStruct('usbdevfs_ctrltransfer', 24, {
  bRequestType: u8(0),
  bRequest: u8(1),
  wValue: u16(2),
  wIndex: u16(4),
  wLength: u16(6),
  /** Milliseconds; 0 waits for ever. */
  timeout: u32(8),
  data: u64(16),
});
export type UsbdevfsCtrlTransfer = DecodedStruct<typeof usbdevfsCtrlTransferStruct>;

/** `struct usbdevfs_bulktransfer`: a blocking bulk/interrupt transfer on endpoint address `ep`. */
export const usbdevfsBulkTransferStruct = defineStruct('usbdevfs_bulktransfer', 24, {
  ep: u32(0),
  len: u32(4),
  /** Milliseconds; 0 waits for ever. */
  timeout: u32(8),
  data: u64(16),
});
export type UsbdevfsBulkTransfer = DecodedStruct<typeof usbdevfsBulkTransferStruct>;

/** `struct usbdevfs_setinterface`. */
export const usbdevfsSetInterfaceStruct = defineStruct('usbdevfs_setinterface', 8, {
  interface: u32(0),
  altsetting: u32(4),
});
export type UsbdevfsSetInterface = DecodedStruct<typeof usbdevfsSetInterfaceStruct>;

/**
 * `struct usbdevfs_urb` without the trailing `iso_frame_desc[]` (isochronous URBs are not
 * modelled). The kernel writes `status`, `actualLength`, `errorCount` (and `startFrame`) back
 * when the URB is reaped; `usercontext` is the caller's tag, returned by REAPURB.
 */
export const usbdevfsUrbStruct = defineStruct('usbdevfs_urb', 56, {
  type: u8(0),
  endpoint: u8(1),
  status: s32(4),
  flags: u32(8),
  buffer: u64(16),
  bufferLength: s32(24),
  actualLength: s32(28),
  startFrame: s32(32),
  /** A union: `number_of_packets` (ISO) or `stream_id` (bulk streams). */
  numberOfPackets: u32(36),
  errorCount: s32(40),
  /** The signal sent on completion (0: none). */
  signr: u32(44),
  usercontext: u64(48),
});
export type UsbdevfsUrb = DecodedStruct<typeof usbdevfsUrbStruct>;

// usbdevfs_urb.type
export const USBDEVFS_URB_TYPE_ISO = 0;
export const USBDEVFS_URB_TYPE_INTERRUPT = 1;
export const USBDEVFS_URB_TYPE_CONTROL = 2;
export const USBDEVFS_URB_TYPE_BULK = 3;

// usbdevfs_urb.flags
export const USBDEVFS_URB_SHORT_NOT_OK = 0x01;
export const USBDEVFS_URB_ISO_ASAP = 0x02;
export const USBDEVFS_URB_BULK_CONTINUATION = 0x04;
/** Ignored by the kernel (a UHCI-era hint). */
export const USBDEVFS_URB_NO_FSBR = 0x20;
/** End an OUT transfer that fills its last packet with a zero-length packet. */
export const USBDEVFS_URB_ZERO_PACKET = 0x40;
export const USBDEVFS_URB_NO_INTERRUPT = 0x80;

// USBDEVFS_GET_CAPABILITIES bits
export const USBDEVFS_CAP_ZERO_PACKET = 0x01;
export const USBDEVFS_CAP_BULK_CONTINUATION = 0x02;
export const USBDEVFS_CAP_NO_PACKET_SIZE_LIM = 0x04;
export const USBDEVFS_CAP_BULK_SCATTER_GATHER = 0x08;
export const USBDEVFS_CAP_REAP_AFTER_DISCONNECT = 0x10;
export const USBDEVFS_CAP_MMAP = 0x20;
export const USBDEVFS_CAP_DROP_PRIVILEGES = 0x40;
export const USBDEVFS_CAP_CONNINFO_EX = 0x80;
export const USBDEVFS_CAP_SUSPEND = 0x100;

// enum usb_device_speed, as USBDEVFS_GET_SPEED returns it
export const USB_SPEED_UNKNOWN = 0;
export const USB_SPEED_LOW = 1;
export const USB_SPEED_FULL = 2;
export const USB_SPEED_HIGH = 3;
export const USB_SPEED_WIRELESS = 4;
export const USB_SPEED_SUPER = 5;
export const USB_SPEED_SUPER_PLUS = 6;

/** devio.c: a bulk URB above this many bytes goes out as scatter-gather when the bus can (usb.md §A2). */
export const USB_SG_SIZE = 16384;

/**
 * The usbfs request numbers for one `_IOC` layout, keyed by kernel name. The directions are
 * the header's, not what the kernel does (CLAIMINTERFACE is `_IOR` but reads its argument).
 */
export function usbfsIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  const t = USBDEVFS_IOC_TYPE;
  return {
    USBDEVFS_CONTROL: iowr(t, 0, usbdevfsCtrlTransferStruct, layout),
    USBDEVFS_BULK: iowr(t, 2, usbdevfsBulkTransferStruct, layout),
    USBDEVFS_SETINTERFACE: ior(t, 4, usbdevfsSetInterfaceStruct, layout),
    USBDEVFS_SETCONFIGURATION: ior(t, 5, 4, layout),
    USBDEVFS_SUBMITURB: ior(t, 10, usbdevfsUrbStruct, layout),
    USBDEVFS_DISCARDURB: io(t, 11, layout),
    USBDEVFS_REAPURB: iow(t, 12, SIZEOF_POINTER, layout),
    USBDEVFS_REAPURBNDELAY: iow(t, 13, SIZEOF_POINTER, layout),
    USBDEVFS_CLAIMINTERFACE: ior(t, 15, 4, layout),
    USBDEVFS_RELEASEINTERFACE: ior(t, 16, 4, layout),
    USBDEVFS_RESET: io(t, 20, layout),
    USBDEVFS_CLEAR_HALT: ior(t, 21, 4, layout),
    USBDEVFS_GET_CAPABILITIES: ior(t, 26, 4, layout),
    USBDEVFS_GET_SPEED: io(t, 31, layout),
  } as const;
}

const ioctls = usbfsIoctls();
/** Argument: a usbdevfs_ctrltransfer; its `data` pointer field at offset 16. Blocks. */
export const USBDEVFS_CONTROL = ioctls.USBDEVFS_CONTROL;
/** Argument: a usbdevfs_bulktransfer; its `data` pointer field at offset 16. Blocks. */
export const USBDEVFS_BULK = ioctls.USBDEVFS_BULK;
export const USBDEVFS_SETINTERFACE = ioctls.USBDEVFS_SETINTERFACE;
/** Argument: the bConfigurationValue as an unsigned int (-1: unconfigured). */
export const USBDEVFS_SETCONFIGURATION = ioctls.USBDEVFS_SETCONFIGURATION;
/** Argument: a usbdevfs_urb and its buffer, both kept until the URB is reaped (see port.ts). */
export const USBDEVFS_SUBMITURB = ioctls.USBDEVFS_SUBMITURB;
/** Argument: the urb given to SUBMITURB (the kernel finds the URB by its address). */
export const USBDEVFS_DISCARDURB = ioctls.USBDEVFS_DISCARDURB;
/** Argument: 8 bytes receiving the reaped URB's usercontext (see port.ts). */
export const USBDEVFS_REAPURB = ioctls.USBDEVFS_REAPURB;
export const USBDEVFS_REAPURBNDELAY = ioctls.USBDEVFS_REAPURBNDELAY;
/** Argument: the interface number as an unsigned int. */
export const USBDEVFS_CLAIMINTERFACE = ioctls.USBDEVFS_CLAIMINTERFACE;
export const USBDEVFS_RELEASEINTERFACE = ioctls.USBDEVFS_RELEASEINTERFACE;
export const USBDEVFS_RESET = ioctls.USBDEVFS_RESET;
/** Argument: the endpoint address as an unsigned int. */
export const USBDEVFS_CLEAR_HALT = ioctls.USBDEVFS_CLEAR_HALT;
/** Argument: 4 bytes receiving the USBDEVFS_CAP_* bits. */
export const USBDEVFS_GET_CAPABILITIES = ioctls.USBDEVFS_GET_CAPABILITIES;
/** Returns a USB_SPEED_* value. */
export const USBDEVFS_GET_SPEED = ioctls.USBDEVFS_GET_SPEED;
