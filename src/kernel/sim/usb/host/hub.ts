// The root hub's one port and the hub driver's enumeration of what connects to it (hub.c
// hub_port_connect, hub_port_init; usb.c/usb_enumerate_device; generic.c), in the kernel's
// order, as control URBs through the link:
//   port reset; below SuperSpeed (the "new scheme") GET_DESCRIPTOR(device) asking 64 bytes at
//   address 0 and a second reset; SET_ADDRESS (the next devnum); at SuperSpeed GET_DESCRIPTOR
//   8 bytes; GET_DESCRIPTOR(device, 18); GET_DESCRIPTOR(BOS) when bcdUSB >= 0x0201; each
//   configuration's 9 bytes, then wTotalLength; the strings (LANGIDs, product, manufacturer,
//   serial); the device is registered; usb_choose_configuration and SET_CONFIGURATION.
// Sim decisions: no debounce or reset delays (each step runs once the last completed); one
// attempt (Linux retries a failing device up to 4×2 times, the same requests again); the
// configuration and interface strings are read with the others, before SET_CONFIGURATION
// (Linux reads them as it registers the interfaces: the same requests, later); no
// SET_ISOCH_DELAY/SET_SEL for SuperSpeed devices.
import {
  parseDescriptors,
  USB_DT_BOS,
  USB_DT_CONFIG,
  USB_DT_DEVICE,
  USB_REQ_SET_ADDRESS,
  type UsbDeviceDescriptor,
} from '../../../../abi/usb.js';
import { errnoOf } from '../../../../errors.js';
import { kerr, KernelError } from '../../errno.js';
import type { UsbPortDevice, UsbRootPort, UsbSpeed } from '../link.js';
import type { UsbBus } from './bus.js';
import { chooseConfiguration, parseConfiguration, type HostConfig } from './config.js';
import { UsbDevice } from './device.js';
import { UsbPipe } from './hcd.js';
import { controlMessage, getDescriptor, StringFetcher } from './message.js';
import type { UsbCore } from './usb-core.js';

const ESHUTDOWN = -errnoOf('ESHUTDOWN');
/** USB_MAXCONFIG: configurations beyond it are ignored. */
const MAX_CONFIGS = 8;
const speedName = { full: 'full-speed', high: 'high-speed', super: 'SuperSpeed' } as const;

interface Child {
  readonly device: UsbPortDevice;
  readonly pipe: UsbPipe;
  /** Set once the device is registered. */
  dev?: UsbDevice;
}

export class RootPort implements UsbRootPort {
  #child: Child | undefined;

  constructor(
    private readonly bus: UsbBus,
    private readonly core: UsbCore,
    /** The power a device on this port may draw (the root hub's mA_per_port). */
    private readonly budgetMa: number,
  ) {}

  /** The device registered on the port, if any. */
  get device(): UsbDevice | undefined {
    return this.#child?.dev;
  }

  connect(device: UsbPortDevice): void {
    if (this.#child !== undefined) this.disconnect();
    const child: Child = { device, pipe: new UsbPipe(device) };
    this.#child = child;
    this.bus.ctx.scheduler.soon(() => void this.#enumerate(child));
  }

  disconnect(): void {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.dev !== undefined) {
      this.bus.message(`usb ${child.dev.name}: USB disconnect, device number ${child.dev.devnum}`);
      this.core.disconnect(child.dev);
    } else {
      child.pipe.flush(ESHUTDOWN); // an enumeration under way fails and gives its devnum back
    }
  }

  async #enumerate(child: Child): Promise<void> {
    if (this.#child !== child) return; // gone before the hub looked
    const devnum = this.bus.allocDevnum();
    const portName = `usb${this.bus.busnum}-port1`;
    if (devnum === undefined) {
      this.bus.message(`usb ${portName}: unable to enumerate USB device (no device number left)`);
      return;
    }
    const dev = new UsbDevice(this.bus.busnum, '1', slower(child.device.speed, this.bus.speed), child.pipe);
    dev.devnum = devnum;
    const live = () => {
      if (this.#child !== child) throw kerr('ENODEV');
    };
    let step = 'device descriptor read/64';
    try {
      this.bus.message(`usb ${dev.name}: new ${speedName[dev.speed]} USB device number ${devnum} using ${this.bus.driverName}`);
      await this.#portInit(child, dev, live, (s) => (step = s));
      step = 'can\'t read configurations';
      await this.#readConfigurations(dev, live);
      const strings = new StringFetcher(child.pipe, this.bus.ctx.scheduler);
      const d = dev.descriptor!;
      dev.product = await strings.cache(d.iProduct);
      dev.manufacturer = await strings.cache(d.iManufacturer);
      dev.serial = await strings.cache(d.iSerialNumber);
      for (const config of dev.configs) {
        config.string = await strings.cache(config.desc.iConfiguration);
        for (const alt of config.interfaces.flatMap((i) => i.altsettings)) alt.string = await strings.cache(alt.desc.iInterface);
      }
      live();
    } catch (e) {
      this.bus.releaseDevnum(devnum);
      if (this.#child !== child) return;
      this.bus.message(`usb ${dev.name}: ${step}, error ${errnoText(e)}`);
      this.bus.message(`usb ${portName}: unable to enumerate USB device`);
      return;
    }
    const d = dev.descriptor!;
    this.bus.message(`usb ${dev.name}: New USB device found, idVendor=${hex4(d.idVendor)}, idProduct=${hex4(d.idProduct)}`);
    child.dev = dev;
    this.core.register(dev);
    const chosen = chooseConfiguration(dev.configs, d.bDeviceClass, this.budgetMa, dev.speed === 'super');
    if (chosen === undefined) {
      this.bus.message(`usb ${dev.name}: no configuration chosen from ${dev.configs.length} choices`);
      return;
    }
    const value = chosen.desc.bConfigurationValue;
    try {
      await this.core.setConfiguration(dev, value);
    } catch (e) {
      if (this.#child === child) this.bus.message(`usb ${dev.name}: can't set config #${value}, error ${errnoText(e)}`);
    }
  }

  /** hub_port_init: reset, address, device descriptor (and BOS). */
  async #portInit(child: Child, dev: UsbDevice, live: () => void, step: (s: string) => void): Promise<void> {
    const { scheduler } = this.bus.ctx;
    const superSpeed = dev.speed === 'super';
    child.device.reset();
    if (!superSpeed) {
      checkMaxPacket0(await getDescriptor(child.pipe, scheduler, USB_DT_DEVICE, 0, 64));
      live();
      child.device.reset();
    }
    step(`device not accepting address ${dev.devnum}`);
    await controlMessage(child.pipe, scheduler, { bRequestType: 0, bRequest: USB_REQ_SET_ADDRESS, wValue: dev.devnum, wIndex: 0, wLength: 0 });
    live();
    dev.state = 'address';
    if (superSpeed) {
      step('device descriptor read/8');
      checkMaxPacket0(await getDescriptor(child.pipe, scheduler, USB_DT_DEVICE, 0, 8));
      live();
    }
    step('device descriptor read/all');
    const raw = await getDescriptor(child.pipe, scheduler, USB_DT_DEVICE, 0, 18);
    live();
    if (raw.length !== 18) throw kerr('EMSGSIZE', `device descriptor: ${raw.length} bytes`);
    const descriptor = parseDescriptors(raw)[0] as UsbDeviceDescriptor;
    checkEp0(dev, descriptor.bMaxPacketSize0);
    if (superSpeed && descriptor.bcdUSB < 0x0300) throw kerr('EINVAL', 'got a wrong device descriptor');
    dev.rawDescriptor = raw.slice();
    dev.descriptor = descriptor;
    if (descriptor.bcdUSB >= 0x0201) dev.bos = await readBos(child, scheduler);
    live();
  }

  /** usb_get_configuration: each configuration's header, then all of it. */
  async #readConfigurations(dev: UsbDevice, live: () => void): Promise<void> {
    const { scheduler } = this.bus.ctx;
    const count = Math.min(dev.descriptor!.bNumConfigurations, MAX_CONFIGS);
    if (count < 1) throw kerr('EINVAL', 'no configurations');
    const configs: HostConfig[] = [];
    for (let i = 0; i < count; i++) {
      const head = await getDescriptor(dev.pipe, scheduler, USB_DT_CONFIG, i, 9);
      live();
      if (head.length < 4) throw kerr('EINVAL', `config index ${i} descriptor too short`);
      const total = Math.max(head[2]! | (head[3]! << 8), 9);
      const raw = await getDescriptor(dev.pipe, scheduler, USB_DT_CONFIG, i, total);
      live();
      configs.push(parseConfiguration(raw.slice()));
    }
    dev.configs = configs;
  }
}

const hex4 = (n: number) => n.toString(16).padStart(4, '0');

/** A link runs at the slower of what the device and the controller can do. */
function slower(a: UsbSpeed, b: UsbSpeed): UsbSpeed {
  const order: readonly UsbSpeed[] = ['full', 'high', 'super'];
  return order[Math.min(order.indexOf(a), order.indexOf(b))]!;
}

/** "-110", as the kernel prints a negative errno. */
function errnoText(e: unknown): string {
  const code = e instanceof KernelError ? e.code : 'EIO';
  return `-${errnoOf(code)}`;
}

/** get_bMaxPacketSize0: the start of a device descriptor with a plausible ep0 size, else EPROTO. */
function checkMaxPacket0(bytes: Uint8Array): void {
  if (bytes[1] !== USB_DT_DEVICE || ![8, 16, 32, 64, 9].includes(bytes[7] ?? 0)) throw kerr('EPROTO', 'no valid device descriptor');
}

/** The ep0 size check of hub_port_init: 8/16/32/64 below SuperSpeed (HS devices must say 64, Linux only warns), 2^n at SuperSpeed. */
function checkEp0(dev: UsbDevice, maxp0: number): void {
  const ok = dev.speed === 'super' ? maxp0 > 0 && maxp0 <= 16 : [8, 16, 32, 64].includes(maxp0);
  if (!ok) throw kerr('EMSGSIZE', `invalid ep0 maxpacket: ${maxp0}`);
}

/** usb_get_bos_descriptor: the 5-byte header, then wTotalLength; a device without one has none. */
async function readBos(child: Child, scheduler: UsbBus['ctx']['scheduler']): Promise<Uint8Array | undefined> {
  try {
    const head = await getDescriptor(child.pipe, scheduler, USB_DT_BOS, 0, 5);
    if (head.length < 5 || head[1] !== USB_DT_BOS) return undefined;
    const total = head[2]! | (head[3]! << 8);
    const all = await getDescriptor(child.pipe, scheduler, USB_DT_BOS, 0, total);
    return all.length === total ? all.slice() : undefined;
  } catch {
    return undefined;
  }
}
