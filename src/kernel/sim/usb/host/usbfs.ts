// A usbfs device file, /dev/bus/usb/BBB/DDD (devio.c), for one open: read() gives the device
// descriptor and then every configuration's raw descriptors (lseek: SEEK_SET and SEEK_CUR only);
// the ioctls below; poll: POLLOUT|POLLWRNORM when a completed URB can be reaped, POLLHUP once the
// device is gone, POLLERR too once it was removed. Every ioctl needs the file open for writing
// (EPERM); after a disconnect the reaps still drain what completed, then say ENODEV, and the rest
// say ENODEV. Closing kills the file's URBs and releases its interfaces.
//
// CONTROL, BULK, SETCONFIGURATION, SETINTERFACE and CLEAR_HALT block in Linux until the device
// answers. The sim runs the kernel's events on the calling thread meanwhile, so what the kernel
// answers itself (a gadget's standard requests, data a gadget already queued) completes; what only
// this process's userspace could answer (a FunctionFS SETUP event, an endpoint file nobody reads
// yet) cannot happen while the thread is blocked, and the call ends at once with ETIMEDOUT as it
// would in Linux once the timeout passed (waitUrbSync). Use URBs against a gadget in this process.
import {
  POLLERR,
  POLLHUP,
  POLLOUT,
  POLLWRNORM,
  SEEK_CUR,
  SEEK_SET,
  USBDEVFS_BULK,
  USBDEVFS_CAP_BULK_CONTINUATION,
  USBDEVFS_CAP_BULK_SCATTER_GATHER,
  USBDEVFS_CAP_CONNINFO_EX,
  USBDEVFS_CAP_DROP_PRIVILEGES,
  USBDEVFS_CAP_MMAP,
  USBDEVFS_CAP_NO_PACKET_SIZE_LIM,
  USBDEVFS_CAP_REAP_AFTER_DISCONNECT,
  USBDEVFS_CAP_SUSPEND,
  USBDEVFS_CAP_ZERO_PACKET,
  USBDEVFS_CLAIMINTERFACE,
  USBDEVFS_CLEAR_HALT,
  USBDEVFS_CONTROL,
  USBDEVFS_DISCARDURB,
  USBDEVFS_GET_CAPABILITIES,
  USBDEVFS_GET_SPEED,
  USBDEVFS_REAPURB,
  USBDEVFS_REAPURBNDELAY,
  USBDEVFS_RELEASEINTERFACE,
  USBDEVFS_RESET,
  USBDEVFS_SETCONFIGURATION,
  USBDEVFS_SETINTERFACE,
  USBDEVFS_SUBMITURB,
  USB_DIR_IN,
  USB_ENDPOINT_XFERTYPE_MASK,
  USB_ENDPOINT_XFER_INT,
  USB_RECIP_ENDPOINT,
  USB_RECIP_INTERFACE,
  USB_RECIP_MASK,
  USB_TYPE_MASK,
  USB_TYPE_VENDOR,
  usbdevfsBulkTransferStruct,
  usbdevfsCtrlTransferStruct,
  usbdevfsSetInterfaceStruct,
  defineStruct,
  s32,
  u32,
  type UsbCtrlRequest,
} from '../../../../abi/index.js';
import { errnoOf } from '../../../../errors.js';
import { kerr } from '../../errno.js';
import { SimFile, type IoctlArg, type IoctlPointers } from '../../file.js';
import { userBytes } from '../../uaccess.js';
import type { UsbBus } from './bus.js';
import { speedNumber, type InterfaceOwner, type UsbDevice, type UsbfsClient } from './device.js';
import { HcdUrb } from './hcd.js';
import { controlUrb, statusError, waitUrbSync } from './message.js';
import { interfaceDir, setDriverLink } from './sysfs.js';
import type { UsbCore } from './usb-core.js';
import { AsyncUrb, prepareSubmit, SIZEOF_URB, type SubmitContext } from './usbfs-urb.js';

const ECONNRESET = -errnoOf('ECONNRESET');
const ENOENT = -errnoOf('ENOENT');
/** ps->ifclaimed is an unsigned long: interfaces 0..63. */
const MAX_IFNUM = 64;
/** dummy_hcd's bus->sg_tablesize (~0). */
const SG_TABLESIZE = 0xffffffff;
const CAPABILITIES =
  USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_MMAP |
  USBDEVFS_CAP_DROP_PRIVILEGES | USBDEVFS_CAP_CONNINFO_EX | USBDEVFS_CAP_SUSPEND | USBDEVFS_CAP_BULK_CONTINUATION |
  USBDEVFS_CAP_BULK_SCATTER_GATHER;

export class UsbfsFile extends SimFile implements UsbfsClient, InterfaceOwner {
  readonly driverName = 'usbfs';
  readonly name: string;
  /** On the device's file list (cleared by usbdev_remove: POLLERR). */
  #listed = true;
  #pos = 0;
  readonly #pending: AsyncUrb[] = [];
  readonly #completed: AsyncUrb[] = [];
  /** cancel_bulk_urbs' disabled endpoints, a bit per bulkAddr. */
  #disabledBulkEps = 0;

  constructor(
    private readonly bus: UsbBus,
    private readonly core: UsbCore,
    private readonly dev: UsbDevice,
    path: string,
    flags: number,
  ) {
    super(flags);
    if (dev.state === 'notattached') throw kerr('ENODEV');
    this.name = path;
    dev.files.add(this);
  }

  get #connected(): boolean {
    return this.#listed && this.dev.state !== 'notattached';
  }

  // ---- read, lseek, poll -----------------------------------------------------------------

  override read(into: Uint8Array): number {
    if (!this.#connected) throw kerr('ENODEV');
    const parts = [this.dev.rawDescriptor, ...this.dev.configs.map((c) => c.raw)];
    let at = 0;
    let n = 0;
    for (const part of parts) {
      const from = this.#pos - at;
      if (from < part.length && n < into.length) {
        const chunk = part.subarray(Math.max(0, from), Math.max(0, from) + (into.length - n));
        into.set(chunk, n);
        n += chunk.length;
        this.#pos += chunk.length;
      }
      at += part.length;
    }
    return n;
  }

  /** no_seek_end_llseek. */
  override lseek(offset: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.#pos : NaN;
    if (Number.isNaN(base) || base + offset < 0) throw kerr('EINVAL');
    return (this.#pos = base + offset);
  }

  override poll(_events: number): number {
    let mask = 0;
    if (this.writable && this.#completed.length > 0) mask |= POLLOUT | POLLWRNORM;
    if (!this.#connected) mask |= POLLHUP;
    if (!this.#listed) mask |= POLLERR;
    return mask;
  }

  // ---- ioctl --------------------------------------------------------------------------------

  override ioctl(request: number, arg: IoctlArg, pointers: IoctlPointers): number {
    if (!this.writable) throw kerr('EPERM', 'usbfs ioctls need the file open for writing');
    if (request === USBDEVFS_REAPURBNDELAY || request === USBDEVFS_REAPURB) return this.#reap(userBytes(arg, 8), request === USBDEVFS_REAPURB);
    if (!this.#connected) throw kerr('ENODEV');
    switch (request) {
      case USBDEVFS_CONTROL:
        return this.#control(userBytes(arg, usbdevfsCtrlTransferStruct.size), pointers.get(16));
      case USBDEVFS_BULK:
        return this.#bulk(userBytes(arg, usbdevfsBulkTransferStruct.size), pointers.get(16));
      case USBDEVFS_SUBMITURB:
        return this.#submit(userBytes(arg, 56), pointers.get(16));
      case USBDEVFS_DISCARDURB:
        return this.#discard(arg);
      case USBDEVFS_CLAIMINTERFACE:
        this.#claim(u32Arg(arg));
        return 0;
      case USBDEVFS_RELEASEINTERFACE:
        return this.#releaseInterface(u32Arg(arg));
      case USBDEVFS_SETINTERFACE:
        return this.#setInterface(userBytes(arg, usbdevfsSetInterfaceStruct.size));
      case USBDEVFS_SETCONFIGURATION:
        return this.#setConfiguration(intArg.number(userBytes(arg, 4), 'int'));
      case USBDEVFS_CLEAR_HALT: {
        const ep = u32Arg(arg);
        this.#checkInterface(this.dev.interfaceOfEndpoint(ep));
        this.core.clearHaltSync(this.dev, ep);
        return 0;
      }
      case USBDEVFS_RESET:
        this.core.resetSync(this.dev);
        return 0;
      case USBDEVFS_GET_CAPABILITIES:
        uintArg.putNumber(userBytes(arg, 4), 'uint', CAPABILITIES);
        return 0;
      case USBDEVFS_GET_SPEED:
        return speedNumber(this.dev.speed);
      default:
        throw kerr('ENOTTY');
    }
  }

  // ---- interfaces ---------------------------------------------------------------------------

  /** claimintf. */
  #claim(ifnum: number): void {
    if (ifnum >= MAX_IFNUM) throw kerr('EINVAL', `interface ${ifnum}`);
    const intf = this.dev.interface(ifnum);
    if (intf === undefined) throw kerr('ENOENT', `no interface ${ifnum} in the active configuration`);
    if (this.dev.claimedBy(intf) === this) return;
    this.dev.claim(intf, this);
    setDriverLink(this.bus.ctx.vfs, interfaceDir(this.bus, this.dev, intf), this.driverName);
  }

  /** releaseintf, then the interface's URBs are killed. */
  #releaseInterface(ifnum: number): number {
    if (ifnum >= MAX_IFNUM) throw kerr('EINVAL', `interface ${ifnum}`);
    const intf = this.dev.interface(ifnum);
    if (intf === undefined) throw kerr('ENOENT', `no interface ${ifnum} in the active configuration`);
    if (this.dev.claimedBy(intf) !== this) throw kerr('EINVAL', `interface ${ifnum} is not claimed by this file`);
    this.dev.release(intf, this);
    setDriverLink(this.bus.ctx.vfs, interfaceDir(this.bus, this.dev, intf), undefined);
    this.#killPending((as) => as.ifnum === ifnum);
    return 0;
  }

  /** checkintf: EHOSTUNREACH while unconfigured; an unclaimed interface is claimed on first use. */
  #checkInterface(ifnum: number): void {
    if (this.dev.state !== 'configured') throw kerr('EHOSTUNREACH', 'the device is not configured');
    if (ifnum >= MAX_IFNUM) throw kerr('EINVAL', `interface ${ifnum}`);
    const intf = this.dev.interface(ifnum);
    if (intf !== undefined && this.dev.claimedBy(intf) === this) return;
    this.bus.message(`usb ${this.dev.name}: usbfs: process did not claim interface ${ifnum} before use`);
    this.#claim(ifnum);
  }

  /** check_ctrlrecip: requests to an interface or one of its endpoints need that interface. */
  #checkControlRecipient(setup: UsbCtrlRequest): void {
    if (this.dev.state === 'notattached' || this.dev.state === 'default') throw kerr('EHOSTUNREACH');
    if ((setup.bRequestType & USB_TYPE_MASK) === USB_TYPE_VENDOR) return;
    const index = setup.wIndex & 0xff;
    switch (setup.bRequestType & USB_RECIP_MASK) {
      case USB_RECIP_ENDPOINT: {
        if ((index & ~USB_DIR_IN) === 0) return;
        let ifnum: number;
        try {
          ifnum = this.dev.interfaceOfEndpoint(index);
        } catch {
          ifnum = this.dev.interfaceOfEndpoint(index ^ USB_DIR_IN); // apps that give the endpoint number
        }
        this.#checkInterface(ifnum);
        return;
      }
      case USB_RECIP_INTERFACE:
        this.#checkInterface(index);
    }
  }

  #setInterface(bytes: Uint8Array): number {
    const { interface: ifnum, altsetting } = usbdevfsSetInterfaceStruct.decode(bytes);
    this.#checkInterface(ifnum);
    const intf = this.dev.interface(ifnum);
    if (intf === undefined) throw kerr('EINVAL', `no interface ${ifnum}`);
    this.#killPending((as) => as.ifnum === ifnum);
    this.core.setInterfaceSync(this.dev, intf, altsetting);
    return 0;
  }

  /** proc_setconfig: EBUSY while any interface is claimed (by anyone). */
  #setConfiguration(value: number): number {
    for (const intf of this.dev.actconfig?.interfaces ?? []) {
      const holder = this.dev.claimedBy(intf);
      if (holder !== undefined) throw kerr('EBUSY', `interface ${intf.number} is claimed by ${holder.driverName}`);
    }
    this.core.setConfigurationSync(this.dev, value);
    return 0;
  }

  // ---- synchronous transfers ----------------------------------------------------------------

  #control(bytes: Uint8Array, data: Uint8Array | undefined): number {
    const c = usbdevfsCtrlTransferStruct.decode(bytes);
    const setup = { bRequestType: c.bRequestType, bRequest: c.bRequest, wValue: c.wValue, wIndex: c.wIndex, wLength: c.wLength };
    this.#checkControlRecipient(setup);
    const page = this.bus.ctx.pageSize;
    if (c.wLength > page) throw kerr('EINVAL', `wLength ${c.wLength} > ${page}`);
    if (c.wLength > 0 && (data === undefined || data.length < c.wLength)) throw kerr('EFAULT');
    const charge = page + SIZEOF_URB + 8;
    this.bus.memory.increase(charge);
    try {
      const isIn = (c.bRequestType & USB_DIR_IN) !== 0 && c.wLength > 0;
      const buffer = new Uint8Array(c.wLength);
      if (!isIn && c.wLength > 0) buffer.set(data!.subarray(0, c.wLength));
      const urb = controlUrb(setup, buffer);
      const status = waitUrbSync(this.dev.pipe, this.bus.ctx.scheduler, urb, c.timeout);
      if (status < 0) throw statusError(status, 'USBDEVFS_CONTROL');
      if (isIn) data!.set(buffer.subarray(0, urb.actual));
      return urb.actual;
    } finally {
      this.bus.memory.decrease(charge);
    }
  }

  #bulk(bytes: Uint8Array, data: Uint8Array | undefined): number {
    const b = usbdevfsBulkTransferStruct.decode(bytes);
    this.#checkInterface(this.dev.interfaceOfEndpoint(b.ep));
    if (b.len >= 0x7fffffff - SIZEOF_URB) throw kerr('EINVAL', `len ${b.len}`);
    const ep = this.dev.endpoint(b.ep & 0x8f);
    if (ep === undefined || ep.wMaxPacketSize === 0) throw kerr('EINVAL', `endpoint 0x${b.ep.toString(16)}`);
    if (b.len > 0 && (data === undefined || data.length < b.len)) throw kerr('EFAULT');
    const charge = b.len + SIZEOF_URB;
    this.bus.memory.increase(charge);
    try {
      const isIn = (b.ep & USB_DIR_IN) !== 0;
      const buffer = new Uint8Array(b.len);
      if (!isIn) buffer.set(data!.subarray(0, b.len));
      const interrupt = (ep.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK) === USB_ENDPOINT_XFER_INT;
      const urb = new HcdUrb({ endpoint: ep.bEndpointAddress, type: interrupt ? 'interrupt' : 'bulk', buffer, onGiveback: () => undefined });
      const status = waitUrbSync(this.dev.pipe, this.bus.ctx.scheduler, urb, b.timeout);
      if (status < 0) throw statusError(status, 'USBDEVFS_BULK');
      if (isIn) data!.set(buffer.subarray(0, urb.actual));
      return urb.actual;
    } finally {
      this.bus.memory.decrease(charge);
    }
  }

  // ---- URBs ---------------------------------------------------------------------------------

  #submit(userurb: Uint8Array, data: Uint8Array | undefined): number {
    const ctx: SubmitContext = {
      interfaceOfEndpoint: (address) => this.dev.interfaceOfEndpoint(address),
      checkInterface: (ifnum) => this.#checkInterface(ifnum),
      checkControlRecipient: (setup) => this.#checkControlRecipient(setup),
      endpointType: (address) => {
        const ep = this.dev.endpoint(address);
        return ep === undefined ? undefined : ep.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK;
      },
    };
    const as = prepareSubmit(ctx, userurb, data, SG_TABLESIZE, (n) => this.bus.memory.increase(n), (a, status) => this.#completedOne(a, status));
    this.#pending.push(as);
    try {
      if (as.bulkAddr !== 0) {
        const bit = 2 ** as.bulkAddr;
        if (as.bulkStatus === undefined) this.#disabledBulkEps &= ~bit;
        if (this.#disabledBulkEps & bit) throw kerr('EREMOTEIO', 'an earlier URB of this transfer failed');
      }
      this.dev.pipe.submit(as.urb);
    } catch (e) {
      this.#pending.splice(this.#pending.indexOf(as), 1);
      this.bus.memory.decrease(as.memUsage);
      throw e;
    }
    return 0;
  }

  /** async_completed. */
  #completedOne(as: AsyncUrb, status: number): void {
    const i = this.#pending.indexOf(as);
    if (i >= 0) this.#pending.splice(i, 1);
    as.status = status;
    this.#completed.push(as);
    if (status < 0 && as.bulkAddr !== 0 && status !== ECONNRESET && status !== ENOENT) this.#cancelBulk(as.bulkAddr);
    this.waitQueue.wake();
  }

  /**
   * cancel_bulk_urbs: after a failed bulk URB, the URBs queued behind it as continuations of the
   * same transfer are unlinked (-ECONNRESET); if no new transfer was queued, the endpoint refuses
   * continuations (EREMOTEIO) until one is.
   */
  #cancelBulk(bulkAddr: number): void {
    let newTransfer = false;
    for (const as of this.#pending) {
      if (as.bulkAddr !== bulkAddr) continue;
      if (as.bulkStatus !== 'continuation') {
        newTransfer = true;
        break;
      }
      as.bulkStatus = 'unlink';
      as.bulkAddr = 0;
    }
    if (!newTransfer) this.#disabledBulkEps |= 2 ** bulkAddr;
    for (const as of [...this.#pending].reverse()) {
      if (as.bulkStatus !== 'unlink') continue;
      as.bulkStatus = undefined;
      this.dev.pipe.kill(as.urb, ECONNRESET);
    }
  }

  /** proc_unlinkurb: EINVAL unless `arg` is a URB of this file still pending; it completes with -ENOENT. */
  #discard(arg: IoctlArg): number {
    const as = arg instanceof Uint8Array ? this.#pending.find((a) => a.is(arg)) : undefined;
    if (as === undefined) throw kerr('EINVAL', 'no such URB pending on this file');
    this.dev.pipe.kill(as.urb, ENOENT);
    return 0;
  }

  /** proc_reapurbnonblock (REAPURB would sleep: the sim answers as the nonblocking form once nothing can complete). */
  #reap(arg: Uint8Array, blocking: boolean): number {
    if (blocking) this.bus.ctx.scheduler.blockUntil(() => this.#completed.length > 0 || !this.#connected, Infinity, true);
    const as = this.#completed.shift();
    if (as === undefined) throw kerr(this.#connected ? 'EAGAIN' : 'ENODEV');
    as.reap(arg);
    this.bus.memory.decrease(as.memUsage);
    return 0;
  }

  #killPending(which: (as: AsyncUrb) => boolean): void {
    for (const as of [...this.#pending].reverse()) if (which(as)) this.dev.pipe.kill(as.urb, ENOENT);
  }

  // ---- lifetime -----------------------------------------------------------------------------

  /** The device is being reset: its interfaces' drivers are unbound (usbfs has no post_reset), so this file's URBs on them die. */
  interfacesLost(): void {
    this.#killPending((as) => as.ifnum >= 0);
  }

  /** usbdev_remove: pending URBs killed (already flushed by the disconnect), off the device's list. */
  deviceRemoved(): void {
    this.#killPending(() => true);
    this.#listed = false;
    this.waitQueue.wake();
  }

  /** usbdev_release: claims released, URBs killed, completed ones freed. */
  protected override release(): void {
    this.dev.files.delete(this);
    for (const intf of this.dev.actconfig?.interfaces ?? []) {
      if (this.dev.claimedBy(intf) !== this) continue;
      this.dev.release(intf, this);
      if (this.dev.state !== 'notattached') setDriverLink(this.bus.ctx.vfs, interfaceDir(this.bus, this.dev, intf), undefined);
    }
    this.#killPending(() => true);
    for (const as of this.#completed.splice(0)) this.bus.memory.decrease(as.memUsage);
  }
}

/** An int argument (host byte order), and the unsigned int most requests take. */
const intArg = defineStruct('int', 4, { int: s32(0) });
const uintArg = defineStruct('unsigned int', 4, { uint: u32(0) });

function u32Arg(arg: IoctlArg): number {
  return uintArg.number(userBytes(arg, 4), 'uint');
}
