// struct usb_device as the host keeps it: where it sits on the bus (busnum, devnum, devpath),
// its state, the descriptors read at enumeration, the active configuration and who has claimed
// each interface (a kernel driver such as the hub, or a usbfs file), and the usbfs files open
// on it. The lookups usbfs makes (findintfep, ep_to_host_endpoint, usb_ifnum_to_if) live here.
import { USB_ENDPOINT_DIR_MASK, type UsbDeviceDescriptor, type UsbEndpointDescriptor } from '../../../../abi/usb.js';
import { kerr } from '../../errno.js';
import type { UsbSpeed } from '../link.js';
import type { HostConfig, HostInterface } from './config.js';
import type { UsbPipe } from './hcd.js';

/** enum usb_device_state, the states usbfs and sysfs look at. */
export type UsbDeviceState = 'notattached' | 'default' | 'address' | 'configured';

/** What holds an interface: a kernel driver by name, or a usbfs file (the "usbfs" driver). */
export interface InterfaceOwner {
  readonly driverName: string;
}

/** A usbfs file open on the device, told when the device is removed (usbdev_remove). */
export interface UsbfsClient {
  deviceRemoved(): void;
  /** A reset unbinds usbfs from the interfaces (usb_forced_unbind_intf): their URBs are killed. */
  interfacesLost(): void;
}

/** enum usb_device_speed for a link speed (what USBDEVFS_GET_SPEED returns). */
export function speedNumber(speed: UsbSpeed): number {
  return speed === 'full' ? 2 : speed === 'high' ? 3 : 5;
}

export class UsbDevice {
  state: UsbDeviceState = 'default';
  devnum = 0;
  /** The 18 bytes of the device descriptor, as read. */
  rawDescriptor: Uint8Array = new Uint8Array(0);
  descriptor: UsbDeviceDescriptor | undefined;
  configs: HostConfig[] = [];
  /** The BOS descriptor set, for devices of bcdUSB ≥ 0x0201 that gave one. */
  bos: Uint8Array | undefined;
  actconfig: HostConfig | undefined;
  manufacturer: string | undefined;
  product: string | undefined;
  serial: string | undefined;
  /** The device's driver (usb_generic_driver "usb" once probed). */
  driver: string | undefined;
  readonly files = new Set<UsbfsClient>();
  readonly #claims = new Map<HostInterface, InterfaceOwner>();

  constructor(
    readonly busnum: number,
    /** "0" for the root hub, the port path below it otherwise ("1"). */
    readonly devpath: string,
    readonly speed: UsbSpeed,
    readonly pipe: UsbPipe,
  ) {}

  get isRootHub(): boolean {
    return this.devpath === '0';
  }

  /** The sysfs name: usbN for a root hub, N-path otherwise. */
  get name(): string {
    return this.isRootHub ? `usb${this.busnum}` : `${this.busnum}-${this.devpath}`;
  }

  /** The interface directory's name, N-path:config.ifnum (usb_set_configuration). */
  interfaceName(intf: HostInterface): string {
    return `${this.busnum}-${this.devpath}:${this.actconfig!.desc.bConfigurationValue}.${intf.number}`;
  }

  /** ep0's descriptor: control, both directions, bMaxPacketSize0 (2^n at SuperSpeed). */
  get ep0(): UsbEndpointDescriptor {
    const size = this.descriptor?.bMaxPacketSize0 ?? 64;
    return { type: 'endpoint', bEndpointAddress: 0, bmAttributes: 0, wMaxPacketSize: this.speed === 'super' ? 1 << size : size, bInterval: 0 };
  }

  /** usb_ifnum_to_if: the active configuration's interface `number`. */
  interface(number: number): HostInterface | undefined {
    return this.actconfig?.interfaces.find((i) => i.number === number);
  }

  /** findintfep: the number of the interface (any altsetting) with endpoint `address`; EINVAL, ESRCH, ENOENT. */
  interfaceOfEndpoint(address: number): number {
    if ((address & ~(USB_ENDPOINT_DIR_MASK | 0x0f)) !== 0) throw kerr('EINVAL', `endpoint address 0x${address.toString(16)}`);
    if (this.actconfig === undefined) throw kerr('ESRCH', 'the device is not configured');
    for (const intf of this.actconfig.interfaces) {
      if (intf.altsettings.some((a) => a.endpoints.some((e) => e.bEndpointAddress === address))) return intf.number;
    }
    throw kerr('ENOENT', `no endpoint 0x${address.toString(16).padStart(2, '0')} in configuration ${this.actconfig.desc.bConfigurationValue}`);
  }

  /** ep_to_host_endpoint: ep0 in either direction, or an endpoint of an interface's current altsetting. */
  endpoint(address: number): UsbEndpointDescriptor | undefined {
    if ((address & 0x0f) === 0) return this.ep0;
    for (const intf of this.actconfig?.interfaces ?? []) {
      const found = intf.current.endpoints.find((e) => e.bEndpointAddress === address);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  claimedBy(intf: HostInterface): InterfaceOwner | undefined {
    return this.#claims.get(intf);
  }

  /** usb_driver_claim_interface: EBUSY if another driver or file holds it. */
  claim(intf: HostInterface, owner: InterfaceOwner): void {
    const holder = this.#claims.get(intf);
    if (holder === owner) return;
    if (holder !== undefined) throw kerr('EBUSY', `interface ${intf.number} is claimed by ${holder.driverName}`);
    this.#claims.set(intf, owner);
  }

  release(intf: HostInterface, owner: InterfaceOwner): void {
    if (this.#claims.get(intf) === owner) this.#claims.delete(intf);
  }

  /** Drops every claim (the interfaces are going away). */
  releaseAll(): void {
    this.#claims.clear();
  }
}
