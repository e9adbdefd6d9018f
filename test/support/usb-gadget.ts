// The host side's view of a test gadget (usb.md §A1, §A2): the device usbcore enumerated under
// /sys/bus/usb/devices for a FunctionFS gadget (src/usb/configfs-gadget.ts) and its usbfs node,
// through the Kernel port only, so the same test runs on the simulated kernel and on the lab's
// dummy_hcd.
import { isSystemError } from '../../src/errors.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { createFfsGadget as createGadget, hex16, type FfsGadget as Gadget, type FfsGadgetOptions } from '../../src/usb/configfs-gadget.js';

export { IIOD_STRINGS, iiodDescriptorSet, iiodDescriptors } from '../../src/iiod/usb.js';
export { onlyUdc, type FfsGadgetOptions } from '../../src/usb/configfs-gadget.js';

const USB_DEVICES = '/sys/bus/usb/devices';

export interface FfsGadget extends Gadget {
  /** The device the host side enumerated for this gadget (by its ids), once it has. */
  hostDevice(timeoutMs?: number): Promise<UsbHostDevice>;
}

/** A gadget (src/usb/configfs-gadget.ts) that can also find itself on the host side. */
export async function createFfsGadget(kernel: KernelPort, options: FfsGadgetOptions): Promise<FfsGadget> {
  const gadget = await createGadget(kernel, options);
  return Object.assign(gadget, {
    hostDevice: (timeoutMs?: number) => findUsbDevice(kernel, { vendorId: options.vendorId, productId: options.productId, timeoutMs }),
  });
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

/** The enumerated, configured device with these ids whose usbfs node exists, or undefined. */
async function scanUsbDevices(kernel: KernelPort, vendorId: number, productId: number): Promise<UsbHostDevice | undefined> {
  for (const { name } of await kernel.readdir(USB_DEVICES)) {
    if (name.includes(':')) continue; // an interface (1-1:1.0), not a device
    const sysfs = `${USB_DEVICES}/${name}`;
    const vid = await readOptional(kernel, `${sysfs}/idVendor`);
    const pid = await readOptional(kernel, `${sysfs}/idProduct`);
    if (vid === undefined || pid === undefined || parseInt(vid, 16) !== vendorId || parseInt(pid, 16) !== productId) continue;
    // usbfs makes the node before the hub sets a configuration: claiming an interface then is ENOENT.
    if (((await readOptional(kernel, `${sysfs}/bConfigurationValue`)) ?? '') === '') continue;
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
