// The host half of the simulated dummy_hcd: one bus (usbN) with its root hub, the root hub's
// one port (the link's UsbRootPort: the UDC connects its device there), the hub driver that
// enumerates what connects, sysfs under /sys/devices/platform/<busName>/usbN and
// /sys/bus/usb/devices, and usbfs nodes /dev/bus/usb/BBB/DDD. One module per kernel component:
//   bus.ts (usb_bus, devnums, uevents), hcd.ts (URBs given back once), root-hub.ts (the root
//   hub's virtual device), hub.ts (the port, enumeration), message.ts (control messages,
//   strings, blocking waits), config.ts (configuration parsing and choice), device.ts
//   (usb_device, claims), usb-core.ts (register, configure, altsettings, reset, disconnect),
//   sysfs.ts, usbfs.ts + usbfs-urb.ts (devio), usbfs-memory.ts (usbfs_memory_mb).
import type { SimContext } from '../../context.js';
import type { UsbRootPort, UsbSpeed } from '../link.js';
import { UsbBus, type UsbUevent } from './bus.js';
import { parseConfiguration } from './config.js';
import { UsbDevice } from './device.js';
import { UsbPipe } from './hcd.js';
import { RootPort } from './hub.js';
import { RootHubDevice, rootHubConfigDescriptor, rootHubDeviceDescriptor, rootHubManufacturer } from './root-hub.js';
import { parseDescriptors, type UsbDeviceDescriptor } from '../../../../abi/usb.js';
import { devNodePath } from './sysfs.js';
import { UsbCore } from './usb-core.js';
import { UsbfsFile } from './usbfs.js';

export type { UsbUevent } from './bus.js';

export interface UsbHostOptions {
  /** The controller's speed: a high-speed (USB 2.0) or SuperSpeed (USB 3.0) root hub. */
  speed: UsbSpeed;
  /** The controller's platform device name (hcd->self.bus_name); default "dummy_hcd.0". */
  busName?: string;
  /** The bus number; default 1. */
  busnum?: number;
}

/** The host side as the sim (and its tests) drive it. */
export interface UsbHost {
  /** Where the UDC connects its device. */
  readonly rootPort: UsbRootPort;
  readonly busnum: number;
  /** The usbfs node of the device on the root port once it is registered, e.g. /dev/bus/usb/001/002. */
  readonly devicePath: string | undefined;
  /** The device's sysfs name (1-1) once registered. */
  readonly deviceName: string | undefined;
  /** Whether that device has a configuration set (its interfaces exist). */
  readonly configured: boolean;
  /** The bus's kernel messages (what dmesg shows about its devices), oldest first. */
  readonly log: readonly string[];
  /** uevents of the bus's devices and interfaces as udev sees them; returns the unsubscribe. */
  onUevent(listener: (event: UsbUevent) => void): () => void;
}

/** dummy_hcd's root hub power budget: POWER_BUDGET (500 mA) below SuperSpeed, POWER_BUDGET_3 (900 mA) at it. */
const budgetMa = (speed: UsbSpeed) => (speed === 'super' ? 900 : 500);

export function installUsbHost(ctx: SimContext, options: UsbHostOptions): UsbHost {
  const busName = options.busName ?? 'dummy_hcd.0';
  const bus = new UsbBus(ctx, options.busnum ?? 1, busName, busName.replace(/\.\d+$/, ''), options.speed);
  const core: UsbCore = new UsbCore(bus, (dev, flags): UsbfsFile => new UsbfsFile(bus, core, dev, devNodePath(dev), flags));
  ctx.vfs.mkdir(bus.controllerDir);
  registerRootHub(bus, core);
  const port = new RootPort(bus, core, budgetMa(options.speed));
  return {
    rootPort: port,
    busnum: bus.busnum,
    get devicePath() {
      return port.device === undefined ? undefined : devNodePath(port.device);
    },
    get deviceName() {
      return port.device?.name;
    },
    get configured() {
      return port.device?.state === 'configured';
    },
    log: bus.log,
    onUevent: (listener) => bus.onUevent(listener),
  };
}

/** register_root_hub: devnum 1, the root hub's own descriptors and strings, configuration 1 (the hub driver binds). */
function registerRootHub(bus: UsbBus, core: UsbCore): void {
  const strings = { serial: bus.busName, product: 'Dummy host controller', driver: bus.driverName };
  const device = new RootHubDevice(bus.speed, strings, bus.ctx.scheduler);
  const hub = new UsbDevice(bus.busnum, '0', bus.speed, new UsbPipe(device));
  hub.devnum = bus.allocDevnum()!;
  hub.rawDescriptor = rootHubDeviceDescriptor(bus.speed);
  hub.descriptor = parseDescriptors(hub.rawDescriptor)[0] as UsbDeviceDescriptor;
  hub.configs = [parseConfiguration(rootHubConfigDescriptor(bus.speed))];
  hub.product = strings.product;
  hub.manufacturer = rootHubManufacturer(strings);
  hub.serial = strings.serial;
  hub.state = 'address';
  core.register(hub);
  core.install(hub, hub.configs[0]);
}
