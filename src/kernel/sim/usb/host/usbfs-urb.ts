// usbfs asynchronous URBs (devio.c proc_do_submiturb, processcompl, cancel_bulk_urbs): what
// SUBMITURB checks, in the kernel's order, and what it keeps. The kernel works on its own buffer:
// OUT data is copied from the caller's at submit, IN data back into it at reap, with status,
// actual_length and error_count written into the caller's usbdevfs_urb; REAPURBNDELAY's argument
// gets the URB's usercontext (in Linux the urb's address, which the caller then reads it
// through; no address reaches JS, see port.ts). Bulk URBs of more than 16 KiB use a scatter-gather
// list when the bus allows (dummy_hcd's does): invisible here but for the memory they count.
// Isochronous URBs are not modelled (EINVAL).
import {
  USB_DIR_IN,
  USB_ENDPOINT_DIR_MASK,
  USB_ENDPOINT_XFER_BULK,
  USB_ENDPOINT_XFER_CONTROL,
  USB_ENDPOINT_XFER_INT,
  USB_SG_SIZE,
  USBDEVFS_URB_BULK_CONTINUATION,
  USBDEVFS_URB_NO_FSBR,
  USBDEVFS_URB_NO_INTERRUPT,
  USBDEVFS_URB_SHORT_NOT_OK,
  USBDEVFS_URB_TYPE_BULK,
  USBDEVFS_URB_TYPE_CONTROL,
  USBDEVFS_URB_TYPE_INTERRUPT,
  USBDEVFS_URB_ZERO_PACKET,
  decodeCtrlRequest,
  usbdevfsUrbStruct,
  type UsbCtrlRequest,
} from '../../../../abi/index.js';
import { kerr } from '../../errno.js';
import { HcdUrb } from './hcd.js';

/** sizeof(struct async) + sizeof(struct urb) on x86_64 6.12, which each URB counts against usbfs_memory_mb. */
export const URB_OVERHEAD = 112 + 184;
/** sizeof(struct urb) alone (CONTROL and BULK count it). */
export const SIZEOF_URB = 184;
const SIZEOF_SCATTERLIST = 32;
/** USBFS_XFER_MAX: buffer_length at or above it is EINVAL. */
const USBFS_XFER_MAX = Math.floor(0xffffffff / 2) - 1000000;

const FLAGS_MASK = USBDEVFS_URB_SHORT_NOT_OK | USBDEVFS_URB_BULK_CONTINUATION | USBDEVFS_URB_NO_FSBR | USBDEVFS_URB_ZERO_PACKET | USBDEVFS_URB_NO_INTERRUPT;
const F = usbdevfsUrbStruct.fields;

/** What SUBMITURB needs from the device and the file (findintfep, checkintf, check_ctrlrecip, ep_to_host_endpoint). */
export interface SubmitContext {
  interfaceOfEndpoint(address: number): number;
  checkInterface(ifnum: number): void;
  checkControlRecipient(setup: UsbCtrlRequest): void;
  endpointType(address: number): number | undefined;
}

/** struct async: one submitted URB, kept until reaped. */
export class AsyncUrb {
  status: number | undefined;
  /** The bulk endpoint as cancel_bulk_urbs numbers them (number | direction >> 3), 0 for others. */
  bulkAddr = 0;
  /** Submitted with BULK_CONTINUATION; 'unlink' once cancel_bulk_urbs marked it. */
  bulkStatus: 'continuation' | 'unlink' | undefined;

  constructor(
    readonly urb: HcdUrb,
    /** The caller's usbdevfs_urb, which names the URB and receives its results. */
    readonly userurb: Uint8Array,
    /** Where an IN URB's data goes at reap. */
    readonly userbuffer: Uint8Array | undefined,
    /** The interface it was submitted on; -1 for the default control pipe. */
    readonly ifnum: number,
    /** The bytes it counts against usbfs_memory_mb. */
    readonly memUsage: number,
  ) {}

  /** Whether `bytes` are the usbdevfs_urb this URB was submitted with (DISCARDURB's identity: same memory). */
  is(bytes: Uint8Array): boolean {
    return bytes.buffer === this.userurb.buffer && bytes.byteOffset === this.userurb.byteOffset;
  }

  /** processcompl: data, status, actual_length and error_count to the caller; usercontext into `arg`. */
  reap(arg: Uint8Array): void {
    if (this.userbuffer !== undefined && this.urb.actual > 0) this.userbuffer.set(this.urb.buffer.subarray(0, this.urb.actual));
    usbdevfsUrbStruct.putNumber(this.userurb, 'status', this.status!);
    usbdevfsUrbStruct.putNumber(this.userurb, 'actualLength', this.urb.actual);
    usbdevfsUrbStruct.putNumber(this.userurb, 'errorCount', 0);
    arg.set(this.userurb.subarray(F.usercontext.offset, F.usercontext.offset + 8));
  }
}

/**
 * proc_do_submiturb up to usb_submit_urb: checks the URB as the kernel does (each failure its
 * errno) and builds it. `charge` takes the usbfs memory (ENOMEM); `onGiveback` is its completion.
 */
export function prepareSubmit(
  ctx: SubmitContext,
  userurb: Uint8Array,
  data: Uint8Array | undefined,
  sgTablesize: number,
  charge: (bytes: number) => void,
  onGiveback: (as: AsyncUrb, status: number) => void,
): AsyncUrb {
  const type = usbdevfsUrbStruct.number(userurb, 'type');
  let endpoint = usbdevfsUrbStruct.number(userurb, 'endpoint');
  const flags = usbdevfsUrbStruct.number(userurb, 'flags');
  let length = usbdevfsUrbStruct.number(userurb, 'bufferLength');
  if ((flags & ~FLAGS_MASK) !== 0) throw kerr('EINVAL', `URB flags 0x${flags.toString(16)}`);
  if (length >>> 0 >= USBFS_XFER_MAX) throw kerr('EINVAL', `buffer_length ${length}`);
  if (length > 0 && data === undefined) throw kerr('EINVAL', 'buffer_length without a buffer');
  if (length > 0 && data!.length < length) throw kerr('EFAULT');
  let ifnum = -1;
  if (!(type === USBDEVFS_URB_TYPE_CONTROL && (endpoint & ~USB_ENDPOINT_DIR_MASK) === 0)) {
    ifnum = ctx.interfaceOfEndpoint(endpoint);
    ctx.checkInterface(ifnum);
  }
  const epType = ctx.endpointType(endpoint);
  if (epType === undefined) throw kerr('ENOENT', `no endpoint 0x${endpoint.toString(16).padStart(2, '0')}`);
  let isIn = (endpoint & USB_ENDPOINT_DIR_MASK) !== 0;
  let linkType: HcdUrb['type'];
  let allowShort = false;
  let allowZero = false;
  let setup: UsbCtrlRequest | undefined;
  let offset = 0;
  let numSgs = 0;
  switch (type) {
    case USBDEVFS_URB_TYPE_CONTROL:
      if (epType !== USB_ENDPOINT_XFER_CONTROL) throw kerr('EINVAL', 'a control URB to a non-control endpoint');
      if (length < 8) throw kerr('EINVAL', 'a control URB needs its 8-byte setup packet');
      setup = decodeCtrlRequest(data!);
      if (length < setup.wLength + 8) throw kerr('EINVAL', `buffer_length ${length} < 8 + wLength ${setup.wLength}`);
      ctx.checkControlRecipient(setup);
      length = setup.wLength;
      offset = 8;
      isIn = (setup.bRequestType & USB_DIR_IN) !== 0 && length > 0;
      endpoint = isIn ? endpoint | USB_DIR_IN : endpoint & ~USB_DIR_IN;
      allowShort = isIn;
      linkType = 'control';
      break;
    case USBDEVFS_URB_TYPE_BULK:
      if (epType === USB_ENDPOINT_XFER_CONTROL || epType === 1) throw kerr('EINVAL', 'a bulk URB to a control or isochronous endpoint');
      allowZero = !isIn;
      allowShort = isIn;
      linkType = epType === USB_ENDPOINT_XFER_INT ? 'interrupt' : 'bulk'; // single-shot interrupt transfers
      if (linkType === 'bulk') {
        numSgs = Math.ceil(length / USB_SG_SIZE);
        if (numSgs === 1 || numSgs > sgTablesize) numSgs = 0;
      }
      break;
    case USBDEVFS_URB_TYPE_INTERRUPT:
      if (epType !== USB_ENDPOINT_XFER_INT) throw kerr('EINVAL', 'an interrupt URB to a non-interrupt endpoint');
      allowZero = !isIn;
      allowShort = isIn;
      linkType = 'interrupt';
      break;
    default:
      throw kerr('EINVAL', `URB type ${type}`);
  }
  const memUsage = (setup === undefined ? 0 : 8) + URB_OVERHEAD + length + numSgs * SIZEOF_SCATTERLIST;
  charge(memUsage);
  const buffer = new Uint8Array(length);
  if (!isIn && length > 0) buffer.set(data!.subarray(offset, offset + length));
  let as: AsyncUrb | undefined;
  const urb = new HcdUrb({
    endpoint,
    type: linkType,
    ...(setup === undefined ? {} : { setup }),
    buffer,
    shortNotOk: allowShort && (flags & USBDEVFS_URB_SHORT_NOT_OK) !== 0,
    zeroPacket: allowZero && (flags & USBDEVFS_URB_ZERO_PACKET) !== 0,
    onGiveback: (_urb, status) => onGiveback(as!, status),
  });
  as = new AsyncUrb(urb, userurb, isIn && length > 0 ? data!.subarray(offset, offset + length) : undefined, ifnum, memUsage);
  if (linkType === 'bulk' && epType === USB_ENDPOINT_XFER_BULK) {
    as.bulkAddr = (endpoint & 0x0f) | ((endpoint & USB_ENDPOINT_DIR_MASK) >> 3);
    if ((flags & USBDEVFS_URB_BULK_CONTINUATION) !== 0) as.bulkStatus = 'continuation';
  }
  return as;
}
