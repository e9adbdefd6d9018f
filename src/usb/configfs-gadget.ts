// A USB gadget with one FunctionFS function, made through the Kernel port only (configfs and a
// functionfs mount), as board init scripts make it (Pluto's S23udc, usb.md §A1): the configfs
// gadget with its ids and strings, configuration c.1, functions/ffs.NAME linked into it,
// FunctionFS mounted. Whoever writes the descriptors to ep0 does so before bind(). A gadget a
// crashed run left behind (same name, nothing holding its mount) is taken down first.
import { errnoOf, isSystemError, systemError } from '../errors.js';
import type { KernelPort } from '../kernel/port.js';

const GADGETS = '/sys/kernel/config/usb_gadget';
const UDCS = '/sys/class/udc';
const LANG_EN_US = '0x409';

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
  /**
   * Unbinds and removes everything in the reverse order of its making, going on past a failed
   * step (the first failure is thrown at the end). Files open on the mount must be closed first:
   * the kernel refuses to unmount a FunctionFS in use (EBUSY).
   */
  close(): Promise<void>;
}

/** A 16-bit USB id as configfs and lsusb write it (`0x1d6b`); RangeError for anything else. */
export function hex16(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`not a 16-bit id: ${n}`);
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/** The only UDC, as S23udc takes it (`ls /sys/class/udc`); several or none is an error. */
export async function onlyUdc(kernel: KernelPort): Promise<string> {
  let names: string[];
  try {
    names = (await kernel.readdir(UDCS)).map((e) => e.name);
  } catch (e) {
    if (!isSystemError(e, 'ENOENT')) throw e;
    names = [];
  }
  if (names.length !== 1) {
    throw systemError(errnoOf('ENODEV'), 'bind', UDCS, names.length === 0
      ? 'no USB device controller (UDC) here: this machine has no USB device port (or its driver is not loaded)'
      : `${names.length} UDCs (${names.join(', ')}): name the one to bind`);
  }
  return names[0]!;
}

/**
 * Takes down what a run that did not end cleanly left of gadget `name` and its FunctionFS
 * mount: EBUSY if a live process still holds the mount (it is serving, not stale).
 */
export async function removeStaleGadget(kernel: KernelPort, name: string, mountpoint: string): Promise<boolean> {
  const dir = `${GADGETS}/${name}`;
  const exists = async (path: string): Promise<boolean> => kernel.stat(path).then(() => true, (e: unknown) => {
    if (isSystemError(e, 'ENOENT')) return false;
    throw e;
  });
  let found = false;
  try {
    await kernel.umount(mountpoint);
    found = true;
  } catch (e) {
    if (isSystemError(e, 'EBUSY')) throw systemError(errnoOf('EBUSY'), 'umount', mountpoint, `FunctionFS at ${mountpoint} is in use: another process serves gadget ${name}`);
    if (!isSystemError(e, 'EINVAL', 'ENOENT')) throw e; // not mounted
  }
  if (await exists(mountpoint)) {
    await kernel.rmdir(mountpoint).catch(() => undefined); // a directory someone else made may stay
  }
  if (!(await exists(dir))) return found;
  if ((await kernel.readText(`${dir}/UDC`)).trim() !== '') await kernel.writeText(`${dir}/UDC`, '\n');
  const children = async (path: string): Promise<string[]> => (await kernel.readdir(path).catch(() => [])).map((e) => `${path}/${e.name}`);
  for (const config of await children(`${dir}/configs`)) {
    for (const entry of await kernel.readdir(config)) {
      if (entry.kind === 'symlink') await kernel.unlink(`${config}/${entry.name}`);
    }
    for (const lang of await children(`${config}/strings`)) await kernel.rmdir(lang);
    await kernel.rmdir(config);
  }
  for (const fn of await children(`${dir}/functions`)) await kernel.rmdir(fn);
  for (const lang of await children(`${dir}/strings`)) await kernel.rmdir(lang);
  await kernel.rmdir(dir);
  return true;
}

export async function createFfsGadget(kernel: KernelPort, options: FfsGadgetOptions): Promise<FfsGadget> {
  const dir = `${GADGETS}/${options.name}`;
  const functionName = options.functionName ?? options.name;
  const mountpoint = options.mountpoint ?? `/dev/ffs-${options.name}`;
  const config = `${dir}/configs/c.1`;
  const fn = `${dir}/functions/ffs.${functionName}`;
  const vendorId = hex16(options.vendorId);
  const productId = hex16(options.productId);
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
    udc = undefined;
    // FunctionFS unbinds the gadget itself when ep0 is closed (then writing UDC is ENODEV).
    if ((await kernel.readText(`${dir}/UDC`)).trim() !== '') await kernel.writeText(`${dir}/UDC`, '\n');
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
    await mkdir(dir).catch((e: unknown) => {
      if (!isSystemError(e, 'ENOENT')) throw e;
      throw systemError(errnoOf('ENOENT'), 'mkdir', dir, `no configfs USB gadgets here (${GADGETS}): load libcomposite and mount configfs on /sys/kernel/config`);
    });
    await kernel.writeText(`${dir}/idVendor`, vendorId);
    await kernel.writeText(`${dir}/idProduct`, productId);
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
    close,
  };
}
