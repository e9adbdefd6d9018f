// usbcore's device lifecycle on one bus (usb.c, message.c, hub.c usb_disconnect): a device is
// registered (sysfs, /dev node, uevent; the generic "usb" driver binds), configured
// (usb_set_configuration: the old interfaces go — their URBs flushed with -ESHUTDOWN, their
// claims dropped — SET_CONFIGURATION, then the new interfaces appear), its altsettings changed
// (usb_set_interface), and disconnected (state NOTATTACHED first, so usbfs answers ENODEV; URBs
// given back with -ESHUTDOWN; interfaces, then the device, removed; open usbfs files told).
import {
  USB_RECIP_ENDPOINT,
  USB_RECIP_INTERFACE,
  USB_REQ_CLEAR_FEATURE,
  USB_REQ_SET_ADDRESS,
  USB_REQ_SET_CONFIGURATION,
  USB_REQ_SET_INTERFACE,
  USB_ENDPOINT_HALT,
  type UsbCtrlRequest,
} from '../../../../abi/usb.js';
import { errnoOf } from '../../../../errors.js';
import { kerr } from '../../errno.js';
import type { SimFile } from '../../file.js';
import type { UsbBus } from './bus.js';
import type { HostConfig, HostInterface } from './config.js';
import type { UsbDevice } from './device.js';
import { controlMessage, controlUrb, statusError, USB_CTRL_TIMEOUT_MS, waitUrbSync } from './message.js';
import {
  devNodePath,
  interfaceDir,
  registerDeviceSysfs,
  registerInterfaceSysfs,
  removeDeviceSysfs,
  removeEndpointDirs,
  installEndpointDirs,
  removeInterfaceSysfs,
  setDriverLink,
} from './sysfs.js';

const ESHUTDOWN = -errnoOf('ESHUTDOWN');
const EPIPE = -errnoOf('EPIPE');

/** The drivers a device's interfaces can be bound to (/sys/bus/usb/drivers). */
export const USB_DRIVERS = ['usb', 'hub', 'usbfs'] as const;

export class UsbCore {
  constructor(
    readonly bus: UsbBus,
    private readonly openUsbfs: (dev: UsbDevice, flags: number) => SimFile,
  ) {
    for (const driver of USB_DRIVERS) bus.ctx.vfs.mkdir(`/sys/bus/usb/drivers/${driver}`);
    bus.ctx.vfs.mkdir('/sys/bus/usb/devices');
  }

  /** usb_new_device's device_add, and the generic driver's bind. */
  register(dev: UsbDevice): void {
    dev.driver = 'usb';
    registerDeviceSysfs(this.bus, dev, (value) => this.setConfigurationSync(dev, value));
    this.bus.ctx.vfs.chardev(devNodePath(dev), (flags) => this.openUsbfs(dev, flags), 0o664);
  }

  /** The configuration `value` names (-1: none); EINVAL for a value the device lacks. */
  #find(dev: UsbDevice, value: number): HostConfig | undefined {
    if (value === -1) return undefined;
    const cp = dev.configs.find((c) => c.desc.bConfigurationValue === value);
    if (cp === undefined && value !== 0) throw kerr('EINVAL', `${dev.name} has no configuration ${value}`);
    return cp;
  }

  #setConfigurationRequest(cp: HostConfig | undefined): UsbCtrlRequest {
    return { bRequestType: 0, bRequest: USB_REQ_SET_CONFIGURATION, wValue: cp?.desc.bConfigurationValue ?? 0, wIndex: 0, wLength: 0 };
  }

  /** usb_set_configuration from the hub thread (the generic driver's probe). */
  async setConfiguration(dev: UsbDevice, value: number): Promise<void> {
    const cp = this.#find(dev, value);
    this.#disableInterfaces(dev);
    try {
      await controlMessage(dev.pipe, this.bus.ctx.scheduler, this.#setConfigurationRequest(cp));
    } catch (e) {
      if (dev.state !== 'notattached') dev.state = 'address';
      throw e;
    }
    if (dev.state === 'notattached') throw kerr('ENODEV'); // disconnected as the answer came
    this.install(dev, cp);
  }

  /** usb_set_configuration from a syscall (usbfs SETCONFIGURATION, sysfs bConfigurationValue): blocks. */
  setConfigurationSync(dev: UsbDevice, value: number): void {
    if (dev.state === 'notattached') throw kerr('ENODEV');
    const cp = this.#find(dev, value);
    this.#disableInterfaces(dev);
    const status = waitUrbSync(dev.pipe, this.bus.ctx.scheduler, controlUrb(this.#setConfigurationRequest(cp)), USB_CTRL_TIMEOUT_MS);
    if (status < 0) {
      dev.state = 'address';
      throw statusError(status, `SET_CONFIGURATION ${value}`);
    }
    this.install(dev, cp);
  }

  /** usb_disable_device(dev, 1): the interfaces go, their URBs flushed and their claims dropped. */
  #disableInterfaces(dev: UsbDevice): void {
    dev.pipe.flush(ESHUTDOWN, (endpoint) => (endpoint & 0x0f) !== 0);
    for (const intf of dev.actconfig?.interfaces ?? []) removeInterfaceSysfs(this.bus, dev, intf);
    dev.releaseAll();
    if (dev.actconfig !== undefined) dev.state = 'address';
    dev.actconfig = undefined;
  }

  /** What an accepted SET_CONFIGURATION installs: the state, altsettings 0 and the interfaces. */
  install(dev: UsbDevice, cp: HostConfig | undefined): void {
    dev.actconfig = cp;
    if (cp === undefined) return;
    dev.state = 'configured';
    for (const intf of cp.interfaces) intf.current = intf.altsettings.find((a) => a.desc.bAlternateSetting === 0) ?? intf.altsettings[0]!;
    for (const intf of cp.interfaces) {
      // the root hub's interface is the hub driver's; other interfaces here have no kernel driver
      if (dev.isRootHub) dev.claim(intf, { driverName: 'hub' });
      registerInterfaceSysfs(this.bus, dev, intf);
    }
  }

  /** usb_set_interface: SET_INTERFACE (a stall from a one-altsetting interface is fine), then its endpoints change. */
  setInterfaceSync(dev: UsbDevice, intf: HostInterface, altsetting: number): void {
    const alt = intf.altsettings.find((a) => a.desc.bAlternateSetting === altsetting);
    if (alt === undefined) throw kerr('EINVAL', `interface ${intf.number} has no altsetting ${altsetting}`);
    const setup = { bRequestType: USB_RECIP_INTERFACE, bRequest: USB_REQ_SET_INTERFACE, wValue: altsetting, wIndex: intf.number, wLength: 0 };
    const status = waitUrbSync(dev.pipe, this.bus.ctx.scheduler, controlUrb(setup), USB_CTRL_TIMEOUT_MS);
    if (status < 0 && !(status === EPIPE && intf.altsettings.length === 1)) throw statusError(status, `SET_INTERFACE ${intf.number}.${altsetting}`);
    const old = new Set(intf.current.endpoints.map((e) => e.bEndpointAddress));
    dev.pipe.flush(ESHUTDOWN, (endpoint) => old.has(endpoint));
    const dir = interfaceDir(this.bus, dev, intf);
    removeEndpointDirs(this.bus.ctx.vfs, dir, intf.current.endpoints);
    intf.current = alt;
    installEndpointDirs(this.bus.ctx.vfs, dir, alt.endpoints, dev.speed);
  }

  /** usb_clear_halt: CLEAR_FEATURE(ENDPOINT_HALT) to the endpoint. */
  clearHaltSync(dev: UsbDevice, endpoint: number): void {
    const setup = { bRequestType: USB_RECIP_ENDPOINT, bRequest: USB_REQ_CLEAR_FEATURE, wValue: USB_ENDPOINT_HALT, wIndex: endpoint, wLength: 0 };
    const status = waitUrbSync(dev.pipe, this.bus.ctx.scheduler, controlUrb(setup), USB_CTRL_TIMEOUT_MS);
    if (status < 0) throw statusError(status, `CLEAR_HALT 0x${endpoint.toString(16).padStart(2, '0')}`);
  }

  /**
   * usb_reset_device (USBDEVFS_RESET): usbfs loses its interfaces (their URBs killed), then the
   * port reset, SET_ADDRESS with the same number and SET_CONFIGURATION again; every interface is
   * back at altsetting 0. A root hub cannot be reset so (EISDIR).
   */
  resetSync(dev: UsbDevice): void {
    if (dev.isRootHub) throw kerr('EISDIR', 'a root hub');
    for (const file of dev.files) file.interfacesLost();
    for (const intf of dev.actconfig?.interfaces ?? []) setDriverLink(this.bus.ctx.vfs, interfaceDir(this.bus, dev, intf), undefined);
    dev.releaseAll();
    const { scheduler } = this.bus.ctx;
    dev.pipe.reset();
    const address = { bRequestType: 0, bRequest: USB_REQ_SET_ADDRESS, wValue: dev.devnum, wIndex: 0, wLength: 0 };
    const steps = [address, this.#setConfigurationRequest(dev.actconfig)];
    for (const setup of steps) {
      const status = waitUrbSync(dev.pipe, scheduler, controlUrb(setup), USB_CTRL_TIMEOUT_MS);
      if (status < 0) throw statusError(status, 'reset');
    }
    for (const intf of dev.actconfig?.interfaces ?? []) {
      const alt0 = intf.altsettings.find((a) => a.desc.bAlternateSetting === 0) ?? intf.altsettings[0]!;
      if (alt0 === intf.current) continue;
      const dir = interfaceDir(this.bus, dev, intf);
      removeEndpointDirs(this.bus.ctx.vfs, dir, intf.current.endpoints);
      intf.current = alt0;
      installEndpointDirs(this.bus.ctx.vfs, dir, alt0.endpoints, dev.speed);
    }
  }

  /** usb_disconnect. */
  disconnect(dev: UsbDevice): void {
    dev.state = 'notattached';
    dev.pipe.flush(ESHUTDOWN);
    for (const intf of dev.actconfig?.interfaces ?? []) removeInterfaceSysfs(this.bus, dev, intf);
    dev.releaseAll();
    for (const file of [...dev.files]) file.deviceRemoved();
    dev.files.clear();
    this.bus.ctx.vfs.remove(devNodePath(dev));
    removeDeviceSysfs(this.bus, dev);
    this.bus.releaseDevnum(dev.devnum);
  }
}
