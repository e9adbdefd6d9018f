// The FunctionFS USB function (f_fs.c's ffs_function): what a FunctionFS instance linked into a
// configuration does when the gadget binds. Bind claims endpoints (autoconfig, which renumbers
// them as the UDC's names say), numbers the interfaces and strings, and queues BIND; SET
// CONFIGURATION / SET_INTERFACE enable the endpoints and queue ENABLE; interface and endpoint
// requests become SETUP events with wIndex made function-relative (-EDOM when not ours).
import { errnoOf } from '../../../errors.js';
import { FUNCTIONFS_ALL_CTRL_RECIP, FUNCTIONFS_BIND, FUNCTIONFS_DISABLE, FUNCTIONFS_ENABLE, FUNCTIONFS_RESUME, FUNCTIONFS_SUSPEND, FUNCTIONFS_UNBIND, FUNCTIONFS_VIRTUAL_ADDR } from '../../../abi/functionfs.js';
import { USB_ENDPOINT_XFER_ISOC, USB_ENDPOINT_XFERTYPE_MASK, USB_RECIP_ENDPOINT, USB_RECIP_INTERFACE, USB_RECIP_MASK, type UsbCtrlRequest, type UsbDescriptor, type UsbEndpointDescriptor } from '../../../abi/usb.js';
import { kerr } from '../errno.js';
import type { Composite, CompositeConfig, UsbFunction } from './composite.js';
import type { FfsData, FfsDev } from './functionfs.js';
import { autoconfig, USB_GADGET_DELAYED_STATUS, type UsbEp } from './gadget.js';
import type { UsbSpeed } from './link.js';

const EDOM = -errnoOf('EDOM');
const ENODEV = -errnoOf('ENODEV');
const EOPNOTSUPP = -errnoOf('EOPNOTSUPP');
/** MAX_ALT_SETTINGS. */
const MAX_ALT_SETTINGS = 2;

const SPEED_KEYS = ['fs', 'hs', 'ss'] as const;

/** struct ffs_ep: a claimed endpoint and its descriptor at each speed ([0] full, [1] high, [2] super). */
export interface FfsEp {
  readonly ep: UsbEp;
  readonly descs: Array<UsbEndpointDescriptor | undefined>;
  /** ffs_ep.num: initialised to -1 in a u8 and never set in 6.12, so ENDPOINT_REVMAP answers 255. */
  readonly num: number;
}

export class FfsFunction implements UsbFunction {
  readonly name = 'Function FS Gadget';
  eps: FfsEp[] = [];
  /** Function-relative interface index → the configuration's interface number. */
  #interfaceNums: number[] = [];
  /** eps_revmap: endpoint number → 1 + index in eps. */
  #epsRevmap = new Map<number, number>();
  #curAlt = new Map<number, number>();
  #descs: Partial<Record<(typeof SPEED_KEYS)[number], UsbDescriptor[]>> = {};
  #ffs: FfsData | undefined;

  constructor(readonly dev: FfsDev) {}

  get ffs(): FfsData {
    if (this.#ffs === undefined) throw kerr('ENODEV', 'the function is not bound');
    return this.#ffs;
  }

  /** ffs_func_bind: ENODEV while the instance has no descriptors and strings ("ffs not ready"). */
  bind(config: CompositeConfig, composite: Composite): void {
    const dev = this.dev;
    if (!dev.descReady || dev.data === undefined) throw kerr('ENODEV', `FunctionFS instance ${dev.name} is not ready (no descriptors and strings written to ep0)`);
    const ffs = dev.data;
    if (dev.refcnt === 0) this.#functionfsBind(ffs, composite);
    dev.refcnt++;
    this.#ffs = ffs;
    try {
      this.#bindDescriptors(ffs, config, composite);
    } catch (e) {
      if (--dev.refcnt === 0) functionfsUnbind(ffs);
      throw e;
    }
    ffs.addEvent(FUNCTIONFS_BIND);
  }

  /** functionfs_bind: the string ids and the ep0 request; EBADFD unless ACTIVE and unbound. */
  #functionfsBind(ffs: FfsData, composite: Composite): void {
    if (ffs.state !== 'active' || ffs.gadget !== undefined) throw kerr('EBADFD');
    const count = ffs.parsed!.stringsCount;
    const first = count > 0 ? composite.stringIds(count) : 0;
    ffs.firstStringId = first;
    for (const { lang, strings } of ffs.strings!.langs) {
      composite.addStrings(lang, new Map(strings.slice(0, count).map((text, i) => [first + i, text])));
    }
    ffs.gadget = composite.gadget;
    ffs.ep0req = true;
  }

  /** _ffs_func_bind: endpoints claimed, then interface and string numbers rewritten. */
  #bindDescriptors(ffs: FfsData, config: CompositeConfig, composite: Composite): void {
    const parsed = ffs.parsed!;
    const gadget = composite.gadget;
    const virtualAddr = (parsed.descs.flags & FUNCTIONFS_VIRTUAL_ADDR) !== 0;
    const slots: Array<{ ep?: UsbEp; descs: Array<UsbEndpointDescriptor | undefined> }> = parsed.addrmap.map(() => ({ descs: [undefined, undefined, undefined] }));
    this.#descs = {};
    this.#epsRevmap = new Map();
    SPEED_KEYS.forEach((key, speed) => {
      const list = parsed.descs[key];
      if (list === undefined || list.length === 0) return;
      const copy = structuredClone(list);
      this.#descs[key] = copy;
      for (const d of copy) {
        if (d.type !== 'endpoint') continue;
        const idx = parsed.addrmap.indexOf(d.bEndpointAddress);
        const slot = slots[idx]!;
        if (slot.descs[speed] !== undefined) throw kerr('EINVAL', `two ${key} descriptors for endpoint 0x${d.bEndpointAddress.toString(16)}`);
        slot.descs[speed] = d;
        if (slot.ep !== undefined) {
          const first = slot.descs.find((x) => x !== undefined && x !== d)!;
          d.bEndpointAddress = first.bEndpointAddress;
          if (d.wMaxPacketSize === 0) d.wMaxPacketSize = first.wMaxPacketSize;
          continue;
        }
        const address = d.bEndpointAddress;
        const wMaxPacketSize = d.wMaxPacketSize;
        slot.ep = autoconfig(gadget, d);
        this.#epsRevmap.set(d.bEndpointAddress & 0x0f, idx + 1);
        if (virtualAddr) d.bEndpointAddress = address;
        d.wMaxPacketSize = wMaxPacketSize;
      }
    });
    this.eps = slots.map((s) => ({ ep: s.ep!, descs: s.descs, num: 255 }));
    this.#interfaceNums = [];
    const first = ffs.firstStringId;
    for (const list of Object.values(this.#descs)) {
      for (const d of list) {
        if (d.type === 'interface') {
          const idx = d.bInterfaceNumber;
          this.#interfaceNums[idx] ??= config.interfaceId(this);
          d.bInterfaceNumber = this.#interfaceNums[idx]!;
          if (d.iInterface !== 0) d.iInterface = first + d.iInterface - 1;
        } else if (d.type === 'other' && d.bDescriptorType === 0x0b && d.bytes[7] !== 0) {
          d.bytes[7] = first + d.bytes[7]! - 1; // an IAD's iFunction
        }
      }
    }
  }

  /** ffs_func_unbind. */
  unbind(): void {
    const ffs = this.#ffs;
    if (ffs === undefined) return;
    if (ffs.func === this) {
      this.#epsDisable();
      ffs.func = undefined;
    }
    ffs.addEvent(FUNCTIONFS_UNBIND);
    if (--this.dev.refcnt === 0) functionfsUnbind(ffs);
    this.#ffs = undefined;
  }

  /** function_descriptors: the speed's own, else the next slower speed's. */
  descriptors(speed: UsbSpeed): readonly UsbDescriptor[] | undefined {
    const order = speed === 'super' ? (['ss', 'hs', 'fs'] as const) : speed === 'high' ? (['hs', 'fs'] as const) : (['fs'] as const);
    for (const key of order) if (this.#descs[key] !== undefined) return this.#descs[key];
    return undefined;
  }

  /** ffs_func_revmap_intf: the function-relative index, or -EDOM. */
  revmapInterface(intf: number): number {
    const i = this.#interfaceNums.indexOf(intf & 0xff);
    return i < 0 ? EDOM : i;
  }

  /** ffs_func_set_alt. */
  setAlt(intf: number, alt: number): void {
    const ffs = this.ffs;
    if (alt > MAX_ALT_SETTINGS) throw kerr('EINVAL', `alternate setting ${alt}`);
    if (this.revmapInterface(intf) < 0) throw kerr('EDOM');
    if (ffs.func !== undefined) ffs.func.#epsDisable();
    if (ffs.state === 'deactivated') {
      ffs.state = 'closing';
      ffs.ctx.scheduler.soon(() => ffs.reset()); // ffs_reset_work
      throw kerr('ENODEV');
    }
    if (ffs.state !== 'active') throw kerr('ENODEV');
    ffs.func = this;
    this.#epsEnable();
    ffs.addEvent(FUNCTIONFS_ENABLE);
    this.#curAlt.set(intf, alt);
  }

  getAlt(intf: number): number {
    if (this.revmapInterface(intf) < 0) throw kerr('EDOM');
    return this.#curAlt.get(intf) ?? 0;
  }

  /** ffs_func_disable. */
  disable(): void {
    const ffs = this.ffs;
    if (ffs.func !== undefined) ffs.func.#epsDisable();
    if (ffs.state === 'deactivated') {
      ffs.state = 'closing';
      ffs.ctx.scheduler.soon(() => ffs.reset());
      return;
    }
    if (ffs.state === 'active') {
      ffs.func = undefined;
      ffs.addEvent(FUNCTIONFS_DISABLE);
    }
  }

  /** ffs_func_setup: a SETUP event with wIndex made function-relative; DELAYED_STATUS without a data stage. */
  setup(ctrl: UsbCtrlRequest): number {
    const ffs = this.ffs;
    if (ffs.state !== 'active') return ENODEV;
    let index: number;
    switch (ctrl.bRequestType & USB_RECIP_MASK) {
      case USB_RECIP_INTERFACE:
        index = this.revmapInterface(ctrl.wIndex);
        if (index < 0) return index;
        break;
      case USB_RECIP_ENDPOINT:
        index = this.#epsRevmap.get(ctrl.wIndex & 0x0f) ?? EDOM;
        if (index < 0) return index;
        if (ffs.parsed!.descs.flags & FUNCTIONFS_VIRTUAL_ADDR) index = ffs.parsed!.addrmap[index - 1]!;
        break;
      default:
        if (!(ffs.parsed!.descs.flags & FUNCTIONFS_ALL_CTRL_RECIP)) return EOPNOTSUPP;
        index = ctrl.wIndex;
    }
    ffs.addSetup({ ...ctrl, wIndex: index });
    return ctrl.wLength === 0 ? USB_GADGET_DELAYED_STATUS : 0;
  }

  ownsEndpoint(address: number): boolean {
    return this.eps.some((e) => e.ep.desc !== undefined && e.ep.address === address);
  }

  suspend(): void {
    this.#ffs?.addEvent(FUNCTIONFS_SUSPEND);
  }

  resume(): void {
    this.#ffs?.addEvent(FUNCTIONFS_RESUME);
  }

  /** ffs_func_eps_enable: each endpoint with its descriptor for the link's speed; ffs->wait is woken. */
  #epsEnable(): void {
    const ffs = this.ffs;
    const speed = ffs.gadgetSpeedIndex;
    try {
      this.eps.forEach((e, i) => {
        // config_ep_by_speed: the speed's descriptor, else a slower one's
        const desc = e.descs.slice(0, speed + 1).reverse().find((d) => d !== undefined);
        if (desc === undefined) throw kerr('EIO', `no descriptor for ${e.ep.name} at this speed`);
        e.ep.enable(desc);
        const epfile = ffs.epfiles[i];
        if (epfile !== undefined) {
          epfile.ep = e;
          epfile.isoc = (desc.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK) === USB_ENDPOINT_XFER_ISOC;
        }
      });
    } finally {
      ffs.waitq.wake();
    }
  }

  /** ffs_func_eps_disable: pending requests are nuked (-ESHUTDOWN). */
  #epsDisable(): void {
    const ffs = this.ffs;
    this.eps.forEach((e, i) => {
      if (e.ep.desc !== undefined) e.ep.disable();
      const epfile = ffs.epfiles[i];
      if (epfile !== undefined) epfile.ep = undefined;
    });
    ffs.waitq.wake();
  }
}

/** functionfs_unbind: ep0's pending request is dequeued, the gadget forgotten. */
function functionfsUnbind(ffs: FfsData): void {
  ffs.cancelEp0();
  ffs.ep0req = false;
  ffs.gadget = undefined;
  ffs.waitq.wake();
}
