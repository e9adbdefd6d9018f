// libiio's USB transport as both ends speak it (usb.md §A1, §A2): the interface iiod -F
// describes to FunctionFS, the string hosts find it by, and the vendor requests that open and
// close its pipes. A pipe is one bulk IN/OUT endpoint pair carrying the iiod protocol.
import { encodeFfsDescriptors, encodeFfsStrings, type FfsDescriptors } from '../abi/functionfs.js';
import { USB_CLASS_COMM, USB_DIR_IN, USB_ENDPOINT_XFER_BULK, USB_RECIP_INTERFACE, USB_TYPE_VENDOR, type UsbDescriptor } from '../abi/usb.js';

/** The interface string hosts look for (libiio's scan matches iInterface == "IIO"). */
export const IIOD_INTERFACE_NAME = 'IIO';

/** iiod's default pipe count (`-n`); FunctionFS's 31 endpoints per speed cap it at 15. */
export const IIOD_DEFAULT_PIPES = 3;
export const IIOD_MAX_PIPES = 15;

/** bmRequestType of every iiod vendor request: vendor, host to device, to the interface. */
export const IIOD_REQUEST_TYPE = USB_TYPE_VENDOR | USB_RECIP_INTERFACE;

/** bRequest values (wValue: the pipe for OPEN/CLOSE; wLength 0, no data stage). */
export const IIOD_RESET_PIPES = 0;
export const IIOD_OPEN_PIPE = 1;
export const IIOD_CLOSE_PIPE = 2;

/** libiio's bounds on the host: control transfers and (its default) bulk transfers, in ms. */
export const IIOD_USB_CTRL_TIMEOUT_MS = 1000;
export const IIOD_USB_BULK_TIMEOUT_MS = 5000;
/** libiio caps each bulk transfer at 1 MiB (usbfs may fail larger contiguous URBs). */
export const IIOD_USB_MAX_TRANSFER = 1 << 20;

function checkPipes(pipes: number): void {
  if (!Number.isInteger(pipes) || pipes < 1 || pipes > IIOD_MAX_PIPES) {
    throw new RangeError(`pipes must be 1 to ${IIOD_MAX_PIPES} (FunctionFS allows 31 endpoints per speed), got ${pipes}`);
  }
}

/**
 * The descriptors iiod -F writes to ep0 for `pipes` pipes: one interface of class COMM, then per
 * pipe a bulk IN endpoint 0x81+p and an OUT one 0x01+p, at full, high and super speed (64, 512,
 * 1024 bytes; SS endpoints with a zeroed companion). Pipe p's files are ep(2p+1) (IN) and
 * ep(2p+2) (OUT). The UDC may give the endpoints other addresses (hosts read them back).
 */
export function iiodDescriptorSet(pipes: number): FfsDescriptors {
  checkPipes(pipes);
  const speed = (maxPacket: number, companion: boolean): UsbDescriptor[] => {
    const list: UsbDescriptor[] = [{
      type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 2 * pipes,
      bInterfaceClass: USB_CLASS_COMM, bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 1,
    }];
    for (let p = 0; p < pipes; p++) {
      for (const address of [USB_DIR_IN | (p + 1), p + 1]) {
        list.push({ type: 'endpoint', bEndpointAddress: address, bmAttributes: USB_ENDPOINT_XFER_BULK, wMaxPacketSize: maxPacket, bInterval: 0 });
        if (companion) list.push({ type: 'ss-endpoint-comp', bMaxBurst: 0, bmAttributes: 0, wBytesPerInterval: 0 });
      }
    }
    return list;
  };
  return { fs: speed(64, false), hs: speed(512, false), ss: speed(1024, true) };
}

/** iiod's descriptor blob for `pipes` pipes, as it writes it to ep0 (51 + 54·pipes bytes). */
export function iiodDescriptors(pipes: number): Uint8Array {
  return encodeFfsDescriptors(iiodDescriptorSet(pipes));
}

/** iiod's strings: en-US, the one string "IIO" (22 bytes). */
export const IIOD_STRINGS: Uint8Array = encodeFfsStrings({ langs: [{ lang: 0x0409, strings: [IIOD_INTERFACE_NAME] }] });

/** The endpoint files of pipe `p` on a FunctionFS mount: IN (device to host) and OUT. */
export function pipeEndpointFiles(mountpoint: string, p: number): { in: string; out: string } {
  return { in: `${mountpoint}/ep${2 * p + 1}`, out: `${mountpoint}/ep${2 * p + 2}` };
}
