// configfs gadgets (drivers/usb/gadget/configfs.c under fs/configfs's rules) at
// /sys/kernel/config/usb_gadget: userspace makes a gadget with mkdir, fills its attributes and
// strings, makes functions (functions/ffs.<name>) and configurations (configs/<label>.<n>),
// links functions into configurations, and binds the gadget by writing a UDC's name to `UDC`.
//
// configfs' answers: a default group (strings, configs, functions, os_desc, webusb) cannot be
// removed (EPERM); a group with user-made groups or links in it is ENOTEMPTY; an item something
// links to is EBUSY; a link can only be made in a configuration, to a function of the same
// gadget (EINVAL otherwise, EEXIST twice, EINVAL while bound); unlinking while bound unbinds.
// UDC: "" or "\n" unbinds (ENODEV if unbound); a name while bound is EBUSY; binding fails with
// EBUSY whatever the reason (an unknown UDC, a taken one, a bind error such as an ffs instance
// without descriptors), as usb_gadget_register_driver answers with match_existing_only in 6.12.
import { kerr, KernelError } from '../errno.js';
import { kstrtouBase0, withoutNewline } from '../iio/kstrto.js';
import type { DirNode, Vfs, VfsNode } from '../vfs.js';
import { Composite, type CompositeSpec } from './composite.js';
import type { DummyUdc } from './dummy-udc.js';
import { FfsFunction } from './ffs-function.js';
import type { FfsDev, FunctionFs } from './functionfs.js';
import type { UsbSpeed } from './link.js';

export const GADGET_ROOT = '/sys/kernel/config/usb_gadget';
/** MAX_NAME_LEN of configfs.c. */
const MAX_NAME_LEN = 40;
/** USB_MAX_STRING_LEN. */
const MAX_STRING_LEN = 126;
/** MAX_USB_STRING_LANGS. */
const MAX_LANGS = 2;
/** get_default_bcdDevice for 6.12. */
const DEFAULT_BCD_DEVICE = 0x0612;
/** CONFIG_USB_GADGET_VBUS_DRAW's default. */
const DEFAULT_MAX_POWER = 2;

const SPEED_NAMES: ReadonlyMap<string, UsbSpeed> = new Map([
  ['full-speed', 'full'],
  ['high-speed', 'high'],
  ['super-speed', 'super'],
  ['super-speed-plus', 'super'],
]);

function checkName(name: string): void {
  if (Buffer.byteLength(name) >= MAX_NAME_LEN) throw kerr('ENAMETOOLONG', name);
}

/** usb_validate_langid. */
function validLangid(id: number): boolean {
  const primary = id & 0x3ff;
  const sub = id >> 10;
  if (primary === 0 || (primary >= 0x62 && primary <= 0xfe) || primary >= 0x100) return false;
  return sub !== 0;
}

/** is_valid_bcd: every nibble a decimal digit. */
function validBcd(v: number): boolean {
  return [0, 4, 8, 12].every((shift) => ((v >> shift) & 0xf) <= 9);
}

/** usb_string_copy: at most 126 bytes, one trailing newline dropped. */
function stringStore(text: string): string {
  if (Buffer.byteLength(text) > MAX_STRING_LEN) throw kerr('EOVERFLOW', `strings hold at most ${MAX_STRING_LEN} bytes`);
  return withoutNewline(text);
}

interface LangStrings {
  lang: number;
  values: Map<string, string>;
}

interface ConfigItem {
  readonly name: string;
  readonly dir: DirNode;
  bConfigurationValue: number;
  bmAttributes: number;
  maxPower: number;
  readonly strings: LangStrings[];
  /** Linked functions, in link order: link name → function. */
  readonly links: Map<string, FunctionItem>;
}

interface FunctionItem {
  readonly name: string;
  readonly dir: DirNode;
  readonly dev: FfsDev;
  readonly func: FfsFunction;
}

/** A directory whose userspace operations configfs answers: ours, or EPERM. */
function group(dir: DirNode, ops: DirNode['ops']): DirNode {
  dir.ops = ops;
  return dir;
}

class Gadget {
  readonly root: DirNode;
  bDeviceClass = 0;
  bDeviceSubClass = 0;
  bDeviceProtocol = 0;
  bMaxPacketSize0 = 0;
  idVendor = 0;
  idProduct = 0;
  bcdDevice = DEFAULT_BCD_DEVICE;
  bcdUSB = 0;
  maxSpeed: UsbSpeed | 'super-plus' = 'super-plus';
  readonly strings: LangStrings[] = [];
  readonly configs: ConfigItem[] = [];
  readonly functions: FunctionItem[] = [];
  /** udc_name: the UDC this gadget is bound to. */
  udc: DummyUdc | undefined;

  constructor(
    readonly name: string,
    private readonly path: string,
    private readonly vfs: Vfs,
    private readonly udcs: ReadonlyMap<string, DummyUdc>,
    private readonly ffs: FunctionFs,
  ) {
    this.root = vfs.mkdir(path);
    this.#attrs();
    group(vfs.mkdir(`${path}/strings`), this.#langGroupOps(`${path}/strings`, this.strings, ['manufacturer', 'product', 'serialnumber']));
    group(vfs.mkdir(`${path}/configs`), { mkdir: (n) => this.#makeConfig(n), rmdir: (n) => this.#removeConfig(n) });
    group(vfs.mkdir(`${path}/functions`), { mkdir: (n) => this.#makeFunction(n), rmdir: (n) => this.#removeFunction(n) });
    vfs.mkdir(`${path}/os_desc`);
    vfs.mkdir(`${path}/webusb`);
  }

  /** Default groups may not go; user-made groups and links inside make the gadget ENOTEMPTY. */
  get empty(): boolean {
    return this.strings.length === 0 && this.configs.length === 0 && this.functions.length === 0;
  }

  #attrs(): void {
    const u8 = (name: 'bDeviceClass' | 'bDeviceSubClass' | 'bDeviceProtocol' | 'bMaxPacketSize0') =>
      this.vfs.attr(`${this.path}/${name}`, {
        mode: 0o644,
        show: () => `0x${this[name].toString(16).padStart(2, '0')}\n`,
        store: (t) => void (this[name] = kstrtouBase0(t, 0xff)),
      });
    const u16 = (name: 'idVendor' | 'idProduct' | 'bcdDevice' | 'bcdUSB', bcd: boolean) =>
      this.vfs.attr(`${this.path}/${name}`, {
        mode: 0o644,
        show: () => `0x${this[name].toString(16).padStart(4, '0')}\n`,
        store: (t) => {
          const v = kstrtouBase0(t, 0xffff);
          if (bcd && !validBcd(v)) throw kerr('EINVAL', `0x${v.toString(16)} is not BCD`);
          this[name] = v;
        },
      });
    u8('bDeviceClass');
    u8('bDeviceSubClass');
    u8('bDeviceProtocol');
    u8('bMaxPacketSize0');
    u16('idVendor', false);
    u16('idProduct', false);
    u16('bcdDevice', true);
    u16('bcdUSB', true);
    this.vfs.attr(`${this.path}/max_speed`, {
      mode: 0o644,
      show: () => `${this.maxSpeed === 'super-plus' ? 'super-speed-plus' : `${this.maxSpeed}-speed`}\n`,
      store: (t) => {
        if (this.udc !== undefined) throw kerr('EBUSY', 'the gadget is bound');
        const word = withoutNewline(t);
        const speed = SPEED_NAMES.get(word);
        if (speed === undefined) throw kerr('EINVAL', `unknown speed ${JSON.stringify(t)}`);
        this.maxSpeed = word === 'super-speed-plus' ? 'super-plus' : speed;
      },
    });
    this.vfs.attr(`${this.path}/UDC`, {
      mode: 0o644,
      show: () => `${this.udc?.name ?? ''}\n`,
      store: (t) => this.#storeUdc(t),
    });
  }

  /** gadget_dev_desc_UDC_store. */
  #storeUdc(text: string): void {
    const name = withoutNewline(text);
    if (name === '') {
      if (this.udc === undefined) throw kerr('ENODEV', 'the gadget is not bound');
      this.unbind();
      return;
    }
    if (this.udc !== undefined) throw kerr('EBUSY', `the gadget is bound to ${this.udc.name}`);
    const udc = this.udcs.get(name);
    if (udc === undefined) throw kerr('EBUSY', `couldn't find an available UDC named ${name}`);
    const composite = new Composite(this.#spec());
    try {
      udc.bindDriver(composite, this.name, this.maxSpeed === 'super-plus' ? 'super' : this.maxSpeed);
    } catch (e) {
      if (e instanceof KernelError) throw kerr('EBUSY', `couldn't find an available UDC or it's busy (${e.message})`);
      throw e;
    }
    this.udc = udc;
    for (const f of this.functions) f.dev.unbindGadget = () => this.unbind();
  }

  /** unregister_gadget. */
  unbind(): void {
    const udc = this.udc;
    if (udc === undefined) return;
    this.udc = undefined;
    udc.unbindDriver();
  }

  #spec(): CompositeSpec {
    const strings = new Map(this.strings.map((s) => [s.lang, Object.fromEntries(s.values) as { manufacturer?: string; product?: string; serialnumber?: string }]));
    return {
      name: this.name,
      bDeviceClass: this.bDeviceClass,
      bDeviceSubClass: this.bDeviceSubClass,
      bDeviceProtocol: this.bDeviceProtocol,
      idVendor: this.idVendor,
      idProduct: this.idProduct,
      bcdDevice: this.bcdDevice,
      strings,
      configs: this.configs.map((c) => ({
        bConfigurationValue: c.bConfigurationValue,
        bmAttributes: c.bmAttributes,
        maxPower: c.maxPower,
        strings: new Map(c.strings.flatMap((s) => (s.values.has('configuration') ? [[s.lang, s.values.get('configuration')!] as const] : []))),
        functions: [...c.links.values()].map((f) => f.func),
      })),
    };
  }

  /** strings/<lang> groups (gadget or configuration strings): kstrtou16 names, valid LANGIDs, at most 2. */
  #langGroupOps(path: string, list: LangStrings[], names: readonly string[]): DirNode['ops'] {
    return {
      mkdir: (name) => {
        const lang = kstrtouBase0(name, 0xffff);
        if (!validLangid(lang)) throw kerr('EINVAL', `0x${lang.toString(16)} is not a valid LANGID`);
        if (list.length >= MAX_LANGS) throw kerr('EINVAL', `at most ${MAX_LANGS} languages`);
        if (list.some((s) => s.lang === lang)) throw kerr('EEXIST');
        const entry: LangStrings = { lang, values: new Map() };
        list.push(entry);
        this.vfs.mkdir(`${path}/${name}`);
        for (const attr of names) {
          this.vfs.attr(`${path}/${name}/${attr}`, {
            mode: 0o644,
            show: () => `${entry.values.get(attr) ?? ''}\n`,
            store: (t) => void entry.values.set(attr, stringStore(t)),
          });
        }
      },
      rmdir: (name) => {
        const lang = kstrtouBase0(name, 0xffff);
        list.splice(list.findIndex((s) => s.lang === lang), 1);
        this.vfs.remove(`${path}/${name}`);
      },
    };
  }

  // ---- configurations ------------------------------------------------------------------------

  /** config_desc_make: "<label>.<number>", number 1..255 and unique. */
  #makeConfig(name: string): void {
    checkName(name);
    const dot = name.indexOf('.');
    if (dot <= 0) throw kerr('EINVAL', 'a configuration is named <label>.<number>');
    const num = kstrtouBase0(name.slice(dot + 1), 0xffff_ffff);
    if (num > 255) throw kerr('ERANGE', `configuration number ${num}`);
    if (num === 0) throw kerr('EINVAL', 'configuration number 0');
    if (this.configs.some((c) => c.bConfigurationValue === num)) throw kerr('EBUSY', `configuration ${num} exists`);
    const path = `${this.path}/configs/${name}`;
    const config: ConfigItem = {
      name,
      dir: this.vfs.mkdir(path),
      bConfigurationValue: num,
      bmAttributes: 0x80,
      maxPower: DEFAULT_MAX_POWER,
      strings: [],
      links: new Map(),
    };
    this.configs.push(config);
    this.vfs.attr(`${path}/MaxPower`, {
      mode: 0o644,
      show: () => `${config.maxPower}\n`,
      store: (t) => {
        const v = kstrtouBase0(t, 0xffff);
        if (Math.ceil(v / 8) > 0xff) throw kerr('ERANGE', `${v} mA`);
        config.maxPower = v;
      },
    });
    this.vfs.attr(`${path}/bmAttributes`, {
      mode: 0o644,
      show: () => `0x${config.bmAttributes.toString(16).padStart(2, '0')}\n`,
      store: (t) => {
        const v = kstrtouBase0(t, 0xff);
        if (!(v & 0x80) || v & ~(0x80 | 0x40 | 0x20)) throw kerr('EINVAL', `bmAttributes 0x${v.toString(16)}`);
        config.bmAttributes = v;
      },
    });
    group(this.vfs.mkdir(`${path}/strings`), this.#langGroupOps(`${path}/strings`, config.strings, ['configuration']));
    group(config.dir, {
      symlink: (link, _target, resolve) => this.#link(config, link, resolve()),
      unlink: (link) => this.#unlink(config, link),
    });
  }

  #removeConfig(name: string): void {
    const config = this.configs.find((c) => c.name === name)!;
    if (config.links.size > 0 || config.strings.length > 0) throw kerr('ENOTEMPTY');
    this.configs.splice(this.configs.indexOf(config), 1);
    this.vfs.remove(`${this.path}/configs/${name}`);
  }

  /** config_usb_cfg_link. */
  #link(config: ConfigItem, link: string, target: VfsNode): void {
    const f = this.functions.find((fn) => fn.dir === target);
    if (f === undefined) {
      if (!this.#inConfigfs(target)) throw kerr('EPERM', 'the target is not in configfs');
      throw kerr('EINVAL', 'only a function of this gadget can be linked into its configuration');
    }
    if (this.udc !== undefined) throw kerr('EINVAL', 'the gadget is bound');
    if ([...config.links.values()].includes(f)) throw kerr('EEXIST', `${f.name} is linked into ${config.name} already`);
    config.links.set(link, f);
    config.dir.children.set(link, { kind: 'symlink', target: `../../../../usb_gadget/${this.name}/functions/${f.name}` });
  }

  /** config_usb_cfg_unlink: unbinds a bound gadget first. */
  #unlink(config: ConfigItem, link: string): void {
    if (!config.links.has(link)) throw kerr('EPERM', 'only links can be removed here');
    this.unbind();
    config.links.delete(link);
    config.dir.children.delete(link);
  }

  #inConfigfs(node: VfsNode): boolean {
    return [this.root, ...this.functions.map((f) => f.dir), ...this.configs.map((c) => c.dir)].includes(node as DirNode);
  }

  // ---- functions -----------------------------------------------------------------------------

  /** function_make: "<function>.<instance>"; only FunctionFS ("ffs") is built into the sim. */
  #makeFunction(name: string): void {
    checkName(name);
    const dot = name.indexOf('.');
    if (dot < 0) throw kerr('EINVAL', 'a function is named <function>.<instance>');
    const type = name.slice(0, dot);
    const instance = name.slice(dot + 1);
    if (type !== 'ffs') throw kerr('ENOENT', `no function driver ${type} (the sim has ffs only)`);
    const dev = this.ffs.allocDev(instance);
    const path = `${this.path}/functions/${name}`;
    const item: FunctionItem = { name, dir: this.vfs.mkdir(path), dev, func: new FfsFunction(dev) };
    this.functions.push(item);
    this.vfs.attr(`${path}/ready`, { mode: 0o444, show: () => `${dev.descReady ? 1 : 0}\n` });
  }

  #removeFunction(name: string): void {
    const item = this.functions.find((f) => f.name === name)!;
    if (this.configs.some((c) => [...c.links.values()].includes(item))) throw kerr('EBUSY', `${name} is linked into a configuration`);
    this.functions.splice(this.functions.indexOf(item), 1);
    this.ffs.freeDev(item.dev);
    this.vfs.remove(`${this.path}/functions/${name}`);
  }
}

/** The usb_gadget configfs subsystem: gadgets made and removed under GADGET_ROOT. */
export function installGadgetConfigfs(vfs: Vfs, udcs: ReadonlyMap<string, DummyUdc>, ffs: FunctionFs): void {
  const gadgets = new Map<string, Gadget>();
  group(vfs.mkdir(GADGET_ROOT), {
    mkdir: (name) => {
      gadgets.set(name, new Gadget(name, `${GADGET_ROOT}/${name}`, vfs, udcs, ffs));
    },
    rmdir: (name) => {
      const gadget = gadgets.get(name)!;
      if (!gadget.empty) throw kerr('ENOTEMPTY', 'remove its configurations, functions and strings first');
      gadget.unbind();
      gadgets.delete(name);
      vfs.remove(`${GADGET_ROOT}/${name}`);
    },
  });
}
