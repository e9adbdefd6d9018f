// A configuration as usbcore keeps it (config.c usb_parse_configuration): the raw bytes the
// device gave (what usbfs read() and sysfs `descriptors` return) and the interfaces, altsettings
// and endpoints parsed out of them. Like the kernel, parsing is lenient where Linux only warns
// (descriptors of other types are skipped, an endpoint of address 0 or a duplicate is dropped,
// the endpoints found count rather than bNumEndpoints) and strict where it refuses (EINVAL: no
// configuration descriptor first, a malformed descriptor, an endpoint before any interface).
import {
  parseDescriptors,
  UsbDescriptorError,
  USB_CLASS_COMM,
  USB_CLASS_VENDOR_SPEC,
  type UsbConfigDescriptor,
  type UsbEndpointDescriptor,
  type UsbInterfaceDescriptor,
} from '../../../../abi/usb.js';
import { kerr } from '../../errno.js';

export interface HostAltsetting {
  readonly desc: UsbInterfaceDescriptor;
  readonly endpoints: readonly UsbEndpointDescriptor[];
  /** The iInterface string, cached when the interface is registered (usb_cache_string). */
  string?: string;
}

export interface HostInterface {
  readonly number: number;
  readonly altsettings: readonly HostAltsetting[];
  current: HostAltsetting;
}

export interface HostConfig {
  /** The descriptors exactly as read, wTotalLength bytes. */
  readonly raw: Uint8Array;
  readonly desc: UsbConfigDescriptor;
  readonly interfaces: readonly HostInterface[];
  /** The iConfiguration string, cached when the configuration is set. */
  string?: string;
}

/** usb_parse_configuration, for one configuration's raw bytes. */
export function parseConfiguration(raw: Uint8Array): HostConfig {
  let list;
  try {
    list = parseDescriptors(raw);
  } catch (e) {
    if (e instanceof UsbDescriptorError) throw kerr('EINVAL', `configuration descriptors: ${e.message}`);
    throw e;
  }
  const first = list[0];
  if (first?.type !== 'config') throw kerr('EINVAL', 'configuration descriptors do not start with a configuration descriptor');
  const byNumber = new Map<number, Array<{ desc: UsbInterfaceDescriptor; endpoints: UsbEndpointDescriptor[] }>>();
  let current: { desc: UsbInterfaceDescriptor; endpoints: UsbEndpointDescriptor[] } | undefined;
  for (const d of list.slice(1)) {
    if (d.type === 'interface') {
      current = { desc: d, endpoints: [] };
      const alts = byNumber.get(d.bInterfaceNumber) ?? [];
      byNumber.set(d.bInterfaceNumber, alts);
      // a second descriptor for the same altsetting is ignored, as config.c does
      if (!alts.some((a) => a.desc.bAlternateSetting === d.bAlternateSetting)) alts.push(current);
      else current = undefined;
    } else if (d.type === 'endpoint') {
      if (current === undefined) continue;
      const address = d.bEndpointAddress;
      if ((address & 0x0f) === 0 || current.endpoints.some((e) => e.bEndpointAddress === address)) continue;
      current.endpoints.push(d);
    }
  }
  const interfaces: HostInterface[] = [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([number, alts]) => {
      const altsettings = alts.map((a) => ({ desc: a.desc, endpoints: a.endpoints }));
      // the current altsetting starts as altsetting 0, or the first listed without one
      const current = altsettings.find((a) => a.desc.bAlternateSetting === 0) ?? altsettings[0]!;
      return { number, altsettings, current };
    });
  return { raw, desc: first, interfaces };
}

/** The current drawn by a configuration in mA (usb_get_max_power): 2 mA units, 8 at SuperSpeed. */
export function maxPowerMa(config: HostConfig, superSpeed: boolean): number {
  return config.desc.bMaxPower * (superSpeed ? 8 : 2);
}

/**
 * usb_choose_configuration (generic.c): the first configuration within the port's power budget
 * whose first interface is not vendor-specific (a first one that is RNDIS is passed over when
 * there are others); if all are vendor-specific, the first that fits. undefined: none fits.
 */
export function chooseConfiguration(
  configs: readonly HostConfig[],
  deviceClass: number,
  budgetMa: number,
  superSpeed: boolean,
): HostConfig | undefined {
  let best: HostConfig | undefined;
  for (const [i, c] of configs.entries()) {
    const first = c.interfaces[0]?.altsettings[0]?.desc;
    if (maxPowerMa(c, superSpeed) > budgetMa) continue;
    const rndis = first !== undefined && first.bInterfaceClass === USB_CLASS_COMM && first.bInterfaceSubClass === 2 && first.bInterfaceProtocol === 0xff;
    if (i === 0 && configs.length > 1 && rndis) continue;
    if (deviceClass !== USB_CLASS_VENDOR_SPEC && first !== undefined && first.bInterfaceClass !== USB_CLASS_VENDOR_SPEC) return c;
    best ??= c;
  }
  return best;
}
