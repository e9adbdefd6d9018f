/**
 * USB chapter 9 wire formats (include/uapi/linux/usb/ch9.h): control requests, the standard
 * descriptors and string descriptors. These travel on the bus, so they are little-endian
 * whatever the host (unlike the ioctl structs of struct.ts); FunctionFS blobs (functionfs.ts)
 * and usbfs control transfers carry them verbatim.
 */

// bmRequestType (ch9.h): direction, type and recipient fields.
export const USB_DIR_OUT = 0;
export const USB_DIR_IN = 0x80;
export const USB_TYPE_MASK = 0x60;
export const USB_TYPE_STANDARD = 0x00;
export const USB_TYPE_CLASS = 0x20;
export const USB_TYPE_VENDOR = 0x40;
export const USB_RECIP_MASK = 0x1f;
export const USB_RECIP_DEVICE = 0;
export const USB_RECIP_INTERFACE = 1;
export const USB_RECIP_ENDPOINT = 2;
export const USB_RECIP_OTHER = 3;

// Standard requests (bRequest with USB_TYPE_STANDARD).
export const USB_REQ_GET_STATUS = 0;
export const USB_REQ_CLEAR_FEATURE = 1;
export const USB_REQ_SET_FEATURE = 3;
export const USB_REQ_SET_ADDRESS = 5;
export const USB_REQ_GET_DESCRIPTOR = 6;
export const USB_REQ_SET_DESCRIPTOR = 7;
export const USB_REQ_GET_CONFIGURATION = 8;
export const USB_REQ_SET_CONFIGURATION = 9;
export const USB_REQ_GET_INTERFACE = 10;
export const USB_REQ_SET_INTERFACE = 11;

/** The feature selector of CLEAR_FEATURE/SET_FEATURE on an endpoint: its halt (stall). */
export const USB_ENDPOINT_HALT = 0;
export const USB_FEATURE_ENDPOINT_HALT = USB_ENDPOINT_HALT;

// Descriptor types and sizes.
export const USB_DT_DEVICE = 0x01;
export const USB_DT_CONFIG = 0x02;
export const USB_DT_STRING = 0x03;
export const USB_DT_INTERFACE = 0x04;
export const USB_DT_ENDPOINT = 0x05;
export const USB_DT_DEVICE_QUALIFIER = 0x06;
export const USB_DT_OTHER_SPEED_CONFIG = 0x07;
export const USB_DT_INTERFACE_POWER = 0x08;
export const USB_DT_OTG = 0x09;
export const USB_DT_DEBUG = 0x0a;
export const USB_DT_INTERFACE_ASSOCIATION = 0x0b;
export const USB_DT_SECURITY = 0x0c;
export const USB_DT_BOS = 0x0f;
export const USB_DT_CS_RADIO_CONTROL = 0x23;
export const USB_DT_SS_ENDPOINT_COMP = 0x30;

export const USB_DT_DEVICE_SIZE = 18;
export const USB_DT_CONFIG_SIZE = 9;
export const USB_DT_INTERFACE_SIZE = 9;
export const USB_DT_ENDPOINT_SIZE = 7;
/** An audio endpoint: bRefresh and bSynchAddress after the 7 standard bytes. */
export const USB_DT_ENDPOINT_AUDIO_SIZE = 9;
export const USB_DT_SS_EP_COMP_SIZE = 6;
export const USB_DT_INTERFACE_ASSOCIATION_SIZE = 8;
/** `struct usb_otg_descriptor`: bLength, bDescriptorType, bmAttributes. */
export const USB_DT_OTG_SIZE = 3;

// bEndpointAddress and bmAttributes of an endpoint.
export const USB_ENDPOINT_NUMBER_MASK = 0x0f;
export const USB_ENDPOINT_DIR_MASK = 0x80;
export const USB_ENDPOINT_XFERTYPE_MASK = 0x03;
export const USB_ENDPOINT_XFER_CONTROL = 0;
export const USB_ENDPOINT_XFER_ISOC = 1;
export const USB_ENDPOINT_XFER_BULK = 2;
export const USB_ENDPOINT_XFER_INT = 3;

// Class codes (bDeviceClass, bInterfaceClass).
export const USB_CLASS_PER_INTERFACE = 0;
export const USB_CLASS_COMM = 2;
export const USB_CLASS_HID = 3;
export const USB_CLASS_CSCID = 0x0b;
export const USB_CLASS_VENDOR_SPEC = 0xff;

// Configuration bmAttributes: bit 7 must be set (USB 2.0 §9.6.3).
export const USB_CONFIG_ATT_ONE = 0x80;
export const USB_CONFIG_ATT_SELFPOWER = 0x40;
export const USB_CONFIG_ATT_WAKEUP = 0x20;

/** Range-checks one unsigned field of `what`, naming it. */
function checkUint(what: string, field: string, value: unknown, bits: 8 | 16): number {
  const max = 2 ** bits - 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what}: ${field} ${String(value)} is not an integer in 0..${max}`);
  }
  return value;
}

const le16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
function putLe16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

// ---------------------------------------------------------------------------------------------
// struct usb_ctrlrequest: the SETUP packet.

export interface UsbCtrlRequest {
  bRequestType: number;
  bRequest: number;
  wValue: number;
  wIndex: number;
  wLength: number;
}

export const USB_CTRLREQUEST_SIZE = 8;

/** The 8-byte SETUP packet, little-endian, into `into` at `offset` (or a new array). */
export function encodeCtrlRequest(r: UsbCtrlRequest, into?: Uint8Array, offset = 0): Uint8Array {
  const what = 'usb_ctrlrequest';
  const values = [
    checkUint(what, 'bRequestType', r.bRequestType, 8),
    checkUint(what, 'bRequest', r.bRequest, 8),
    checkUint(what, 'wValue', r.wValue, 16),
    checkUint(what, 'wIndex', r.wIndex, 16),
    checkUint(what, 'wLength', r.wLength, 16),
  ] as const;
  const bytes = into ?? new Uint8Array(USB_CTRLREQUEST_SIZE);
  if (!Number.isInteger(offset) || offset < 0 || offset + USB_CTRLREQUEST_SIZE > bytes.length) {
    throw new RangeError(`${what}: need ${USB_CTRLREQUEST_SIZE} bytes at offset ${offset}, the array holds ${bytes.length}`);
  }
  bytes[offset] = values[0];
  bytes[offset + 1] = values[1];
  putLe16(bytes, offset + 2, values[2]);
  putLe16(bytes, offset + 4, values[3]);
  putLe16(bytes, offset + 6, values[4]);
  return bytes;
}

export function decodeCtrlRequest(bytes: Uint8Array, offset = 0): UsbCtrlRequest {
  if (!Number.isInteger(offset) || offset < 0 || offset + USB_CTRLREQUEST_SIZE > bytes.length) {
    throw new RangeError(`usb_ctrlrequest: need ${USB_CTRLREQUEST_SIZE} bytes at offset ${offset}, got ${bytes.length - offset}`);
  }
  return {
    bRequestType: bytes[offset]!,
    bRequest: bytes[offset + 1]!,
    wValue: le16(bytes, offset + 2),
    wIndex: le16(bytes, offset + 4),
    wLength: le16(bytes, offset + 6),
  };
}

// ---------------------------------------------------------------------------------------------
// Standard descriptors.

export interface UsbDeviceDescriptor {
  type: 'device';
  bcdUSB: number;
  bDeviceClass: number;
  bDeviceSubClass: number;
  bDeviceProtocol: number;
  bMaxPacketSize0: number;
  idVendor: number;
  idProduct: number;
  bcdDevice: number;
  iManufacturer: number;
  iProduct: number;
  iSerialNumber: number;
  bNumConfigurations: number;
}

export interface UsbConfigDescriptor {
  type: 'config';
  /** The length of the configuration with all its interface and endpoint descriptors. */
  wTotalLength: number;
  bNumInterfaces: number;
  bConfigurationValue: number;
  iConfiguration: number;
  bmAttributes: number;
  /** In 2 mA units (8 mA at SuperSpeed). */
  bMaxPower: number;
}

export interface UsbInterfaceDescriptor {
  type: 'interface';
  bInterfaceNumber: number;
  bAlternateSetting: number;
  bNumEndpoints: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  iInterface: number;
}

export interface UsbEndpointDescriptor {
  type: 'endpoint';
  bEndpointAddress: number;
  bmAttributes: number;
  wMaxPacketSize: number;
  bInterval: number;
  /** Present on the 9-byte audio form only. */
  audio?: { bRefresh: number; bSynchAddress: number };
}

export interface UsbSsEndpointCompDescriptor {
  type: 'ss-endpoint-comp';
  bMaxBurst: number;
  bmAttributes: number;
  wBytesPerInterval: number;
}

/** Any other descriptor, kept verbatim: `bytes` starts with its own bLength and bDescriptorType. */
export interface UsbOtherDescriptor {
  type: 'other';
  bDescriptorType: number;
  bytes: Uint8Array;
}

export type UsbDescriptor =
  | UsbDeviceDescriptor
  | UsbConfigDescriptor
  | UsbInterfaceDescriptor
  | UsbEndpointDescriptor
  | UsbSsEndpointCompDescriptor
  | UsbOtherDescriptor;

/** A malformed descriptor in a list; `offset` is where it starts in the bytes parsed. */
export class UsbDescriptorError extends RangeError {
  readonly offset: number;
  /** 'truncated': runs past the end of the bytes; 'length': a bLength the descriptor cannot have. */
  readonly reason: 'truncated' | 'length';
  constructor(message: string, offset: number, reason: 'truncated' | 'length') {
    super(message);
    this.name = 'UsbDescriptorError';
    this.offset = offset;
    this.reason = reason;
  }
}

/** The bLength each fixed-size standard descriptor must have. */
const FIXED_LENGTH: ReadonlyMap<number, number> = new Map([
  [USB_DT_DEVICE, USB_DT_DEVICE_SIZE],
  [USB_DT_CONFIG, USB_DT_CONFIG_SIZE],
  [USB_DT_INTERFACE, USB_DT_INTERFACE_SIZE],
  [USB_DT_SS_ENDPOINT_COMP, USB_DT_SS_EP_COMP_SIZE],
]);

const DESCRIPTOR_NAMES: ReadonlyMap<number, string> = new Map([
  [USB_DT_DEVICE, 'device'],
  [USB_DT_CONFIG, 'configuration'],
  [USB_DT_INTERFACE, 'interface'],
  [USB_DT_ENDPOINT, 'endpoint'],
  [USB_DT_SS_ENDPOINT_COMP, 'SuperSpeed endpoint companion'],
]);

/** The encoded size of a descriptor. */
export function descriptorLength(d: UsbDescriptor): number {
  switch (d.type) {
    case 'device': return USB_DT_DEVICE_SIZE;
    case 'config': return USB_DT_CONFIG_SIZE;
    case 'interface': return USB_DT_INTERFACE_SIZE;
    case 'endpoint': return d.audio === undefined ? USB_DT_ENDPOINT_SIZE : USB_DT_ENDPOINT_AUDIO_SIZE;
    case 'ss-endpoint-comp': return USB_DT_SS_EP_COMP_SIZE;
    case 'other': return d.bytes.length;
  }
}

/** Writes one descriptor at `offset` of `into`; every field is checked before the first byte. */
function writeDescriptor(d: UsbDescriptor, into: Uint8Array, offset: number): number {
  const what = `${d.type} descriptor`;
  const u8 = (field: string, v: unknown) => checkUint(what, field, v, 8);
  const u16 = (field: string, v: unknown) => checkUint(what, field, v, 16);
  // [value, width] in wire order after bLength and bDescriptorType
  let body: Array<readonly [number, 1 | 2]>;
  let descriptorType: number;
  switch (d.type) {
    case 'device':
      descriptorType = USB_DT_DEVICE;
      body = [
        [u16('bcdUSB', d.bcdUSB), 2], [u8('bDeviceClass', d.bDeviceClass), 1],
        [u8('bDeviceSubClass', d.bDeviceSubClass), 1], [u8('bDeviceProtocol', d.bDeviceProtocol), 1],
        [u8('bMaxPacketSize0', d.bMaxPacketSize0), 1], [u16('idVendor', d.idVendor), 2],
        [u16('idProduct', d.idProduct), 2], [u16('bcdDevice', d.bcdDevice), 2],
        [u8('iManufacturer', d.iManufacturer), 1], [u8('iProduct', d.iProduct), 1],
        [u8('iSerialNumber', d.iSerialNumber), 1], [u8('bNumConfigurations', d.bNumConfigurations), 1],
      ];
      break;
    case 'config':
      descriptorType = USB_DT_CONFIG;
      body = [
        [u16('wTotalLength', d.wTotalLength), 2], [u8('bNumInterfaces', d.bNumInterfaces), 1],
        [u8('bConfigurationValue', d.bConfigurationValue), 1], [u8('iConfiguration', d.iConfiguration), 1],
        [u8('bmAttributes', d.bmAttributes), 1], [u8('bMaxPower', d.bMaxPower), 1],
      ];
      break;
    case 'interface':
      descriptorType = USB_DT_INTERFACE;
      body = [
        [u8('bInterfaceNumber', d.bInterfaceNumber), 1], [u8('bAlternateSetting', d.bAlternateSetting), 1],
        [u8('bNumEndpoints', d.bNumEndpoints), 1], [u8('bInterfaceClass', d.bInterfaceClass), 1],
        [u8('bInterfaceSubClass', d.bInterfaceSubClass), 1], [u8('bInterfaceProtocol', d.bInterfaceProtocol), 1],
        [u8('iInterface', d.iInterface), 1],
      ];
      break;
    case 'endpoint':
      descriptorType = USB_DT_ENDPOINT;
      body = [
        [u8('bEndpointAddress', d.bEndpointAddress), 1], [u8('bmAttributes', d.bmAttributes), 1],
        [u16('wMaxPacketSize', d.wMaxPacketSize), 2], [u8('bInterval', d.bInterval), 1],
      ];
      if (d.audio !== undefined) {
        body.push([u8('bRefresh', d.audio.bRefresh), 1], [u8('bSynchAddress', d.audio.bSynchAddress), 1]);
      }
      break;
    case 'ss-endpoint-comp':
      descriptorType = USB_DT_SS_ENDPOINT_COMP;
      body = [[u8('bMaxBurst', d.bMaxBurst), 1], [u8('bmAttributes', d.bmAttributes), 1], [u16('wBytesPerInterval', d.wBytesPerInterval), 2]];
      break;
    case 'other': {
      const { bytes } = d;
      u8('bDescriptorType', d.bDescriptorType);
      if (!(bytes instanceof Uint8Array) || bytes.length < 2 || bytes.length > 255) {
        throw new RangeError(`${what}: bytes must be a Uint8Array of 2..255 bytes`);
      }
      if (bytes[0] !== bytes.length || bytes[1] !== d.bDescriptorType) {
        throw new RangeError(
          `${what}: bytes start with bLength ${bytes[0]} and type ${bytes[1]}, not ${bytes.length} and ${d.bDescriptorType}`,
        );
      }
      into.set(bytes, offset);
      return bytes.length;
    }
  }
  const length = 2 + body.reduce((n, [, width]) => n + width, 0);
  into[offset] = length;
  into[offset + 1] = descriptorType;
  let at = offset + 2;
  for (const [value, width] of body) {
    if (width === 1) into[at] = value;
    else putLe16(into, at, value);
    at += width;
  }
  return length;
}

export function encodeDescriptor(d: UsbDescriptor): Uint8Array {
  const bytes = new Uint8Array(descriptorLength(d));
  writeDescriptor(d, bytes, 0);
  return bytes;
}

/** The descriptors back to back, as in a configuration or a FunctionFS speed block. */
export function encodeDescriptors(list: readonly UsbDescriptor[]): Uint8Array {
  const bytes = new Uint8Array(list.reduce((n, d) => n + descriptorLength(d), 0));
  let at = 0;
  for (const d of list) at += writeDescriptor(d, bytes, at);
  return bytes;
}

/**
 * The descriptor at `offset` and its bLength. A descriptor running past the end, a bLength
 * below 2, or a standard descriptor with a bLength it cannot have is a UsbDescriptorError.
 */
export function decodeDescriptor(bytes: Uint8Array, offset = 0): { descriptor: UsbDescriptor; length: number } {
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`descriptor offset ${offset} is not a non-negative integer`);
  const left = bytes.length - offset;
  if (left < 2) throw new UsbDescriptorError(`descriptor at offset ${offset}: ${left} byte(s) left, a descriptor header needs 2`, offset, 'truncated');
  const length = bytes[offset]!;
  const type = bytes[offset + 1]!;
  if (length < 2) throw new UsbDescriptorError(`descriptor at offset ${offset}: bLength ${length} is below 2`, offset, 'length');
  if (length > left) {
    throw new UsbDescriptorError(`descriptor at offset ${offset}: bLength ${length} runs past the end (${left} bytes left)`, offset, 'truncated');
  }
  const fixed = FIXED_LENGTH.get(type);
  const endpointOk = type !== USB_DT_ENDPOINT || length === USB_DT_ENDPOINT_SIZE || length === USB_DT_ENDPOINT_AUDIO_SIZE;
  if ((fixed !== undefined && length !== fixed) || !endpointOk) {
    const want = type === USB_DT_ENDPOINT ? `${USB_DT_ENDPOINT_SIZE} or ${USB_DT_ENDPOINT_AUDIO_SIZE}` : String(fixed);
    throw new UsbDescriptorError(
      `${DESCRIPTOR_NAMES.get(type)} descriptor at offset ${offset}: bLength ${length}, must be ${want}`, offset, 'length',
    );
  }
  const b = (i: number) => bytes[offset + i]!;
  const w = (i: number) => le16(bytes, offset + i);
  let descriptor: UsbDescriptor;
  switch (type) {
    case USB_DT_DEVICE:
      descriptor = {
        type: 'device', bcdUSB: w(2), bDeviceClass: b(4), bDeviceSubClass: b(5), bDeviceProtocol: b(6),
        bMaxPacketSize0: b(7), idVendor: w(8), idProduct: w(10), bcdDevice: w(12), iManufacturer: b(14),
        iProduct: b(15), iSerialNumber: b(16), bNumConfigurations: b(17),
      };
      break;
    case USB_DT_CONFIG:
      descriptor = {
        type: 'config', wTotalLength: w(2), bNumInterfaces: b(4), bConfigurationValue: b(5),
        iConfiguration: b(6), bmAttributes: b(7), bMaxPower: b(8),
      };
      break;
    case USB_DT_INTERFACE:
      descriptor = {
        type: 'interface', bInterfaceNumber: b(2), bAlternateSetting: b(3), bNumEndpoints: b(4),
        bInterfaceClass: b(5), bInterfaceSubClass: b(6), bInterfaceProtocol: b(7), iInterface: b(8),
      };
      break;
    case USB_DT_ENDPOINT:
      descriptor = { type: 'endpoint', bEndpointAddress: b(2), bmAttributes: b(3), wMaxPacketSize: w(4), bInterval: b(6) };
      if (length === USB_DT_ENDPOINT_AUDIO_SIZE) descriptor.audio = { bRefresh: b(7), bSynchAddress: b(8) };
      break;
    case USB_DT_SS_ENDPOINT_COMP:
      descriptor = { type: 'ss-endpoint-comp', bMaxBurst: b(2), bmAttributes: b(3), wBytesPerInterval: w(4) };
      break;
    default:
      descriptor = { type: 'other', bDescriptorType: type, bytes: bytes.slice(offset, offset + length) };
  }
  return { descriptor, length };
}

/** Every descriptor of `bytes`, back to back to the end. */
export function parseDescriptors(bytes: Uint8Array): UsbDescriptor[] {
  const list: UsbDescriptor[] = [];
  for (let at = 0; at < bytes.length;) {
    const { descriptor, length } = decodeDescriptor(bytes, at);
    list.push(descriptor);
    at += length;
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// String descriptors (USB 2.0 §9.6.7): UTF-16LE text; index 0 lists the LANGIDs instead.

/** English (United States), the LANGID nearly every device offers. */
export const USB_LANGID_EN_US = 0x0409;

const MAX_STRING_UNITS = (255 - 2) >> 1;

export function encodeStringDescriptor(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('string descriptor: text must be a string');
  if (text.length > MAX_STRING_UNITS) {
    throw new RangeError(`string descriptor: ${text.length} UTF-16 units do not fit bLength 255 (at most ${MAX_STRING_UNITS})`);
  }
  const bytes = new Uint8Array(2 + 2 * text.length);
  bytes[0] = bytes.length;
  bytes[1] = USB_DT_STRING;
  for (let i = 0; i < text.length; i++) putLe16(bytes, 2 + 2 * i, text.charCodeAt(i));
  return bytes;
}

/** The 16-bit units after a string descriptor's header, checked. */
function stringUnits(bytes: Uint8Array, what: string): number[] {
  if (bytes.length < 2) throw new UsbDescriptorError(`${what}: ${bytes.length} byte(s), a descriptor header needs 2`, 0, 'truncated');
  const length = bytes[0]!;
  if (bytes[1] !== USB_DT_STRING) throw new RangeError(`${what}: bDescriptorType ${bytes[1]}, not ${USB_DT_STRING} (string)`);
  if (length < 2 || length % 2 !== 0) throw new UsbDescriptorError(`${what}: bLength ${length} is not an even number ≥ 2`, 0, 'length');
  if (length > bytes.length) throw new UsbDescriptorError(`${what}: bLength ${length} runs past the end (${bytes.length} bytes)`, 0, 'truncated');
  const units: number[] = [];
  for (let at = 2; at < length; at += 2) units.push(le16(bytes, at));
  return units;
}

export function decodeStringDescriptor(bytes: Uint8Array): string {
  return String.fromCharCode(...stringUnits(bytes, 'string descriptor'));
}

/** String descriptor 0: the LANGIDs the device's strings exist in. */
export function encodeLangIds(ids: readonly number[]): Uint8Array {
  if (ids.length > MAX_STRING_UNITS) throw new RangeError(`string descriptor 0: ${ids.length} LANGIDs, at most ${MAX_STRING_UNITS}`);
  const bytes = new Uint8Array(2 + 2 * ids.length);
  bytes[0] = bytes.length;
  bytes[1] = USB_DT_STRING;
  ids.forEach((id, i) => putLe16(bytes, 2 + 2 * i, checkUint('string descriptor 0', `LANGID ${i}`, id, 16)));
  return bytes;
}

export function decodeLangIds(bytes: Uint8Array): number[] {
  return stringUnits(bytes, 'string descriptor 0');
}
