/**
 * The FunctionFS ABI (include/uapi/linux/usb/functionfs.h): the descriptors and strings blobs
 * a gadget writes to ep0 (usb.md §A1), the 12-byte events it reads from ep0, the endpoint
 * file ioctls, and the DMABUF ioctls of kernel-abi.md §5.1 with the packed
 * `struct usb_ffs_dmabuf_transfer_req`. Blobs and events are little-endian (`__le32`) like the
 * USB descriptors they carry; the ioctl structs are in host order.
 */

import { CURRENT_IOC_LAYOUT, SIZEOF_INT, io, ior, iow, type IocLayout } from './ioc.js';
import { defineStruct, s32, u32, u64, type DecodedStruct } from './struct.js';
import {
  USB_CLASS_CSCID,
  USB_CLASS_HID,
  USB_CTRLREQUEST_SIZE,
  USB_DT_ENDPOINT_AUDIO_SIZE,
  USB_DT_INTERFACE_ASSOCIATION,
  USB_DT_INTERFACE_ASSOCIATION_SIZE,
  USB_DT_OTG,
  USB_DT_OTG_SIZE,
  USB_ENDPOINT_NUMBER_MASK,
  USB_TYPE_CLASS,
  UsbDescriptorError,
  decodeCtrlRequest,
  decodeDescriptor,
  encodeCtrlRequest,
  encodeDescriptors,
  type UsbCtrlRequest,
  type UsbDescriptor,
} from './usb.js';

/** No transfer flags are defined: `flags` must be 0 (§5.2). */
export const USB_FFS_DMABUF_TRANSFER_MASK = 0x0;

/** `struct usb_ffs_dmabuf_transfer_req` (§5.1): packed, 16 bytes. */
export const usbFfsDmabufTransferReqStruct = defineStruct('usb_ffs_dmabuf_transfer_req', 16, {
  fd: s32(0),
  flags: u32(4),
  length: u64(8),
});
export type UsbFfsDmabufTransferReq = DecodedStruct<typeof usbFfsDmabufTransferReqStruct>;

/** The FunctionFS request numbers for one `_IOC` layout, keyed by kernel name. */
export function functionfsIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    // endpoint files: the same as gadgetfs
    FUNCTIONFS_FIFO_STATUS: io('g', 1, layout),
    FUNCTIONFS_FIFO_FLUSH: io('g', 2, layout),
    FUNCTIONFS_CLEAR_HALT: io('g', 3, layout),
    // ep0 (and endpoint files): the interface number the host uses → the function's own
    FUNCTIONFS_INTERFACE_REVMAP: io('g', 128, layout),
    // an endpoint file: its address as the host sees it
    FUNCTIONFS_ENDPOINT_REVMAP: io('g', 129, layout),
    // an endpoint file: the `struct usb_endpoint_descriptor` (9 bytes, audio form) in use
    FUNCTIONFS_ENDPOINT_DESC: ior('g', 130, USB_DT_ENDPOINT_AUDIO_SIZE, layout),
    FUNCTIONFS_DMABUF_ATTACH: iow('g', 131, SIZEOF_INT, layout),
    FUNCTIONFS_DMABUF_DETACH: iow('g', 132, SIZEOF_INT, layout),
    FUNCTIONFS_DMABUF_TRANSFER: iow('g', 133, usbFfsDmabufTransferReqStruct, layout),
  } as const;
}

const ioctls = functionfsIoctls();
export const FUNCTIONFS_FIFO_STATUS = ioctls.FUNCTIONFS_FIFO_STATUS;
export const FUNCTIONFS_FIFO_FLUSH = ioctls.FUNCTIONFS_FIFO_FLUSH;
export const FUNCTIONFS_CLEAR_HALT = ioctls.FUNCTIONFS_CLEAR_HALT;
/** Argument: the interface number, by value. */
export const FUNCTIONFS_INTERFACE_REVMAP = ioctls.FUNCTIONFS_INTERFACE_REVMAP;
export const FUNCTIONFS_ENDPOINT_REVMAP = ioctls.FUNCTIONFS_ENDPOINT_REVMAP;
/** Argument: 9 bytes the kernel fills with the endpoint descriptor of the current speed. */
export const FUNCTIONFS_ENDPOINT_DESC = ioctls.FUNCTIONFS_ENDPOINT_DESC;
/** Argument: a pointer to an int holding the DMABUF fd. */
export const FUNCTIONFS_DMABUF_ATTACH = ioctls.FUNCTIONFS_DMABUF_ATTACH;
export const FUNCTIONFS_DMABUF_DETACH = ioctls.FUNCTIONFS_DMABUF_DETACH;
export const FUNCTIONFS_DMABUF_TRANSFER = ioctls.FUNCTIONFS_DMABUF_TRANSFER;

// ---------------------------------------------------------------------------------------------
// The descriptors blob: the first write to ep0.

export const FUNCTIONFS_DESCRIPTORS_MAGIC = 1;
export const FUNCTIONFS_STRINGS_MAGIC = 2;
export const FUNCTIONFS_DESCRIPTORS_MAGIC_V2 = 3;

// enum functionfs_flags (v2 header)
export const FUNCTIONFS_HAS_FS_DESC = 1;
export const FUNCTIONFS_HAS_HS_DESC = 2;
export const FUNCTIONFS_HAS_SS_DESC = 4;
export const FUNCTIONFS_HAS_MS_OS_DESC = 8;
export const FUNCTIONFS_VIRTUAL_ADDR = 16;
export const FUNCTIONFS_EVENTFD = 32;
export const FUNCTIONFS_ALL_CTRL_RECIP = 64;
export const FUNCTIONFS_CONFIG0_SETUP = 128;
/** Every flag 6.12 knows; any other bit makes the descriptors write fail with ENOSYS, not EINVAL. */
export const FUNCTIONFS_FLAGS_MASK = 0xff;

/** ffs_ep0_write: a descriptors or strings write shorter than this is EINVAL. */
export const FFS_BLOB_MIN_SIZE = 16;

/** f_fs.c's FFS_MAX_EPS_COUNT: endpoints (counted per speed, plus ep0) must stay below it. */
export const FFS_MAX_EPS_COUNT = 31;

export interface FfsDescriptors {
  /** Flags beyond the HAS_*_DESC ones, which follow from the speeds present. */
  flags?: number;
  /** The eventfd the kernel signals on every event (sets FUNCTIONFS_EVENTFD). */
  eventfd?: number;
  fs?: UsbDescriptor[];
  hs?: UsbDescriptor[];
  ss?: UsbDescriptor[];
}

/**
 * Why f_fs.c's `__ffs_data_got_descs` / `__ffs_data_got_strings` refuse a blob. Every reason is
 * EINVAL on Linux except 'flags' (an unknown flag bit), which is ENOSYS.
 * - magic: not the magic the blob's kind has;
 * - length: the header's length is not the size written;
 * - truncated: the header, a count or a descriptor runs past the end;
 * - count: a speed block ends before its count, or bytes are left after the last one;
 * - flags: a flag bit the kernel does not know;
 * - empty: no descriptor at all;
 * - descriptor: a descriptor FunctionFS refuses (bLength, a type reserved for the gadget or
 *   unknown, an entity of value 0);
 * - endpoints: too many, or the speeds disagree on the endpoint addresses;
 * - interfaces: the speeds disagree on the interface count;
 * - string: (strings blob) a string without its NUL, or a language missing strings;
 * - unsupported: MS OS descriptors, which this codec does not model.
 */
export type FfsBlobReason =
  | 'magic' | 'length' | 'truncated' | 'count' | 'flags' | 'empty' | 'descriptor' | 'endpoints' | 'interfaces'
  | 'string' | 'unsupported';

export class FfsBlobError extends RangeError {
  readonly reason: FfsBlobReason;
  /** Where in the blob the fault was found. */
  readonly offset: number;
  constructor(reason: FfsBlobReason, offset: number, message: string) {
    super(`FunctionFS blob: ${message}`);
    this.name = 'FfsBlobError';
    this.reason = reason;
    this.offset = offset;
  }
}

const le32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

const SPEEDS = [
  ['fs', FUNCTIONFS_HAS_FS_DESC],
  ['hs', FUNCTIONFS_HAS_HS_DESC],
  ['ss', FUNCTIONFS_HAS_SS_DESC],
] as const;

/** A v2 descriptors blob; MS OS descriptors are not modelled, so their flag is refused. */
export function encodeFfsDescriptors(d: FfsDescriptors): Uint8Array {
  let flags = d.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > FUNCTIONFS_FLAGS_MASK) {
    throw new RangeError(`FunctionFS descriptors: flags 0x${flags.toString(16)} has bits the kernel does not know (mask 0x${FUNCTIONFS_FLAGS_MASK.toString(16)})`);
  }
  if (flags & FUNCTIONFS_HAS_MS_OS_DESC) throw new RangeError('FunctionFS descriptors: MS OS descriptors are not supported');
  for (const [speed, flag] of SPEEDS) if (d[speed] !== undefined) flags |= flag;
  if (d.eventfd !== undefined) {
    if (!Number.isInteger(d.eventfd) || d.eventfd < 0 || d.eventfd > 0x7fffffff) {
      throw new RangeError(`FunctionFS descriptors: eventfd ${d.eventfd} is not a file descriptor`);
    }
    flags |= FUNCTIONFS_EVENTFD;
  } else if (flags & FUNCTIONFS_EVENTFD) {
    throw new RangeError('FunctionFS descriptors: FUNCTIONFS_EVENTFD is set but no eventfd is given');
  }
  const blocks = SPEEDS.filter(([, flag]) => flags & flag).map(([speed]) => d[speed] ?? []);
  const encoded = blocks.map((list) => encodeDescriptors(list));
  const header = 12 + (flags & FUNCTIONFS_EVENTFD ? 4 : 0) + 4 * blocks.length;
  const bytes = new Uint8Array(header + encoded.reduce((n, b) => n + b.length, 0));
  putLe32(bytes, 0, FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
  putLe32(bytes, 4, bytes.length);
  putLe32(bytes, 8, flags);
  let at = 12;
  if (d.eventfd !== undefined) {
    putLe32(bytes, at, d.eventfd);
    at += 4;
  }
  for (const list of blocks) {
    putLe32(bytes, at, list.length);
    at += 4;
  }
  for (const block of encoded) {
    bytes.set(block, at);
    at += block.length;
  }
  return bytes;
}

/** What FunctionFS counts while it walks one speed block (f_fs.c `__ffs_data_do_entity`). */
export interface FfsBlockTally {
  interfaces: number;
  endpoints: number[];
}

/**
 * The counts the kernel keeps in `ffs_data` across descriptor writes, which only ffs_data_reset
 * (ep0's last close) clears, so a refused blob leaves them behind: eps_count, interfaces_count
 * and eps_addrmap (`reference`), set by the first speed block that parses with an endpoint or an
 * interface and matched by every later block; strings_count, the highest string index of every
 * descriptor that passed its checks.
 */
export interface FfsParseCounts {
  reference?: { speed: string; tally: FfsBlockTally };
  stringsCount?: number;
}

/** The string index a descriptor names (iInterface; an IAD's iFunction), 0 for none. */
function stringIndex(d: UsbDescriptor): number {
  if (d.type === 'interface') return d.iInterface;
  if (d.type === 'other' && d.bDescriptorType === USB_DT_INTERFACE_ASSOCIATION) return d.bytes[7] ?? 0;
  return 0;
}

/**
 * One speed block of `count` descriptors at `offset`, checked as `ffs_do_single_desc` does:
 * only interface, endpoint, SS companion, IAD, OTG and (after a HID or CCID interface) class
 * descriptors; endpoint and interface entities counted for the cross-speed checks.
 */
function decodeBlock(bytes: Uint8Array, offset: number, count: number, speed: string, carried: FfsParseCounts): { list: UsbDescriptor[]; end: number; tally: FfsBlockTally } {
  const list: UsbDescriptor[] = [];
  const tally: FfsBlockTally = { interfaces: 0, endpoints: [] };
  let interfaceClass = -1;
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at === bytes.length) {
      throw new FfsBlobError('count', at, `the ${speed} block ends after ${i} descriptors, its count is ${count}`);
    }
    let decoded;
    try {
      decoded = decodeDescriptor(bytes, at);
    } catch (e) {
      if (!(e instanceof UsbDescriptorError)) throw e;
      throw new FfsBlobError(e.reason === 'truncated' ? 'truncated' : 'descriptor', at, `${speed} descriptor ${i}: ${e.message}`);
    }
    const { descriptor: d, length } = decoded;
    const refuse = (why: string): never => {
      throw new FfsBlobError('descriptor', at, `${speed} descriptor ${i} at offset ${at}: ${why}`);
    };
    switch (d.type) {
      case 'device':
      case 'config':
        refuse(`a ${d.type} descriptor is the gadget's, not a function's`);
        break;
      case 'interface':
        tally.interfaces = Math.max(tally.interfaces, d.bInterfaceNumber + 1);
        interfaceClass = d.bInterfaceClass;
        break;
      case 'endpoint':
        if ((d.bEndpointAddress & USB_ENDPOINT_NUMBER_MASK) === 0) refuse('endpoint address 0x00 is ep0\'s');
        tally.endpoints.push(d.bEndpointAddress);
        if (tally.endpoints.length >= FFS_MAX_EPS_COUNT) {
          throw new FfsBlobError('endpoints', at, `${speed} block: more than ${FFS_MAX_EPS_COUNT - 1} endpoints`);
        }
        break;
      case 'ss-endpoint-comp':
        break;
      case 'other': {
        const t = d.bDescriptorType;
        const want =
          t === USB_DT_INTERFACE_ASSOCIATION ? USB_DT_INTERFACE_ASSOCIATION_SIZE
          : t === USB_DT_OTG ? USB_DT_OTG_SIZE
          : t === (USB_TYPE_CLASS | 0x01) && interfaceClass === USB_CLASS_HID ? HID_DESCRIPTOR_SIZE
          : t === (USB_TYPE_CLASS | 0x01) && interfaceClass === USB_CLASS_CSCID ? CCID_DESCRIPTOR_SIZE
          : undefined;
        if (want === undefined) refuse(`descriptor type 0x${t.toString(16).padStart(2, '0')} is not one FunctionFS accepts here`);
        if (length !== want) refuse(`type 0x${t.toString(16).padStart(2, '0')} with bLength ${length}, must be ${want}`);
        break;
      }
    }
    list.push(d);
    carried.stringsCount = Math.max(carried.stringsCount ?? 0, stringIndex(d));
    at += length;
  }
  return { list, end: at, tally };
}

/** `struct hid_descriptor` with one class descriptor; `struct ccid_descriptor` (both packed). */
const HID_DESCRIPTOR_SIZE = 9;
const CCID_DESCRIPTOR_SIZE = 54;

/**
 * Decodes and validates a descriptors blob (v2, or the legacy magic 1 with fs and hs only) as
 * the kernel does when it is written to ep0, or throws an FfsBlobError saying why the kernel
 * refuses it. MS OS descriptors (FUNCTIONFS_HAS_MS_OS_DESC) are refused as 'unsupported': the
 * kernel accepts them, this codec does not model them. `carried` is the kernel's carried state
 * (see FfsParseCounts); by default each blob is checked on its own.
 */
export function decodeFfsDescriptors(bytes: Uint8Array, carried: FfsParseCounts = {}): FfsDescriptors & { flags: number } {
  const need = (at: number, n: number, what: string) => {
    if (bytes.length < at + n) throw new FfsBlobError('truncated', at, `${bytes.length} bytes end before the ${what} at offset ${at}`);
  };
  // ffs_ep0_write refuses any blob below 16 bytes before it looks at it.
  if (bytes.length < FFS_BLOB_MIN_SIZE) throw new FfsBlobError('truncated', 0, `${bytes.length} bytes, ep0 takes at least ${FFS_BLOB_MIN_SIZE}`);
  if (le32(bytes, 4) !== bytes.length) {
    throw new FfsBlobError('length', 4, `the header says ${le32(bytes, 4)} bytes, the blob holds ${bytes.length}`);
  }
  const magic = le32(bytes, 0);
  let flags: number;
  let at: number;
  if (magic === FUNCTIONFS_DESCRIPTORS_MAGIC) {
    flags = FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC;
    at = 8;
  } else if (magic === FUNCTIONFS_DESCRIPTORS_MAGIC_V2) {
    flags = le32(bytes, 8);
    if (flags & ~FUNCTIONFS_FLAGS_MASK) {
      throw new FfsBlobError('flags', 8, `flags 0x${flags.toString(16)} has bits the kernel does not know (mask 0x${FUNCTIONFS_FLAGS_MASK.toString(16)})`);
    }
    at = 12;
  } else {
    throw new FfsBlobError('magic', 0, `magic ${magic}, not ${FUNCTIONFS_DESCRIPTORS_MAGIC_V2} (v2) or ${FUNCTIONFS_DESCRIPTORS_MAGIC} (legacy)`);
  }
  const out: FfsDescriptors & { flags: number } = { flags };
  if (flags & FUNCTIONFS_EVENTFD) {
    need(at, 4, 'eventfd');
    out.eventfd = le32(bytes, at) | 0;
    at += 4;
  }
  const speeds = SPEEDS.filter(([, flag]) => flags & flag);
  const counts: number[] = [];
  for (const [speed] of speeds) {
    need(at, 4, `${speed}_count`);
    counts.push(le32(bytes, at));
    at += 4;
  }
  if (flags & FUNCTIONFS_HAS_MS_OS_DESC) {
    throw new FfsBlobError('unsupported', 8, 'MS OS descriptors (FUNCTIONFS_HAS_MS_OS_DESC) are not supported by this codec');
  }
  const first = at;
  speeds.forEach(([speed], i) => {
    const count = counts[i]!;
    if (count === 0) {
      out[speed] = [];
      return;
    }
    const block = decodeBlock(bytes, at, count, speed, carried);
    const reference = carried.reference;
    if (reference === undefined || (reference.tally.endpoints.length === 0 && reference.tally.interfaces === 0)) {
      carried.reference = { speed, tally: block.tally };
    } else {
      const { tally } = reference;
      const same = tally.endpoints.length === block.tally.endpoints.length &&
        tally.endpoints.every((address, n) => block.tally.endpoints[n] === address);
      if (!same) {
        throw new FfsBlobError('endpoints', at, `the ${speed} block's endpoints [${hexList(block.tally.endpoints)}] differ from the ${reference.speed} block's [${hexList(tally.endpoints)}]`);
      }
      if (tally.interfaces !== block.tally.interfaces) {
        throw new FfsBlobError('interfaces', at, `the ${speed} block has ${block.tally.interfaces} interfaces, the ${reference.speed} block ${tally.interfaces}`);
      }
    }
    out[speed] = block.list;
    at = block.end;
  });
  if (at === first) throw new FfsBlobError('empty', at, 'no descriptors');
  if (at !== bytes.length) throw new FfsBlobError('count', at, `${bytes.length - at} bytes left after the counted descriptors`);
  return out;
}

const hexList = (values: readonly number[]) => values.map((v) => `0x${v.toString(16).padStart(2, '0')}`).join(', ');

// ---------------------------------------------------------------------------------------------
// The strings blob: the second write to ep0.

export interface FfsStrings {
  /** Every language has the same number of strings: string i is descriptor index i + 1. */
  langs: Array<{ lang: number; strings: string[] }>;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** magic 2, length, str_count, lang_count, then per language a __le16 LANGID and NUL-terminated UTF-8 strings. */
export function encodeFfsStrings(s: FfsStrings): Uint8Array {
  const strCount = s.langs[0]?.strings.length ?? 0;
  const parts: Uint8Array[] = [];
  for (const [i, { lang, strings }] of s.langs.entries()) {
    if (!Number.isInteger(lang) || lang < 0 || lang > 0xffff) throw new RangeError(`FunctionFS strings: language ${i}: LANGID ${lang} is not a u16`);
    if (strings.length !== strCount) {
      throw new RangeError(`FunctionFS strings: language 0x${lang.toString(16)} has ${strings.length} strings, the first has ${strCount}`);
    }
    if (strCount === 0) throw new RangeError(`FunctionFS strings: language 0x${lang.toString(16)} has no strings`);
    parts.push(Uint8Array.of(lang & 0xff, lang >>> 8));
    for (const text of strings) {
      const encoded = utf8Encoder.encode(text);
      if (encoded.includes(0)) throw new RangeError(`FunctionFS strings: ${JSON.stringify(text)} contains a NUL`);
      parts.push(encoded, Uint8Array.of(0));
    }
  }
  const bytes = new Uint8Array(16 + parts.reduce((n, p) => n + p.length, 0));
  putLe32(bytes, 0, FUNCTIONFS_STRINGS_MAGIC);
  putLe32(bytes, 4, bytes.length);
  putLe32(bytes, 8, strCount);
  putLe32(bytes, 12, s.langs.length);
  let at = 16;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return bytes;
}

/**
 * Decodes a strings blob, strictly: str_count strings in each of lang_count languages and
 * nothing after. The kernel is laxer in one case: when the descriptors name no string it
 * checks only the 16-byte header (and that str_count and lang_count are both 0 or both not),
 * and it needs str_count ≥ the highest string index the descriptors use — both are the ep0
 * model's to check, with the descriptors at hand.
 */
export function decodeFfsStrings(bytes: Uint8Array): FfsStrings {
  if (bytes.length < FFS_BLOB_MIN_SIZE) throw new FfsBlobError('truncated', 0, `${bytes.length} bytes, ep0 takes at least ${FFS_BLOB_MIN_SIZE}`);
  if (le32(bytes, 0) !== FUNCTIONFS_STRINGS_MAGIC) {
    throw new FfsBlobError('magic', 0, `magic ${le32(bytes, 0)}, not ${FUNCTIONFS_STRINGS_MAGIC} (strings)`);
  }
  if (le32(bytes, 4) !== bytes.length) {
    throw new FfsBlobError('length', 4, `the header says ${le32(bytes, 4)} bytes, the blob holds ${bytes.length}`);
  }
  const strCount = le32(bytes, 8);
  const langCount = le32(bytes, 12);
  if ((strCount === 0) !== (langCount === 0)) {
    throw new FfsBlobError('count', 8, `str_count ${strCount} and lang_count ${langCount}: both must be 0 or neither`);
  }
  const langs: FfsStrings['langs'] = [];
  let at = 16;
  for (let l = 0; l < langCount; l++) {
    if (bytes.length - at < 3) throw new FfsBlobError('truncated', at, `language ${l} of ${langCount} runs past the end`);
    const lang = bytes[at]! | (bytes[at + 1]! << 8);
    at += 2;
    const strings: string[] = [];
    for (let i = 0; i < strCount; i++) {
      const nul = bytes.indexOf(0, at);
      if (nul < 0) throw new FfsBlobError('string', at, `string ${i} of language 0x${lang.toString(16)} has no NUL before the end`);
      strings.push(utf8Decoder.decode(bytes.subarray(at, nul)));
      at = nul + 1;
    }
    langs.push({ lang, strings });
  }
  if (at !== bytes.length) throw new FfsBlobError('count', at, `${bytes.length - at} bytes left after ${langCount} languages of ${strCount} strings`);
  return { langs };
}

// ---------------------------------------------------------------------------------------------
// Events read from ep0: struct usb_functionfs_event.

// enum usb_functionfs_event_type
export const FUNCTIONFS_BIND = 0;
export const FUNCTIONFS_UNBIND = 1;
export const FUNCTIONFS_ENABLE = 2;
export const FUNCTIONFS_DISABLE = 3;
export const FUNCTIONFS_SETUP = 4;
export const FUNCTIONFS_SUSPEND = 5;
export const FUNCTIONFS_RESUME = 6;

const EVENT_NAMES = ['BIND', 'UNBIND', 'ENABLE', 'DISABLE', 'SETUP', 'SUSPEND', 'RESUME'] as const;

/** The packed event: the 8-byte usb_ctrlrequest (zero unless SETUP), u8 type, 3 bytes of padding. */
export const USB_FUNCTIONFS_EVENT_SIZE = 12;
const EVENT_TYPE_OFFSET = USB_CTRLREQUEST_SIZE;

export interface FfsEvent {
  type: number;
  setup: UsbCtrlRequest;
}

/** `FUNCTIONFS_SETUP` for 4; `FUNCTIONFS_EVENT_<n>` for a type the kernel does not send. */
export function ffsEventName(type: number): string {
  return `FUNCTIONFS_${EVENT_NAMES[type] ?? `EVENT_${type}`}`;
}

const NO_SETUP: UsbCtrlRequest = Object.freeze({ bRequestType: 0, bRequest: 0, wValue: 0, wIndex: 0, wLength: 0 });

/** Writes one event; `setup` may be left out for events other than SETUP (it is zero then). */
export function encodeFfsEvent(e: { type: number; setup?: UsbCtrlRequest }, into?: Uint8Array, offset = 0): Uint8Array {
  if (!Number.isInteger(e.type) || e.type < 0 || e.type > 0xff) throw new RangeError(`usb_functionfs_event: type ${e.type} is not a u8`);
  const bytes = into ?? new Uint8Array(USB_FUNCTIONFS_EVENT_SIZE);
  if (!Number.isInteger(offset) || offset < 0 || offset + USB_FUNCTIONFS_EVENT_SIZE > bytes.length) {
    throw new RangeError(`usb_functionfs_event: need ${USB_FUNCTIONFS_EVENT_SIZE} bytes at offset ${offset}, the array holds ${bytes.length}`);
  }
  encodeCtrlRequest(e.setup ?? NO_SETUP, bytes, offset);
  bytes[offset + EVENT_TYPE_OFFSET] = e.type;
  bytes.fill(0, offset + EVENT_TYPE_OFFSET + 1, offset + USB_FUNCTIONFS_EVENT_SIZE);
  return bytes;
}

export function decodeFfsEvent(bytes: Uint8Array, offset = 0): FfsEvent {
  if (!Number.isInteger(offset) || offset < 0 || offset + USB_FUNCTIONFS_EVENT_SIZE > bytes.length) {
    throw new RangeError(`usb_functionfs_event: need ${USB_FUNCTIONFS_EVENT_SIZE} bytes at offset ${offset}, got ${bytes.length - offset}`);
  }
  return { type: bytes[offset + EVENT_TYPE_OFFSET]!, setup: decodeCtrlRequest(bytes, offset) };
}
