// Tests for the USB ABI of src/abi (usb.ts, functionfs.ts, usbfs.ts, their ioctl argument rules):
// every number and layout pinned against usb.md (hard-coded), against the real uapi headers
// through gcc, and the blobs iiod writes (usb.md §A1) byte for byte.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';

import * as abi from '../src/abi/index.js';
import { iiodDescriptorSet } from './support/usb-gadget.js';
import {
  ALT_IOC_LAYOUT,
  CURRENT_IOC_LAYOUT,
  FfsBlobError,
  FUNCTIONFS_ALL_CTRL_RECIP,
  FUNCTIONFS_DESCRIPTORS_MAGIC,
  FUNCTIONFS_EVENTFD,
  FUNCTIONFS_HAS_FS_DESC,
  FUNCTIONFS_HAS_HS_DESC,
  FUNCTIONFS_HAS_MS_OS_DESC,
  FUNCTIONFS_HAS_SS_DESC,
  FUNCTIONFS_SETUP,
  FUNCTIONFS_ENABLE,
  GENERIC_IOC_LAYOUT,
  USB_CTRLREQUEST_SIZE,
  USB_DIR_IN,
  USB_DT_ENDPOINT,
  USB_DT_STRING,
  USB_FUNCTIONFS_EVENT_SIZE,
  USB_RECIP_INTERFACE,
  USB_TYPE_VENDOR,
  UsbDescriptorError,
  abiIoctls,
  decodeCtrlRequest,
  decodeDescriptor,
  decodeFfsDescriptors,
  decodeFfsEvent,
  decodeFfsStrings,
  decodeIoc,
  decodeLangIds,
  decodeStringDescriptor,
  encodeCtrlRequest,
  encodeDescriptor,
  encodeDescriptors,
  encodeFfsDescriptors,
  encodeFfsEvent,
  encodeFfsStrings,
  encodeLangIds,
  encodeStringDescriptor,
  ffsEventName,
  functionfsIoctls,
  ioctlArgRules,
  ioctlName,
  parseDescriptors,
  usbdevfsBulkTransferStruct,
  usbdevfsCtrlTransferStruct,
  usbdevfsSetInterfaceStruct,
  usbdevfsUrbStruct,
  usbfsIoctls,
  type Field,
  type Fields,
  type Struct,
  type UsbDescriptor,
} from '../src/abi/index.js';
import { checkIoctlArg } from '../src/kernel/ioctl-check.js';

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const fromHex = (text: string): Uint8Array => Uint8Array.from(text.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// usb.md §A2 "usbfs numbers" (x86_64, checked with gcc there) and the header's _IOC forms.
const USBFS_GENERIC: Readonly<Record<string, number>> = {
  USBDEVFS_CONTROL: 0xc0185500,
  USBDEVFS_BULK: 0xc0185502,
  USBDEVFS_SETINTERFACE: 0x80085504, // _IOR('U', 4, struct usbdevfs_setinterface)
  USBDEVFS_SETCONFIGURATION: 0x80045505, // _IOR('U', 5, unsigned int)
  USBDEVFS_SUBMITURB: 0x8038550a,
  USBDEVFS_DISCARDURB: 0x0000550b,
  USBDEVFS_REAPURB: 0x4008550c,
  USBDEVFS_REAPURBNDELAY: 0x4008550d,
  USBDEVFS_CLAIMINTERFACE: 0x8004550f,
  USBDEVFS_RELEASEINTERFACE: 0x80045510,
  USBDEVFS_RESET: 0x00005514, // _IO('U', 20)
  USBDEVFS_CLEAR_HALT: 0x80045515, // _IOR('U', 21, unsigned int)
  USBDEVFS_GET_CAPABILITIES: 0x8004551a,
  USBDEVFS_GET_SPEED: 0x0000551f, // _IO('U', 31)
};
// functionfs.h: _IO('g', 1..3, 128, 129), _IOR('g', 130, struct usb_endpoint_descriptor) (9 bytes).
const FFS_GENERIC: Readonly<Record<string, number>> = {
  FUNCTIONFS_FIFO_STATUS: 0x00006701,
  FUNCTIONFS_FIFO_FLUSH: 0x00006702,
  FUNCTIONFS_CLEAR_HALT: 0x00006703,
  FUNCTIONFS_INTERFACE_REVMAP: 0x00006780,
  FUNCTIONFS_ENDPOINT_REVMAP: 0x00006781,
  FUNCTIONFS_ENDPOINT_DESC: 0x80096782,
  FUNCTIONFS_DMABUF_ATTACH: 0x40046783,
  FUNCTIONFS_DMABUF_DETACH: 0x40046784,
  FUNCTIONFS_DMABUF_TRANSFER: 0x40106785,
};
// MIPS/PowerPC/SPARC/Alpha (kernel-abi §0.2): NONE=1, READ=2, WRITE=4 at bit 29.
const USBFS_ALT: Readonly<Record<string, number>> = {
  USBDEVFS_CONTROL: 0xc0185500,
  USBDEVFS_BULK: 0xc0185502,
  USBDEVFS_SETINTERFACE: 0x40085504,
  USBDEVFS_SETCONFIGURATION: 0x40045505,
  USBDEVFS_SUBMITURB: 0x4038550a,
  USBDEVFS_DISCARDURB: 0x2000550b,
  USBDEVFS_REAPURB: 0x8008550c,
  USBDEVFS_REAPURBNDELAY: 0x8008550d,
  USBDEVFS_CLAIMINTERFACE: 0x4004550f,
  USBDEVFS_RELEASEINTERFACE: 0x40045510,
  USBDEVFS_RESET: 0x20005514,
  USBDEVFS_CLEAR_HALT: 0x40045515,
  USBDEVFS_GET_CAPABILITIES: 0x4004551a,
  USBDEVFS_GET_SPEED: 0x2000551f,
};
const FFS_ALT: Readonly<Record<string, number>> = {
  FUNCTIONFS_FIFO_STATUS: 0x20006701,
  FUNCTIONFS_FIFO_FLUSH: 0x20006702,
  FUNCTIONFS_CLEAR_HALT: 0x20006703,
  FUNCTIONFS_INTERFACE_REVMAP: 0x20006780,
  FUNCTIONFS_ENDPOINT_REVMAP: 0x20006781,
  FUNCTIONFS_ENDPOINT_DESC: 0x40096782,
  FUNCTIONFS_DMABUF_ATTACH: 0x80046783,
  FUNCTIONFS_DMABUF_DETACH: 0x80046784,
  FUNCTIONFS_DMABUF_TRANSFER: 0x80106785,
};

test('usbfs and FunctionFS request numbers on the generic layout (usb.md §A2, functionfs.h)', () => {
  const usbfs: Readonly<Record<string, number>> = usbfsIoctls(GENERIC_IOC_LAYOUT);
  assert.deepEqual(Object.keys(usbfs).sort(), Object.keys(USBFS_GENERIC).sort());
  for (const [name, value] of Object.entries(USBFS_GENERIC)) assert.equal(hex(usbfs[name] ?? -1), hex(value), name);
  const ffs: Readonly<Record<string, number>> = functionfsIoctls(GENERIC_IOC_LAYOUT);
  assert.deepEqual(Object.keys(ffs).sort(), Object.keys(FFS_GENERIC).sort());
  for (const [name, value] of Object.entries(FFS_GENERIC)) assert.equal(hex(ffs[name] ?? -1), hex(value), name);
  // usb.md §A2 lists these verbatim.
  assert.equal(usbfs.USBDEVFS_CONTROL, 0xc0185500);
  assert.equal(usbfs.USBDEVFS_SUBMITURB, 0x8038550a);
  assert.equal(usbfs.USBDEVFS_REAPURBNDELAY, 0x4008550d);
  assert.equal(usbfs.USBDEVFS_DISCARDURB, 0x550b);
});

test('usbfs and FunctionFS request numbers on the MIPS/PowerPC/SPARC/Alpha layout (kernel-abi §0.2)', () => {
  const usbfs: Readonly<Record<string, number>> = usbfsIoctls(ALT_IOC_LAYOUT);
  for (const [name, value] of Object.entries(USBFS_ALT)) assert.equal(hex(usbfs[name] ?? -1), hex(value), name);
  const ffs: Readonly<Record<string, number>> = functionfsIoctls(ALT_IOC_LAYOUT);
  for (const [name, value] of Object.entries(FFS_ALT)) assert.equal(hex(ffs[name] ?? -1), hex(value), name);
  assert.equal(Object.keys(usbfs).length, Object.keys(USBFS_ALT).length);
  assert.equal(Object.keys(ffs).length, Object.keys(FFS_ALT).length);
});

test('the usbfs and FunctionFS requests are in abiIoctls(), named by ioctlName, all distinct', () => {
  const all: Readonly<Record<string, number>> = abiIoctls();
  const mine = { ...usbfsIoctls(), ...functionfsIoctls() };
  for (const [name, value] of Object.entries(mine)) {
    assert.equal(all[name], value, name);
    assert.equal(ioctlName(value), name);
  }
  // The exported constants are the running arch's numbers.
  const exported = abi as unknown as Readonly<Record<string, unknown>>;
  for (const [name, value] of Object.entries(mine)) assert.equal(exported[name], value, name);
  for (const layout of [GENERIC_IOC_LAYOUT, ALT_IOC_LAYOUT]) {
    const values = Object.values(abiIoctls(layout));
    assert.equal(new Set(values).size, values.length);
  }
});

// ---------------------------------------------------------------------------------------------
// The real headers: every layout and number above compiled by gcc on this host.

/** [C expression, our value]; the C program prints each expression's value. */
function headerChecks(): Array<readonly [string, number]> {
  const checks: Array<readonly [string, number]> = [];
  const ioctls: Readonly<Record<string, number>> = { ...usbfsIoctls(), ...functionfsIoctls() };
  for (const [name, value] of Object.entries(ioctls)) checks.push([name, value]);
  const structOf = <S extends Fields>(c: string, s: Struct<S>, fields: Readonly<Record<keyof S & string, string>>) => {
    checks.push([`sizeof(struct ${c})`, s.size]);
    for (const [ours, theirs] of Object.entries<string>(fields)) {
      const f: Field = s.fields[ours]!;
      checks.push([`offsetof(struct ${c}, ${theirs})`, f.offset]);
      checks.push([`sizeof(((struct ${c} *)0)->${theirs})`, f.size]);
    }
  };
  structOf('usbdevfs_ctrltransfer', usbdevfsCtrlTransferStruct, {
    bRequestType: 'bRequestType', bRequest: 'bRequest', wValue: 'wValue', wIndex: 'wIndex', wLength: 'wLength',
    timeout: 'timeout', data: 'data',
  });
  structOf('usbdevfs_bulktransfer', usbdevfsBulkTransferStruct, { ep: 'ep', len: 'len', timeout: 'timeout', data: 'data' });
  structOf('usbdevfs_setinterface', usbdevfsSetInterfaceStruct, { interface: 'interface', altsetting: 'altsetting' });
  structOf('usbdevfs_urb', usbdevfsUrbStruct, {
    type: 'type', endpoint: 'endpoint', status: 'status', flags: 'flags', buffer: 'buffer', bufferLength: 'buffer_length',
    actualLength: 'actual_length', startFrame: 'start_frame', numberOfPackets: 'number_of_packets',
    errorCount: 'error_count', signr: 'signr', usercontext: 'usercontext',
  });
  checks.push(['offsetof(struct usbdevfs_urb, stream_id)', usbdevfsUrbStruct.fields.numberOfPackets.offset]);
  // Wire formats: sizes and offsets (ch9.h's fields are __le16; ours are encoded LE by hand).
  checks.push(['sizeof(struct usb_ctrlrequest)', USB_CTRLREQUEST_SIZE]);
  for (const [field, offset] of [['bRequestType', 0], ['bRequest', 1], ['wValue', 2], ['wIndex', 4], ['wLength', 6]] as const) {
    checks.push([`offsetof(struct usb_ctrlrequest, ${field})`, offset]);
  }
  checks.push(['sizeof(struct usb_functionfs_event)', USB_FUNCTIONFS_EVENT_SIZE]);
  checks.push(['offsetof(struct usb_functionfs_event, type)', USB_CTRLREQUEST_SIZE]);
  checks.push(['offsetof(struct usb_functionfs_event, u.setup)', 0]);
  checks.push(['sizeof(struct usb_functionfs_descs_head_v2)', 12]);
  checks.push(['sizeof(struct usb_functionfs_strings_head)', 16]);
  const sizes: ReadonlyArray<readonly [string, string]> = [
    ['usb_device_descriptor', 'USB_DT_DEVICE_SIZE'],
    ['usb_config_descriptor', 'USB_DT_CONFIG_SIZE'],
    ['usb_interface_descriptor', 'USB_DT_INTERFACE_SIZE'],
    ['usb_endpoint_descriptor', 'USB_DT_ENDPOINT_AUDIO_SIZE'],
    ['usb_endpoint_descriptor_no_audio', 'USB_DT_ENDPOINT_SIZE'],
    ['usb_ss_ep_comp_descriptor', 'USB_DT_SS_EP_COMP_SIZE'],
    ['usb_interface_assoc_descriptor', 'USB_DT_INTERFACE_ASSOCIATION_SIZE'],
    ['usb_otg_descriptor', 'USB_DT_OTG_SIZE'],
  ];
  const values = abi as unknown as Readonly<Record<string, number>>;
  for (const [struct, constant] of sizes) checks.push([`sizeof(struct ${struct})`, values[constant]!]);
  // Every constant of ours that the headers define, by the same name.
  const constant = /^(USB_(DIR|TYPE|RECIP|REQ|DT|ENDPOINT|CLASS|CONFIG_ATT|SPEED)_|USBDEVFS_(URB|CAP)_|FUNCTIONFS_)/;
  const notInHeaders = new Set(['USB_DT_OTG_SIZE', 'USB_FEATURE_ENDPOINT_HALT', 'FUNCTIONFS_FLAGS_MASK']);
  for (const [name, value] of Object.entries(values)) {
    if (typeof value === 'number' && constant.test(name) && !notInHeaders.has(name) && !(name in ioctls)) checks.push([name, value]);
  }
  checks.push(['USB_ENDPOINT_HALT', abi.USB_FEATURE_ENDPOINT_HALT]);
  return checks;
}

test('every struct layout, request number and constant agrees with the uapi headers, through gcc (usb.md §A2, kernel-abi §5.1)', (t) => {
  const headers = ['linux/usbdevice_fs.h', 'linux/usb/functionfs.h', 'linux/usb/ch9.h'];
  let gcc = true;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    gcc = false;
  }
  if (!gcc || !headers.every((h) => existsSync(join('/usr/include', h)))) {
    t.skip('needs gcc and linux-libc-dev (the uapi headers)');
    return;
  }
  const checks = headerChecks();
  assert.ok(checks.length > 150, `${checks.length} checks`);
  const source = [
    '#include <stddef.h>',
    '#include <stdio.h>',
    ...headers.map((h) => `#include <${h}>`),
    'int main(void) {',
    // Headers older than 6.9 (Debian 12 has 6.1) lack the DMABUF ioctls (kernel-abi §5.1 pins those).
    ...checks.map(([expr]) => {
      const print = `  printf("%s %lld\\n", ${JSON.stringify(expr)}, (long long)(${expr}));`;
      return expr.startsWith('FUNCTIONFS_DMABUF_') ? `#ifdef ${expr}\n${print}\n#else\n  printf("%s absent\\n", "${expr}");\n#endif` : print;
    }),
    '  return 0;',
    '}',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-abi-usb-'));
  try {
    writeFileSync(join(dir, 'probe.c'), source);
    // -Wno-deprecated-declarations: usb_functionfs_descs_head is marked deprecated
    execFileSync('gcc', ['-Wall', '-Werror', '-Wno-deprecated-declarations', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { stdio: 'pipe' });
    const lines = execFileSync(join(dir, 'probe'), { encoding: 'utf8' }).trim().split('\n');
    assert.equal(lines.length, checks.length);
    lines.forEach((line, i) => {
      const [expr, ours] = checks[i]!;
      assert.ok(line.startsWith(`${expr} `), line);
      const printed = line.slice(expr.length + 1);
      if (printed === 'absent' && expr.startsWith('FUNCTIONFS_DMABUF_')) return;
      const theirs = Number(printed);
      // request numbers print as a C int on some headers: compare unsigned
      assert.equal(hex(theirs >>> 0), hex(ours >>> 0), expr);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// u8/u16 struct fields (host order, like every ioctl struct)

test('struct u8/u16 fields: host byte order, range-checked, zero-filled, number()/putNumber()', () => {
  const ctrl = usbdevfsCtrlTransferStruct.encode({
    bRequestType: 0xc1, bRequest: 2, wValue: 0x1234, wIndex: 0xfffe, wLength: 64, timeout: 1000, data: 0x1122334455667788n,
  });
  assert.equal(ctrl.length, 24);
  const le = endianness() === 'LE';
  assert.deepEqual([...ctrl.subarray(0, 8)], le ? [0xc1, 2, 0x34, 0x12, 0xfe, 0xff, 64, 0] : [0xc1, 2, 0x12, 0x34, 0xff, 0xfe, 0, 64]);
  assert.deepEqual(usbdevfsCtrlTransferStruct.decode(ctrl), {
    bRequestType: 0xc1, bRequest: 2, wValue: 0x1234, wIndex: 0xfffe, wLength: 64, timeout: 1000, data: 0x1122334455667788n,
  });
  assert.equal(usbdevfsCtrlTransferStruct.number(ctrl, 'wLength'), 64);
  usbdevfsCtrlTransferStruct.putNumber(ctrl, 'wLength', 0xffff);
  assert.equal(usbdevfsCtrlTransferStruct.decode(ctrl).wLength, 0xffff);
  assert.equal(usbdevfsCtrlTransferStruct.decode(ctrl).wIndex, 0xfffe, 'the neighbour left alone');
  assert.throws(() => usbdevfsCtrlTransferStruct.encode({ bRequest: 256 }), { name: 'RangeError', message: /bRequest.*256.*u8/ });
  assert.throws(() => usbdevfsCtrlTransferStruct.encode({ wValue: 0x10000 }), { name: 'RangeError', message: /wValue.*65536.*u16/ });
  assert.throws(() => usbdevfsCtrlTransferStruct.encode({ wValue: -1 }), { name: 'RangeError', message: /wValue/ });
  assert.throws(() => usbdevfsCtrlTransferStruct.putNumber(ctrl, 'bRequestType', 0x100), RangeError);
  // A refused value leaves `into` untouched.
  const before = Uint8Array.from(ctrl);
  assert.throws(() => usbdevfsCtrlTransferStruct.encode({ bRequest: 1, wLength: 1 << 16 }, ctrl), RangeError);
  assert.deepEqual(ctrl, before);
  // The urb round-trips with its union field and negative status.
  const urb = { type: 3, endpoint: 0x81, status: -32, flags: 0x40, buffer: 0n, bufferLength: 512, actualLength: 13, startFrame: 0,
    numberOfPackets: 0, errorCount: 0, signr: 0, usercontext: 0xdead_beef_0000_0001n };
  assert.deepEqual(usbdevfsUrbStruct.decode(usbdevfsUrbStruct.encode(urb)), urb);
});

// ---------------------------------------------------------------------------------------------
// Chapter 9: SETUP packets, descriptors, strings

test('usb_ctrlrequest: 8 bytes little-endian whatever the host; out-of-range fields name themselves', () => {
  const r = { bRequestType: USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE, bRequest: 1, wValue: 0x0102, wIndex: 0x0304, wLength: 0x0506 };
  const bytes = encodeCtrlRequest(r);
  assert.equal(toHex(bytes), 'c101020104030605');
  assert.deepEqual(decodeCtrlRequest(bytes), r);
  const into = new Uint8Array(12).fill(0xee);
  encodeCtrlRequest(r, into, 2);
  assert.equal(toHex(into), 'eeeec101020104030605eeee');
  assert.deepEqual(decodeCtrlRequest(into, 2), r);
  assert.throws(() => encodeCtrlRequest({ ...r, wLength: 65536 }), { name: 'RangeError', message: /wLength 65536/ });
  assert.throws(() => encodeCtrlRequest({ ...r, bRequest: 1.5 }), { name: 'RangeError', message: /bRequest 1\.5/ });
  assert.throws(() => encodeCtrlRequest(r, new Uint8Array(9), 2), { name: 'RangeError', message: /offset 2/ });
  assert.throws(() => decodeCtrlRequest(new Uint8Array(7)), RangeError);
});

test('descriptors encode and parse back, every kind (ch9.h layouts, little-endian)', () => {
  const list: UsbDescriptor[] = [
    { type: 'device', bcdUSB: 0x0200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bMaxPacketSize0: 64,
      idVendor: 0x0456, idProduct: 0xb673, bcdDevice: 0x0101, iManufacturer: 1, iProduct: 2, iSerialNumber: 3, bNumConfigurations: 1 },
    { type: 'config', wTotalLength: 32, bNumInterfaces: 1, bConfigurationValue: 1, iConfiguration: 0, bmAttributes: 0x80, bMaxPower: 250 },
    { type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 2, bInterfaceClass: 0xff,
      bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 4 },
    { type: 'endpoint', bEndpointAddress: 0x81, bmAttributes: 2, wMaxPacketSize: 512, bInterval: 0 },
    { type: 'endpoint', bEndpointAddress: 0x02, bmAttributes: 1, wMaxPacketSize: 0x3ff, bInterval: 1, audio: { bRefresh: 0, bSynchAddress: 0x83 } },
    { type: 'ss-endpoint-comp', bMaxBurst: 15, bmAttributes: 0, wBytesPerInterval: 0x400 },
    { type: 'other', bDescriptorType: 0x24, bytes: Uint8Array.of(5, 0x24, 0, 0x10, 0x01) },
  ];
  const bytes = encodeDescriptors(list);
  assert.equal(toHex(bytes.subarray(0, 18)), '12010002000000405604' + '73b601010102' + '0301');
  assert.equal(toHex(bytes.subarray(18, 27)), '09022000010100' + '80fa');
  assert.equal(toHex(bytes.subarray(36, 43)), '07058102000200');
  assert.equal(toHex(bytes.subarray(43, 52)), '090502' + '01ff03' + '010083');
  assert.equal(toHex(bytes.subarray(52, 58)), '0630' + '0f000004');
  assert.equal(bytes.length, 18 + 9 + 9 + 7 + 9 + 6 + 5);
  assert.deepEqual(parseDescriptors(bytes), list);
  assert.deepEqual(decodeDescriptor(bytes, 36), { descriptor: list[3], length: 7 });
  assert.deepEqual(encodeDescriptor(list[3]!), bytes.subarray(36, 43));
  assert.throws(() => encodeDescriptor({ type: 'endpoint', bEndpointAddress: 0x81, bmAttributes: 2, wMaxPacketSize: 0x10000, bInterval: 0 }), {
    name: 'RangeError', message: /wMaxPacketSize 65536/,
  });
  assert.throws(() => encodeDescriptor({ type: 'other', bDescriptorType: 0x24, bytes: Uint8Array.of(4, 0x24, 0) }), {
    name: 'RangeError', message: /bLength 4/,
  });
});

test('parseDescriptors: a truncated descriptor, bLength 0/1 and wrong standard lengths are UsbDescriptorErrors with their offset', () => {
  const endpoint = encodeDescriptor({ type: 'endpoint', bEndpointAddress: 1, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 });
  const cases: ReadonlyArray<readonly [string, Uint8Array, number, 'truncated' | 'length', RegExp]> = [
    ['one byte left', Uint8Array.of(...endpoint, 7), 7, 'truncated', /1 byte\(s\) left/],
    ['runs past the end', endpoint.subarray(0, 6), 0, 'truncated', /bLength 7 runs past the end \(6 bytes left\)/],
    ['bLength 0', Uint8Array.of(...endpoint, 0, 5), 7, 'length', /bLength 0 is below 2/],
    ['bLength 1', Uint8Array.of(1, 5), 0, 'length', /bLength 1 is below 2/],
    ['endpoint of 6', Uint8Array.of(6, USB_DT_ENDPOINT, 1, 2, 64, 0), 0, 'length', /endpoint descriptor at offset 0: bLength 6, must be 7 or 9/],
    ['interface of 8', Uint8Array.of(8, 4, 0, 0, 0, 0, 0, 0), 0, 'length', /interface descriptor.*must be 9/],
    ['device of 9', Uint8Array.of(9, 1, 0, 0, 0, 0, 0, 0, 0), 0, 'length', /device descriptor.*must be 18/],
    ['SS companion of 7', Uint8Array.of(7, 0x30, 0, 0, 0, 0, 0), 0, 'length', /SuperSpeed endpoint companion.*must be 6/],
  ];
  for (const [what, bytes, offset, reason, message] of cases) {
    assert.throws(() => parseDescriptors(bytes), (e: unknown) => {
      assert.ok(e instanceof UsbDescriptorError && e instanceof RangeError, what);
      assert.equal(e.offset, offset, what);
      assert.equal(e.reason, reason, what);
      assert.match(e.message, message, what);
      return true;
    });
  }
  assert.deepEqual(parseDescriptors(new Uint8Array(0)), []);
});

test('string descriptors: UTF-16LE, bLength at most 255; string descriptor 0 lists LANGIDs', () => {
  const iio = encodeStringDescriptor('IIO');
  assert.equal(toHex(iio), '0803490049004f00');
  assert.equal(decodeStringDescriptor(iio), 'IIO');
  assert.equal(decodeStringDescriptor(encodeStringDescriptor('µ€😀')), 'µ€😀'); // a surrogate pair is 2 units
  assert.equal(encodeStringDescriptor('x'.repeat(126)).length, 254);
  assert.throws(() => encodeStringDescriptor('x'.repeat(127)), { name: 'RangeError', message: /127 UTF-16 units/ });
  assert.equal(toHex(encodeLangIds([0x0409, 0x0407])), '0603' + '0904' + '0704');
  assert.deepEqual(decodeLangIds(encodeLangIds([0x0409])), [0x0409]);
  assert.throws(() => encodeLangIds([0x10000]), { name: 'RangeError', message: /LANGID 0 65536/ });
  assert.throws(() => decodeStringDescriptor(Uint8Array.of(4, USB_DT_ENDPOINT, 0, 0)), { name: 'RangeError', message: /bDescriptorType 5/ });
  assert.throws(() => decodeStringDescriptor(Uint8Array.of(5, USB_DT_STRING, 0x49, 0, 0)), { name: 'UsbDescriptorError', message: /not an even/ });
  assert.throws(() => decodeStringDescriptor(Uint8Array.of(8, USB_DT_STRING, 0x49, 0)), { name: 'UsbDescriptorError', message: /runs past/ });
});

// ---------------------------------------------------------------------------------------------
// FunctionFS blobs: usb.md §A1

// usb.md §A1, "Hex for N=1, reproduced from the C code".
const IIOD_N1 = fromHex(`
  03000000 69000000 07000000 03000000 03000000 05000000
  09 04 00 00 02 02 00 00 01  07 05 81 02 40 00 00  07 05 01 02 40 00 00
  09 04 00 00 02 02 00 00 01  07 05 81 02 00 02 00  07 05 01 02 00 02 00
  09 04 00 00 02 02 00 00 01  07 05 81 02 00 04 00 06 30 00 00 00 00  07 05 01 02 00 04 00 06 30 00 00 00 00`);
// usb.md §A1 "Strings blob (22 bytes)".
const IIOD_STRINGS = fromHex('02000000 16000000 01000000 01000000 0904 49494f00');

test("iiod's descriptors blob, N=1: byte-exact with usb.md §A1, and it decodes back", () => {
  assert.equal(IIOD_N1.length, 105);
  const blob = encodeFfsDescriptors(iiodDescriptorSet(1));
  assert.equal(toHex(blob), toHex(IIOD_N1));
  const decoded = decodeFfsDescriptors(IIOD_N1);
  assert.equal(decoded.flags, FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC | FUNCTIONFS_HAS_SS_DESC);
  assert.deepEqual(decoded, { flags: 7, ...iiodDescriptorSet(1) });
  assert.equal(toHex(encodeFfsDescriptors(decoded)), toHex(IIOD_N1));
});

test("iiod's descriptors blob, N=3: 213 bytes (usb.md §A1: 51 + 54N), counts 2N+1 and 4N+1, round trip", () => {
  const blob = encodeFfsDescriptors(iiodDescriptorSet(3));
  assert.equal(blob.length, 213);
  // header: magic 3, length 213, flags 7, fs 7, hs 7, ss 13
  assert.equal(toHex(blob.subarray(0, 24)), '03000000' + 'd5000000' + '07000000' + '07000000' + '07000000' + '0d000000');
  // FS block: the interface with 2N = 6 endpoints, pipes 0..2 IN then OUT at 64 bytes
  assert.equal(toHex(blob.subarray(24, 33)), '090400000602000001');
  assert.equal(toHex(blob.subarray(33, 75)), ['07058102400000', '07050102400000', '07058202400000', '07050202400000', '07058302400000', '07050302400000'].join(''));
  // SS block ends with pipe 2's OUT endpoint at 1024 and its companion
  assert.equal(toHex(blob.subarray(200)), '07050302000400' + '063000000000');
  const decoded = decodeFfsDescriptors(blob);
  assert.deepEqual(decoded, { flags: 7, ...iiodDescriptorSet(3) });
  assert.deepEqual(encodeFfsDescriptors(decoded), blob);
});

test("iiod's strings blob: 22 bytes byte-exact with usb.md §A1, decoded back", () => {
  const blob = encodeFfsStrings({ langs: [{ lang: 0x0409, strings: ['IIO'] }] });
  assert.equal(toHex(blob), toHex(IIOD_STRINGS));
  assert.deepEqual(decodeFfsStrings(IIOD_STRINGS), { langs: [{ lang: 0x0409, strings: ['IIO'] }] });
  const two = { langs: [{ lang: 0x0409, strings: ['IIO', 'données'] }, { lang: 0x040c, strings: ['IIO', 'données'] }] };
  assert.deepEqual(decodeFfsStrings(encodeFfsStrings(two)), two);
  assert.equal(toHex(encodeFfsStrings({ langs: [] })), '02000000' + '10000000' + '00000000' + '00000000');
  assert.throws(() => encodeFfsStrings({ langs: [{ lang: 0x0409, strings: ['a'] }, { lang: 0x040c, strings: [] }] }), {
    name: 'RangeError', message: /0x40c has 0 strings, the first has 1/,
  });
  assert.throws(() => encodeFfsStrings({ langs: [{ lang: 0x0409, strings: ['a\0b'] }] }), { name: 'RangeError', message: /NUL/ });
});

test('descriptors blob: eventfd, extra flags and the legacy magic 1 (f_fs.c __ffs_data_got_descs)', () => {
  const { hs } = iiodDescriptorSet(1);
  const withEventfd = encodeFfsDescriptors({ hs, eventfd: 9, flags: FUNCTIONFS_ALL_CTRL_RECIP });
  // flags = HAS_HS | EVENTFD | ALL_CTRL_RECIP; eventfd comes before the one count
  assert.equal(toHex(withEventfd.subarray(0, 20)), '03000000' + '2b000000' + '62000000' + '09000000' + '03000000');
  assert.deepEqual(decodeFfsDescriptors(withEventfd), { flags: 0x62, eventfd: 9, hs });
  assert.throws(() => encodeFfsDescriptors({ hs, flags: FUNCTIONFS_EVENTFD }), { name: 'RangeError', message: /no eventfd/ });
  assert.throws(() => encodeFfsDescriptors({ hs, flags: FUNCTIONFS_HAS_MS_OS_DESC }), { name: 'RangeError', message: /MS OS/ });
  assert.throws(() => encodeFfsDescriptors({ hs, flags: 0x100 }), { name: 'RangeError', message: /0x100/ });
  // An empty speed list still sets its flag, with count 0.
  assert.equal(toHex(encodeFfsDescriptors({ fs: [], hs }).subarray(8, 20)), '03000000' + '00000000' + '03000000');
  // Legacy: magic, length, fs_count, hs_count, no flags.
  const { fs } = iiodDescriptorSet(1);
  const body = encodeDescriptors([...fs!, ...hs!]);
  const legacy = new Uint8Array(16 + body.length);
  const view = new DataView(legacy.buffer);
  view.setUint32(0, FUNCTIONFS_DESCRIPTORS_MAGIC, true);
  view.setUint32(4, legacy.length, true);
  view.setUint32(8, 3, true);
  view.setUint32(12, 3, true);
  legacy.set(body, 16);
  assert.deepEqual(decodeFfsDescriptors(legacy), { flags: FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC, fs, hs });
});

/** A copy of `blob` with the __le32 at `offset` replaced, and `length` fixed up unless told not to. */
function patched(blob: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(blob);
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}
function withLength(bytes: Uint8Array): Uint8Array {
  return patched(bytes, 4, bytes.length);
}

test('descriptors blob decode errors: each a typed FfsBlobError with its reason (f_fs.c __ffs_data_got_descs, ffs_do_single_desc)', () => {
  const good = IIOD_N1;
  const ssOut = good.length - 13; // the SS block's last endpoint
  const cases: ReadonlyArray<readonly [string, Uint8Array, string, RegExp]> = [
    ['bad magic', patched(good, 0, 4), 'magic', /magic 4/],
    ['the strings magic', patched(good, 0, 2), 'magic', /magic 2/],
    ['wrong length', patched(good, 4, good.length + 1), 'length', /says 106 bytes, the blob holds 105/],
    ['a byte missing', withLength(good.subarray(0, good.length - 1)), 'truncated', /runs past the end/],
    ['below 16 bytes', withLength(good.subarray(0, 14)), 'truncated', /14 bytes, ep0 takes at least 16/],
    ['a header cut short', withLength(Uint8Array.of(...patched(good.subarray(0, 12), 8, 0x27), 3, 0, 0, 0)), 'truncated', /end before the fs_count at offset 16/],
    ['unknown flag', patched(good, 8, 0x107), 'flags', /0x107/],
    ['MS OS descriptors', withLength(Uint8Array.of(...patched(good, 8, 0xf), 0, 0, 0, 0)), 'unsupported', /MS OS/],
    // the fs block takes the hs interface, each later block starts one descriptor on: the ss block runs out
    ['fs_count too large', patched(good, 12, 4), 'count', /ss block ends after 4 descriptors, its count is 5/],
    ['ss_count too large', patched(good, 20, 6), 'count', /ss block ends after 5 descriptors, its count is 6/],
    ['ss_count too small', patched(good, 20, 4), 'count', /6 bytes left after the counted descriptors/],
    ['no descriptors', withLength(Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0)), 'empty', /no descriptors/],
    ['bLength 0', (() => { const b = Uint8Array.from(good); b[ssOut] = 0; return b; })(), 'descriptor', /bLength 0/],
    ['bLength 1', (() => { const b = Uint8Array.from(good); b[ssOut] = 1; return b; })(), 'descriptor', /bLength 1/],
    ['an endpoint of bLength 6', (() => { const b = Uint8Array.from(good); b[ssOut] = 6; return b; })(), 'descriptor', /bLength 6, must be 7 or 9/],
    ['an endpoint at address 0', (() => { const b = Uint8Array.from(good); b[ssOut + 2] = 0x80; return b; })(), 'descriptor', /0x00 is ep0/],
    ['speeds disagree on an address', (() => { const b = Uint8Array.from(good); b[ssOut + 2] = 0x02; return b; })(), 'endpoints', /0x81, 0x02\] differ.*0x81, 0x01\]/],
    ['a device descriptor', withLength(Uint8Array.of(...patched(good.subarray(0, 12), 8, 1), 1, 0, 0, 0, ...encodeDescriptor({
      type: 'device', bcdUSB: 0x200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bMaxPacketSize0: 64, idVendor: 1,
      idProduct: 2, bcdDevice: 0, iManufacturer: 0, iProduct: 0, iSerialNumber: 0, bNumConfigurations: 1 }))), 'descriptor', /gadget's/],
    ['a BOS descriptor', withLength(Uint8Array.of(...patched(good.subarray(0, 12), 8, 1), 1, 0, 0, 0, 5, 0x0f, 5, 0, 0)), 'descriptor', /type 0x0f/],
  ];
  for (const [what, bytes, reason, message] of cases) {
    assert.throws(() => decodeFfsDescriptors(bytes), (e: unknown) => {
      assert.ok(e instanceof FfsBlobError && e instanceof RangeError, `${what}: ${String(e)}`);
      assert.equal(e.reason, reason, `${what}: ${e.message}`);
      assert.match(e.message, message, what);
      assert.ok(e.offset >= 0 && e.offset <= bytes.length, what);
      return true;
    });
  }
  // The hs block with one endpoint fewer than the fs block: different endpoint lists.
  const { fs, hs } = iiodDescriptorSet(1);
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs, hs: hs!.slice(0, 2) })), { name: 'FfsBlobError', message: /differ/ });
  // A block with neither endpoint nor interface sets no counts: the next block does (__ffs_data_got_descs).
  const otg: UsbDescriptor = { type: 'other', bDescriptorType: 0x09, bytes: Uint8Array.of(3, 0x09, 0) };
  assert.deepEqual(decodeFfsDescriptors(encodeFfsDescriptors({ fs: [otg], hs })).hs, hs);
  // Counts carried from an earlier blob (FfsParseCounts) are matched by every block of the next,
  // and a refused blob leaves those of the blocks that parsed, with the highest string index seen.
  const carried: abi.FfsParseCounts = {};
  const named = hs!.map((d) => (d.type === 'interface' ? { ...d, iInterface: 4 } : d));
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs: named, hs: hs!.slice(0, 2) }), carried), /differ/);
  assert.deepEqual([carried.reference?.tally, carried.stringsCount], [{ interfaces: 1, endpoints: [0x81, 0x01] }, 4]);
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs: hs!.slice(0, 2) }), carried), /differ/);
  decodeFfsDescriptors(encodeFfsDescriptors({ fs, hs }), carried);
  assert.equal(carried.stringsCount, 4);
  // A second interface in one speed only.
  const extra: UsbDescriptor = { ...(hs![0] as UsbDescriptor & { type: 'interface' }), bInterfaceNumber: 1, bNumEndpoints: 0 };
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs, hs: [...hs!, extra] })), (e: unknown) => e instanceof FfsBlobError && e.reason === 'interfaces');
  // 31 endpoints in one speed: FFS_MAX_EPS_COUNT.
  const many: UsbDescriptor[] = Array.from({ length: 31 }, (_, i) => ({
    type: 'endpoint', bEndpointAddress: (i % 15) + 1, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0,
  }));
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs: many })), (e: unknown) => e instanceof FfsBlobError && e.reason === 'endpoints');
  assert.equal(decodeFfsDescriptors(encodeFfsDescriptors({ fs: many.slice(0, 30) })).fs!.length, 30);
  // IAD and a HID class descriptor after a HID interface are accepted; the class descriptor elsewhere is not.
  const hidInterface: UsbDescriptor = { type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 1, bInterfaceClass: 3, bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 0 };
  const hid: UsbDescriptor = { type: 'other', bDescriptorType: 0x21, bytes: Uint8Array.of(9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x20, 0) };
  const iad: UsbDescriptor = { type: 'other', bDescriptorType: 0x0b, bytes: Uint8Array.of(8, 0x0b, 0, 1, 3, 0, 0, 0) };
  assert.deepEqual(decodeFfsDescriptors(encodeFfsDescriptors({ fs: [iad, hidInterface, hid] })).fs, [iad, hidInterface, hid]);
  assert.throws(() => decodeFfsDescriptors(encodeFfsDescriptors({ fs: [{ ...hidInterface, bInterfaceClass: 0xff }, hid] })), {
    name: 'FfsBlobError', message: /type 0x21 is not one FunctionFS accepts/,
  });
});

test('strings blob decode errors: each a typed FfsBlobError with its reason (f_fs.c __ffs_data_got_strings)', () => {
  const good = IIOD_STRINGS;
  const cases: ReadonlyArray<readonly [string, Uint8Array, string, RegExp]> = [
    ['short header', withLength(good.subarray(0, 12)), 'truncated', /12 bytes, ep0 takes at least 16/],
    ['bad magic', patched(good, 0, 3), 'magic', /magic 3/],
    ['wrong length', patched(good, 4, 23), 'length', /says 23/],
    ['strings without languages', patched(good, 12, 0), 'count', /str_count 1 and lang_count 0/],
    ['a missing NUL', withLength(good.subarray(0, 21)), 'string', /no NUL/],
    ['a language missing', patched(good, 12, 2), 'truncated', /language 1 of 2/],
    ['a string too many', patched(good, 8, 2), 'string', /string 1 .*no NUL/],
    ['trailing bytes', withLength(Uint8Array.of(...good, 0)), 'count', /1 bytes left/],
  ];
  for (const [what, bytes, reason, message] of cases) {
    assert.throws(() => decodeFfsStrings(bytes), (e: unknown) => {
      assert.ok(e instanceof FfsBlobError, `${what}: ${String(e)}`);
      assert.equal(e.reason, reason, `${what}: ${e.message}`);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Events read from ep0

test('usb_functionfs_event: 12 bytes as the kernel lays them out (usb.md §A1), round trip, names', () => {
  // A SETUP for iiod's OPEN_PIPE(2): bmRequestType 0x41, bRequest 1, wValue 2, wIndex 0, wLength 0,
  // then type 4 and three bytes of padding.
  const raw = fromHex('41 01 0200 0000 0000 04 000000');
  assert.equal(raw.length, USB_FUNCTIONFS_EVENT_SIZE);
  const event = decodeFfsEvent(raw);
  assert.deepEqual(event, { type: FUNCTIONFS_SETUP, setup: { bRequestType: 0x41, bRequest: 1, wValue: 2, wIndex: 0, wLength: 0 } });
  assert.deepEqual(encodeFfsEvent(event), raw);
  // Several events per read: decode at an offset; encode into a larger buffer leaves the rest.
  const two = new Uint8Array(2 * USB_FUNCTIONFS_EVENT_SIZE + 1).fill(0xaa);
  encodeFfsEvent({ type: FUNCTIONFS_ENABLE }, two, 0);
  encodeFfsEvent(event, two, USB_FUNCTIONFS_EVENT_SIZE);
  assert.equal(toHex(two.subarray(0, 12)), '000000000000000002000000', 'no setup: zero, as the kernel memsets it');
  assert.deepEqual(decodeFfsEvent(two, 12), event);
  assert.equal(two[24], 0xaa);
  assert.throws(() => decodeFfsEvent(two, 14), { name: 'RangeError', message: /offset 14/ });
  assert.throws(() => encodeFfsEvent({ ...event, type: 256 }), RangeError);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7].map(ffsEventName),
    ['FUNCTIONFS_BIND', 'FUNCTIONFS_UNBIND', 'FUNCTIONFS_ENABLE', 'FUNCTIONFS_DISABLE', 'FUNCTIONFS_SETUP', 'FUNCTIONFS_SUSPEND',
      'FUNCTIONFS_RESUME', 'FUNCTIONFS_EVENT_7'],
  );
});

// ---------------------------------------------------------------------------------------------
// ioctl argument rules (src/abi/ioctl-args.ts) and the sim's checks by them (src/kernel/ioctl-check.ts)

test('argument rules of the usbfs and FunctionFS requests (usb.md §A2, port.ts ioctl)', () => {
  const rules = ioctlArgRules(GENERIC_IOC_LAYOUT);
  const u = usbfsIoctls(GENERIC_IOC_LAYOUT);
  const f = functionfsIoctls(GENERIC_IOC_LAYOUT);
  const expected: ReadonlyArray<readonly [number, unknown]> = [
    [u.USBDEVFS_CONTROL, { kind: 'pointer', size: 24, out: false, countOffset: 6, countSize: 2, elemSize: 1, pointerOffset: 16 }],
    [u.USBDEVFS_BULK, { kind: 'pointer', size: 24, out: false, countOffset: 4, countSize: 4, elemSize: 1, pointerOffset: 16 }],
    [u.USBDEVFS_SUBMITURB, { kind: 'urb', size: 56, pointerOffset: 16, countOffset: 24, elemSize: 1 }],
    [u.USBDEVFS_REAPURB, { kind: 'urb-reap', size: 8 }],
    [u.USBDEVFS_REAPURBNDELAY, { kind: 'urb-reap', size: 8 }],
    [u.USBDEVFS_DISCARDURB, { kind: 'urb-discard' }],
    [u.USBDEVFS_CLAIMINTERFACE, { kind: 'struct', size: 4, out: false }],
    [u.USBDEVFS_RELEASEINTERFACE, { kind: 'struct', size: 4, out: false }],
    [u.USBDEVFS_CLEAR_HALT, { kind: 'struct', size: 4, out: false }],
    [u.USBDEVFS_SETCONFIGURATION, { kind: 'struct', size: 4, out: false }],
    [u.USBDEVFS_SETINTERFACE, { kind: 'struct', size: 8, out: false }],
    [u.USBDEVFS_GET_CAPABILITIES, { kind: 'struct', size: 4, out: true }],
    [u.USBDEVFS_RESET, { kind: 'none' }],
    [u.USBDEVFS_GET_SPEED, { kind: 'none' }],
    [f.FUNCTIONFS_FIFO_STATUS, { kind: 'none' }],
    [f.FUNCTIONFS_FIFO_FLUSH, { kind: 'none' }],
    [f.FUNCTIONFS_CLEAR_HALT, { kind: 'none' }],
    [f.FUNCTIONFS_ENDPOINT_REVMAP, { kind: 'none' }],
    [f.FUNCTIONFS_INTERFACE_REVMAP, { kind: 'value' }],
    [f.FUNCTIONFS_ENDPOINT_DESC, { kind: 'struct', size: 9, out: true }],
    [f.FUNCTIONFS_DMABUF_ATTACH, { kind: 'struct', size: 4, out: false }],
    [f.FUNCTIONFS_DMABUF_TRANSFER, { kind: 'struct', size: 16, out: false }],
  ];
  for (const [request, rule] of expected) assert.deepEqual(rules.get(request), rule, ioctlName(request));
  // SYNC_IOC_FILE_INFO's count is a u32.
  assert.equal((rules.get(abiIoctls(GENERIC_IOC_LAYOUT).SYNC_IOC_FILE_INFO) as { countSize: number }).countSize, 4);
  // Every request has a rule, on both layouts; sizes that are there are the _IOC_SIZE.
  for (const layout of [GENERIC_IOC_LAYOUT, ALT_IOC_LAYOUT]) {
    const all = ioctlArgRules(layout);
    for (const [name, request] of Object.entries(abiIoctls(layout))) {
      const rule = all.get(request);
      assert.ok(rule !== undefined, name);
      if ('size' in rule && rule.kind !== 'string') assert.equal(rule.size, decodeIoc(request, layout).size, name);
      if (decodeIoc(request, layout).size === 0) assert.ok(['none', 'value', 'urb-discard'].includes(rule.kind), name);
    }
  }
});

test('the sim checks usbfs arguments by the rules: urb bytes and buffer, no isochronous urb, reap bytes, discard bytes, u16 counts', () => {
  if (CURRENT_IOC_LAYOUT !== GENERIC_IOC_LAYOUT && CURRENT_IOC_LAYOUT !== ALT_IOC_LAYOUT) return;
  const u = usbfsIoctls();
  const urb = usbdevfsUrbStruct.encode({ type: 3, endpoint: 0x81, bufferLength: 512 });
  checkIoctlArg(u.USBDEVFS_SUBMITURB, urb, [[16, new Uint8Array(512)]]);
  checkIoctlArg(u.USBDEVFS_SUBMITURB, urb, undefined); // NULL buffer: the kernel's to refuse
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, urb, [[16, new Uint8Array(511)]]), {
    name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /holds 511 bytes .* 512 × 1 = 512/,
  });
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, urb.subarray(0, 55), undefined), { name: 'RangeError', message: /holds 55 bytes .* needs 56/ });
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, urb, [[24, new Uint8Array(512)]]), { name: 'RangeError', message: /at offset 16, not 24/ });
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, 0, undefined), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  // An isochronous URB is refused as the addon refuses it (native/usbfs.c), with or without a buffer.
  const iso = usbdevfsUrbStruct.encode({ type: abi.USBDEVFS_URB_TYPE_ISO, endpoint: 0x81, bufferLength: 512 });
  const isoRefused = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'isochronous URBs (type 0) are not supported: their frame descriptors follow the urb' };
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, iso, [[16, new Uint8Array(512)]]), isoRefused);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_SUBMITURB, iso, undefined), isoRefused);
  // A negative buffer_length needs no buffer here (the kernel answers EINVAL).
  checkIoctlArg(u.USBDEVFS_SUBMITURB, usbdevfsUrbStruct.encode({ type: 3, bufferLength: -1 }), [[16, new Uint8Array(0)]]);

  checkIoctlArg(u.USBDEVFS_REAPURBNDELAY, new Uint8Array(8), undefined);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_REAPURBNDELAY, new Uint8Array(4), undefined), { name: 'RangeError', message: /needs 8/ });
  assert.throws(() => checkIoctlArg(u.USBDEVFS_REAPURB, new Uint8Array(8), [[0, new Uint8Array(8)]]), { name: 'TypeError', message: /no pointer fields/ });
  checkIoctlArg(u.USBDEVFS_DISCARDURB, urb, undefined);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_DISCARDURB, undefined, undefined), { name: 'TypeError' });

  // CONTROL's count is the u16 wLength at 6: the bytes after it (timeout) do not count.
  const ctrl = usbdevfsCtrlTransferStruct.encode({ bRequestType: 0xc0, wLength: 3, timeout: 0xffff_ffff });
  checkIoctlArg(u.USBDEVFS_CONTROL, ctrl, [[16, new Uint8Array(3)]]);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_CONTROL, ctrl, [[16, new Uint8Array(2)]]), { name: 'RangeError', message: /3 × 1 = 3/ });
  const bulk = usbdevfsBulkTransferStruct.encode({ ep: 0x81, len: 0x10000 });
  checkIoctlArg(u.USBDEVFS_BULK, bulk, [[16, new Uint8Array(0x10000)]]);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_BULK, bulk, [[16, new Uint8Array(0xffff)]]), { name: 'RangeError', message: /65536 × 1/ });

  checkIoctlArg(u.USBDEVFS_GET_SPEED, undefined, undefined);
  assert.throws(() => checkIoctlArg(u.USBDEVFS_RESET, new Uint8Array(4), undefined), { name: 'TypeError', message: /takes no argument/ });
  checkIoctlArg(functionfsIoctls().FUNCTIONFS_INTERFACE_REVMAP, 0, undefined);
  assert.throws(() => checkIoctlArg(functionfsIoctls().FUNCTIONFS_ENDPOINT_DESC, new Uint8Array(8), undefined), { name: 'RangeError', message: /needs 9/ });
});
