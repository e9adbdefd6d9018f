// The composite gadget framework (drivers/usb/gadget/composite.c) as configfs drives it: a
// device made of configurations, each of functions (FunctionFS here), with the device's
// descriptors and strings. It is the gadget driver the UDC calls: it answers the standard
// requests on ep0 (GET_DESCRIPTOR device/config/string/qualifier/other-speed/BOS,
// SET/GET_CONFIGURATION, SET/GET_INTERFACE) and hands class and vendor requests to the function
// that owns the interface or endpoint (wIndex).
import { errnoOf } from '../../../errors.js';
import {
  USB_DIR_IN,
  USB_DT_BOS,
  USB_DT_CONFIG,
  USB_DT_CONFIG_SIZE,
  USB_DT_DEVICE,
  USB_DT_DEVICE_QUALIFIER,
  USB_DT_OTHER_SPEED_CONFIG,
  USB_DT_STRING,
  USB_RECIP_ENDPOINT,
  USB_RECIP_INTERFACE,
  USB_RECIP_MASK,
  USB_REQ_GET_CONFIGURATION,
  USB_REQ_GET_DESCRIPTOR,
  USB_REQ_GET_INTERFACE,
  USB_REQ_SET_CONFIGURATION,
  USB_REQ_SET_INTERFACE,
  USB_TYPE_MASK,
  USB_TYPE_STANDARD,
  encodeDescriptor,
  encodeDescriptors,
  encodeLangIds,
  encodeStringDescriptor,
  type UsbCtrlRequest,
  type UsbDescriptor,
} from '../../../abi/usb.js';
import { KernelError, kerr } from '../errno.js';
import { autoconfigReset, usbRequest, type GadgetDriver, type UsbGadget } from './gadget.js';
import type { UsbSpeed } from './link.js';

const EOPNOTSUPP = -errnoOf('EOPNOTSUPP');

/** struct usb_function: what a function driver gives the composite layer. */
export interface UsbFunction {
  readonly name: string;
  /** Binds into `config`: interface numbers from config.interfaceId, strings from composite.stringIds. */
  bind(config: CompositeConfig, composite: Composite): void;
  unbind(): void;
  /** Its descriptors at `speed` (falling back to slower ones), or undefined if it has none. */
  descriptors(speed: UsbSpeed): readonly UsbDescriptor[] | undefined;
  /** set_alt: throws a KernelError to refuse (the host then sees a stall). */
  setAlt(intf: number, alt: number): void;
  getAlt(intf: number): number;
  disable(): void;
  /** A class or vendor request for one of its interfaces or endpoints: >= 0 goes on, < 0 stalls. */
  setup(ctrl: UsbCtrlRequest): number;
  /** The endpoint addresses it uses in this configuration. */
  ownsEndpoint(address: number): boolean;
  suspend(): void;
  resume(): void;
}

/** struct usb_configuration. */
export interface CompositeConfig {
  readonly bConfigurationValue: number;
  readonly bmAttributes: number;
  /** In mA (configfs MaxPower). */
  readonly maxPower: number;
  /** The configuration string by language (configs/c.N/strings/<lang>/configuration). */
  readonly strings: ReadonlyMap<number, string>;
  readonly functions: readonly UsbFunction[];
  /** usb_interface_id: the next interface number, owned by `f`. */
  interfaceId(f: UsbFunction): number;
}

/** The device as configfs describes it when the gadget binds. */
export interface CompositeSpec {
  readonly name: string;
  readonly bDeviceClass: number;
  readonly bDeviceSubClass: number;
  readonly bDeviceProtocol: number;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  /** manufacturer, product, serialnumber by language (strings/<lang>). */
  readonly strings: ReadonlyMap<number, { manufacturer?: string; product?: string; serialnumber?: string }>;
  readonly configs: ReadonlyArray<{
    readonly bConfigurationValue: number;
    readonly bmAttributes: number;
    readonly maxPower: number;
    readonly strings: ReadonlyMap<number, string>;
    readonly functions: readonly UsbFunction[];
  }>;
}

class BoundConfig implements CompositeConfig {
  readonly interfaces: UsbFunction[] = [];
  constructor(
    readonly bConfigurationValue: number,
    readonly bmAttributes: number,
    readonly maxPower: number,
    readonly strings: ReadonlyMap<number, string>,
    readonly functions: readonly UsbFunction[],
    /** iConfiguration, once the strings are numbered. */
    public iConfiguration = 0,
  ) {}

  interfaceId(f: UsbFunction): number {
    if (this.interfaces.length >= 16) throw kerr('ENODEV', 'MAX_CONFIG_INTERFACES');
    this.interfaces.push(f);
    return this.interfaces.length - 1;
  }
}

export class Composite implements GadgetDriver {
  #gadget: UsbGadget | undefined;
  #configs: BoundConfig[] = [];
  #config: BoundConfig | undefined;
  #nextStringId = 0;
  /** Every string table (the device's, the configurations', the functions'): id → text, by language. */
  #tables: Array<{ lang: number; strings: Map<number, string> }> = [];
  #iManufacturer = 0;
  #iProduct = 0;
  #iSerialNumber = 0;

  constructor(private readonly spec: CompositeSpec) {}

  get gadget(): UsbGadget {
    if (this.#gadget === undefined) throw kerr('ENODEV', 'the gadget is not bound');
    return this.#gadget;
  }

  /** The active configuration's value (0 unconfigured). */
  get configuration(): number {
    return this.#config?.bConfigurationValue ?? 0;
  }

  /** usb_string_ids_n: `n` consecutive string ids; returns the first. */
  stringIds(n: number): number {
    if (this.#nextStringId + n > 254) throw kerr('ENODEV', 'string ids exhausted');
    const first = this.#nextStringId + 1;
    this.#nextStringId += n;
    return first;
  }

  /** Adds a string table (a function's, after its ids were allocated). */
  addStrings(lang: number, strings: Map<number, string>): void {
    this.#tables.push({ lang, strings });
  }

  // ---- GadgetDriver ----------------------------------------------------------------------------

  /** configfs_composite_bind. */
  bind(gadget: UsbGadget): void {
    const spec = this.spec;
    if (spec.configs.length === 0) throw kerr('EINVAL', `need at least one configuration in ${spec.name}`);
    for (const c of spec.configs) {
      if (c.functions.length === 0) throw kerr('EINVAL', `config ${c.bConfigurationValue} of ${spec.name} needs at least one function`);
    }
    this.#gadget = gadget;
    this.#nextStringId = 0;
    this.#tables = [];
    [this.#iManufacturer, this.#iProduct, this.#iSerialNumber] = [0, 0, 0];
    if (spec.strings.size > 0) {
      const first = this.stringIds(3);
      [this.#iManufacturer, this.#iProduct, this.#iSerialNumber] = [first, first + 1, first + 2];
      for (const [lang, s] of spec.strings) {
        const table = new Map<number, string>();
        if (s.manufacturer !== undefined) table.set(first, s.manufacturer);
        if (s.product !== undefined) table.set(first + 1, s.product);
        if (s.serialnumber !== undefined) table.set(first + 2, s.serialnumber);
        this.addStrings(lang, table);
      }
    }
    this.#configs = spec.configs.map((c) => new BoundConfig(c.bConfigurationValue, c.bmAttributes, c.maxPower, c.strings, c.functions));
    const bound: UsbFunction[] = [];
    try {
      for (const config of this.#configs) {
        if (config.strings.size > 0) {
          config.iConfiguration = this.stringIds(1);
          for (const [lang, text] of config.strings) this.addStrings(lang, new Map([[config.iConfiguration, text]]));
        }
        for (const f of config.functions) {
          f.bind(config, this);
          bound.push(f);
        }
      }
    } catch (e) {
      for (const f of bound.reverse()) f.unbind();
      autoconfigReset(gadget);
      this.#gadget = undefined;
      throw e;
    }
  }

  /** composite_unbind: every function unbinds (FunctionFS queues UNBIND). */
  unbind(): void {
    const gadget = this.#gadget;
    if (gadget === undefined) return;
    this.#resetConfig();
    for (const config of this.#configs) for (const f of config.functions) f.unbind();
    autoconfigReset(gadget);
    this.#configs = [];
    this.#gadget = undefined;
  }

  disconnect(): void {
    this.#resetConfig();
  }

  reset(): void {
    this.#resetConfig();
  }

  suspend(): void {
    for (const f of this.#config?.functions ?? []) f.suspend();
  }

  resume(): void {
    for (const f of this.#config?.functions ?? []) f.resume();
  }

  /** reset_config: the functions of the active configuration are disabled. */
  #resetConfig(): void {
    const config = this.#config;
    if (config === undefined) return;
    for (const f of config.functions) f.disable();
    this.#config = undefined;
  }

  /** composite_setup. */
  setup(ctrl: UsbCtrlRequest): number {
    try {
      if ((ctrl.bRequestType & USB_TYPE_MASK) === USB_TYPE_STANDARD) {
        const value = this.#standard(ctrl);
        if (value !== undefined) return value;
      }
      return this.#forward(ctrl);
    } catch (e) {
      if (e instanceof KernelError) return -errnoOf(e.code);
      throw e;
    }
  }

  /** The standard requests composite answers; undefined for the ones it passes on. */
  #standard(ctrl: UsbCtrlRequest): number | undefined {
    switch (ctrl.bRequest) {
      case USB_REQ_GET_DESCRIPTOR: {
        if (ctrl.bRequestType !== USB_DIR_IN) return undefined;
        const bytes = this.#descriptor(ctrl.wValue >> 8, ctrl.wValue & 0xff, ctrl.wIndex);
        if (bytes === undefined) return EOPNOTSUPP;
        return this.#reply(bytes, ctrl.wLength);
      }
      case USB_REQ_SET_CONFIGURATION:
        if (ctrl.bRequestType !== 0) return undefined;
        this.#setConfig(ctrl.wValue & 0xff);
        return this.#reply(new Uint8Array(0), ctrl.wLength);
      case USB_REQ_GET_CONFIGURATION:
        if (ctrl.bRequestType !== USB_DIR_IN) return undefined;
        return this.#reply(Uint8Array.of(this.configuration), ctrl.wLength);
      case USB_REQ_SET_INTERFACE: {
        if (ctrl.bRequestType !== USB_RECIP_INTERFACE) return undefined;
        const f = this.#config?.interfaces[ctrl.wIndex & 0xff];
        if (f === undefined) return EOPNOTSUPP;
        f.setAlt(ctrl.wIndex & 0xff, ctrl.wValue);
        return this.#reply(new Uint8Array(0), ctrl.wLength);
      }
      case USB_REQ_GET_INTERFACE: {
        if (ctrl.bRequestType !== (USB_DIR_IN | USB_RECIP_INTERFACE)) return undefined;
        const f = this.#config?.interfaces[ctrl.wIndex & 0xff];
        if (f === undefined) return EOPNOTSUPP;
        return this.#reply(Uint8Array.of(f.getAlt(ctrl.wIndex & 0xff)), ctrl.wLength);
      }
      default:
        return undefined;
    }
  }

  /** Class/vendor (and unknown standard) requests: the function owning wIndex, else a stall. */
  #forward(ctrl: UsbCtrlRequest): number {
    const config = this.#config;
    if (config === undefined) return EOPNOTSUPP;
    let f: UsbFunction | undefined;
    switch (ctrl.bRequestType & USB_RECIP_MASK) {
      case USB_RECIP_INTERFACE:
        f = config.interfaces[ctrl.wIndex & 0xff];
        break;
      case USB_RECIP_ENDPOINT:
        f = config.functions.find((fn) => fn.ownsEndpoint(ctrl.wIndex & 0x8f));
        break;
    }
    // "try the only function in the current config"
    if (f === undefined && config.functions.length === 1) f = config.functions[0];
    return f === undefined ? EOPNOTSUPP : f.setup(ctrl);
  }

  /** Queues the data (or status) stage on ep0: at most wLength bytes, a ZLP if shorter. */
  #reply(bytes: Uint8Array, wLength: number): number {
    const length = Math.min(bytes.length, wLength);
    const req = usbRequest({ length, buf: bytes.slice(0, length), zero: length < wLength, complete: () => undefined });
    this.gadget.ep0.queue(req);
    return length;
  }

  /** set_config: EINVAL for an unknown value (the host sees a stall). */
  #setConfig(value: number): void {
    const gadget = this.gadget;
    let config: BoundConfig | undefined;
    if (value !== 0) {
      config = this.#configs.find((c) => c.bConfigurationValue === value);
      if (config === undefined) throw kerr('EINVAL', `no configuration ${value}`);
    }
    this.#resetConfig();
    gadget.setState(value !== 0 ? 'configured' : 'addressed');
    this.#config = config;
    if (config === undefined) return;
    config.interfaces.forEach((f, intf) => {
      try {
        f.setAlt(intf, 0);
      } catch (e) {
        this.#resetConfig();
        throw e;
      }
    });
  }

  // ---- descriptors -----------------------------------------------------------------------------

  #descriptor(type: number, index: number, lang: number): Uint8Array | undefined {
    const gadget = this.gadget;
    const speed = gadget.speed;
    const dualSpeed = gadget.maxSpeed !== 'full';
    switch (type) {
      case USB_DT_DEVICE:
        return this.#deviceDescriptor(speed);
      case USB_DT_DEVICE_QUALIFIER: {
        if (!dualSpeed || speed === 'super') return undefined;
        const d = this.#deviceDescriptor(speed);
        // bLength, bDescriptorType, bcdUSB, class, subclass, protocol, bMaxPacketSize0, bNumConfigurations, bRESERVED
        return Uint8Array.of(10, USB_DT_DEVICE_QUALIFIER, d[2]!, d[3]!, d[4]!, d[5]!, d[6]!, 64, this.#configs.length, 0);
      }
      case USB_DT_OTHER_SPEED_CONFIG:
        if (!dualSpeed || speed === 'super') return undefined;
        return this.#configDescriptor(index, speed === 'high' ? 'full' : 'high', USB_DT_OTHER_SPEED_CONFIG);
      case USB_DT_CONFIG:
        return this.#configDescriptor(index, speed, USB_DT_CONFIG);
      case USB_DT_STRING:
        return this.#stringDescriptor(index, lang);
      case USB_DT_BOS:
        return speed === 'super' ? this.#bos() : undefined;
      default:
        return undefined;
    }
  }

  #deviceDescriptor(speed: UsbSpeed): Uint8Array {
    const spec = this.spec;
    return encodeDescriptor({
      type: 'device',
      bcdUSB: speed === 'super' ? 0x0320 : 0x0200,
      bDeviceClass: spec.bDeviceClass,
      bDeviceSubClass: spec.bDeviceSubClass,
      bDeviceProtocol: spec.bDeviceProtocol,
      bMaxPacketSize0: speed === 'super' ? 9 : this.gadget.ep0.maxpacket,
      idVendor: spec.idVendor,
      idProduct: spec.idProduct,
      bcdDevice: spec.bcdDevice,
      iManufacturer: this.#iManufacturer,
      iProduct: this.#iProduct,
      iSerialNumber: this.#iSerialNumber,
      bNumConfigurations: this.#configs.length,
    });
  }

  /** config_buf: the configuration and every function's descriptors at `speed`. */
  #configDescriptor(index: number, speed: UsbSpeed, type: number): Uint8Array | undefined {
    const config = this.#configs[index];
    if (config === undefined) return undefined;
    const body = encodeDescriptors(config.functions.flatMap((f) => f.descriptors(speed) ?? []));
    const head = encodeDescriptor({
      type: 'config',
      wTotalLength: USB_DT_CONFIG_SIZE + body.length,
      bNumInterfaces: config.interfaces.length,
      bConfigurationValue: config.bConfigurationValue,
      iConfiguration: config.iConfiguration,
      bmAttributes: config.bmAttributes,
      // encode_bMaxPower: 8 mA units at SuperSpeed, 2 mA below
      bMaxPower: Math.min(0xff, Math.ceil(config.maxPower / (speed === 'super' ? 8 : 2))),
    });
    head[1] = type;
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  }

  /** get_string: id 0 lists the languages; others come from the table of the asked language. */
  #stringDescriptor(id: number, lang: number): Uint8Array | undefined {
    if (this.#tables.length === 0) return undefined;
    if (id === 0) return encodeLangIds([...new Set(this.#tables.map((t) => t.lang))]);
    for (const table of this.#tables) {
      if (table.lang !== lang) continue;
      const text = table.strings.get(id);
      if (text !== undefined) return encodeStringDescriptor(text);
    }
    return undefined;
  }

  /** The BOS a SuperSpeed device must have: USB 2.0 extension (LPM) and SuperSpeed capability. */
  #bos(): Uint8Array {
    return Uint8Array.of(
      5, USB_DT_BOS, 22, 0, 2,
      7, 0x10, 0x02, 0x02, 0, 0, 0, // USB 2.0 extension: LPM
      10, 0x10, 0x03, 0, 0x0e, 0, 0x01, 0x0a, 0xff, 0x07, // SuperSpeed: FS|HS|SS, functionality from FS, U1 10 µs, U2 2047 µs
    );
  }
}
