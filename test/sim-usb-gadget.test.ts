// The simulated kernel's USB device side: configfs gadgets, FunctionFS (ep0, events, SETUP
// stages, endpoint files, DMABUF import) and the dummy UDC's transfer engine (usb.md §A1, §A4,
// §A5; kernel-abi.md §5.2). The host is played by a small root-port driver in this file that
// submits URBs over the simulated cable (link.ts), so every packet rule is checked at the URB
// level; one case runs the sim's own host side (enumeration through hub and usbfs sysfs).
// Sim-only by nature: the cross-kernel conformance suite checks the port-level behaviour.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeFfsDescriptors,
  encodeFfsDescriptors,
  encodeFfsStrings,
  decodeFfsEvent,
  FUNCTIONFS_BIND,
  FUNCTIONFS_CLEAR_HALT,
  FUNCTIONFS_DISABLE,
  FUNCTIONFS_DMABUF_ATTACH,
  FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER,
  FUNCTIONFS_ENABLE,
  FUNCTIONFS_ENDPOINT_DESC,
  FUNCTIONFS_INTERFACE_REVMAP,
  FUNCTIONFS_SETUP,
  FUNCTIONFS_SUSPEND,
  FUNCTIONFS_RESUME,
  FUNCTIONFS_UNBIND,
  USB_FUNCTIONFS_EVENT_SIZE,
  usbFfsDmabufTransferReqStruct,
  type FfsEvent,
} from '../src/abi/functionfs.js';
import { DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, POLLIN, POLLOUT } from '../src/abi/index.js';
import { decodeStringDescriptor, parseDescriptors, type UsbCtrlRequest, type UsbDescriptor } from '../src/abi/usb.js';
import { errnoOf } from '../src/errors.js';
import { dmaBufGet } from '../src/kernel/sim/dma-buf.js';
import { ResvUsage } from '../src/kernel/sim/dma-fence.js';
import { nowMs } from '../src/kernel/sim/clock.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { GADGET_ROOT } from '../src/kernel/sim/usb/configfs.js';
import type { Urb, UsbPortDevice, UsbRootPort } from '../src/kernel/sim/usb/link.js';
import { attach, enqueue, exportSyncFile, getBufferFd, heapBuffer, intArg, setNonblock, syncFileInfo } from './support/iio-calls.js';
import { probeScenario, VADC } from './support/probe-scenario.js';
import { IIOD_STRINGS, iiodDescriptors } from './support/usb-gadget.js';

const EPIPE = -errnoOf('EPIPE');
const ESHUTDOWN = -errnoOf('ESHUTDOWN');
const ECONNRESET = -errnoOf('ECONNRESET');
const EPROTO = -errnoOf('EPROTO');

const G = `${GADGET_ROOT}/g1`;
const MNT = '/dev/ffs-iio';

// ---- the host: a root port that submits URBs over the cable --------------------------------

interface UrbResult {
  status: number;
  actual: number;
  data: Uint8Array;
}

class TestHost implements UsbRootPort {
  device: UsbPortDevice | undefined;
  connects = 0;
  disconnects = 0;
  readonly #pending = new Set<Urb>();
  #connected: (() => void) | undefined;

  connect(device: UsbPortDevice): void {
    this.device = device;
    this.connects++;
    this.#connected?.();
  }

  disconnect(): void {
    const device = this.device;
    this.device = undefined;
    this.disconnects++;
    for (const urb of [...this.#pending]) device?.unlink(urb, ESHUTDOWN);
  }

  /** Resolves once a device has connected. */
  connected(): Promise<void> {
    if (this.device !== undefined) return Promise.resolve();
    return new Promise((resolve) => (this.#connected = resolve));
  }

  submit(endpoint: number, buffer: Uint8Array, options: { setup?: UsbCtrlRequest; zeroPacket?: boolean } = {}): { urb: Urb; done: Promise<UrbResult> } {
    const device = this.device;
    assert.ok(device !== undefined, 'no device connected');
    let resolve!: (r: UrbResult) => void;
    const done = new Promise<UrbResult>((r) => (resolve = r));
    const pending = this.#pending;
    const alive = setInterval(() => undefined, 1 << 30); // a host waiting for its URB, as a process would
    const urb: Urb = {
      endpoint,
      type: endpoint === 0 ? 'control' : 'bulk',
      setup: options.setup,
      buffer,
      shortNotOk: false,
      zeroPacket: options.zeroPacket ?? false,
      actual: 0,
      complete(status) {
        clearInterval(alive);
        pending.delete(urb);
        resolve({ status, actual: urb.actual, data: buffer.subarray(0, urb.actual) });
      },
    };
    this.#pending.add(urb);
    device.submit(urb);
    return { urb, done };
  }

  control(setup: UsbCtrlRequest, out?: Uint8Array): Promise<UrbResult> {
    return this.submit(0, out ?? new Uint8Array(setup.wLength), { setup }).done;
  }

  bulk(endpoint: number, buffer: Uint8Array, zeroPacket = false): Promise<UrbResult> {
    return this.submit(endpoint, buffer, { zeroPacket }).done;
  }

  async descriptor(type: number, index: number, length: number, lang = 0): Promise<UrbResult> {
    return this.control({ bRequestType: 0x80, bRequest: 6, wValue: (type << 8) | index, wIndex: lang, wLength: length });
  }

  /** What hub enumeration does, reduced: reset, device descriptor, address, configuration, SET_CONFIGURATION. */
  async enumerate(configure = true): Promise<{ device: Uint8Array; config: UsbDescriptor[] }> {
    this.device!.reset();
    const device = await this.descriptor(1, 0, 18);
    assert.equal(device.status, 0);
    assert.equal((await this.control({ bRequestType: 0, bRequest: 5, wValue: 2, wIndex: 0, wLength: 0 })).status, 0);
    const head = await this.descriptor(2, 0, 9);
    const total = head.data[2]! | (head.data[3]! << 8);
    const config = await this.descriptor(2, 0, total);
    assert.equal(config.actual, total);
    if (configure) await this.setConfiguration(1);
    return { device: device.data.slice(), config: parseDescriptors(config.data) };
  }

  async setConfiguration(value: number): Promise<number> {
    return (await this.control({ bRequestType: 0, bRequest: 9, wValue: value, wIndex: 0, wLength: 0 })).status;
  }
}

// ---- a gadget through the port ---------------------------------------------------------------

interface Rig {
  k: SimKernel;
  host: TestHost;
  ep0: number;
}

/** Gadget g1 with ffs.iio mounted at /dev/ffs-iio, iiod's blobs (1 pipe unless told) on its ep0; returns ep0. */
async function gadget(k: SimKernel, options: { write?: boolean; pipes?: number } = {}): Promise<number> {
  await k.mkdir(G);
  await k.writeText(`${G}/idVendor`, '0x1d6b');
  await k.writeText(`${G}/idProduct`, '0x0104');
  await k.mkdir(`${G}/strings/0x409`);
  await k.writeText(`${G}/strings/0x409/product`, 'iiojs test gadget\n');
  await k.mkdir(`${G}/configs/c.1`);
  await k.mkdir(`${G}/functions/ffs.iio`);
  await k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/ffs.iio`);
  await k.mkdir(MNT);
  await k.mount('iio', MNT, 'functionfs');
  const ep0 = await k.open(`${MNT}/ep0`, O_RDWR);
  if (options.write !== false) {
    await k.write(ep0, iiodDescriptors(options.pipes ?? 1));
    await k.write(ep0, IIOD_STRINGS);
  }
  return ep0;
}

/** A kernel whose UDC is cabled to a TestHost, a gadget g1 with ffs.iio mounted at /dev/ffs-iio. */
async function rig(options: { sg?: boolean; write?: boolean; pipes?: number } = {}): Promise<Rig> {
  const k = new SimKernel({ timeMode: 'fast', usb: { sg: options.sg ?? true }, scenario: probeScenario });
  const host = new TestHost();
  k.usb.udc.rootPort = host;
  const ep0 = await gadget(k, options);
  return { k, host, ep0 };
}

/** Binds g1 to dummy_udc.0 and waits for the cable to connect. */
async function bind(r: Rig): Promise<void> {
  await r.k.writeText(`${G}/UDC`, 'dummy_udc.0\n');
  await r.host.connected();
}

async function readEvents(k: SimKernel, ep0: number, max = 4): Promise<FfsEvent[]> {
  const bytes = new Uint8Array(max * USB_FUNCTIONFS_EVENT_SIZE);
  const n = await k.read(ep0, bytes);
  const out: FfsEvent[] = [];
  for (let at = 0; at < n; at += USB_FUNCTIONFS_EVENT_SIZE) out.push(decodeFfsEvent(bytes, at));
  return out;
}

const types = (events: FfsEvent[]) => events.map((e) => e.type);

/**
 * Resolves once every sim event due by now has run, with the promise reactions it caused (the
 * 'fast' completions): what a case waits for instead of a fixed sleep. Future events (the hub's
 * debounce, realtime pacing) stay pending.
 */
async function settled(k: SimKernel): Promise<void> {
  do await new Promise((resolve) => setImmediate(resolve));
  while (k.context.scheduler.next <= nowMs());
  await new Promise((resolve) => setImmediate(resolve));
}

function transferArg(fd: number, length: number, flags = 0): Uint8Array {
  return usbFfsDmabufTransferReqStruct.encode({ fd, flags, length: BigInt(length) });
}

// ---- configfs --------------------------------------------------------------------------------

describe('configfs gadgets (issue 15 §3, usb.md §A1 setup)', () => {
  test('attributes: defaults, formats, base-0 parsing, BCD and range checks', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    await k.mkdir(G);
    assert.equal(await k.readText(`${G}/idVendor`), '0x0000\n');
    assert.equal(await k.readText(`${G}/bcdDevice`), '0x0612\n');
    assert.equal(await k.readText(`${G}/UDC`), '\n');
    await k.writeText(`${G}/idVendor`, '0x456\n');
    assert.equal(await k.readText(`${G}/idVendor`), '0x0456\n');
    await k.writeText(`${G}/bDeviceClass`, '255');
    assert.equal(await k.readText(`${G}/bDeviceClass`), '0xff\n');
    await assert.rejects(k.writeText(`${G}/bDeviceClass`, '256'), { code: 'ERANGE' });
    await assert.rejects(k.writeText(`${G}/bcdDevice`, '0x012a'), { code: 'EINVAL' });
    await assert.rejects(k.writeText(`${G}/idProduct`, 'pluto'), { code: 'EINVAL' });
  });

  test('groups: names, duplicates, languages; links only from a configuration to a function', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    await k.mkdir(G);
    await assert.rejects(k.mkdir(`${G}/strings/0x0`), { code: 'EINVAL' });
    await k.mkdir(`${G}/strings/0x409`);
    await assert.rejects(k.mkdir(`${G}/strings/0x0409`), { code: 'EEXIST' });
    await assert.rejects(k.mkdir(`${G}/configs/c`), { code: 'EINVAL' });
    await assert.rejects(k.mkdir(`${G}/configs/c.0`), { code: 'EINVAL' });
    await k.mkdir(`${G}/configs/c.1`);
    await assert.rejects(k.mkdir(`${G}/configs/other.1`), { code: 'EBUSY' });
    assert.equal(await k.readText(`${G}/configs/c.1/MaxPower`), '2\n');
    assert.equal(await k.readText(`${G}/configs/c.1/bmAttributes`), '0x80\n');
    await assert.rejects(k.writeText(`${G}/configs/c.1/bmAttributes`, '0x40'), { code: 'EINVAL' });
    await assert.rejects(k.mkdir(`${G}/functions/ffs`), { code: 'EINVAL' });
    await assert.rejects(k.mkdir(`${G}/functions/acm.usb0`), { code: 'ENOENT' });
    await k.mkdir(`${G}/functions/ffs.iio`);
    assert.equal(await k.readText(`${G}/functions/ffs.iio/ready`), '0\n');
    await k.mkdir(`${GADGET_ROOT}/g2`);
    await assert.rejects(k.mkdir(`${GADGET_ROOT}/g2/functions/ffs.iio`), { code: 'EBUSY' }); // instance names are global
    await assert.rejects(k.symlink(`${G}/configs/c.1`, `${G}/configs/c.1/self`), { code: 'EINVAL' });
    await assert.rejects(k.symlink(`${G}/functions/ffs.iio`, `${G}/functions/link`), { code: 'EPERM' });
    await k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/ffs.iio`);
    await assert.rejects(k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/again`), { code: 'EEXIST' });
    assert.equal(await k.readlink(`${G}/configs/c.1/ffs.iio`), '../../../../usb_gadget/g1/functions/ffs.iio');
    assert.equal((await k.stat(`${G}/configs/c.1/ffs.iio`)).kind, 'directory');
  });

  test('removal order: linked function EBUSY, non-empty groups ENOTEMPTY, default groups EPERM', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    await k.mkdir(G);
    await k.mkdir(`${G}/strings/0x409`);
    await k.mkdir(`${G}/configs/c.1`);
    await k.mkdir(`${G}/functions/ffs.iio`);
    await k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/ffs.iio`);
    await assert.rejects(k.rmdir(`${G}/functions/ffs.iio`), { code: 'EBUSY' });
    await assert.rejects(k.rmdir(`${G}/configs/c.1`), { code: 'ENOTEMPTY' });
    await assert.rejects(k.rmdir(G), { code: 'ENOTEMPTY' });
    await assert.rejects(k.rmdir(`${G}/configs`), { code: 'EPERM' });
    await assert.rejects(k.unlink(`${G}/configs/c.1/MaxPower`), { code: 'EPERM' });
    await k.unlink(`${G}/configs/c.1/ffs.iio`);
    await k.rmdir(`${G}/configs/c.1`);
    await k.rmdir(`${G}/functions/ffs.iio`);
    await k.rmdir(`${G}/strings/0x409`);
    await k.rmdir(G);
    await assert.rejects(k.stat(G), { code: 'ENOENT' });
    await k.mkdir(G); // the instance name is free again
    await k.mkdir(`${G}/functions/ffs.iio`);
  });

  test('UDC: EBUSY for an unknown UDC and for an instance without descriptors, ENODEV to unbind an unbound gadget', async () => {
    const r = await rig({ write: false });
    await assert.rejects(r.k.writeText(`${G}/UDC`, '\n'), { code: 'ENODEV' });
    await assert.rejects(r.k.writeText(`${G}/UDC`, 'musb-hdrc.0\n'), { code: 'EBUSY' });
    // ffs_do_functionfs_bind says ENODEV ("not ready"); usb_gadget_register_driver makes it EBUSY
    await assert.rejects(r.k.writeText(`${G}/UDC`, 'dummy_udc.0\n'), { code: 'EBUSY' });
    assert.equal(await r.k.readText(`${G}/UDC`), '\n');
    assert.equal(r.host.connects, 0);
    await r.k.write(r.ep0, iiodDescriptors(1));
    await r.k.write(r.ep0, IIOD_STRINGS);
    assert.equal(await r.k.readText(`${G}/functions/ffs.iio/ready`), '1\n');
    await bind(r);
    assert.equal(await r.k.readText(`${G}/UDC`), 'dummy_udc.0\n');
    assert.equal(await r.k.readText('/sys/class/udc/dummy_udc.0/function'), 'g1\n');
    await assert.rejects(r.k.writeText(`${G}/UDC`, 'dummy_udc.0\n'), { code: 'EBUSY' });
    await assert.rejects(r.k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/x`), { code: 'EINVAL' });
  });

  test('/sys/class/udc/dummy_udc.0 and the dummy_hcd module parameters (sg as the lab patch shows it)', async () => {
    const k = new SimKernel({ timeMode: 'fast', usb: { sg: false } });
    assert.deepEqual((await k.readdir('/sys/class/udc')).map((e) => e.name), ['dummy_udc.0']);
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/state'), 'not attached\n');
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/current_speed'), 'UNKNOWN\n');
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/maximum_speed'), 'high-speed\n');
    assert.equal(await k.readText('/sys/module/dummy_hcd/parameters/sg'), 'N\n');
    assert.equal(await k.readText('/sys/module/dummy_hcd/parameters/is_high_speed'), 'Y\n');
    await assert.rejects(k.writeText('/sys/module/dummy_hcd/parameters/sg', 'Y'), { code: 'EACCES' });
  });
});

// ---- mount -----------------------------------------------------------------------------------

describe('FunctionFS mount (issue 15 §3)', () => {
  test('source must be an instance, once; options parsed; umount EBUSY while files are open', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    await k.mkdir(G);
    await k.mkdir(MNT);
    await assert.rejects(k.mount('iio', MNT, 'functionfs'), { code: 'ENOENT' });
    await assert.rejects(k.mount('iio', MNT, 'nosuchfs'), { code: 'ENODEV' });
    await k.mkdir(`${G}/functions/ffs.iio`);
    await assert.rejects(k.mount('iio', MNT, 'functionfs', 'colour=blue'), { code: 'EINVAL' });
    await assert.rejects(k.mount('iio', MNT, 'functionfs', 'uid'), { code: 'EINVAL' });
    await assert.rejects(k.mount('iio', MNT, 'functionfs', 'no_disconnect=maybe'), { code: 'EINVAL' });
    await k.mount('iio', MNT, 'functionfs', 'rw,uid=1000,gid=1000,fmode=0660,no_disconnect=1');
    assert.equal((await k.stat(`${MNT}/ep0`)).mode, 0o660);
    assert.equal((await k.stat(MNT)).mode, 0o500);
    assert.deepEqual(await k.readdir(MNT), [{ name: 'ep0', kind: 'file' }]);
    await k.mkdir('/dev/second');
    await assert.rejects(k.mount('iio', '/dev/second', 'functionfs'), { code: 'EBUSY' });
    await assert.rejects(k.rmdir(MNT), { code: 'EBUSY' });
    const ep0 = await k.open(`${MNT}/ep0`, O_RDWR);
    await assert.rejects(k.umount(MNT), { code: 'EBUSY' });
    k.close(ep0);
    await k.umount(MNT);
    await assert.rejects(k.umount(MNT), { code: 'EINVAL' });
    await assert.rejects(k.stat(`${MNT}/ep0`), { code: 'ENOENT' });
    await k.mount('iio', '/dev/second', 'functionfs');
  });
});

// ---- ep0 -------------------------------------------------------------------------------------

describe('FunctionFS ep0 (usb.md §A1, f_fs.c)', () => {
  test('descriptors then strings, with the kernel\'s errnos; the ep files appear after the strings', async () => {
    const r = await rig({ write: false });
    const { k, ep0 } = r;
    assert.equal(await k.poll(ep0, POLLOUT | POLLIN), POLLOUT);
    await assert.rejects(k.read(ep0, new Uint8Array(12)), { code: 'EBADFD' });
    await assert.rejects(k.write(ep0, new Uint8Array(15)), { code: 'EINVAL' });
    const bad = iiodDescriptors(1);
    bad[0] = 9; // magic
    await assert.rejects(k.write(ep0, bad), { code: 'EINVAL' });
    const flags = iiodDescriptors(1);
    flags[9] = 1; // flag bit 8: unknown
    await assert.rejects(k.write(ep0, flags), { code: 'ENOSYS' });
    await assert.rejects(k.write(ep0, iiodDescriptors(1).subarray(0, 100)), { code: 'EINVAL' });
    assert.equal(await k.write(ep0, iiodDescriptors(1)), 105); // usb.md §A1: N=1 is 105 bytes
    const noStrings = encodeFfsStrings({ langs: [] });
    await assert.rejects(k.write(ep0, noStrings), { code: 'EINVAL' }); // iInterface 1 needs a string
    assert.deepEqual((await k.readdir(MNT)).map((e) => e.name), ['ep0']);
    assert.equal(await k.write(ep0, IIOD_STRINGS), 22);
    assert.deepEqual((await k.readdir(MNT)).map((e) => e.name).sort(), ['ep0', 'ep1', 'ep2']);
    await assert.rejects(k.write(ep0, IIOD_STRINGS), { code: 'ESRCH' }); // ACTIVE, no SETUP pending
    setNonblock(k, ep0, true);
    await assert.rejects(k.read(ep0, new Uint8Array(12)), { code: 'EAGAIN' });
    await assert.rejects(k.read(ep0, new Uint8Array(11)), { code: 'EINVAL' });
    assert.equal(await k.poll(ep0, POLLOUT | POLLIN, { signal: AbortSignal.timeout(50) }).catch((e) => e.name), 'AbortError');
  });

  test('closing the last file resets the instance: ep files vanish, descriptors must be written again', async () => {
    const r = await rig();
    r.k.close(r.ep0);
    assert.deepEqual((await r.k.readdir(MNT)).map((e) => e.name), ['ep0']);
    assert.equal(await r.k.readText(`${G}/functions/ffs.iio/ready`), '0\n');
    const ep0 = await r.k.open(`${MNT}/ep0`, O_RDWR);
    await assert.rejects(r.k.read(ep0, new Uint8Array(12)), { code: 'EBADFD' });
  });

  test('a refused blob leaves the counts and strings count of what parsed until the last close (f_fs.c __ffs_data_got_descs, __ffs_data_do_entity)', async () => {
    const { k, ep0 } = await rig({ write: false });
    const iiod = decodeFfsDescriptors(iiodDescriptors(1));
    // FS parses (1 interface naming string 5, endpoints 0x81 0x01); HS lacks its OUT endpoint
    const fs = iiod.fs!.map((d) => (d.type === 'interface' ? { ...d, iInterface: 5 } : d));
    await assert.rejects(k.write(ep0, encodeFfsDescriptors({ fs, hs: iiod.hs!.slice(0, 1) })), { code: 'EINVAL' });
    // iiod's blob matches the counts left behind, but strings_count is still 5: one string is too few
    assert.equal(await k.write(ep0, iiodDescriptors(1)), 105);
    await assert.rejects(k.write(ep0, IIOD_STRINGS), { code: 'EINVAL' });
    k.close(ep0);
    const reopened = await k.open(`${MNT}/ep0`, O_RDWR);
    // counts that disagree with the next blob refuse it (FS with one endpoint, then iiod's two)
    const under = iiodDescriptors(1);
    new DataView(under.buffer).setUint32(12, 2, true); // fs_count 2 of 3: FS is the interface and 0x81
    await assert.rejects(k.write(reopened, under), { code: 'EINVAL' });
    await assert.rejects(k.write(reopened, iiodDescriptors(1)), { code: 'EINVAL' });
    k.close(reopened);
    const fresh = await k.open(`${MNT}/ep0`, O_RDWR);
    assert.equal(await k.write(fresh, iiodDescriptors(1)), 105);
    assert.equal(await k.write(fresh, IIOD_STRINGS), 22);
    k.close(fresh);
  });

  test('no_disconnect: the last close deactivates (ep files go, the host stays connected); the next SET_CONFIGURATION resets and unbinds', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    const host = new TestHost();
    k.usb.udc.rootPort = host;
    await k.mkdir(G);
    await k.mkdir(`${G}/configs/c.1`);
    await k.mkdir(`${G}/functions/ffs.iio`);
    await k.symlink(`${G}/functions/ffs.iio`, `${G}/configs/c.1/ffs.iio`);
    await k.mkdir(MNT);
    await k.mount('iio', MNT, 'functionfs', 'no_disconnect=1');
    const r: Rig = { k, host, ep0: await k.open(`${MNT}/ep0`, O_RDWR) };
    await k.write(r.ep0, iiodDescriptors(1));
    await k.write(r.ep0, IIOD_STRINGS);
    await bind(r);
    await host.enumerate(false);
    k.close(r.ep0);
    assert.deepEqual((await k.readdir(MNT)).map((e) => e.name), ['ep0']);
    assert.equal(host.disconnects, 0);
    assert.equal(await k.readText(`${G}/UDC`), 'dummy_udc.0\n');
    // set_alt on a deactivated instance: ENODEV (a stall), and the reset work unbinds the gadget
    assert.equal(await host.setConfiguration(1), EPIPE);
    await settled(k);
    assert.equal(host.disconnects, 1);
    assert.equal(await k.readText(`${G}/UDC`), '\n');
    const ep0 = await k.open(`${MNT}/ep0`, O_RDWR);
    await assert.rejects(k.read(ep0, new Uint8Array(12)), { code: 'EBADFD' });
  });

  test('bind, enumeration, SET_CONFIGURATION: BIND then ENABLE; the host sees dummy\'s endpoint numbers and the IIO string', async () => {
    const r = await rig();
    const { k, host, ep0 } = r;
    await bind(r);
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_BIND]);
    const { device, config } = await host.enumerate(false);
    assert.equal(device[8]! | (device[9]! << 8), 0x1d6b);
    assert.equal(device[2]! | (device[3]! << 8), 0x0200);
    const endpoints = config.filter((d) => d.type === 'endpoint').map((d) => (d as { bEndpointAddress: number }).bEndpointAddress);
    assert.deepEqual(endpoints, [0x81, 0x02]); // autoconfig: ep1in-bulk, ep2out-bulk
    const intf = config.find((d) => d.type === 'interface') as { bInterfaceClass: number; iInterface: number; bInterfaceNumber: number };
    assert.equal(intf.bInterfaceClass, 2);
    const product = await host.descriptor(3, device[15]!, 255, 0x409);
    assert.equal(decodeStringDescriptor(product.data), 'iiojs test gadget');
    const iio = await host.descriptor(3, intf.iInterface, 255, 0x409);
    assert.equal(decodeStringDescriptor(iio.data), 'IIO');
    assert.equal((await host.descriptor(3, 9, 255, 0x409)).status, EPIPE); // no such string
    const qualifier = await host.descriptor(6, 0, 10);
    assert.deepEqual([...qualifier.data], [10, 6, 0x00, 0x02, 0, 0, 0, 64, 1, 0]);
    const other = await host.descriptor(7, 0, 255); // other speed: the full-speed descriptors
    assert.equal(other.data[1], 7);
    const asConfig = other.data.slice();
    asConfig[1] = 2; // parse it as the configuration it describes
    const fsEndpoints = parseDescriptors(asConfig);
    assert.deepEqual(fsEndpoints.filter((d) => d.type === 'endpoint').map((d) => (d as { wMaxPacketSize: number }).wMaxPacketSize), [64, 64]);
    assert.equal(await host.setConfiguration(1), 0);
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_ENABLE]);
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/state'), 'configured\n');
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/current_speed'), 'high-speed\n');
    assert.equal(await host.setConfiguration(7), EPIPE);
    assert.equal(k.ioctl(ep0, FUNCTIONFS_INTERFACE_REVMAP, 0), 0);
    assert.throws(() => k.ioctl(ep0, FUNCTIONFS_INTERFACE_REVMAP, 3), { code: 'EDOM' });
  });

  test('event coalescing: ENABLE drops an unread BIND; RESUME drops SUSPEND; unbind leaves SUSPEND, UNBIND (as Linux 6.12, test/fixtures/linux-6.12-usb.txt)', async () => {
    const r = await rig();
    const { k, host, ep0 } = r;
    await bind(r);
    await host.enumerate();
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_ENABLE]);
    k.usb.udc.suspend();
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_SUSPEND]);
    k.usb.udc.suspend();
    k.usb.udc.resume();
    k.usb.udc.suspend();
    k.usb.udc.resume();
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_RESUME]);
    await k.writeText(`${G}/UDC`, '\n');
    assert.equal(host.disconnects, 1);
    // the pull-up going off with the port awake is a suspend (dummy_hcd set_link_state), then the
    // disconnect queues DISABLE and UNBIND: UNBIND drops the unread DISABLE, keeps the SUSPEND
    assert.deepEqual(types(await readEvents(k, ep0)), [FUNCTIONFS_SUSPEND, FUNCTIONFS_UNBIND]);
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/state'), 'not attached\n');
  });

  test('vendor SETUP without data: wIndex remapped, ACKed by a read of non-zero length (usb.md §A1 step 4)', async () => {
    const r = await rig();
    const { k, host, ep0 } = r;
    await bind(r);
    await host.enumerate();
    await readEvents(k, ep0);
    const setup = { bRequestType: 0x41, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 };
    const urb = host.control(setup);
    const [event] = await readEvents(k, ep0);
    assert.equal(event!.type, FUNCTIONFS_SETUP);
    assert.deepEqual(event!.setup, setup);
    assert.equal(await k.poll(ep0, POLLIN | POLLOUT), POLLIN | POLLOUT);
    let acked = false;
    void urb.then(() => (acked = true));
    await settled(k);
    assert.equal(acked, false, 'the status stage waits for userspace');
    assert.equal(await k.read(ep0, new Uint8Array(1)), 0);
    assert.deepEqual(await urb, { status: 0, actual: 0, data: new Uint8Array(0) });
    // an interface that is not the function's: composite tries the only function, f_fs says -EDOM: a stall
    assert.equal((await host.control({ ...setup, wIndex: 5 })).status, EPIPE);
  });

  test('SETUP data stages: OUT data read from ep0, IN data written (short, then a ZLP-free end)', async () => {
    const r = await rig();
    const { k, host, ep0 } = r;
    await bind(r);
    await host.enumerate();
    await readEvents(k, ep0);
    const out = host.control({ bRequestType: 0x41, bRequest: 9, wValue: 0, wIndex: 0, wLength: 4 }, Uint8Array.of(1, 2, 3, 4));
    assert.equal((await readEvents(k, ep0))[0]!.setup.wLength, 4);
    const into = new Uint8Array(64);
    assert.equal(await k.read(ep0, into), 4);
    assert.deepEqual(into.subarray(0, 4), Uint8Array.of(1, 2, 3, 4));
    assert.equal((await out).status, 0);
    const inUrb = host.control({ bRequestType: 0xc1, bRequest: 8, wValue: 0, wIndex: 0, wLength: 8 });
    await readEvents(k, ep0);
    assert.equal(await k.write(ep0, Uint8Array.of(7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), 8); // clamped to wLength
    assert.deepEqual((await inUrb).data, Uint8Array.of(7, 8, 9, 10, 11, 12, 13, 14));
    const short = host.control({ bRequestType: 0xc1, bRequest: 8, wValue: 0, wIndex: 0, wLength: 8 });
    await readEvents(k, ep0);
    assert.equal(await k.write(ep0, Uint8Array.of(1, 2, 3)), 3);
    assert.deepEqual(await short, { status: 0, actual: 3, data: Uint8Array.of(1, 2, 3) });
  });

  test('the wrong direction stalls (EL2HLT, the host sees EPIPE); a superseded SETUP is EIDRM once', async () => {
    const r = await rig();
    const { k, host, ep0 } = r;
    await bind(r);
    await host.enumerate();
    await readEvents(k, ep0);
    const inUrb = host.control({ bRequestType: 0xc1, bRequest: 3, wValue: 0, wIndex: 0, wLength: 2 });
    await readEvents(k, ep0);
    await assert.rejects(k.read(ep0, new Uint8Array(12)), { code: 'EL2HLT' });
    assert.equal((await inUrb).status, EPIPE);
    const noData = host.control({ bRequestType: 0x41, bRequest: 0, wValue: 0, wIndex: 0, wLength: 0 });
    await readEvents(k, ep0);
    await assert.rejects(k.write(ep0, Uint8Array.of(1)), { code: 'EL2HLT' });
    assert.equal((await noData).status, EPIPE);
    // a SETUP read but not answered, then the next one: the first is cancelled
    const first = host.submit(0, new Uint8Array(0), { setup: { bRequestType: 0x41, bRequest: 1, wValue: 0, wIndex: 0, wLength: 0 } });
    await readEvents(k, ep0);
    host.device!.unlink(first.urb, -errnoOf('ENOENT')); // the host times out
    await first.done;
    const second = host.control({ bRequestType: 0x41, bRequest: 2, wValue: 0, wIndex: 0, wLength: 0 });
    await settled(k);
    await assert.rejects(k.read(ep0, new Uint8Array(12)), { code: 'EIDRM' });
    const [event] = await readEvents(k, ep0);
    assert.equal(event!.setup.bRequest, 2);
    assert.equal(await k.read(ep0, new Uint8Array(12)), 0);
    assert.equal((await second).status, 0);
  });
});

// ---- endpoint files --------------------------------------------------------------------------

describe('FunctionFS endpoint files and the dummy UDC transfer engine (usb.md §A1, §A4, §A5)', () => {
  async function configured(options: { sg?: boolean } = {}) {
    const r = await rig(options);
    await bind(r);
    await r.host.enumerate();
    await readEvents(r.k, r.ep0);
    const inFd = await r.k.open(`${MNT}/ep1`, O_WRONLY);
    const outFd = await r.k.open(`${MNT}/ep2`, O_RDONLY);
    return { ...r, inFd, outFd };
  }

  test('before ENABLE: O_NONBLOCK EAGAIN; a blocking read waits for the host to configure', async () => {
    const r = await rig();
    const out = await r.k.open(`${MNT}/ep2`, O_RDONLY | O_NONBLOCK);
    await assert.rejects(r.k.read(out, new Uint8Array(512)), { code: 'EAGAIN' });
    setNonblock(r.k, out, false);
    const pending = r.k.readBlocking(out, new Uint8Array(512));
    await bind(r);
    await r.host.enumerate();
    const sent = r.host.bulk(0x02, new Uint8Array([5, 6, 7]));
    assert.equal(await pending, 3);
    assert.equal((await sent).status, 0);
  });

  test('IN: a write longer than the URB continues in the next; a short end; 64 bytes or less complete at once (FIFO)', async () => {
    const r = await configured();
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const write = r.k.writeBlocking(r.inFd, data);
    const first = await r.host.bulk(0x81, new Uint8Array(512));
    assert.deepEqual(first, { status: 0, actual: 512, data: data.subarray(0, 512) });
    const second = await r.host.bulk(0x81, new Uint8Array(1024));
    assert.equal(second.actual, 488);
    assert.deepEqual(second.data, data.subarray(512));
    assert.equal(await write, 1000);
    // exactly one packet, no ZLP (FunctionFS never sets req->zero): the URB asks for more and waits
    const exact = r.k.writeBlocking(r.inFd, new Uint8Array(512).fill(1));
    const urb = r.host.bulk(0x81, new Uint8Array(2048));
    assert.equal(await exact, 512);
    let done = false;
    void urb.then(() => (done = true));
    await settled(r.k);
    assert.equal(done, false, 'no short packet ended the URB');
    // the emulated FIFO: 10 bytes complete before the host reads them
    assert.equal(await r.k.writeBlocking(r.inFd, new Uint8Array(10).fill(2)), 10);
    const rest = await urb;
    assert.equal(rest.actual, 522);
  });

  test('OUT: a short packet ends the read; the host\'s packet larger than the read is EOVERFLOW', async () => {
    const r = await configured();
    const read = r.k.readBlocking(r.outFd, new Uint8Array(4096));
    const sent = await r.host.bulk(0x02, new Uint8Array(100).fill(3));
    assert.equal(sent.actual, 100);
    assert.equal(await read, 100);
    const small = r.k.readBlocking(r.outFd, new Uint8Array(10));
    const big = await r.host.bulk(0x02, new Uint8Array(100));
    await assert.rejects(small, { code: 'EOVERFLOW' });
    assert.equal(big.status, 0);
    assert.equal(big.actual, 10); // dummy_hcd: the URB completes with what fitted
    // URB_ZERO_PACKET: 512 bytes then a ZLP end a 1024-byte read at 512
    const exact = r.k.readBlocking(r.outFd, new Uint8Array(1024));
    await r.host.bulk(0x02, new Uint8Array(512).fill(4), true);
    assert.equal(await exact, 512);
  });

  test('direction misuse halts (EBADMSG), the host sees EPIPE until CLEAR_HALT', async () => {
    const r = await configured();
    await assert.rejects(r.k.readBlocking(await r.k.open(`${MNT}/ep1`, O_RDONLY), new Uint8Array(8)), { code: 'EBADMSG' });
    assert.equal((await r.host.bulk(0x81, new Uint8Array(8))).status, EPIPE);
    assert.equal(r.k.ioctl(r.inFd, FUNCTIONFS_CLEAR_HALT), 0);
    const write = r.k.writeBlocking(r.inFd, Uint8Array.of(1, 2));
    assert.deepEqual((await r.host.bulk(0x81, new Uint8Array(8))).data, Uint8Array.of(1, 2));
    await write;
    const desc = new Uint8Array(9);
    assert.equal(r.k.ioctl(r.inFd, FUNCTIONFS_ENDPOINT_DESC, desc), 0);
    assert.deepEqual([...desc.subarray(0, 7)], [7, 5, 0x81, 2, 0x00, 0x02, 0]);
  });

  test('a signal dequeues a sleeping read (AbortError); close rejects with ECANCELED; disable is ESHUTDOWN', async () => {
    const r = await configured();
    const ac = new AbortController();
    const read = r.k.readBlocking(r.outFd, new Uint8Array(64), { signal: ac.signal });
    await settled(r.k);
    ac.abort();
    await assert.rejects(read, { name: 'AbortError' });
    // the request was dequeued: the next host packet goes to the next read
    const next = r.k.readBlocking(r.outFd, new Uint8Array(64));
    await r.host.bulk(0x02, Uint8Array.of(9));
    assert.equal(await next, 1);
    const other = await r.k.open(`${MNT}/ep2`, O_RDONLY);
    const orphan = r.k.readBlocking(other, new Uint8Array(64));
    await settled(r.k);
    r.k.close(other);
    await assert.rejects(orphan, { code: 'ECANCELED' });
    const shut = r.k.readBlocking(r.outFd, new Uint8Array(64));
    await settled(r.k);
    assert.equal(await r.host.setConfiguration(0), 0);
    await assert.rejects(shut, { code: 'ESHUTDOWN' });
    assert.deepEqual(types(await readEvents(r.k, r.ep0)), [FUNCTIONFS_DISABLE]);
    assert.equal((await r.host.bulk(0x02, new Uint8Array(8))).status, EPROTO); // no such endpoint now
  });

  test('realtime pacing: dummy_timer\'s budget per 125 µs tick bounds the rate (full speed: 1,216 B per tick, usb.md §A5)', async () => {
    const k = new SimKernel({ timeMode: 'realtime', usb: { speed: 'full' }, scenario: probeScenario });
    const r: Rig = { k, host: new TestHost(), ep0: -1 };
    k.usb.udc.rootPort = r.host;
    r.ep0 = await gadget(k);
    await bind(r);
    await r.host.enumerate();
    const inFd = await k.open(`${MNT}/ep1`, O_WRONLY);
    const size = 128 * 1024;
    const started = performance.now();
    const write = k.writeBlocking(inFd, new Uint8Array(size));
    const got = await r.host.bulk(0x81, new Uint8Array(size));
    const ms = performance.now() - started;
    assert.equal(got.actual, size);
    assert.equal(await write, size);
    // 1,216 bytes per 0.125 ms tick: at least 13.5 ms for 128 KiB (the bound allows scheduling slack only upwards)
    assert.ok(ms >= (size / 1216) * 0.125 * 0.95, `${size} bytes took ${ms.toFixed(1)} ms`);
  });

  test('a signal that comes after the request completed keeps its result (bytes read are never lost)', async () => {
    const r = await configured();
    const ac = new AbortController();
    const read = r.k.readBlocking(r.outFd, new Uint8Array(64), { signal: ac.signal });
    await settled(r.k);
    await r.host.bulk(0x02, Uint8Array.of(1, 2, 3));
    ac.abort();
    assert.equal(await read, 3);
  });

  test('unbinding the UDC disconnects the host: its URBs end -ESHUTDOWN, submits are refused', async () => {
    const r = await configured();
    const urb = r.host.bulk(0x81, new Uint8Array(64));
    await settled(r.k);
    const device = r.host.device!;
    await r.k.writeText(`${G}/UDC`, '\n');
    assert.equal((await urb).status, ESHUTDOWN);
    assert.throws(() => device.submit({ endpoint: 0x81 } as Urb), { code: 'ENODEV' });
  });
});

// ---- DMABUF ----------------------------------------------------------------------------------

describe('FunctionFS DMABUF import (usb.md §A4, kernel-abi.md §5.2)', () => {
  async function configured(options: { sg?: boolean; configure?: boolean } = {}) {
    const r = await rig(options);
    await bind(r);
    await r.host.enumerate(options.configure ?? true);
    const inFd = await r.k.open(`${MNT}/ep1`, O_RDWR);
    const outFd = await r.k.open(`${MNT}/ep2`, O_RDWR);
    const dmabuf = await heapBuffer(r.k, 16384);
    return { ...r, inFd, outFd, dmabuf };
  }

  test('sg=false: ATTACH is EPERM (stock dummy_hcd, usb.md §A5)', async () => {
    const r = await configured({ sg: false });
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf)), { code: 'EPERM' });
  });

  test('ATTACH before the gadget binds is EPERM; bad fds EBADF/EINVAL', async () => {
    const r = await rig();
    const ep1 = await r.k.open(`${MNT}/ep1`, O_RDWR);
    const dmabuf = await heapBuffer(r.k, 4096);
    assert.throws(() => r.k.ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, intArg(dmabuf)), { code: 'EPERM' });
    await bind(r);
    assert.throws(() => r.k.ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, intArg(999)), { code: 'EBADF' });
    assert.throws(() => r.k.ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, intArg(r.ep0)), { code: 'EINVAL' });
    assert.equal(r.k.ioctl(ep1, FUNCTIONFS_DMABUF_ATTACH, intArg(dmabuf)), 0);
  });

  test('TRANSFER errnos in order: flags, length 0 and > size, not attached, EAGAIN before ENABLE', async () => {
    const r = await configured({ configure: false });
    setNonblock(r.k, r.inFd, true);
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16, 1)), { code: 'EINVAL' });
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 0)), { code: 'EINVAL' });
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16385)), { code: 'EINVAL' });
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16)), { code: 'EPERM' });
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_DETACH, intArg(r.dmabuf)), { code: 'EPERM' });
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16)), { code: 'EAGAIN' });
  });

  test('an IN transfer returns at once; the host receives the buffer\'s bytes; its READ fence then signals', async () => {
    const r = await configured();
    const buf = dmaBufGet(r.k.context, r.dmabuf);
    const data = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7) & 0xff);
    buf.write(0, data);
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    assert.equal(r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 10000)), 0);
    assert.equal(buf.resv.pending(ResvUsage.READ).length, 1);
    assert.equal(buf.resv.pending(ResvUsage.WRITE).length, 0, 'an IN transfer adds a READ fence');
    assert.equal(await r.k.poll(r.dmabuf, POLLIN), POLLIN); // no writer
    const sync = exportSyncFile(r.k, r.dmabuf, DMA_BUF_SYNC_WRITE);
    const got = await r.host.bulk(0x81, new Uint8Array(16384));
    assert.equal(got.actual, 10000);
    assert.deepEqual(got.data, data.subarray(0, 10000));
    assert.equal(await r.k.poll(r.dmabuf, POLLOUT, { signal: AbortSignal.timeout(5000) }), POLLOUT);
    const info = syncFileInfo(r.k, sync);
    assert.equal(info.status, 1);
    assert.equal(info.fences[0]!.driver, 'functionfs');
  });

  test('an OUT transfer: host bytes land in the DMABUF; its WRITE fence makes a non-blocking IN transfer EBUSY', async () => {
    const r = await configured();
    const buf = dmaBufGet(r.k.context, r.dmabuf);
    r.k.ioctl(r.outFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    assert.equal(r.k.ioctl(r.outFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 4096)), 0);
    assert.equal(buf.resv.pending(ResvUsage.WRITE).length, 1, 'an OUT transfer adds a WRITE fence');
    setNonblock(r.k, r.inFd, true);
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16)), { code: 'EBUSY' });
    const payload = Uint8Array.from({ length: 4096 }, (_, i) => 255 - (i & 0xff));
    assert.equal((await r.host.bulk(0x02, payload)).status, 0);
    assert.equal(await r.k.poll(r.dmabuf, POLLIN, { signal: AbortSignal.timeout(5000) }), POLLIN);
    const landed = new Uint8Array(4096);
    buf.read(0, landed);
    assert.deepEqual(landed, payload);
    assert.equal(r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16)), 0);
  });

  test('fence errors: DETACH dequeues (-ECONNRESET); disable nukes (-ESHUTDOWN); close detaches all', async () => {
    const r = await configured();
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 4096));
    const first = exportSyncFile(r.k, r.dmabuf, DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE);
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_DETACH, intArg(r.dmabuf));
    assert.equal(syncFileInfo(r.k, first).status, ECONNRESET);
    const buf = dmaBufGet(r.k.context, r.dmabuf);
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 4096));
    const second = exportSyncFile(r.k, r.dmabuf, DMA_BUF_SYNC_WRITE);
    assert.equal(await r.host.setConfiguration(0), 0);
    assert.equal(syncFileInfo(r.k, second).status, ESHUTDOWN);
    setNonblock(r.k, r.inFd, true);
    assert.throws(() => r.k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16)), { code: 'EAGAIN' });
    assert.equal(buf.attachments.length, 1);
    r.k.close(r.inFd);
    await settled(r.k);
    assert.equal(buf.attachments.length, 0);
  });

  test('chaining with IIO: an IN transfer waits for the capture\'s WRITE fence; the next IIO enqueue waits for the READ fence', async () => {
    const r = await configured();
    const { k } = r;
    const dev = await k.open(VADC.dev, O_RDWR);
    const b0 = getBufferFd(k, dev, 0);
    await k.writeText(`${VADC.sys}/buffer0/in_voltage0_en`, '1');
    await k.writeText(`${VADC.sys}/buffer0/in_voltage1_en`, '1');
    attach(k, b0, r.dmabuf);
    k.ioctl(r.inFd, FUNCTIONFS_DMABUF_ATTACH, intArg(r.dmabuf));
    await k.writeText(`${VADC.sys}/buffer0/enable`, '1');
    enqueue(k, b0, r.dmabuf, 16384);
    const buf = dmaBufGet(k.context, r.dmabuf);
    assert.equal(buf.resv.pending(ResvUsage.WRITE).length, 1, 'the capture is in flight');
    // blocking TRANSFER: waits for IIO's WRITE fence, then queues
    assert.equal(k.ioctl(r.inFd, FUNCTIONFS_DMABUF_TRANSFER, transferArg(r.dmabuf, 16384)), 0);
    assert.equal(buf.resv.pending(ResvUsage.WRITE).length, 0);
    setNonblock(k, b0, true);
    assert.throws(() => enqueue(k, b0, r.dmabuf, 16384), { code: 'EBUSY' }); // FunctionFS's READ fence
    const got = await r.host.bulk(0x81, new Uint8Array(16384));
    assert.equal(got.actual, 16384);
    const words = new Uint16Array(got.data.buffer, got.data.byteOffset, 8192);
    const start = words[0]!;
    assert.ok(words.every((w, i) => w === ((start + i) & 0xffff)), 'the ramp arrived intact');
    await k.poll(r.dmabuf, POLLOUT, { signal: AbortSignal.timeout(5000) });
    assert.equal(enqueue(k, b0, r.dmabuf, 16384), 0);
  });
});

// ---- the sim's own host side -----------------------------------------------------------------

describe('the cable to the sim\'s host side (usbfs, sysfs)', () => {
  test('binding makes the host enumerate and configure: ENABLE arrives, /sys/bus/usb/devices/1-1 shows the gadget', async () => {
    const k = new SimKernel({ timeMode: 'fast' });
    const ep0 = await gadget(k, { pipes: 3 });
    await k.writeText(`${G}/UDC`, 'dummy_udc.0');
    const seen: number[] = [];
    while (!seen.includes(FUNCTIONFS_ENABLE)) seen.push(...types(await readEvents(k, ep0)));
    assert.equal(await k.readText('/sys/bus/usb/devices/1-1/idVendor'), '1d6b\n');
    assert.equal(await k.readText('/sys/bus/usb/devices/1-1:1.0/interface'), 'IIO\n');
    assert.deepEqual((await k.readdir('/sys/bus/usb/devices/1-1:1.0')).map((e) => e.name).filter((n) => n.startsWith('ep_')).sort(), ['ep_02', 'ep_07', 'ep_0c', 'ep_81', 'ep_86', 'ep_8b']);
  });

  test('at SuperSpeed the gadget answers bcdUSB 3.20 and a BOS; the host configures it with the SS descriptors', async () => {
    const k = new SimKernel({ timeMode: 'fast', usb: { speed: 'super' } });
    const ep0 = await gadget(k);
    await k.writeText(`${G}/UDC`, 'dummy_udc.0');
    const seen: number[] = [];
    while (!seen.includes(FUNCTIONFS_ENABLE)) seen.push(...types(await readEvents(k, ep0)));
    assert.equal(await k.readText('/sys/class/udc/dummy_udc.0/current_speed'), 'super-speed\n');
    assert.equal(await k.readText('/sys/bus/usb/devices/1-1/version'), ' 3.20\n');
    assert.equal(await k.readText('/sys/bus/usb/devices/1-1:1.0/ep_81/wMaxPacketSize'), '0400\n');
  });
});
