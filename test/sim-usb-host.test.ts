// The simulated dummy_hcd's host half (src/kernel/sim/usb/host): the root hub, enumeration of a
// device on the root port, its sysfs (formats as drivers/usb/core/sysfs.c and endpoint.c print
// them) and usbfs (devio.c; usb.md §A2: numbers, pollable fd, SG split, usbfs_memory_mb). The
// device on the other end is a small model in this file (a gadget with the descriptors of
// iiod's FunctionFS blob, usb.md §A1, and a packet-level endpoint engine), driven through the
// link of src/kernel/sim/usb/link.ts as the sim's dummy UDC drives it. Each test installs a
// controller of its own, dummy_hcd.1 (bus 2, as dummy_hcd's num=2 adds), beside whatever the
// kernel has on bus 1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeCtrlRequest,
  encodeCtrlRequest,
  encodeDescriptors,
  encodeLangIds,
  encodeStringDescriptor,
  MAP_SHARED,
  O_RDONLY,
  O_RDWR,
  POLLERR,
  POLLHUP,
  POLLOUT,
  PROT_READ,
  PROT_WRITE,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  USBDEVFS_BULK,
  USBDEVFS_CLAIMINTERFACE,
  USBDEVFS_CLEAR_HALT,
  USBDEVFS_CONTROL,
  USBDEVFS_DISCARDURB,
  USBDEVFS_GET_CAPABILITIES,
  USBDEVFS_GET_SPEED,
  USBDEVFS_REAPURB,
  USBDEVFS_REAPURBNDELAY,
  USBDEVFS_RESET,
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
import { nowMs } from '../src/kernel/sim/clock.js';
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
    private readonly descriptor = DEVICE_DESCRIPTOR,
    /** A BOS descriptor set to answer with; without one GET_DESCRIPTOR(BOS) stalls. */
    private readonly bos?: Uint8Array,
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
    assert.equal(urb.endpoint, 0, 'control URBs come on the default pipe, the direction in their SETUP (link.ts)');
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
        if (type === 1) return this.descriptor;
        if (type === 0x0f) return this.bos;
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
  const host = installUsbHost(kernel.context, { speed, busnum: 2, busName: 'dummy_hcd.1' });
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
const DEV_DIR = '/sys/bus/usb/devices/2-1';
const INTF_DIR = '/sys/bus/usb/devices/2-1:1.0';
const NODE = '/dev/bus/usb/002/002';

function pattern(length: number, seed: number): Uint8Array {
  const random = prng(seed);
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}

// ---- the root hub --------------------------------------------------------------------------

describe('root hub (hcd.c register_root_hub, rh_call_control; usb.md §A5)', () => {
  test('usb2 is a high-speed Linux Foundation 2.0 root hub with devnum 1, as dummy_hcd registers it', async () => {
    const { kernel } = await rig('high', false);
    const dir = '/sys/bus/usb/devices/usb2';
    assert.equal(await kernel.readlink(dir), '../../../devices/platform/dummy_hcd.1/usb2');
    assert.deepEqual(await attrs(kernel, dir, [
      'idVendor', 'idProduct', 'bcdDevice', 'bDeviceClass', 'bDeviceSubClass', 'bDeviceProtocol', 'bMaxPacketSize0',
      'bNumConfigurations', 'speed', 'version', 'busnum', 'devnum', 'devpath', 'maxchild', 'bConfigurationValue',
      'bNumInterfaces', 'bmAttributes', 'bMaxPower', 'product', 'manufacturer', 'serial', 'configuration', 'dev', 'authorized_default',
    ]), {
      idVendor: '1d6b\n', idProduct: '0002\n', bcdDevice: '0612\n', bDeviceClass: '09\n', bDeviceSubClass: '00\n',
      bDeviceProtocol: '01\n', bMaxPacketSize0: '64\n', bNumConfigurations: '1\n', speed: '480\n', version: ' 2.00\n',
      busnum: '2\n', devnum: '1\n', devpath: '0\n', maxchild: '1\n', bConfigurationValue: '1\n', bNumInterfaces: ' 1\n',
      bmAttributes: 'e0\n', bMaxPower: '0mA\n', product: 'Dummy host controller\n', manufacturer: 'Linux 6.12.118 dummy_hcd\n',
      serial: 'dummy_hcd.1\n', configuration: '', dev: '189:128\n', authorized_default: '1\n',
    });
    const intf = '/sys/bus/usb/devices/2-0:1.0';
    assert.deepEqual(await attrs(kernel, intf, ['bInterfaceClass', 'bNumEndpoints', 'bAlternateSetting']), {
      bInterfaceClass: '09\n', bNumEndpoints: '01\n', bAlternateSetting: ' 0\n',
    });
    assert.deepEqual(await attrs(kernel, `${intf}/ep_81`, ['type', 'bmAttributes', 'wMaxPacketSize', 'bInterval', 'interval', 'direction']), {
      type: 'Interrupt\n', bmAttributes: '03\n', wMaxPacketSize: '0004\n', bInterval: '0c\n', interval: '256ms\n', direction: 'in\n',
    });
    assert.equal(await kernel.readlink(`${intf}/driver`), '../../../../../bus/usb/drivers/hub');
    const node = await kernel.stat('/dev/bus/usb/002/001');
    assert.equal(node.kind, 'other');
    assert.equal(node.mode, 0o664);
  });

  test('a SuperSpeed controller registers a 3.0 root hub (1d6b:0003, 5000, ep0 2^9)', async () => {
    const { kernel } = await rig('super', false);
    assert.deepEqual(await attrs(kernel, '/sys/bus/usb/devices/usb2', ['idProduct', 'speed', 'version', 'bMaxPacketSize0', 'bDeviceProtocol']), {
      idProduct: '0003\n', speed: '5000\n', version: ' 3.00\n', bMaxPacketSize0: '9\n', bDeviceProtocol: '03\n',
    });
  });

  test('the root hub answers usbfs: descriptors by read() and GET_DESCRIPTOR, its interface is the hub driver\'s (EBUSY)', async (t) => {
    const { kernel } = await rig('high', false);
    const fd = await kernel.open('/dev/bus/usb/002/001', O_RDWR);
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
    assert.equal(host.deviceName, '2-1');
    assert.equal(host.devicePath, NODE);
    assert.equal(host.configured, true);
    assert.ok(host.log.includes('usb 2-1: new high-speed USB device number 2 using dummy_hcd'), host.log.join('\n'));
  });

  test('2-1 shows the descriptor fields, the active configuration and the strings as sysfs.c prints them', async () => {
    const { kernel, device } = await rig();
    assert.equal(await kernel.readlink(DEV_DIR), '../../../devices/platform/dummy_hcd.1/usb2/2-1');
    assert.deepEqual(await attrs(kernel, DEV_DIR, [
      'idVendor', 'idProduct', 'bcdDevice', 'bDeviceClass', 'bDeviceSubClass', 'bDeviceProtocol', 'bNumConfigurations',
      'bMaxPacketSize0', 'bConfigurationValue', 'bNumInterfaces', 'bmAttributes', 'bMaxPower', 'configuration', 'busnum',
      'devnum', 'devpath', 'speed', 'version', 'maxchild', 'authorized', 'manufacturer', 'product', 'serial', 'dev', 'urbnum',
      'quirks', 'rx_lanes', 'tx_lanes', 'ltm_capable',
    ]), {
      idVendor: '0456\n', idProduct: 'b673\n', bcdDevice: '0100\n', bDeviceClass: '00\n', bDeviceSubClass: '00\n',
      bDeviceProtocol: '00\n', bNumConfigurations: '1\n', bMaxPacketSize0: '64\n', bConfigurationValue: '1\n',
      bNumInterfaces: ' 1\n', bmAttributes: '80\n', bMaxPower: '2mA\n', configuration: 'iio config\n', busnum: '2\n',
      devnum: '2\n', devpath: '1\n', speed: '480\n', version: ' 2.00\n', maxchild: '0\n', authorized: '1\n',
      manufacturer: `${STRINGS[0]}\n`, product: `${STRINGS[1]}\n`, serial: `${STRINGS[2]}\n`, dev: '189:129\n',
      urbnum: `${device.setups.length}\n`, quirks: '0x0\n', rx_lanes: '1\n', tx_lanes: '1\n', ltm_capable: 'no\n',
    });
    assert.equal(await read(kernel, `${DEV_DIR}/uevent`),
      'MAJOR=189\nMINOR=129\nDEVNAME=bus/usb/002/002\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=456/b673/100\nTYPE=0/0/0\nBUSNUM=002\nDEVNUM=002\n');
    assert.deepEqual(await attrs(kernel, `${DEV_DIR}/ep_00`, ['type', 'direction', 'wMaxPacketSize', 'interval']), {
      type: 'Control\n', direction: 'both\n', wMaxPacketSize: '0040\n', interval: '0ms\n',
    });
    const node = await kernel.stat(NODE);
    assert.equal(node.kind, 'other');
    assert.equal(node.mode, 0o664);
  });

  test('2-1:1.0 shows the interface (class 02, "IIO") and its endpoints ep_81, ep_01, ep_82', async () => {
    const { kernel } = await rig();
    assert.equal(await kernel.readlink(INTF_DIR), '../../../devices/platform/dummy_hcd.1/usb2/2-1/2-1:1.0');
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
      'add usb_device /devices/platform/dummy_hcd.1/usb2/2-1',
      'add usb_interface /devices/platform/dummy_hcd.1/usb2/2-1/2-1:1.0',
    ]);
    assert.equal(events[0]!.devname, 'bus/usb/002/002');
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
    assert.ok(host.log.includes('usb 2-1: can\'t read configurations, error -32'), host.log.join('\n'));
    assert.equal(kernel.context.vfs.exists(DEV_DIR), false);
    host.rootPort.disconnect();
    const again = until(host, interfaceAdded);
    host.rootPort.connect(device);
    await again;
    assert.equal(await read(kernel, `${DEV_DIR}/devnum`), '3\n', 'choose_devnum moves on past the failed attempt');
  });
});

// ---- usbfs ---------------------------------------------------------------------------------

async function openNode(t: { after: (fn: () => void) => void }, r: Rig, flags = O_RDWR): Promise<number> {
  const fd = await r.kernel.open(NODE, flags);
  t.after(() => {
    try {
      r.kernel.close(fd);
    } catch {
      // closed by the test
    }
  });
  return fd;
}

describe('usbfs read, lseek and ioctls (devio.c; usb.md §A2)', () => {
  test('read() gives the device descriptor then the configuration, in pieces; SEEK_SET/SEEK_CUR work, SEEK_END is EINVAL', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const whole = new Uint8Array(Buffer.concat([DEVICE_DESCRIPTOR, configBytes()]));
    const first = new Uint8Array(10);
    assert.equal(await r.kernel.read(fd, first), 10);
    const rest = new Uint8Array(200);
    const n = await r.kernel.read(fd, rest);
    assert.equal(n, whole.length - 10);
    assert.deepEqual(new Uint8Array(Buffer.concat([first, rest.subarray(0, n)])), whole);
    assert.equal(await r.kernel.read(fd, rest), 0, 'then end of file');
    assert.equal(r.kernel.lseek(fd, 16, SEEK_SET), 16);
    assert.equal(r.kernel.lseek(fd, 2, SEEK_CUR), 18);
    const config = new Uint8Array(9);
    assert.equal(await r.kernel.read(fd, config), 9);
    assert.deepEqual(config, whole.subarray(18, 27));
    expectErrno(() => r.kernel.lseek(fd, 0, SEEK_END), 'EINVAL');
    expectErrno(() => r.kernel.lseek(fd, -100, SEEK_CUR), 'EINVAL');
  });

  test('GET_CAPABILITIES reports what 6.12 does for dummy_hcd (bulk SG: sg_tablesize ~0), GET_SPEED high (3)', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const caps = new Uint8Array(4);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_GET_CAPABILITIES, caps), 0);
    assert.equal(new DataView(caps.buffer).getUint32(0, true), 0x1ff);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_GET_SPEED), 3);
  });

  test('ioctls need the file open for writing (EPERM); reads do not', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r, O_RDONLY);
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_GET_CAPABILITIES, new Uint8Array(4)), 'EPERM');
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_REAPURBNDELAY, new Uint8Array(8)), 'EPERM');
    assert.equal(await r.kernel.read(fd, new Uint8Array(18)), 18);
  });

  test('CONTROL: what the kernel answers (a standard request) completes; a vendor request nobody answers is ETIMEDOUT at once', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const data = new Uint8Array(255);
    const get = usbdevfsCtrlTransferStruct.encode({ bRequestType: 0x80, bRequest: 6, wValue: 0x0304, wIndex: 0x0409, wLength: 255, timeout: 1000 });
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_CONTROL, get, [[16, data]]), 8);
    assert.deepEqual(data.subarray(0, 8), encodeStringDescriptor('IIO'));
    const vendor = usbdevfsCtrlTransferStruct.encode({ bRequestType: 0x41, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0, timeout: 1000 });
    const started = Date.now();
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_CONTROL, vendor), 'ETIMEDOUT');
    assert.ok(Date.now() - started < 900, 'no event could answer it, so the sim does not sleep the timeout');
    assert.equal(r.device.vendor.length, 0, 'the timed-out request was unlinked from the device');
    const tooLong = usbdevfsCtrlTransferStruct.encode({ bRequestType: 0x80, bRequest: 6, wValue: 0x0100, wLength: 4097, timeout: 1000 });
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_CONTROL, tooLong, [[16, new Uint8Array(4097)]]), 'EINVAL');
  });

  test('BULK: IN data the device already queued completes; with nothing queued, ETIMEDOUT; OUT to a read the device queued', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    r.device.write(0x81, pattern(700, 1));
    const data = new Uint8Array(1024);
    const bulkIn = usbdevfsBulkTransferStruct.encode({ ep: 0x81, len: 1024, timeout: 1000 });
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_BULK, bulkIn, [[16, data]]), 700);
    assert.deepEqual(data.subarray(0, 700), pattern(700, 1));
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_BULK, bulkIn, [[16, data]]), 'ETIMEDOUT');
    const got = r.device.read(0x01, 4096);
    const out = pattern(100, 2);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_BULK, usbdevfsBulkTransferStruct.encode({ ep: 0x01, len: 100, timeout: 1000 }), [[16, out]]), 100);
    assert.deepEqual(new Uint8Array(await got), out);
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_BULK, usbdevfsBulkTransferStruct.encode({ ep: 0x05, len: 1 }), [[16, data]]), 'ENOENT');
  });
});

describe('usbfs URBs (devio.c proc_do_submiturb, reap, discard; usb.md §A2)', () => {
  for (const size of [1, 512, 16 * 1024 + 1, 1024 * 1024]) {
    test(`bulk OUT and IN of ${size} B: the bytes cross intact, usercontext comes back, POLLOUT when reapable`, async (t) => {
      const r = await rig();
      const fd = await openNode(t, r);
      const sent = pattern(size, size);
      const got = r.device.read(0x01, size + MPS); // room for more: the transfer ends at its short packet or ZLP
      const urbs: Submitted[] = [];
      urbs[7] = submit(r.kernel, fd, { endpoint: 0x01, data: sent.slice(), flags: USBDEVFS_URB_ZERO_PACKET, usercontext: 7 });
      const out = await reapNext(r.kernel, fd, urbs);
      assert.equal(out.submitted, urbs[7]);
      assert.deepEqual([out.status, out.actual], [0, size]);
      assert.deepEqual(new Uint8Array(await got), sent);

      const answer = pattern(size, size + 1);
      urbs[9] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(size), usercontext: 9 });
      expectErrno(() => reap(r.kernel, fd), 'EAGAIN', 'nothing completed yet');
      r.device.write(0x81, answer, true);
      const back = await reapNext(r.kernel, fd, urbs);
      assert.equal(back.submitted, urbs[9]);
      assert.deepEqual([back.status, back.actual], [0, size]);
      assert.deepEqual(urbs[9]!.data, answer, 'IN data is in the caller\'s buffer after the reap');
    });
  }

  test('a short packet ends an IN URB (status 0, or -EREMOTEIO with SHORT_NOT_OK); an exact multiple continues until a ZLP', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(1024), usercontext: 0 });
    r.device.write(0x81, pattern(100, 3));
    assert.deepEqual(await reapNext(r.kernel, fd, urbs).then((x) => [x.status, x.actual]), [0, 100]);
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(1024), flags: USBDEVFS_URB_SHORT_NOT_OK, usercontext: 1 });
    r.device.write(0x81, pattern(100, 4));
    assert.deepEqual(await reapNext(r.kernel, fd, urbs).then((x) => [x.status, x.actual]), [errno('EREMOTEIO'), 100]);
    urbs[2] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(2048), usercontext: 2 });
    r.device.write(0x81, pattern(512, 5));
    const none = await pollSoon(r.kernel, fd);
    assert.equal(none & POLLOUT, 0, 'a full packet does not end the transfer');
    r.device.write(0x81, new Uint8Array(0));
    const zlp = await reapNext(r.kernel, fd, urbs);
    assert.deepEqual([zlp.status, zlp.actual], [0, 512]);
    assert.deepEqual(urbs[2]!.data.subarray(0, 512), pattern(512, 5));
  });

  test('URB_ZERO_PACKET ends an OUT transfer of an exact multiple with a ZLP; without it the device keeps reading', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    let got = r.device.read(0x01, 4096);
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x01, data: pattern(1024, 6), flags: USBDEVFS_URB_ZERO_PACKET, usercontext: 0 });
    await reapNext(r.kernel, fd, urbs);
    assert.equal((await got).length, 1024);
    let done = false;
    got = r.device.read(0x01, 4096);
    void got.then(() => (done = true));
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x01, data: pattern(1024, 7), usercontext: 1 });
    await reapNext(r.kernel, fd, urbs);
    await pollSoon(r.kernel, fd);
    assert.equal(done, false, 'no ZLP: the device\'s read goes on');
    urbs[2] = submit(r.kernel, fd, { endpoint: 0x01, data: pattern(10, 8), usercontext: 2 });
    await reapNext(r.kernel, fd, urbs);
    assert.equal((await got).length, 1034, 'until a short packet ends it');
  });

  test('bulk to the interrupt endpoint becomes an interrupt URB; control URBs carry their setup packet first', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x82, data: new Uint8Array(64), usercontext: 0 });
    r.device.write(0x82, Uint8Array.of(1, 2, 3));
    assert.deepEqual(await reapNext(r.kernel, fd, urbs).then((x) => x.actual), 3);
    const control = new Uint8Array(8 + 18);
    encodeCtrlRequest({ bRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 }, control);
    urbs[1] = submit(r.kernel, fd, { type: USBDEVFS_URB_TYPE_CONTROL, endpoint: 0, data: control, usercontext: 1 });
    const c = await reapNext(r.kernel, fd, urbs);
    assert.deepEqual([c.status, c.actual], [0, 18]);
    assert.deepEqual(control.subarray(8), DEVICE_DESCRIPTOR);
    // a vendor request the gadget answers later (as a FunctionFS daemon would)
    const vendor = new Uint8Array(8 + 4);
    encodeCtrlRequest({ bRequestType: 0xc1, bRequest: 9, wValue: 0, wIndex: 0, wLength: 4 }, vendor);
    urbs[2] = submit(r.kernel, fd, { type: USBDEVFS_URB_TYPE_CONTROL, endpoint: 0, data: vendor, usercontext: 2 });
    assert.deepEqual(decodeCtrlRequest(vendor), r.device.setups.at(-1));
    r.device.answerVendor(Uint8Array.of(9, 8, 7, 6));
    assert.deepEqual(await reapNext(r.kernel, fd, urbs).then((x) => x.actual), 4);
    assert.deepEqual([...vendor.subarray(8)], [9, 8, 7, 6]);
  });

  test('SUBMITURB errnos: flags, lengths, unknown or inactive endpoints, wrong types', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const data = new Uint8Array(64);
    const bad = (options: Parameters<typeof submit>[2], code: string, why: string) => expectErrno(() => submit(r.kernel, fd, options), code, why);
    bad({ endpoint: 0x81, data, flags: 0x100 }, 'EINVAL', 'an unknown flag');
    bad({ endpoint: 0x81, data, flags: 0x02 }, 'EINVAL', 'ISO_ASAP on a bulk URB');
    bad({ endpoint: 0x81, data, length: -1 }, 'EINVAL', 'a negative buffer_length');
    bad({ endpoint: 0x85, data }, 'ENOENT', 'no such endpoint in the configuration (findintfep)');
    bad({ endpoint: 0x83, data }, 'ENOENT', 'an endpoint of altsetting 1 only (ep_to_host_endpoint)');
    bad({ endpoint: 0x15, data }, 'EINVAL', 'not an endpoint address');
    bad({ type: USBDEVFS_URB_TYPE_INTERRUPT, endpoint: 0x81, data }, 'EINVAL', 'an interrupt URB to a bulk endpoint');
    // isochronous: refused before the kernel, as the addon does (its frame descriptors follow the struct)
    assert.throws(() => submit(r.kernel, fd, { type: USBDEVFS_URB_TYPE_ISO, endpoint: 0x81, data }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /isochronous/ });
    bad({ type: USBDEVFS_URB_TYPE_CONTROL, endpoint: 0, data: new Uint8Array(4) }, 'EINVAL', 'a control URB shorter than its setup packet');
    const short = new Uint8Array(8 + 4);
    encodeCtrlRequest({ bRequestType: 0x80, bRequest: 6, wValue: 0x0100, wIndex: 0, wLength: 18 }, short);
    bad({ type: USBDEVFS_URB_TYPE_CONTROL, endpoint: 0, data: short }, 'EINVAL', 'a control URB shorter than 8 + wLength');
    bad({ type: 7, endpoint: 0x81, data }, 'EINVAL', 'no such URB type');
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_DISCARDURB, usbdevfsUrbStruct.encode({})), 'EINVAL', 'DISCARDURB of no pending URB');
    expectErrno(() => reap(r.kernel, fd), 'EAGAIN');
  });

  test('DISCARDURB kills a pending URB, which is reaped with -ENOENT and what it moved', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[3] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(4096), usercontext: 3 });
    r.device.write(0x81, pattern(1024, 9)); // two full packets: the URB goes on
    await pollSoon(r.kernel, fd);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_DISCARDURB, urbs[3]!.urb), 0);
    const killed = await reapNext(r.kernel, fd, urbs);
    assert.deepEqual([killed.status, killed.actual], [errno('ENOENT'), 1024]);
    assert.deepEqual(urbs[3]!.data.subarray(0, 1024), pattern(1024, 9));
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_DISCARDURB, urbs[3]!.urb), 'EINVAL', 'no longer pending');
  });

  test('usbfs_memory_mb bounds what URBs hold at once (ENOMEM, nothing taken); 0 lifts the limit', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const param = '/sys/module/usbcore/parameters/usbfs_memory_mb';
    assert.equal(await read(r.kernel, param), '16\n');
    const big = new Uint8Array(10 * 1024 * 1024);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: big, usercontext: 0 });
    expectErrno(() => submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(7 * 1024 * 1024) }), 'ENOMEM');
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(5 * 1024 * 1024), usercontext: 1 });
    r.kernel.ioctl(fd, USBDEVFS_DISCARDURB, urbs[0]!.urb);
    await reapNext(r.kernel, fd, urbs);
    urbs[2] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(7 * 1024 * 1024), usercontext: 2 });
    await r.kernel.writeText(param, '0\n');
    urbs[3] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(20 * 1024 * 1024), usercontext: 3 });
    await assert.rejects(r.kernel.writeText(param, '-1\n'), (e: unknown) => isSystemError(e, 'EINVAL'));
  });
});

/** poll's revents once the kernel has run everything it can do at once (nothing waits on a timer here). */
function pollSoon(k: SimKernel, fd: number): Promise<number> {
  const { scheduler } = k.context;
  while (scheduler.next <= nowMs()) scheduler.runDue();
  const abort = new AbortController();
  const result = k.poll(fd, POLLOUT, { signal: abort.signal }).catch(() => 0);
  abort.abort();
  return result;
}

describe('usbfs interface claims (devio.c claimintf, releaseintf, checkintf)', () => {
  test('a claim binds usbfs (driver link); another file gets EBUSY, also when it uses the interface unclaimed', async (t) => {
    const r = await rig();
    const a = await openNode(t, r);
    const b = await openNode(t, r);
    assert.equal(r.kernel.ioctl(a, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 0);
    assert.equal(r.kernel.ioctl(a, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 0, 'claiming twice is fine');
    assert.equal(await r.kernel.readlink(`${INTF_DIR}/driver`), '../../../../../../bus/usb/drivers/usbfs');
    assert.match(await read(r.kernel, `${INTF_DIR}/uevent`), /^DRIVER=usbfs$/m);
    expectErrno(() => r.kernel.ioctl(b, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 'EBUSY');
    expectErrno(() => submit(r.kernel, b, { endpoint: 0x81, data: new Uint8Array(8) }), 'EBUSY', 'checkintf claims for the file, and fails');
    expectErrno(() => r.kernel.ioctl(b, USBDEVFS_RELEASEINTERFACE, u32Arg(0)), 'EINVAL', 'not its claim');
    expectErrno(() => r.kernel.ioctl(a, USBDEVFS_CLAIMINTERFACE, u32Arg(5)), 'ENOENT');
    expectErrno(() => r.kernel.ioctl(a, USBDEVFS_CLAIMINTERFACE, u32Arg(64)), 'EINVAL');
    expectErrno(() => r.kernel.ioctl(a, USBDEVFS_RELEASEINTERFACE, u32Arg(5)), 'ENOENT');
  });

  test('using an unclaimed interface claims it (with the kernel\'s warning); releasing kills its URBs (-ENOENT)', async (t) => {
    const r = await rig();
    const a = await openNode(t, r);
    const b = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, a, { endpoint: 0x81, data: new Uint8Array(64), usercontext: 0 });
    assert.ok(r.host.log.some((l) => l.includes('did not claim interface 0 before use')));
    expectErrno(() => r.kernel.ioctl(b, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 'EBUSY');
    assert.equal(r.kernel.ioctl(a, USBDEVFS_RELEASEINTERFACE, u32Arg(0)), 0);
    const killed = await reapNext(r.kernel, a, urbs);
    assert.equal(killed.status, errno('ENOENT'));
    await assert.rejects(r.kernel.readlink(`${INTF_DIR}/driver`), (e: unknown) => isSystemError(e, 'ENOENT'));
    assert.equal(r.kernel.ioctl(b, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 0, 'free again');
  });

  test('closing a file kills its URBs and releases its interfaces', async (t) => {
    const r = await rig();
    const a = await r.kernel.open(NODE, O_RDWR);
    const b = await openNode(t, r);
    submit(r.kernel, a, { endpoint: 0x81, data: new Uint8Array(4096), usercontext: 0 });
    r.kernel.close(a);
    assert.equal(r.kernel.ioctl(b, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 0);
    const got = r.device.read(0x01, 64);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, b, { endpoint: 0x01, data: Uint8Array.of(5), usercontext: 0 });
    await reapNext(r.kernel, b, urbs);
    assert.deepEqual([...(await got)], [5]);
    r.device.write(0x81, Uint8Array.of(1, 2));
    urbs[1] = submit(r.kernel, b, { endpoint: 0x81, data: new Uint8Array(64), usercontext: 1 });
    assert.equal((await reapNext(r.kernel, b, urbs)).actual, 2, 'the closed file\'s IN URB took nothing');
  });

  test('SETCONFIGURATION is EBUSY while an interface is claimed; SETINTERFACE switches endpoints (ep_81 → ep_83)', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    r.kernel.ioctl(fd, USBDEVFS_CLAIMINTERFACE, u32Arg(0));
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_SETCONFIGURATION, u32Arg(1)), 'EBUSY');
    const pending: Submitted[] = [];
    pending[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(64), usercontext: 0 });
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_SETINTERFACE, usbdevfsSetInterfaceStruct.encode({ interface: 0, altsetting: 1 })), 0);
    assert.equal((await reapNext(r.kernel, fd, pending)).status, errno('ENOENT'), 'the interface\'s URBs die first');
    assert.deepEqual(r.device.setups.at(-1), { bRequestType: 1, bRequest: 11, wValue: 1, wIndex: 0, wLength: 0 });
    const names = (await r.kernel.readdir(INTF_DIR)).map((e) => e.name).filter((n) => n.startsWith('ep_'));
    assert.deepEqual(names, ['ep_83']);
    assert.deepEqual(await attrs(r.kernel, INTF_DIR, ['bAlternateSetting', 'bInterfaceClass', 'bNumEndpoints']), {
      bAlternateSetting: ' 1\n', bInterfaceClass: 'ff\n', bNumEndpoints: '01\n',
    });
    expectErrno(() => submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(8) }), 'ENOENT');
    const urbs: Submitted[] = [];
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x83, data: new Uint8Array(64), usercontext: 1 });
    r.device.write(0x83, Uint8Array.of(7));
    assert.equal((await reapNext(r.kernel, fd, urbs)).actual, 1);
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_SETINTERFACE, usbdevfsSetInterfaceStruct.encode({ interface: 0, altsetting: 2 })), 'EINVAL');
  });

  test('a failed bulk URB cancels the continuation URBs queued behind it (-ECONNRESET) and refuses more until a new transfer', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(1024), flags: USBDEVFS_URB_SHORT_NOT_OK, usercontext: 0 });
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(1024), flags: USBDEVFS_URB_BULK_CONTINUATION, usercontext: 1 });
    r.device.write(0x81, pattern(10, 10));
    const first = await reapNext(r.kernel, fd, urbs);
    const second = await reapNext(r.kernel, fd, urbs);
    assert.deepEqual([first.submitted, first.status, second.submitted, second.status], [urbs[0], errno('EREMOTEIO'), urbs[1], errno('ECONNRESET')]);
    expectErrno(() => submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(8), flags: USBDEVFS_URB_BULK_CONTINUATION }), 'EREMOTEIO');
    urbs[2] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(8), usercontext: 2 });
    r.device.write(0x81, Uint8Array.of(1));
    assert.equal((await reapNext(r.kernel, fd, urbs)).status, 0);
  });
});

describe('disconnect (hub.c usb_disconnect, devio.c usbdev_remove; link.ts)', () => {
  test('mid-transfer: URBs end -ESHUTDOWN and can still be reaped, then ENODEV; POLLHUP|POLLERR; sysfs and the node go', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(1024 * 1024), usercontext: 0 });
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x01, data: pattern(4096, 11), usercontext: 1 });
    r.device.write(0x81, pattern(2048, 12));
    await pollSoon(r.kernel, fd);
    const removed = until(r.host, (e) => e.action === 'remove' && e.devtype === 'usb_device');
    r.device.unplug();
    r.host.rootPort.disconnect();
    await removed;
    const revents = await r.kernel.poll(fd, POLLOUT);
    assert.equal(revents & (POLLOUT | POLLHUP | POLLERR), POLLOUT | POLLHUP | POLLERR);
    const a = await reapNext(r.kernel, fd, urbs);
    const b = await reapNext(r.kernel, fd, urbs);
    const byContext = new Map([[a.submitted, a], [b.submitted, b]]);
    assert.deepEqual([byContext.get(urbs[0]!)!.status, byContext.get(urbs[0]!)!.actual], [errno('ESHUTDOWN'), 2048]);
    assert.deepEqual(urbs[0]!.data.subarray(0, 2048), pattern(2048, 12), 'what arrived before the disconnect is kept');
    assert.equal(byContext.get(urbs[1]!)!.status, errno('ESHUTDOWN'));
    expectErrno(() => reap(r.kernel, fd), 'ENODEV', 'drained');
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_GET_CAPABILITIES, new Uint8Array(4)), 'ENODEV');
    expectErrno(() => submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(8) }), 'ENODEV');
    await assert.rejects(r.kernel.read(fd, new Uint8Array(18)), (e: unknown) => isSystemError(e, 'ENODEV'));
    for (const path of [DEV_DIR, INTF_DIR, NODE, '/sys/devices/platform/dummy_hcd.1/usb2/2-1']) assert.equal(r.kernel.context.vfs.exists(path), false, path);
    await assert.rejects(r.kernel.open(NODE, O_RDWR), (e: unknown) => isSystemError(e, 'ENOENT'));
    assert.deepEqual(r.events.slice(-2).map((e) => `${e.action} ${e.devtype}`), ['remove usb_interface', 'remove usb_device']);
    assert.ok(r.host.log.includes('usb 2-1: USB disconnect, device number 2'));
  });

  test('reconnecting enumerates again with the next devnum (3), a new node and a fresh claim state', async (t) => {
    const r = await rig();
    const old = await openNode(t, r);
    r.kernel.ioctl(old, USBDEVFS_CLAIMINTERFACE, u32Arg(0));
    r.host.rootPort.disconnect();
    const back = until(r.host, interfaceAdded);
    const device = new ModelDevice('high', r.kernel);
    r.host.rootPort.connect(device);
    await back;
    assert.equal(await read(r.kernel, `${DEV_DIR}/devnum`), '3\n');
    assert.equal(r.host.devicePath, '/dev/bus/usb/002/003');
    const fd = await r.kernel.open('/dev/bus/usb/002/003', O_RDWR);
    t.after(() => r.kernel.close(fd));
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 0);
    expectErrno(() => r.kernel.ioctl(old, USBDEVFS_CLAIMINTERFACE, u32Arg(0)), 'ENODEV', 'the old file stays on the gone device');
  });

  test('a disconnect during enumeration leaves nothing behind', async () => {
    const r = await rig('high', false);
    const slow = Object.assign(Object.create(r.device) as ModelDevice, {
      submit(urb: Urb) {
        if (urb.setup?.bRequest === 6 && urb.setup.wValue >> 8 === 2) {
          r.host.rootPort.disconnect(); // the UDC unbinds while the hub reads the configuration
          return;
        }
        r.device.submit(urb);
      },
      unlink: () => false,
    });
    r.host.rootPort.connect(slow);
    await logged(r.host, 'new high-speed USB device number 2');
    const { scheduler } = r.kernel.context;
    while (scheduler.next <= nowMs()) scheduler.runDue();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(r.kernel.context.vfs.exists(DEV_DIR), false);
    assert.equal(r.host.deviceName, undefined);
    assert.equal(r.host.log.some((l) => l.includes('unable to enumerate')), false, 'a disconnect is not a failure');
  });
});

describe('usbfs device-level requests (devio.c proc_setconfig, proc_resetdevice, proc_clearhalt, proc_reapurb; sysfs.c)', () => {
  test('bConfigurationValue: -1 unconfigures (the interface goes), 1 configures again; bad values EINVAL', async () => {
    const r = await rig();
    await r.kernel.writeText(`${DEV_DIR}/bConfigurationValue`, '-1\n');
    assert.equal(await read(r.kernel, `${DEV_DIR}/bConfigurationValue`), '');
    assert.equal(await read(r.kernel, `${DEV_DIR}/bNumInterfaces`), '');
    assert.equal(r.kernel.context.vfs.exists(INTF_DIR), false);
    assert.deepEqual(r.device.setups.at(-1), { bRequestType: 0, bRequest: 9, wValue: 0, wIndex: 0, wLength: 0 });
    await r.kernel.writeText(`${DEV_DIR}/bConfigurationValue`, '1\n');
    assert.equal(await read(r.kernel, `${DEV_DIR}/bConfigurationValue`), '1\n');
    assert.equal(await read(r.kernel, `${INTF_DIR}/interface`), 'IIO\n');
    for (const bad of ['2\n', '256\n', 'x\n']) {
      await assert.rejects(r.kernel.writeText(`${DEV_DIR}/bConfigurationValue`, bad), (e: unknown) => isSystemError(e, 'EINVAL'), bad);
    }
  });

  test('RESET: the port is reset, the address and configuration set again, usbfs loses its claims and their URBs', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    r.kernel.ioctl(fd, USBDEVFS_CLAIMINTERFACE, u32Arg(0));
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(64), usercontext: 0 });
    const resets = r.device.resets;
    const asked = r.device.setups.length;
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_RESET), 0);
    assert.equal(r.device.resets, resets + 1);
    assert.deepEqual(r.device.setups.slice(asked).map((s) => [s.bRequest, s.wValue]), [[5, 2], [9, 1]]);
    assert.equal((await reapNext(r.kernel, fd, urbs)).status, errno('ENOENT'));
    await assert.rejects(r.kernel.readlink(`${INTF_DIR}/driver`), (e: unknown) => isSystemError(e, 'ENOENT'), 'usbfs was unbound');
    const root = await r.kernel.open('/dev/bus/usb/002/001', O_RDWR);
    t.after(() => r.kernel.close(root));
    expectErrno(() => r.kernel.ioctl(root, USBDEVFS_RESET), 'EISDIR', 'a root hub');
  });

  test('CLEAR_HALT sends CLEAR_FEATURE(ENDPOINT_HALT) to the endpoint; an endpoint the configuration lacks is ENOENT', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_CLEAR_HALT, u32Arg(0x81)), 0);
    assert.deepEqual(r.device.setups.at(-1), { bRequestType: 2, bRequest: 1, wValue: 0, wIndex: 0x81, wLength: 0 });
    expectErrno(() => r.kernel.ioctl(fd, USBDEVFS_CLEAR_HALT, u32Arg(0x86)), 'ENOENT');
  });

  test('REAPURB blocks while the kernel can still complete a URB, then returns it', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const urbs: Submitted[] = [];
    urbs[4] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(64), usercontext: 4 });
    r.device.write(0x81, Uint8Array.of(1, 2, 3)); // scheduled, not yet moved
    const arg = new Uint8Array(8);
    assert.equal(r.kernel.ioctl(fd, USBDEVFS_REAPURB, arg), 0);
    assert.equal(new DataView(arg.buffer).getBigUint64(0, true), 4n);
    assert.equal(usbdevfsUrbStruct.decode(urbs[4]!.urb).actualLength, 3);
  });
});

describe('enumeration at SuperSpeed and devnum wrap (hub.c use_new_scheme, choose_devnum)', () => {
  test('SuperSpeed: SET_ADDRESS first, 8 bytes, 18 bytes, the BOS (bcdUSB 3.00); sysfs shows 5000 and ep0 of 2^9', async () => {
    const kernel = new SimKernel({ timeMode: 'fast' });
    const host = installUsbHost(kernel.context, { speed: 'super', busnum: 2, busName: 'dummy_hcd.1' });
    const descriptor = DEVICE_DESCRIPTOR.slice();
    descriptor[2] = 0x00;
    descriptor[3] = 0x03; // bcdUSB 3.00
    descriptor[7] = 9; // bMaxPacketSize0 2^9
    const bos = Uint8Array.of(5, 0x0f, 12, 0, 1, 7, 0x10, 2, 0x06, 0, 0, 0);
    const device = new ModelDevice('super', kernel, descriptor, bos);
    const configured = until(host, interfaceAdded);
    host.rootPort.connect(device);
    await configured;
    const asked = device.setups.slice(0, 6).map((s) => `${s.bRequestType.toString(16)} ${s.bRequest} ${s.wValue.toString(16)} ${s.wLength}`);
    assert.deepEqual(asked, ['0 5 2 0', '80 6 100 8', '80 6 100 18', '80 6 f00 5', '80 6 f00 12', '80 6 200 9']);
    assert.equal(device.resets, 1, 'one reset: the old scheme');
    assert.deepEqual(await attrs(kernel, DEV_DIR, ['speed', 'version', 'bMaxPacketSize0']), { speed: '5000\n', version: ' 3.00\n', bMaxPacketSize0: '9\n' });
    assert.equal(await read(kernel, `${DEV_DIR}/ep_00/wMaxPacketSize`), '0200\n');
    const fd = await kernel.open(`${DEV_DIR}/bos_descriptors`, O_RDONLY);
    const got = new Uint8Array(64);
    const n = await kernel.read(fd, got);
    kernel.close(fd);
    assert.deepEqual(got.subarray(0, n), bos);
    assert.ok(host.log.includes('usb 2-1: new SuperSpeed USB device number 2 using dummy_hcd'), host.log.join('\n'));
  });

  test('device numbers go 2, 3, … 127 and wrap to 2 (1 is the root hub\'s)', async () => {
    const r = await rig('high', false);
    const seen: number[] = [];
    for (let i = 0; i < 127; i++) {
      const configured = until(r.host, interfaceAdded);
      r.host.rootPort.connect(new ModelDevice('high', r.kernel));
      await configured;
      seen.push(Number(await read(r.kernel, `${DEV_DIR}/devnum`)));
      r.host.rootPort.disconnect();
    }
    assert.deepEqual(seen.slice(0, 3), [2, 3, 4]);
    assert.deepEqual(seen.slice(-2), [127, 2]);
  });
});

describe('usbfs mmap (devio.c usbdev_mmap, find_memory_area; USBDEVFS_CAP_MMAP)', () => {
  test('URBs whose buffer lies in the mapping use it in place; EPERM read-only; the pages count against the budget', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    const ro = await openNode(t, r, O_RDONLY);
    expectErrno(() => r.kernel.mmap(ro, 4096, PROT_READ | PROT_WRITE, MAP_SHARED), 'EPERM');
    const pages = r.kernel.mmap(fd, 8192, PROT_READ | PROT_WRITE, MAP_SHARED);
    assert.ok(pages.every((b) => b === 0), 'zeroed');
    pages.set(pattern(100, 20), 0);
    const got = r.device.read(0x01, 4096);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x01, data: pages.subarray(0, 100), usercontext: 0 });
    pages.fill(0xee, 0, 100); // the kernel uses the pages themselves, not a copy taken at submit
    await reapNext(r.kernel, fd, urbs);
    assert.deepEqual(new Uint8Array(await got), new Uint8Array(100).fill(0xee));
    urbs[1] = submit(r.kernel, fd, { endpoint: 0x81, data: pages.subarray(4096, 4096 + 512), usercontext: 1 });
    r.device.write(0x81, pattern(300, 21));
    assert.equal((await reapNext(r.kernel, fd, urbs)).actual, 300);
    assert.deepEqual(pages.subarray(4096, 4396), pattern(300, 21));
    const param = '/sys/module/usbcore/parameters/usbfs_memory_mb';
    await r.kernel.writeText(param, '1\n');
    t.after(() => r.kernel.writeTextSync(param, '16\n'));
    expectErrno(() => r.kernel.mmap(fd, 1024 * 1024, PROT_READ | PROT_WRITE, MAP_SHARED), 'ENOMEM', '8 KiB already mapped');
    r.kernel.munmap(pages);
    const again = r.kernel.mmap(fd, 1024 * 1024 - 4096, PROT_READ | PROT_WRITE, MAP_SHARED);
    assert.equal(again.length, 1024 * 1024 - 4096, 'the unmapped pages went back to the budget');
  });
});

describe('speeds and readiness (hub.c port speed, devio.c usbdev_poll)', () => {
  test('a SuperSpeed-capable device on a high-speed controller runs at high speed (the new scheme, 480)', async () => {
    const r = await rig('high', false);
    const configured = until(r.host, interfaceAdded);
    const device = new ModelDevice('super', r.kernel);
    r.host.rootPort.connect(device);
    await configured;
    assert.equal(await read(r.kernel, `${DEV_DIR}/speed`), '480\n');
    assert.equal(device.setups[0]!.wLength, 64, 'the 64-byte first read of the new scheme');
  });

  test('poll: nothing before a completion, POLLOUT after it, POLLHUP|POLLERR alone once the device is gone and drained', async (t) => {
    const r = await rig();
    const fd = await openNode(t, r);
    assert.equal(await pollSoon(r.kernel, fd), 0);
    const urbs: Submitted[] = [];
    urbs[0] = submit(r.kernel, fd, { endpoint: 0x81, data: new Uint8Array(8), usercontext: 0 });
    assert.equal(await pollSoon(r.kernel, fd), 0, 'pending is not reapable');
    r.device.write(0x81, Uint8Array.of(1));
    await reapNext(r.kernel, fd, urbs);
    r.host.rootPort.disconnect();
    assert.equal(await r.kernel.poll(fd, POLLOUT), POLLHUP | POLLERR);
  });
});
