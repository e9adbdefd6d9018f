// What a USB device and its interfaces show in sysfs (drivers/usb/core/sysfs.c, endpoint.c),
// formatted as Linux prints them: the device directory with its descriptor fields, the active
// configuration's fields (empty while unconfigured), the cached strings (absent when the device
// has none), the binary `descriptors` (the device descriptor, then each configuration's raw
// descriptors) and ep_00; each interface directory N-path:C.I with its fields, its string and its
// endpoints ep_XX; the /sys/bus/usb/devices links; `driver` links while a driver holds it.
// Not modelled: power/, remove, avoid_reset_quirk, port directories; `authorized` is read-only.
import type { UsbEndpointDescriptor } from '../../../../abi/usb.js';
import { USB_ENDPOINT_DIR_MASK, USB_ENDPOINT_XFERTYPE_MASK } from '../../../../abi/usb.js';
import { kerr } from '../../errno.js';
import type { Vfs } from '../../vfs.js';
import type { UsbSpeed } from '../link.js';
import type { UsbBus } from './bus.js';
import type { HostInterface } from './config.js';
import { maxPowerMa } from './config.js';
import type { UsbDevice } from './device.js';

/** The usb_device major. */
export const USB_DEVICE_MAJOR = 189;

const hex = (value: number, width: number) => value.toString(16).padStart(width, '0');
const HEX = (value: number, width: number) => hex(value, width).toUpperCase();

/** Where a device's directory is: the root hub below the controller, a device below its hub. */
export function deviceDir(bus: UsbBus, dev: UsbDevice): string {
  const root = `${bus.controllerDir}/usb${bus.busnum}`;
  return dev.isRootHub ? root : `${root}/${dev.name}`;
}

/** /dev/bus/usb/BBB/DDD. */
export function devNodePath(dev: UsbDevice): string {
  return `/dev/bus/usb/${String(dev.busnum).padStart(3, '0')}/${String(dev.devnum).padStart(3, '0')}`;
}

/** The sysfs path `from` (a link) must hold to reach `to`, both absolute. */
function relative(from: string, to: string): string {
  const a = from.split('/').filter(Boolean).slice(0, -1);
  const b = to.split('/').filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}

function link(vfs: Vfs, path: string, target: string): void {
  vfs.symlink(path, relative(path, target));
}

function readOnly(vfs: Vfs, path: string, show: () => string): void {
  vfs.attr(path, { mode: 0o444, show });
}

const speedText: Record<UsbSpeed, string> = { full: '12', high: '480', super: '5000' };

/** usb_decode_interval, then "%d%cs" in µs or ms. */
function intervalText(ep: UsbEndpointDescriptor, speed: UsbSpeed): string {
  const type = ep.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK;
  const fast = speed !== 'full';
  let interval = 0;
  if (type === 0 && speed === 'high') interval = ep.bInterval;
  else if (type === 1) interval = 1 << (ep.bInterval - 1);
  else if (type === 2 && speed === 'high' && (ep.bEndpointAddress & USB_ENDPOINT_DIR_MASK) === 0) interval = ep.bInterval;
  else if (type === 3) interval = fast ? 1 << (ep.bInterval - 1) : ep.bInterval;
  interval *= fast ? 125 : 1000;
  return interval % 1000 !== 0 ? `${interval}us\n` : `${interval / 1000}ms\n`;
}

const endpointDir = (parent: string, ep: UsbEndpointDescriptor) => `${parent}/ep_${hex(ep.bEndpointAddress, 2)}`;

/** An ep_XX directory (usb_create_ep_devs). */
function installEndpoint(vfs: Vfs, parent: string, ep: UsbEndpointDescriptor, speed: UsbSpeed): void {
  const dir = endpointDir(parent, ep);
  const type = ep.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK;
  readOnly(vfs, `${dir}/bLength`, () => `${hex(ep.audio === undefined ? 7 : 9, 2)}\n`);
  readOnly(vfs, `${dir}/bEndpointAddress`, () => `${hex(ep.bEndpointAddress, 2)}\n`);
  readOnly(vfs, `${dir}/bmAttributes`, () => `${hex(ep.bmAttributes, 2)}\n`);
  readOnly(vfs, `${dir}/bInterval`, () => `${hex(ep.bInterval, 2)}\n`);
  readOnly(vfs, `${dir}/wMaxPacketSize`, () => `${hex(ep.wMaxPacketSize & 0x7ff, 4)}\n`);
  readOnly(vfs, `${dir}/interval`, () => intervalText(ep, speed));
  readOnly(vfs, `${dir}/type`, () => `${['Control', 'Isoc', 'Bulk', 'Interrupt'][type]}\n`);
  readOnly(vfs, `${dir}/direction`, () => (type === 0 ? 'both\n' : ep.bEndpointAddress & USB_ENDPOINT_DIR_MASK ? 'in\n' : 'out\n'));
  vfs.attr(`${dir}/uevent`, { mode: 0o644, show: () => 'DEVTYPE=usb_endpoint\n', store: () => undefined });
}

/** The ep_XX directories of an altsetting's endpoints. */
export function installEndpointDirs(vfs: Vfs, parent: string, eps: readonly UsbEndpointDescriptor[], speed: UsbSpeed): void {
  for (const ep of eps) installEndpoint(vfs, parent, ep, speed);
}

export function removeEndpointDirs(vfs: Vfs, parent: string, eps: readonly UsbEndpointDescriptor[]): void {
  for (const ep of eps) vfs.remove(endpointDir(parent, ep));
}

function descriptorsBytes(dev: UsbDevice): Uint8Array {
  const parts = [dev.rawDescriptor, ...dev.configs.map((c) => c.raw)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function productLine(dev: UsbDevice): string {
  const d = dev.descriptor!;
  return `PRODUCT=${d.idVendor.toString(16)}/${d.idProduct.toString(16)}/${d.bcdDevice.toString(16)}\n` +
    `TYPE=${d.bDeviceClass}/${d.bDeviceSubClass}/${d.bDeviceProtocol}\n`;
}

/** The device's directory, its /dev node and its bus link (device_add of a usb_device). */
export function registerDeviceSysfs(bus: UsbBus, dev: UsbDevice, setConfiguration: (value: number) => void): void {
  const vfs = bus.ctx.vfs;
  const dir = deviceDir(bus, dev);
  const d = dev.descriptor!;
  const act = <T>(show: (c: NonNullable<UsbDevice['actconfig']>) => T) => () => (dev.actconfig === undefined ? '' : `${show(dev.actconfig)}\n`);
  vfs.mkdir(dir);
  readOnly(vfs, `${dir}/configuration`, () => (dev.actconfig?.string === undefined ? '' : `${dev.actconfig.string}\n`));
  readOnly(vfs, `${dir}/bNumInterfaces`, act((c) => String(c.desc.bNumInterfaces).padStart(2)));
  vfs.attr(`${dir}/bConfigurationValue`, {
    mode: 0o644,
    show: act((c) => c.desc.bConfigurationValue),
    store: (text) => {
      const value = /^\s*([+-]?\d+)/.exec(text);
      const n = value === null ? NaN : Number(value[1]);
      if (!(n >= -1 && n <= 255)) throw kerr('EINVAL', `bConfigurationValue: ${JSON.stringify(text)}`);
      setConfiguration(n);
    },
  });
  readOnly(vfs, `${dir}/bmAttributes`, act((c) => hex(c.desc.bmAttributes, 1).padStart(2)));
  readOnly(vfs, `${dir}/bMaxPower`, act((c) => `${maxPowerMa(c, dev.speed === 'super')}mA`));
  readOnly(vfs, `${dir}/urbnum`, () => `${dev.pipe.urbnum}\n`);
  readOnly(vfs, `${dir}/idVendor`, () => `${hex(d.idVendor, 4)}\n`);
  readOnly(vfs, `${dir}/idProduct`, () => `${hex(d.idProduct, 4)}\n`);
  readOnly(vfs, `${dir}/bcdDevice`, () => `${hex(d.bcdDevice, 4)}\n`);
  readOnly(vfs, `${dir}/bDeviceClass`, () => `${hex(d.bDeviceClass, 2)}\n`);
  readOnly(vfs, `${dir}/bDeviceSubClass`, () => `${hex(d.bDeviceSubClass, 2)}\n`);
  readOnly(vfs, `${dir}/bDeviceProtocol`, () => `${hex(d.bDeviceProtocol, 2)}\n`);
  readOnly(vfs, `${dir}/bNumConfigurations`, () => `${d.bNumConfigurations}\n`);
  readOnly(vfs, `${dir}/bMaxPacketSize0`, () => `${d.bMaxPacketSize0}\n`);
  readOnly(vfs, `${dir}/speed`, () => `${speedText[dev.speed]}\n`);
  readOnly(vfs, `${dir}/rx_lanes`, () => '1\n');
  readOnly(vfs, `${dir}/tx_lanes`, () => '1\n');
  readOnly(vfs, `${dir}/busnum`, () => `${dev.busnum}\n`);
  readOnly(vfs, `${dir}/devnum`, () => `${dev.devnum}\n`);
  readOnly(vfs, `${dir}/devpath`, () => `${dev.devpath}\n`);
  readOnly(vfs, `${dir}/version`, () => `${(d.bcdUSB >> 8).toString(16).padStart(2)}.${hex(d.bcdUSB & 0xff, 2)}\n`);
  readOnly(vfs, `${dir}/maxchild`, () => (dev.isRootHub ? '1\n' : '0\n'));
  readOnly(vfs, `${dir}/quirks`, () => '0x0\n');
  readOnly(vfs, `${dir}/authorized`, () => '1\n');
  readOnly(vfs, `${dir}/ltm_capable`, () => 'no\n');
  for (const [name, text] of [['manufacturer', dev.manufacturer], ['product', dev.product], ['serial', dev.serial]] as const) {
    if (text !== undefined) readOnly(vfs, `${dir}/${name}`, () => `${text}\n`);
  }
  vfs.attr(`${dir}/descriptors`, { mode: 0o444, bytes: () => descriptorsBytes(dev) });
  if (dev.bos !== undefined) vfs.attr(`${dir}/bos_descriptors`, { mode: 0o444, bytes: () => dev.bos! });
  const minor = (dev.busnum - 1) * 128 + (dev.devnum - 1);
  readOnly(vfs, `${dir}/dev`, () => `${USB_DEVICE_MAJOR}:${minor}\n`);
  const devname = devNodePath(dev).slice('/dev/'.length);
  const uevent = () =>
    `MAJOR=${USB_DEVICE_MAJOR}\nMINOR=${minor}\nDEVNAME=${devname}\nDEVTYPE=usb_device\n` +
    (dev.driver === undefined ? '' : `DRIVER=${dev.driver}\n`) + productLine(dev) +
    `BUSNUM=${String(dev.busnum).padStart(3, '0')}\nDEVNUM=${String(dev.devnum).padStart(3, '0')}\n`;
  vfs.attr(`${dir}/uevent`, { mode: 0o644, show: uevent, store: () => undefined });
  link(vfs, `${dir}/subsystem`, '/sys/bus/usb');
  if (dev.isRootHub) {
    readOnly(vfs, `${dir}/authorized_default`, () => '1\n');
    readOnly(vfs, `${dir}/interface_authorized_default`, () => '1\n');
  }
  installEndpoint(vfs, dir, dev.ep0, dev.speed);
  link(vfs, `/sys/bus/usb/devices/${dev.name}`, dir);
  bus.uevent({ action: 'add', devtype: 'usb_device', devpath: dir.slice('/sys'.length), devname });
}

/** Sets or removes a directory's `driver` link (a driver bound or released). */
export function setDriverLink(vfs: Vfs, dir: string, driver: string | undefined): void {
  vfs.remove(`${dir}/driver`);
  if (driver !== undefined) link(vfs, `${dir}/driver`, `/sys/bus/usb/drivers/${driver}`);
}

export function interfaceDir(bus: UsbBus, dev: UsbDevice, intf: HostInterface): string {
  return `${deviceDir(bus, dev)}/${dev.interfaceName(intf)}`;
}

/** An interface's directory and bus link (device_add of a usb_interface, usb_create_sysfs_intf_files). */
export function registerInterfaceSysfs(bus: UsbBus, dev: UsbDevice, intf: HostInterface): void {
  const vfs = bus.ctx.vfs;
  const dir = interfaceDir(bus, dev, intf);
  const alt = () => intf.current.desc;
  const d = dev.descriptor!;
  vfs.mkdir(dir);
  readOnly(vfs, `${dir}/bInterfaceNumber`, () => `${hex(alt().bInterfaceNumber, 2)}\n`);
  readOnly(vfs, `${dir}/bAlternateSetting`, () => `${String(alt().bAlternateSetting).padStart(2)}\n`);
  readOnly(vfs, `${dir}/bNumEndpoints`, () => `${hex(intf.current.endpoints.length, 2)}\n`);
  readOnly(vfs, `${dir}/bInterfaceClass`, () => `${hex(alt().bInterfaceClass, 2)}\n`);
  readOnly(vfs, `${dir}/bInterfaceSubClass`, () => `${hex(alt().bInterfaceSubClass, 2)}\n`);
  readOnly(vfs, `${dir}/bInterfaceProtocol`, () => `${hex(alt().bInterfaceProtocol, 2)}\n`);
  const modalias = () =>
    `usb:v${HEX(d.idVendor, 4)}p${HEX(d.idProduct, 4)}d${HEX(d.bcdDevice, 4)}dc${HEX(d.bDeviceClass, 2)}` +
    `dsc${HEX(d.bDeviceSubClass, 2)}dp${HEX(d.bDeviceProtocol, 2)}ic${HEX(alt().bInterfaceClass, 2)}` +
    `isc${HEX(alt().bInterfaceSubClass, 2)}ip${HEX(alt().bInterfaceProtocol, 2)}in${HEX(alt().bInterfaceNumber, 2)}`;
  readOnly(vfs, `${dir}/modalias`, () => `${modalias()}\n`);
  readOnly(vfs, `${dir}/supports_autosuspend`, () => '1\n');
  readOnly(vfs, `${dir}/authorized`, () => '1\n');
  if (intf.current.string !== undefined) readOnly(vfs, `${dir}/interface`, () => `${intf.current.string}\n`);
  const uevent = () => {
    const driver = dev.claimedBy(intf)?.driverName;
    return `DEVTYPE=usb_interface\n${driver === undefined ? '' : `DRIVER=${driver}\n`}${productLine(dev)}` +
      `INTERFACE=${alt().bInterfaceClass}/${alt().bInterfaceSubClass}/${alt().bInterfaceProtocol}\nMODALIAS=${modalias()}\n`;
  };
  vfs.attr(`${dir}/uevent`, { mode: 0o644, show: uevent, store: () => undefined });
  link(vfs, `${dir}/subsystem`, '/sys/bus/usb');
  installEndpointDirs(vfs, dir, intf.current.endpoints, dev.speed);
  setDriverLink(vfs, dir, dev.claimedBy(intf)?.driverName);
  link(vfs, `/sys/bus/usb/devices/${dev.interfaceName(intf)}`, dir);
  bus.uevent({ action: 'add', devtype: 'usb_interface', devpath: dir.slice('/sys'.length) });
}

/** Removes an interface's directory and link (device_del), announcing it. */
export function removeInterfaceSysfs(bus: UsbBus, dev: UsbDevice, intf: HostInterface): void {
  const dir = interfaceDir(bus, dev, intf);
  bus.ctx.vfs.remove(`/sys/bus/usb/devices/${dev.interfaceName(intf)}`);
  bus.ctx.vfs.remove(dir);
  bus.uevent({ action: 'remove', devtype: 'usb_interface', devpath: dir.slice('/sys'.length) });
}

/** Removes the device's directory and link, announcing it. */
export function removeDeviceSysfs(bus: UsbBus, dev: UsbDevice): void {
  const dir = deviceDir(bus, dev);
  const vfs = bus.ctx.vfs;
  vfs.remove(`/sys/bus/usb/devices/${dev.name}`);
  vfs.remove(dir);
  bus.uevent({ action: 'remove', devtype: 'usb_device', devpath: dir.slice('/sys'.length), devname: devNodePath(dev).slice('/dev/'.length) });
}
