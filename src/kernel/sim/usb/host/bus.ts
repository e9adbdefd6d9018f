// One USB bus (struct usb_bus) of the simulated dummy_hcd: its number, where it sits in sysfs,
// the device-number map (choose_devnum: the next free number after the last one given, wrapping
// past 127 to 1; the root hub is 1), what it tells its watchers (uevents, as udev sees them) and
// its kernel log lines (what dmesg would show for enumeration failures).
import type { SimContext } from '../../context.js';
import type { UsbSpeed } from '../link.js';
import { usbfsMemory, type UsbfsMemory } from './usbfs-memory.js';

/** A kobject uevent of a USB device or interface. */
export interface UsbUevent {
  action: 'add' | 'remove';
  /** DEVTYPE. */
  devtype: 'usb_device' | 'usb_interface';
  /** The sysfs path below /sys, as DEVPATH gives it (/devices/platform/dummy_hcd.0/usb1/1-1). */
  devpath: string;
  /** DEVNAME, for devices: bus/usb/BBB/DDD. */
  devname?: string;
}

export class UsbBus {
  /** /sys/devices/platform/<busName>: the controller's platform device. */
  readonly controllerDir: string;
  readonly memory: UsbfsMemory;
  /** Kernel messages about this bus's devices, oldest first. */
  readonly log: string[] = [];
  readonly #devmap = new Set<number>();
  #devnumNext = 1;
  readonly #listeners = new Set<(event: UsbUevent) => void>();

  constructor(
    readonly ctx: SimContext,
    readonly busnum: number,
    /** hcd->self.bus_name: the controller's device name, e.g. "dummy_hcd.0". */
    readonly busName: string,
    /** The controller's driver, e.g. "dummy_hcd". */
    readonly driverName: string,
    readonly speed: UsbSpeed,
  ) {
    this.controllerDir = `/sys/devices/platform/${busName}`;
    this.memory = usbfsMemory(ctx);
  }

  /** choose_devnum: undefined when all 127 are taken. */
  allocDevnum(): number | undefined {
    const devnum = this.#nextFree(this.#devnumNext) ?? this.#nextFree(1);
    if (devnum === undefined) return undefined;
    this.#devnumNext = devnum >= 127 ? 1 : devnum + 1;
    this.#devmap.add(devnum);
    return devnum;
  }

  releaseDevnum(devnum: number): void {
    this.#devmap.delete(devnum);
  }

  #nextFree(from: number): number | undefined {
    for (let n = from; n < 128; n++) if (!this.#devmap.has(n)) return n;
    return undefined;
  }

  uevent(event: UsbUevent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }

  onUevent(listener: (event: UsbUevent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  message(text: string): void {
    this.log.push(text);
  }
}
