// A USB gadget with one FunctionFS function, made through the Kernel port only (configfs and a
// functionfs mount), so the same test runs on the simulated kernel and on the lab's dummy_hcd;
// and the host side's view of it: the device usbcore enumerated under /sys/bus/usb/devices and
// its usbfs node. The gadget is set up as Pluto's S23udc does (usb.md §A1): configfs gadget,
// strings, config c.1, functions/ffs.NAME linked into it, FunctionFS mounted; whoever writes the
// descriptors to ep0 (iiod -F, or a test) does so before bind().
import { encodeFfsDescriptors, encodeFfsStrings, type FfsDescriptors } from '../../src/abi/functionfs.js';
import { USB_CLASS_COMM, USB_DIR_IN, USB_ENDPOINT_XFER_BULK, type UsbDescriptor } from '../../src/abi/usb.js';
import { isSystemError } from '../../src/errors.js';
import type { KernelPort } from '../../src/kernel/port.js';

const GADGETS = '/sys/kernel/config/usb_gadget';
const UDCS = '/sys/class/udc';
const USB_DEVICES = '/sys/bus/usb/devices';
const LANG_EN_US = '0x409';

/**
 * The descriptors iiod -F writes to ep0 for `pipes` pipes (usb.md §A1): one interface of class
 * COMM, then per pipe a bulk IN endpoint 0x81+p and an OUT one 0x01+p, at full, high and super
 * speed (64, 512, 1024 bytes; SS endpoints with a zeroed companion). Pipe p's files are
 * ep(2p+1) (IN) and ep(2p+2) (OUT).
 */
export function iiodDescriptorSet(pipes: number): FfsDescriptors {
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

/** iiod's descriptor blob for `pipes` pipes, as it writes it to ep0. */
export function iiodDescriptors(pipes: number): Uint8Array {
  return encodeFfsDescriptors(iiodDescriptorSet(pipes));
}

/** iiod's strings: en-US, the one string "IIO", the interface's name hosts look for (usb.md §A1, §A2). */
export const IIOD_STRINGS: Uint8Array = encodeFfsStrings({ langs: [{ lang: 0x0409, strings: ['IIO'] }] });

export interface FfsGadgetOptions {
  /** The gadget's configfs directory name. */
  name: string;
  vendorId: number;
  productId: number;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** The configuration's string (configs/c.1/strings/0x409/configuration). */
  configuration?: string;
  /** configs/c.1/MaxPower, in mA. */
  maxPower?: number;
  /** The ffs instance (functions/ffs.NAME), also the mount's source; default `name`. */
  functionName?: string;
  /** Where FunctionFS is mounted (created, and removed on close); default /dev/ffs-NAME. */
  mountpoint?: string;
}

export interface FfsGadget {
  /** The gadget's configfs directory. */
  readonly dir: string;
  /** The FunctionFS mount: ep0 and, once descriptors are written, ep1..epN. */
  readonly mountpoint: string;
  readonly functionName: string;
  /** The UDC bind() bound the gadget to, until unbind() or close(). */
  readonly udc: string | undefined;
  /** Binds the gadget to `udc` (default: the only entry of /sys/class/udc); returns its name. */
  bind(udc?: string): Promise<string>;
  unbind(): Promise<void>;
  /** The device the host side enumerated for this gadget (by its ids), once it has. */
  hostDevice(timeoutMs?: number): Promise<UsbHostDevice>;
  /**
   * Unbinds and removes everything in the reverse order of its making, going on past a failed
   * step (the first failure is thrown at the end). Files open on the mount must be closed first:
   * the kernel refuses to unmount a FunctionFS in use (EBUSY).
   */
  close(): Promise<void>;
}

function hex16(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`not a 16-bit id: ${n}`);
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/** The only UDC, as S23udc takes it (`ls /sys/class/udc`); several or none is an error. */
export async function onlyUdc(kernel: KernelPort): Promise<string> {
  const names = (await kernel.readdir(UDCS)).map((e) => e.name);
  if (names.length !== 1) throw new Error(`${UDCS} has ${names.length} entries (${names.join(', ')}): name the UDC to bind`);
  return names[0]!;
}

export async function createFfsGadget(kernel: KernelPort, options: FfsGadgetOptions): Promise<FfsGadget> {
  const dir = `${GADGETS}/${options.name}`;
  const functionName = options.functionName ?? options.name;
  const mountpoint = options.mountpoint ?? `/dev/ffs-${options.name}`;
  const config = `${dir}/configs/c.1`;
  const fn = `${dir}/functions/ffs.${functionName}`;
  // Each step that made something pushes how to undo it; close() runs them last-first.
  const undo: Array<() => Promise<void>> = [];
  let udc: string | undefined;

  const mkdir = async (path: string): Promise<void> => {
    await kernel.mkdir(path);
    undo.push(() => kernel.rmdir(path));
  };
  const strings = async (at: string, values: Record<string, string | undefined>): Promise<void> => {
    await mkdir(`${at}/strings/${LANG_EN_US}`);
    for (const [file, value] of Object.entries(values)) {
      if (value !== undefined) await kernel.writeText(`${at}/strings/${LANG_EN_US}/${file}`, value);
    }
  };

  const unbind = async (): Promise<void> => {
    if (udc === undefined) return;
    // FunctionFS unbinds the gadget itself when ep0 is closed (then writing UDC is ENODEV).
    if ((await kernel.readText(`${dir}/UDC`)).trim() !== '') await kernel.writeText(`${dir}/UDC`, '\n');
    udc = undefined;
  };

  const close = async (): Promise<void> => {
    const failures: unknown[] = [];
    try {
      await unbind();
    } catch (e) {
      failures.push(e);
    }
    while (undo.length > 0) {
      try {
        await undo.pop()!();
      } catch (e) {
        failures.push(e);
      }
    }
    if (failures.length > 0) throw failures[0];
  };

  try {
    await mkdir(dir);
    await kernel.writeText(`${dir}/idVendor`, hex16(options.vendorId));
    await kernel.writeText(`${dir}/idProduct`, hex16(options.productId));
    await strings(dir, { manufacturer: options.manufacturer, product: options.product, serialnumber: options.serialNumber });
    await mkdir(config);
    await strings(config, { configuration: options.configuration });
    if (options.maxPower !== undefined) await kernel.writeText(`${config}/MaxPower`, String(options.maxPower));
    await mkdir(fn);
    await kernel.symlink(fn, `${config}/ffs.${functionName}`);
    undo.push(() => kernel.unlink(`${config}/ffs.${functionName}`));
    await mkdir(mountpoint);
    await kernel.mount(functionName, mountpoint, 'functionfs');
    undo.push(() => kernel.umount(mountpoint));
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }

  return {
    dir,
    mountpoint,
    functionName,
    get udc() {
      return udc;
    },
    async bind(name?: string): Promise<string> {
      const target = name ?? (await onlyUdc(kernel));
      await kernel.writeText(`${dir}/UDC`, target);
      udc = target;
      return target;
    },
    unbind,
    hostDevice: (timeoutMs?: number) => findUsbDevice(kernel, { vendorId: options.vendorId, productId: options.productId, timeoutMs }),
    close,
  };
}

/** A device as the host side enumerated it. */
export interface UsbHostDevice {
  /** Its directory under /sys/bus/usb/devices, e.g. /sys/bus/usb/devices/1-1. */
  sysfs: string;
  busnum: number;
  devnum: number;
  /** The usbfs node, /dev/bus/usb/BBB/DDD. */
  usbfs: string;
}

export interface FindUsbDeviceOptions {
  vendorId: number;
  productId: number;
  /** How long enumeration may take (default 10 s: TCG guests are slow). */
  timeoutMs?: number;
}

async function readOptional(kernel: KernelPort, path: string): Promise<string | undefined> {
  try {
    return (await kernel.readText(path)).trim();
  } catch (e) {
    // A device appearing or going away mid-scan: its attributes come and go with it.
    if (isSystemError(e, 'ENOENT', 'ENODEV')) return undefined;
    throw e;
  }
}

/** The enumerated device with these ids whose usbfs node exists, or undefined. */
async function scanUsbDevices(kernel: KernelPort, vendorId: number, productId: number): Promise<UsbHostDevice | undefined> {
  for (const { name } of await kernel.readdir(USB_DEVICES)) {
    if (name.includes(':')) continue; // an interface (1-1:1.0), not a device
    const sysfs = `${USB_DEVICES}/${name}`;
    const vid = await readOptional(kernel, `${sysfs}/idVendor`);
    const pid = await readOptional(kernel, `${sysfs}/idProduct`);
    if (vid === undefined || pid === undefined || parseInt(vid, 16) !== vendorId || parseInt(pid, 16) !== productId) continue;
    const busnum = Number(await readOptional(kernel, `${sysfs}/busnum`));
    const devnum = Number(await readOptional(kernel, `${sysfs}/devnum`));
    if (!(busnum > 0 && devnum > 0)) continue;
    const usbfs = `/dev/bus/usb/${String(busnum).padStart(3, '0')}/${String(devnum).padStart(3, '0')}`;
    try {
      await kernel.stat(usbfs);
    } catch (e) {
      if (isSystemError(e, 'ENOENT')) continue; // sysfs first, the node a moment later
      throw e;
    }
    return { sysfs, busnum, devnum, usbfs };
  }
  return undefined;
}

/** Polls `check` every 50 ms until it gives a value, for at most `timeoutMs`. */
async function pollUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what()} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ids = (o: FindUsbDeviceOptions): string => `${hex16(o.vendorId)}:${hex16(o.productId)}`;

/**
 * Waits for the host side to enumerate the device with these ids, polling sysfs (a new USB
 * device raises nothing a test can wait on through the port) until it and its usbfs node exist.
 */
export function findUsbDevice(kernel: KernelPort, options: FindUsbDeviceOptions): Promise<UsbHostDevice> {
  return pollUntil(() => scanUsbDevices(kernel, options.vendorId, options.productId), options.timeoutMs ?? 10_000,
    () => `no USB device ${ids(options)} under ${USB_DEVICES}`);
}

/** Waits until no device with these ids is enumerated (after an unbind: the host side's disconnect). */
export async function usbDeviceGone(kernel: KernelPort, options: FindUsbDeviceOptions): Promise<void> {
  await pollUntil(async () => ((await scanUsbDevices(kernel, options.vendorId, options.productId)) === undefined ? true : undefined),
    options.timeoutMs ?? 10_000, () => `USB device ${ids(options)} still under ${USB_DEVICES}`);
}

/**
 * Waits until the gadget's FunctionFS has `count` endpoint files (ep1..epN): FunctionFS makes
 * them once another process (iiod -F) has written both blobs to ep0, so that is when to bind.
 */
export async function endpointFiles(kernel: KernelPort, gadget: FfsGadget, count: number, timeoutMs = 10_000): Promise<void> {
  const wanted = Array.from({ length: count }, (_, i) => `ep${i + 1}`);
  await pollUntil(async () => {
    const names = new Set((await kernel.readdir(gadget.mountpoint)).map((e) => e.name));
    return wanted.every((n) => names.has(n)) ? true : undefined;
  }, timeoutMs, () => `${gadget.mountpoint} has not got ${wanted.join(', ')}`);
}
