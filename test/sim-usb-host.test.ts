// The simulated dummy_hcd's host half (src/kernel/sim/usb/host): the root hub, enumeration of a
// device on the root port, its sysfs (formats as drivers/usb/core/sysfs.c and endpoint.c print
// them) and usbfs (devio.c; usb.md §A2: numbers, pollable fd, SG split, usbfs_memory_mb). The
// device on the other end is a small model in this file (a gadget with the descriptors of
// iiod's FunctionFS blob, usb.md §A1, and a packet-level endpoint engine), driven through the
// link of src/kernel/sim/usb/link.ts as the sim's dummy UDC drives it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeCtrlRequest,
  encodeCtrlRequest,
  encodeDescriptors,
  encodeLangIds,
  encodeStringDescriptor,
  O_RDONLY,
  O_RDWR,
  POLLERR,
  POLLHUP,
  POLLOUT,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  USBDEVFS_BULK,
  USBDEVFS_CLAIMINTERFACE,
  USBDEVFS_CONTROL,
  USBDEVFS_DISCARDURB,
  USBDEVFS_GET_CAPABILITIES,
  USBDEVFS_GET_SPEED,
  USBDEVFS_REAPURBNDELAY,
  USBDEVFS_RELEASEINTERFACE,
  USBDEVFS_SETCONFIGURATION,
  USBDEVFS_SETINTERFACE,
  USBDEVFS_SUBMITURB,
  USBDEVFS_URB_BULK_CONTINUATION,
  USBDEVFS_URB_SHORT_NOT_OK,
  USBDEVFS_URB_TYPE_BULK,
  USBDEVFS_URB_TYPE_CONTROL,
  USBDEVFS_URB_TYPE_INTERRUPT,
  USBDEVFS_URB_TYPE_ISO,
  USBDEVFS_URB_ZERO_PACKET,
  usbdevfsBulkTransferStruct,
  usbdevfsCtrlTransferStruct,
  usbdevfsSetInterfaceStruct,
  usbdevfsUrbStruct,
  type UsbCtrlRequest,
  type UsbDescriptor,
} from '../src/abi/index.js';
import { errnoOf, isSystemError } from '../src/errors.js';
import { kerr } from '../src/kernel/sim/errno.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import type { Urb, UsbPortDevice, UsbSpeed } from '../src/kernel/sim/usb/link.js';
import { installUsbHost, type UsbHost, type UsbUevent } from '../src/kernel/sim/usb/host/index.js';
import { prng } from './support/prng.js';

const errno = (code: string) => -errnoOf(code);

// ---- the device model ----------------------------------------------------------------------

const MPS = 512;

/** iiod's FunctionFS interface (usb.md §A1, one pipe) plus an interrupt endpoint, and an altsetting 1 with endpoint 0x83. */
function modelConfig(): UsbDescriptor[] {
  return [
    { type: 'config', wTotalLength: 0, bNumInterfaces: 1, bConfigurationValue: 1, iConfiguration: 5, bmAttributes: 0x80, bMaxPower: 1 },
    { type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 3, bInterfaceClass: 0x02, bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 4 },
    { type: 'endpoint', bEndpointAddress: 0x81, bmAttributes: 2, wMaxPacketSize: MPS, bInterval: 0 },
    { type: 'endpoint', bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: MPS, bInterval: 0 },
    { type: 'endpoint', bEndpointAddress: 0x82, bmAttributes: 3, wMaxPacketSize: 64, bInterval: 4 },
    { type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 1, bNumEndpoints: 1, bInterfaceClass: 0xff, bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 0 },
    { type: 'endpoint', bEndpointAddress: 0x83, bmAttributes: 2, wMaxPacketSize: MPS, bInterval: 0 },
  ];
}

function configBytes(): Uint8Array {
  const bytes = encodeDescriptors(modelConfig());
  bytes[2] = bytes.length & 0xff;
  bytes[3] = bytes.length >> 8;
  return bytes;
}

const DEVICE_DESCRIPTOR = encodeDescriptors([{
  type: 'device', bcdUSB: 0x0200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bMaxPacketSize0: 64,
  idVendor: 0x0456, idProduct: 0xb673, bcdDevice: 0x0100, iManufacturer: 1, iProduct: 2, iSerialNumber: 3, bNumConfigurations: 1,
}]);
const STRINGS = ['Analog Devices Inc.', 'PlutoSDR (ADALM-PLUTO)', '104473dc599300131100', 'IIO', 'iio config'];

interface Request {
  length: number;
  received: Uint8Array[];
  done: (bytes: Uint8Array) => void;
}

/**
 * A gadget behind a UDC, at packet level: ep0 answers the standard requests in the "kernel"
 * (after the current call, through the sim's scheduler, as the dummy UDC does); vendor requests
 * wait for the test (`answerVendor`). IN data the test queues goes out in wMaxPacketSize packets
 * (a short last packet ends the transfer; `zlp` adds a zero-length one after an exact multiple);
 * OUT data the host sends fills the read the test queued, which ends at a short packet or full.
 */
class ModelDevice implements UsbPortDevice {
  readonly setups: UsbCtrlRequest[] = [];
  resets = 0;
  vendor: Array<{ urb: Urb }> = [];
  readonly #queued = new Map<number, Urb[]>();
  readonly #inPackets = new Map<number, Uint8Array[]>();
  readonly #reads = new Map<number, Request[]>();
  readonly #outPackets = new Map<number, Uint8Array[]>();
  #gone = false;

  constructor(
    readonly speed: UsbSpeed,
    private readonly kernel: SimKernel,
  ) {}

  reset(): void {
    this.resets++;
  }

  submit(urb: Urb): void {
    if (this.#gone) throw kerr('ENODEV');
    if (urb.type === 'control') return this.#control(urb);
    const queue = this.#queued.get(urb.endpoint) ?? [];
    this.#queued.set(urb.endpoint, queue);
    queue.push(urb);
    this.#soon(() => this.#run(urb.endpoint));
  }

  unlink(urb: Urb, status: number): boolean {
    const queue = this.#queued.get(urb.endpoint) ?? [];
    const i = queue.indexOf(urb);
    if (i >= 0) queue.splice(i, 1);
    const v = this.vendor.findIndex((p) => p.urb === urb);
    if (v >= 0) this.vendor.splice(v, 1);
    if (i < 0 && v < 0) return false;
    urb.complete(status);
    return true;
  }

  /** The UDC unbinds: nothing more is accepted. */
  unplug(): void {
    this.#gone = true;
  }

  /** Queues IN data on `endpoint` as one transfer. */
  write(endpoint: number, bytes: Uint8Array, zlp = false): void {
    const packets = this.#inPackets.get(endpoint) ?? [];
    this.#inPackets.set(endpoint, packets);
    for (let at = 0; at < bytes.length; at += MPS) packets.push(bytes.subarray(at, at + MPS));
    if (bytes.length === 0 || (zlp && bytes.length % MPS === 0)) packets.push(new Uint8Array(0));
    this.#soon(() => this.#run(endpoint));
  }

  /** A read of up to `length` bytes on OUT `endpoint`: resolves at a short packet or when full. */
  read(endpoint: number, length: number): Promise<Uint8Array> {
    return new Promise((done) => {
      const reads = this.#reads.get(endpoint) ?? [];
      this.#reads.set(endpoint, reads);
      reads.push({ length, received: [], done });
      this.#soon(() => this.#run(endpoint));
    });
  }

  /** Completes the oldest vendor request: IN gets `data`; OUT is acknowledged. */
  answerVendor(data = new Uint8Array(0)): void {
    const { urb } = this.vendor.shift()!;
    urb.buffer.set(data.subarray(0, urb.buffer.length));
    urb.actual = Math.min(data.length, urb.buffer.length);
    this.#soon(() => urb.complete(0));
  }

  #soon(run: () => void): void {
    this.kernel.context.scheduler.soon(run);
  }

  #control(urb: Urb): void {
    const setup = urb.setup!;
    this.setups.push(setup);
    if ((setup.bRequestType & 0x60) === 0x40) {
      this.vendor.push({ urb });
      return;
    }
    const answer = this.#standard(setup);
    this.#soon(() => {
      if (answer === undefined) return urb.complete(errno('EPIPE'));
      const n = Math.min(answer.length, urb.buffer.length);
      urb.buffer.set(answer.subarray(0, n));
      urb.actual = n;
      urb.complete(0);
    });
  }

  #standard(setup: UsbCtrlRequest): Uint8Array | undefined {
    const none = new Uint8Array(0);
    switch (setup.bRequest) {
      case 6: {
        const [type, index] = [setup.wValue >> 8, setup.wValue & 0xff];
        if (type === 1) return DEVICE_DESCRIPTOR;
        if (type === 2 && index === 0) return configBytes();
        if (type === 3) return index === 0 ? encodeLangIds([0x0409]) : index <= STRINGS.length ? encodeStringDescriptor(STRINGS[index - 1]!) : undefined;
        return undefined;
      }
      case 5: case 9: case 11: case 1: // SET_ADDRESS, SET_CONFIGURATION, SET_INTERFACE, CLEAR_FEATURE
        return none;
      case 0:
        return Uint8Array.of(0, 0);
      default:
        return undefined;
    }
  }

  /** Moves packets between the host's URBs and the device's data on `endpoint`. */
  #run(endpoint: number): void {
    const queue = this.#queued.get(endpoint) ?? [];
    if (endpoint & 0x80) {
      const packets = this.#inPackets.get(endpoint) ?? [];
      while (queue.length > 0 && packets.length > 0) {
        const urb = queue[0]!;
        const packet = packets.shift()!;
        const room = urb.buffer.length - urb.actual;
        if (packet.length > room) {
          urb.buffer.set(packet.subarray(0, room), urb.actual);
          urb.actual += room;
          queue.shift();
          urb.complete(errno('EOVERFLOW'));
          continue;
        }
        urb.buffer.set(packet, urb.actual);
        urb.actual += packet.length;
        const short = packet.length < MPS;
        if (short || urb.actual === urb.buffer.length) {
          queue.shift();
          urb.complete(short && urb.shortNotOk && urb.actual < urb.buffer.length ? errno('EREMOTEIO') : 0);
        }
      }
      return;
    }
    // OUT: the host's data is taken while the device has a read queued, packet by packet
    const reads = this.#reads.get(endpoint) ?? [];
    const spill = this.#outPackets.get(endpoint) ?? [];
    this.#outPackets.set(endpoint, spill);
    while (queue.length > 0 && reads.length > 0) {
      const urb = queue.shift()!;
      for (let at = 0; at < urb.buffer.length; at += MPS) spill.push(urb.buffer.slice(at, at + MPS));
      if (urb.buffer.length === 0 || (urb.zeroPacket && urb.buffer.length % MPS === 0)) spill.push(new Uint8Array(0));
      urb.actual = urb.buffer.length;
      urb.complete(0);
      this.#drain(reads, spill);
    }
    this.#drain(reads, spill);
  }

  #drain(reads: Request[], spill: Uint8Array[]): void {
    while (reads.length > 0 && spill.length > 0) {
      const read = reads[0]!;
      const packet = spill.shift()!;
      read.received.push(packet);
      const total = read.received.reduce((n, p) => n + p.length, 0);
      if (packet.length < MPS || total >= read.length) {
        reads.shift();
        read.done(Buffer.concat(read.received));
      }
    }
  }
}

// ---- harness -------------------------------------------------------------------------------

interface Rig {
  kernel: SimKernel;
  host: UsbHost;
  device: ModelDevice;
  events: UsbUevent[];
}

/**
 * The next uevent `match` accepts. The sim's hardware runs on unref'd timers (it never keeps a
 * process alive by itself), so the wait holds the event loop open, as a pending poll would.
 */
function until(host: UsbHost, match: (e: UsbUevent) => boolean, what = 'the uevent'): Promise<UsbUevent> {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      off();
      reject(new Error(`no ${what} within 10 s; log:\n${host.log.join('\n')}`));
    }, 10_000);
    const off = host.onUevent((e) => {
      if (!match(e)) return;
      off();
      clearTimeout(timeout);
      resolve(e);
    });
  });
}

/** Waits for a kernel log line containing `text`, the loop held open the same way. */
function logged(host: UsbHost, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = setInterval(() => {
      if (host.log.some((l) => l.includes(text))) resolve();
      else if (Date.now() - started > 10_000) reject(new Error(`no "${text}" in the log within 10 s:\n${host.log.join('\n')}`));
      else return;
      clearInterval(check);
    }, 2);
  });
}

const interfaceAdded = (e: UsbUevent) => e.action === 'add' && e.devtype === 'usb_interface' && e.devpath.endsWith(':1.0') && !e.devpath.includes('-0:');

/** A kernel with a host controller; `connect` plugs a model device in and waits for its interface. */
async function rig(speed: UsbSpeed = 'high', connect = true): Promise<Rig> {
  const kernel = new SimKernel({ timeMode: 'fast' });
  const host = installUsbHost(kernel.context, { speed });
  const device = new ModelDevice(speed, kernel);
  const events: UsbUevent[] = [];
  host.onUevent((e) => events.push(e));
  if (connect) {
    const configured = until(host, interfaceAdded);
    host.rootPort.connect(device);
    await configured;
  }
  return { kernel, host, device, events };
}

const read = (k: SimKernel, path: string) => k.readText(path);

async function attrs(k: SimKernel, dir: string, names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) out[name] = await read(k, `${dir}/${name}`);
  return out;
}

interface Submitted {
  urb: Uint8Array;
  data: Uint8Array;
}

function submit(k: SimKernel, fd: number, options: { type?: number; endpoint: number; data: Uint8Array; flags?: number; usercontext?: number; length?: number }): Submitted {
  const urb = usbdevfsUrbStruct.encode({
    type: options.type ?? USBDEVFS_URB_TYPE_BULK,
    endpoint: options.endpoint,
    flags: options.flags ?? 0,
    bufferLength: options.length ?? options.data.length,
    usercontext: options.usercontext ?? 0,
  });
  k.ioctl(fd, USBDEVFS_SUBMITURB, urb, [[16, options.data]]);
  return { urb, data: options.data };
}

function reap(k: SimKernel, fd: number): { usercontext: number; status: number; actual: number } {
  const arg = new Uint8Array(8);
  k.ioctl(fd, USBDEVFS_REAPURBNDELAY, arg);
  return { usercontext: Number(new DataView(arg.buffer).getBigUint64(0, true)), status: 0, actual: 0 };
}

/** Waits (poll POLLOUT) for a completed URB and reaps it; the caller's urb bytes hold the results. */
async function reapNext(k: SimKernel, fd: number, urbs: Submitted[]): Promise<{ submitted: Submitted; status: number; actual: number }> {
  const revents = await k.poll(fd, POLLOUT);
  assert.ok(revents & POLLOUT, `poll gave 0x${revents.toString(16)}`);
  const { usercontext } = reap(k, fd);
  const submitted = urbs[usercontext]!;
  const u = usbdevfsUrbStruct.decode(submitted.urb);
  return { submitted, status: u.status, actual: u.actualLength };
}

function expectErrno(fn: () => unknown, code: string, message?: string): void {
  assert.throws(fn, (e: unknown) => isSystemError(e, code), message ?? `expected ${code}`);
}

const u32Arg = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
const DEV_DIR = '/sys/bus/usb/devices/1-1';
const INTF_DIR = '/sys/bus/usb/devices/1-1:1.0';
const NODE = '/dev/bus/usb/001/002';

function pattern(length: number, seed: number): Uint8Array {
  const random = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

// ---- the root hub --------------------------------------------------------------------------

describe('root hub (hcd.c register_root_hub, rh_call_control; usb.md §A5)', () => {
  test('usb1 is a high-speed Linux Foundation 2.0 root hub with devnum 1, as dummy_hcd registers it', async () => {
    const { kernel } = await rig('high', false);
    const dir = '/sys/bus/usb/devices/usb1';
    assert.equal(await kernel.readlink(dir), '../../../devices/platform/dummy_hcd.0/usb1');
    assert.deepEqual(await attrs(kernel, dir, [
      'idVendor', 'idProduct', 'bcdDevice', 'bDeviceClass', 'bDeviceSubClass', 'bDeviceProtocol', 'bMaxPacketSize0',
      'bNumConfigurations', 'speed', 'version', 'busnum', 'devnum', 'devpath', 'maxchild', 'bConfigurationValue',
      'bNumInterfaces', 'bmAttributes', 'bMaxPower', 'product', 'manufacturer', 'serial', 'configuration', 'dev', 'authorized_default',
    ]), {
      idVendor: '1d6b\n', idProduct: '0002\n', bcdDevice: '0612\n', bDeviceClass: '09\n', bDeviceSubClass: '00\n',
      bDeviceProtocol: '01\n', bMaxPacketSize0: '64\n', bNumConfigurations: '1\n', speed: '480\n', version: ' 2.00\n',
      busnum: '1\n', devnum: '1\n', devpath: '0\n', maxchild: '1\n', bConfigurationValue: '1\n', bNumInterfaces: ' 1\n',
      bmAttributes: 'e0\n', bMaxPower: '0mA\n', product: 'Dummy host controller\n', manufacturer: 'Linux 6.12.118 dummy_hcd\n',
      serial: 'dummy_hcd.0\n', configuration: '', dev: '189:0\n', authorized_default: '1\n',
    });
    const intf = '/sys/bus/usb/devices/1-0:1.0';
    assert.deepEqual(await attrs(kernel, intf, ['bInterfaceClass', 'bNumEndpoints', 'bAlternateSetting']), {
      bInterfaceClass: '09\n', bNumEndpoints: '01\n', bAlternateSetting: ' 0\n',
    });
    assert.deepEqual(await attrs(kernel, `${intf}/ep_81`, ['type', 'bmAttributes', 'wMaxPacketSize', 'bInterval', 'interval', 'direction']), {
      type: 'Interrupt\n', bmAttributes: '03\n', wMaxPacketSize: '0004\n', bInterval: '0c\n', interval: '256ms\n', direction: 'in\n',
    });
    assert.equal(await kernel.readlink(`${intf}/driver`), '../../../../../bus/usb/drivers/hub');
    const node = await kernel.stat('/dev/bus/usb/001/001');
    assert.equal(node.kind, 'other');
    assert.equal(node.mode, 0o664);
  });

  test('a SuperSpeed controller registers a 3.0 root hub (1d6b:0003, 5000, ep0 2^9)', async () => {
    const { kernel } = await rig('super', false);
    assert.deepEqual(await attrs(kernel, '/sys/bus/usb/devices/usb1', ['idProduct', 'speed', 'version', 'bMaxPacketSize0', 'bDeviceProtocol']), {
      idProduct: '0003\n', speed: '5000\n', version: ' 3.00\n', bMaxPacketSize0: '9\n', bDeviceProtocol: '03\n',
    });
  });

  test('the root hub answers usbfs: descriptors by read() and GET_DESCRIPTOR, its interface is the hub driver\'s (EBUSY)', async (t) => {
    const { kernel } = await rig('high', false);
    const fd = await kernel.open('/dev/bus/usb/001/001', O_RDWR);
    t.after(() => kernel.close(fd));
    const all = new Uint8Array(64);
    assert.equal(await kernel.read(fd, all), 18 + 25);
    assert.deepEqual([...all.subarray(0, 4)], [18, 1, 0x00, 0x02]);
    assert.deepEqual([...all.subarray(18, 22)], [9, 2, 25, 0]);
    const data = new Uint8Array(18);
    const ctrl = usbdevfsCtrlTransferStruct.encode({ bRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18, timeout: 1000 });
    assert.equal(kernel.ioctl(fd, USBDEVFS_CONTROL, ctrl, [[16, data]]), 18);
    assert.deepEqual(data, all.subarray(0, 18));
    expectErrno(() => kernel.ioctl(fd, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 'EBUSY');
  });
});

// ---- enumeration and sysfs -----------------------------------------------------------------

describe('enumeration (hub.c hub_port_init, usb_enumerate_device, generic.c; usb.md §A2)', () => {
  test('the hub asks in the kernel\'s order: 64-byte descriptor, SET_ADDRESS 2, 18 bytes, config 9 then all, strings, SET_CONFIGURATION', async () => {
    const { device, host } = await rig();
    const asked = device.setups.map((s) => `${s.bRequestType.toString(16)} ${s.bRequest} ${s.wValue.toString(16)} ${s.wIndex.toString(16)} ${s.wLength}`);
    const total = configBytes().length;
    assert.deepEqual(asked, [
      '80 6 100 0 64', '0 5 2 0 0', '80 6 100 0 18', '80 6 200 0 9', `80 6 200 0 ${total}`,
      '80 6 300 0 255', '80 6 302 409 255', '80 6 301 409 255', '80 6 303 409 255', '80 6 305 409 255', '80 6 304 409 255',
      '0 9 1 0 0',
    ]);
    assert.equal(device.resets, 2, 'a reset before and one after the first descriptor read (the new scheme)');
    assert.equal(host.deviceName, '1-1');
    assert.equal(host.devicePath, NODE);
    assert.equal(host.configured, true);
    assert.ok(host.log.includes('usb 1-1: new high-speed USB device number 2 using dummy_hcd'), host.log.join('\n'));
  });

  test('1-1 shows the descriptor fields, the active configuration and the strings as sysfs.c prints them', async () => {
    const { kernel, device } = await rig();
    assert.equal(await kernel.readlink(DEV_DIR), '../../../devices/platform/dummy_hcd.0/usb1/1-1');
    assert.deepEqual(await attrs(kernel, DEV_DIR, [
      'idVendor', 'idProduct', 'bcdDevice', 'bDeviceClass', 'bDeviceSubClass', 'bDeviceProtocol', 'bNumConfigurations',
      'bMaxPacketSize0', 'bConfigurationValue', 'bNumInterfaces', 'bmAttributes', 'bMaxPower', 'configuration', 'busnum',
      'devnum', 'devpath', 'speed', 'version', 'maxchild', 'authorized', 'manufacturer', 'product', 'serial', 'dev', 'urbnum',
      'quirks', 'rx_lanes', 'tx_lanes', 'ltm_capable',
    ]), {
      idVendor: '0456\n', idProduct: 'b673\n', bcdDevice: '0100\n', bDeviceClass: '00\n', bDeviceSubClass: '00\n',
      bDeviceProtocol: '00\n', bNumConfigurations: '1\n', bMaxPacketSize0: '64\n', bConfigurationValue: '1\n',
      bNumInterfaces: ' 1\n', bmAttributes: '80\n', bMaxPower: '2mA\n', configuration: 'iio config\n', busnum: '1\n',
      devnum: '2\n', devpath: '1\n', speed: '480\n', version: ' 2.00\n', maxchild: '0\n', authorized: '1\n',
      manufacturer: `${STRINGS[0]}\n`, product: `${STRINGS[1]}\n`, serial: `${STRINGS[2]}\n`, dev: '189:1\n',
      urbnum: `${device.setups.length}\n`, quirks: '0x0\n', rx_lanes: '1\n', tx_lanes: '1\n', ltm_capable: 'no\n',
    });
    assert.equal(await read(kernel, `${DEV_DIR}/uevent`),
      'MAJOR=189\nMINOR=1\nDEVNAME=bus/usb/001/002\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=456/b673/100\nTYPE=0/0/0\nBUSNUM=001\nDEVNUM=002\n');
    assert.deepEqual(await attrs(kernel, `${DEV_DIR}/ep_00`, ['type', 'direction', 'wMaxPacketSize', 'interval']), {
      type: 'Control\n', direction: 'both\n', wMaxPacketSize: '0040\n', interval: '0ms\n',
    });
    const node = await kernel.stat(NODE);
    assert.equal(node.kind, 'other');
    assert.equal(node.mode, 0o664);
  });

  test('1-1:1.0 shows the interface (class 02, "IIO") and its endpoints ep_81, ep_01, ep_82', async () => {
    const { kernel } = await rig();
    assert.equal(await kernel.readlink(INTF_DIR), '../../../devices/platform/dummy_hcd.0/usb1/1-1/1-1:1.0');
    assert.deepEqual(await attrs(kernel, INTF_DIR, [
      'bInterfaceNumber', 'bAlternateSetting', 'bNumEndpoints', 'bInterfaceClass', 'bInterfaceSubClass', 'bInterfaceProtocol',
      'interface', 'modalias', 'authorized', 'supports_autosuspend',
    ]), {
      bInterfaceNumber: '00\n', bAlternateSetting: ' 0\n', bNumEndpoints: '03\n', bInterfaceClass: '02\n', bInterfaceSubClass: '00\n',
      bInterfaceProtocol: '00\n', interface: 'IIO\n', modalias: 'usb:v0456pB673d0100dc00dsc00dp00ic02isc00ip00in00\n',
      authorized: '1\n', supports_autosuspend: '1\n',
    });
    const names = ['bLength', 'bEndpointAddress', 'bmAttributes', 'bInterval', 'wMaxPacketSize', 'interval', 'type', 'direction'];
    assert.deepEqual(await attrs(kernel, `${INTF_DIR}/ep_81`, names), {
      bLength: '07\n', bEndpointAddress: '81\n', bmAttributes: '02\n', bInterval: '00\n', wMaxPacketSize: '0200\n',
      interval: '0ms\n', type: 'Bulk\n', direction: 'in\n',
    });
    assert.equal(await read(kernel, `${INTF_DIR}/ep_01/direction`), 'out\n');
    assert.deepEqual(await attrs(kernel, `${INTF_DIR}/ep_82`, ['type', 'interval', 'wMaxPacketSize']), {
      type: 'Interrupt\n', interval: '1ms\n', wMaxPacketSize: '0040\n',
    });
    assert.equal((await kernel.readdir(INTF_DIR)).some((e) => e.name === 'ep_83'), false, 'altsetting 1 is not current');
    await assert.rejects(kernel.readlink(`${INTF_DIR}/driver`), (e: unknown) => isSystemError(e, 'ENOENT'), 'no driver binds class 02/00');
  });

  test('uevents: the device, then its interface; `descriptors` is the device descriptor and the raw configuration', async () => {
    const { kernel, events } = await rig();
    assert.deepEqual(events.map((e) => `${e.action} ${e.devtype} ${e.devpath}`), [
      'add usb_device /devices/platform/dummy_hcd.0/usb1/1-1',
      'add usb_interface /devices/platform/dummy_hcd.0/usb1/1-1/1-1:1.0',
    ]);
    assert.equal(events[0]!.devname, 'bus/usb/001/002');
    const fd = await kernel.open(`${DEV_DIR}/descriptors`, O_RDONLY);
    const bytes = new Uint8Array(1024);
    const n = await kernel.read(fd, bytes);
    kernel.close(fd);
    assert.deepEqual(bytes.subarray(0, n), new Uint8Array(Buffer.concat([DEVICE_DESCRIPTOR, configBytes()])));
  });

  test('a device that stalls its configuration descriptor is not registered; its devnum is not reused next', async () => {
    const { kernel, host, device } = await rig('high', false);
    const broken = Object.assign(Object.create(device) as ModelDevice, {
      submit(urb: Urb) {
        if (urb.setup?.bRequest === 6 && urb.setup.wValue >> 8 === 2) {
          kernel.context.scheduler.soon(() => urb.complete(errno('EPIPE')));
          return;
        }
        device.submit(urb);
      },
    });
    const failed = logged(host, 'unable to enumerate');
    host.rootPort.connect(broken);
    await failed;
    assert.ok(host.log.includes('usb 1-1: can\'t read configurations, error -32'), host.log.join('\n'));
    assert.equal(kernel.context.vfs.exists(DEV_DIR), false);
    host.rootPort.disconnect();
    const again = until(host, interfaceAdded);
    host.rootPort.connect(device);
    await again;
    assert.equal(await read(kernel, `${DEV_DIR}/devnum`), '3\n', 'choose_devnum moves on past the failed attempt');
  });
});
