// dummy_udc (drivers/usb/gadget/udc/dummy_hcd.c, device half), with the UDC core's share
// (udc/core.c: binding a gadget driver, the gadget state, /sys/class/udc). It is the device end
// of the simulated cable (link.ts): the host controller submits URBs, and the transfer engine
// (dummy_timer) moves real bytes between them and the requests the gadget queued.
//
// Modelled as dummy_hcd does it:
// * Endpoints are dummy's fixed list (ep1in-bulk, ep2out-bulk, ..., then generic ep-aout ...),
//   so autoconfig gives the host the addresses Linux gives (iiod's 0x81/0x01 become 0x81/0x02).
// * dummy_enable's maxpacket rules (bulk: 512 at high speed, 1024 super, 8..64 full); enabling
//   twice or ep0 is EINVAL; without a driver or a port enabled by the host's reset, ESHUTDOWN.
// * The transfer (dummy's transfer()): whole packets first, the remainder in a second pass; a
//   short packet ends both sides (an OUT request shorter than the host's short packet gets
//   -EOVERFLOW, and the URB completes with what was moved, as dummy does); a request of
//   exactly k packets ends without a ZLP unless req.zero; the URB's URB_ZERO_PACKET likewise.
// * The emulated FIFO: an IN request of at most 64 bytes queued on an idle endpoint is copied
//   into the UDC's one FIFO request and completes at once, before the host reads it.
// * SET_ADDRESS, endpoint halt features and GET_STATUS are answered here; every other SETUP
//   goes to the gadget driver, whose ep0 requests then carry the data and status stages.
// * A halted endpoint answers its URBs -EPIPE; an URB for an endpoint the configuration lacks
//   completes with -EPROTO.
// * Pacing: the timer runs every 125 µs with dummy's byte budget per tick (usb.md §A5:
//   53,248 B high speed, 490,000 B super, 1,216 B full) in 'realtime'; in 'fast' time each
//   tick runs as soon as possible with no budget. Ticks stop while nothing can move.
// * Scatter-gather (gadget->sg_supported) as the lab's patched dummy_hcd: switchable, and a
//   scatter-gather request (a DMABUF) skips the FIFO shortcut.
import { errnoOf } from '../../../errors.js';
import {
  USB_DIR_IN,
  USB_ENDPOINT_XFER_BULK,
  USB_ENDPOINT_XFER_INT,
  USB_ENDPOINT_XFERTYPE_MASK,
  USB_FEATURE_ENDPOINT_HALT,
  USB_RECIP_DEVICE,
  USB_RECIP_ENDPOINT,
  USB_REQ_CLEAR_FEATURE,
  USB_REQ_GET_STATUS,
  USB_REQ_SET_ADDRESS,
  USB_REQ_SET_FEATURE,
  type UsbCtrlRequest,
  type UsbEndpointDescriptor,
} from '../../../abi/usb.js';
import { nowMs } from '../clock.js';
import type { SimContext } from '../context.js';
import { kerr } from '../errno.js';
import {
  EINPROGRESS,
  requestRead,
  requestWrite,
  usbRequest,
  type EndpointCaps,
  type EndpointType,
  type GadgetDriver,
  type GadgetState,
  type UsbEp,
  type UsbGadget,
  type UsbRequest,
} from './gadget.js';
import type { Urb, UsbPortDevice, UsbRootPort, UsbSpeed } from './link.js';

const ESHUTDOWN = -errnoOf('ESHUTDOWN');
const ECONNRESET = -errnoOf('ECONNRESET');
const EOVERFLOW = -errnoOf('EOVERFLOW');
const EPIPE = -errnoOf('EPIPE');
const EPROTO = -errnoOf('EPROTO');

/** The emulated FIFO's size (dummy's FIFO_SIZE). */
const FIFO_SIZE = 64;
/** DUMMY_TIMER_INT_NSECS. */
const TICK_MS = 0.125;
/** get_frame_limit: bytes per tick by speed. */
const BUDGET: Readonly<Record<UsbSpeed, number>> = { full: 64 * 19, high: 512 * 13 * 8, super: 490_000 };
/** Control transfers' data stage: "no delays (max 64KB data stage)". */
const CONTROL_LIMIT = 64 * 1024;

const BULK_OR_INT: readonly EndpointType[] = ['bulk', 'int'];
/** dummy's ep_info after ep0 (the iso endpoints are commented out there). */
const ENDPOINTS: ReadonlyArray<readonly [string, readonly EndpointType[], 'in' | 'out']> = [
  ['ep1in-bulk', ['bulk'], 'in'],
  ['ep2out-bulk', ['bulk'], 'out'],
  ['ep5in-int', ['int'], 'in'],
  ['ep6in-bulk', ['bulk'], 'in'],
  ['ep7out-bulk', ['bulk'], 'out'],
  ['ep10in-int', ['int'], 'in'],
  ['ep11in-bulk', ['bulk'], 'in'],
  ['ep12out-bulk', ['bulk'], 'out'],
  ['ep15in-int', ['int'], 'in'],
  ['ep1out-bulk', ['bulk'], 'out'],
  ['ep2in-bulk', ['bulk'], 'in'],
  ['ep-aout', BULK_OR_INT, 'out'],
  ['ep-bin', BULK_OR_INT, 'in'],
  ['ep-cout', BULK_OR_INT, 'out'],
  ['ep-dout', BULK_OR_INT, 'out'],
  ['ep-ein', BULK_OR_INT, 'in'],
  ['ep-fout', BULK_OR_INT, 'out'],
  ['ep-gin', BULK_OR_INT, 'in'],
  ['ep-hout', BULK_OR_INT, 'out'],
  ['ep-iout', BULK_OR_INT, 'out'],
  ['ep-jin', BULK_OR_INT, 'in'],
  ['ep-kout', BULK_OR_INT, 'out'],
  ['ep-lin', BULK_OR_INT, 'in'],
  ['ep-mout', BULK_OR_INT, 'out'],
];

const SPEED_STRINGS: Readonly<Record<UsbSpeed, string>> = { full: 'full-speed', high: 'high-speed', super: 'super-speed' };
const SPEED_ORDER: readonly UsbSpeed[] = ['full', 'high', 'super'];

class DummyEp implements UsbEp {
  address = 0;
  claimed = false;
  desc: UsbEndpointDescriptor | undefined;
  halted = false;
  readonly requests: UsbRequest[] = [];

  constructor(
    private readonly udc: DummyUdc,
    readonly name: string,
    readonly caps: EndpointCaps,
  ) {}

  get isEp0(): boolean {
    return this.name === 'ep0';
  }

  get maxpacket(): number {
    if (this.isEp0) return this.udc.speed === 'super' ? 512 : 64;
    return this.desc === undefined ? 1024 : this.desc.wMaxPacketSize & 0x7ff;
  }

  get dirIn(): boolean {
    return this.desc !== undefined && (this.desc.bEndpointAddress & USB_DIR_IN) !== 0;
  }

  enable(desc: UsbEndpointDescriptor): void {
    if (this.isEp0 || this.desc !== undefined) throw kerr('EINVAL', `${this.name} is ${this.isEp0 ? 'ep0' : 'enabled already'}`);
    this.udc.checkActive();
    const max = desc.wMaxPacketSize & 0x7ff;
    const speed = this.udc.speed;
    const type = desc.bmAttributes & USB_ENDPOINT_XFERTYPE_MASK;
    let ok = false;
    if (type === USB_ENDPOINT_XFER_BULK && !/-(int|iso)$/.test(this.name)) {
      ok = speed === 'super' ? max === 1024 : speed === 'high' ? max === 512 : [8, 16, 32, 64].includes(max);
    } else if (type === USB_ENDPOINT_XFER_INT && !/-(bulk|iso)$/.test(this.name)) {
      ok = speed === 'full' ? max <= 64 : max <= 1024;
    }
    if (!ok) throw kerr('EINVAL', `${this.name} cannot do wMaxPacketSize ${max} of this type at ${speed} speed`);
    this.desc = { ...desc };
    this.halted = false;
  }

  disable(): void {
    if (this.isEp0 || this.desc === undefined) throw kerr('EINVAL', `${this.name} is not enabled`);
    this.desc = undefined;
    this.nuke(ESHUTDOWN);
  }

  queue(req: UsbRequest): void {
    if (this.requests.includes(req) || this.udc.fifoHolds(req)) throw kerr('EINVAL', 'the request is queued already');
    if (!this.isEp0 && this.desc === undefined) throw kerr('EINVAL', `${this.name} is disabled`);
    this.udc.checkActive();
    req.actual = 0;
    req.status = EINPROGRESS;
    if (this.dirIn && req.sg === undefined && req.length <= FIFO_SIZE && this.requests.length === 0 && this.udc.takeFifo(this, req)) {
      req.actual = req.length;
      req.status = 0;
      req.complete(req);
    } else {
      this.requests.push(req);
    }
    this.udc.kick();
  }

  dequeue(req: UsbRequest): void {
    const i = this.requests.indexOf(req);
    if (i < 0) throw kerr('EINVAL', 'the request is not queued');
    this.requests.splice(i, 1);
    this.udc.giveback(req, ECONNRESET);
  }

  setHalt(): void {
    if (!this.udc.hasDriver) throw kerr('ESHUTDOWN');
    if (this.dirIn && this.requests.length > 0) throw kerr('EAGAIN', 'an IN endpoint with queued requests cannot halt');
    this.halted = true;
    this.udc.kick(); // a pending URB now answers -EPIPE
  }

  clearHalt(): void {
    if (!this.udc.hasDriver) throw kerr('ESHUTDOWN');
    this.halted = false;
    this.udc.kick();
  }

  fifoStatus(): number {
    throw kerr('EOPNOTSUPP', 'dummy_udc has no fifo_status');
  }

  fifoFlush(): void {}

  /** Completes every queued request with `status` (dummy's nuke). */
  nuke(status: number): void {
    for (const req of this.requests.splice(0)) this.udc.giveback(req, status);
  }
}

/** The default control pipe, whichever direction bit the host put in the address. */
function isEp0(urb: Urb): boolean {
  return (urb.endpoint & 0x7f) === 0;
}

interface PendingUrb {
  readonly urb: Urb;
  /** ep0: the SETUP has not been handled yet. */
  setupStage: boolean;
}

export interface DummyUdcOptions {
  /** The fastest speed dummy_hcd runs at (is_high_speed / is_super_speed). */
  maxSpeed: UsbSpeed;
  /** gadget->sg_supported (the lab's `sg` module parameter). */
  sg: boolean;
}

export class DummyUdc implements UsbGadget, UsbPortDevice {
  readonly name = 'dummy_udc.0';
  readonly maxSpeed: UsbSpeed;
  readonly sgSupported: boolean;
  readonly ep0: DummyEp;
  readonly eps: readonly DummyEp[];
  readonly epnum = { in: 0, out: 0 };
  state: GadgetState = 'not attached';
  /** The driver's name (/sys/class/udc/…/function), while one is bound. */
  functionName: string | undefined;
  /** The host's root-hub port the cable plugs into (installUsb connects it). */
  rootPort: UsbRootPort | undefined;
  #driver: GadgetDriver | undefined;
  #connected = false;
  /** The host reset the port (dummy's USB_PORT_STAT_ENABLE): transfers may run. */
  #enabled = false;
  #speed: UsbSpeed;
  readonly #urbs: PendingUrb[] = [];
  /** dummy's fifo_req: the copy of a short IN request, and the endpoint holding it. */
  #fifo: { ep: DummyEp; req: UsbRequest; original: UsbRequest } | undefined;
  #tickScheduled = false;
  #lastTick = 0;

  constructor(
    private readonly ctx: SimContext,
    options: DummyUdcOptions,
  ) {
    this.maxSpeed = options.maxSpeed;
    this.#speed = options.maxSpeed;
    this.sgSupported = options.sg;
    this.ep0 = new DummyEp(this, 'ep0', { types: ['control'], in: true, out: true });
    this.eps = ENDPOINTS.map(([name, types, dir]) => new DummyEp(this, name, { types, in: dir === 'in', out: dir === 'out' }));
  }

  /** The link's speed while connected, else the fastest the UDC can do. */
  get speed(): UsbSpeed {
    return this.#speed;
  }

  get hasDriver(): boolean {
    return this.#driver !== undefined;
  }

  /** ESHUTDOWN without a driver or before the host enabled the port. */
  checkActive(): void {
    if (this.#driver === undefined || !this.#enabled) throw kerr('ESHUTDOWN', 'no host has enabled the port');
  }

  // ---- the UDC core: binding a gadget driver ---------------------------------------------------

  /**
   * gadget_bind_driver + usb_udc_connect_control: binds, then pulls up (the host sees a
   * device). EBUSY when the UDC has a driver; a bind failure propagates to the caller, which
   * (usb_gadget_register_driver) turns it into EBUSY as 6.12 does.
   */
  bindDriver(driver: GadgetDriver, functionName: string, maxSpeed: UsbSpeed): void {
    if (this.#driver !== undefined) throw kerr('EBUSY', `${this.name} is bound to ${this.functionName}`);
    this.#driver = driver;
    this.functionName = functionName;
    try {
      driver.bind(this);
    } catch (e) {
      this.#driver = undefined;
      this.functionName = undefined;
      throw e;
    }
    this.#speed = SPEED_ORDER[Math.min(SPEED_ORDER.indexOf(this.maxSpeed), SPEED_ORDER.indexOf(maxSpeed))]!;
    this.#pullup(true);
  }

  /** gadget_unbind_driver: soft disconnect, the driver's disconnect and unbind, endpoints shut. */
  unbindDriver(): void {
    const driver = this.#driver;
    if (driver === undefined) return;
    this.#pullup(false);
    driver.disconnect();
    driver.unbind();
    this.#stopActivity();
    for (const ep of this.eps) {
      ep.desc = undefined; // usb_gadget_udc_stop
      ep.halted = false;
    }
    this.#driver = undefined;
    this.functionName = undefined;
    this.#speed = this.maxSpeed;
    this.state = 'not attached';
  }

  /** usb_gadget_set_state (the composite layer reports ADDRESSED/CONFIGURED). */
  setState(state: GadgetState): void {
    this.state = state;
  }

  /** The host suspends the bus: the driver's suspend (FunctionFS SUSPEND). */
  suspend(): void {
    if (!this.#connected || this.state === 'suspended') return;
    this.#resumeState = this.state;
    this.state = 'suspended';
    this.#driver?.suspend();
  }

  #resumeState: GadgetState = 'default';

  resume(): void {
    if (this.state !== 'suspended') return;
    this.state = this.#resumeState;
    this.#driver?.resume();
  }

  #pullup(on: boolean): void {
    if (on === this.#connected) return;
    this.#connected = on;
    if (on) {
      this.state = 'powered';
      this.rootPort?.connect(this);
      return;
    }
    // dummy_hcd's set_link_state: the pull-up going off with the port enabled and awake leaves
    // port power on and the link inactive, which the UDC reports as a suspend
    if (this.#enabled && this.state !== 'suspended') this.#driver?.suspend();
    // The host flushes its URBs (unlink with -ESHUTDOWN) while they are still here to cancel.
    this.rootPort?.disconnect();
    this.#enabled = false;
    for (const pending of this.#urbs.splice(0)) this.#giveUrb(pending.urb, ESHUTDOWN);
  }

  /** stop_activity: every endpoint's requests end with -ESHUTDOWN (the driver disables them). */
  #stopActivity(): void {
    this.ep0.nuke(ESHUTDOWN);
    for (const ep of this.eps) ep.nuke(ESHUTDOWN);
    this.#dropFifo();
  }

  // ---- the cable: what the host controller does ----------------------------------------------

  reset(): void {
    if (!this.#connected) return;
    // set_link_state on a reset: stop_activity, then usb_gadget_udc_reset (the driver's reset)
    this.#enabled = true;
    this.#stopActivity();
    this.#driver?.reset();
    this.state = 'default';
  }

  submit(urb: Urb): void {
    if (!this.#connected) throw kerr('ENODEV', `${this.name} is disconnected`);
    if (!this.#enabled) throw kerr('ESHUTDOWN', 'the port is not enabled (no reset yet)');
    this.#urbs.push({ urb, setupStage: isEp0(urb) });
    this.kick();
  }

  unlink(urb: Urb, status: number): boolean {
    const i = this.#urbs.findIndex((p) => p.urb === urb);
    if (i < 0) return false;
    this.#urbs.splice(i, 1);
    this.ctx.scheduler.soon(() => this.#giveUrb(urb, status));
    return true;
  }

  // ---- the transfer engine (dummy_timer) -----------------------------------------------------

  /** Something may move: schedule a tick (paced in realtime, at once in fast mode). */
  kick(): void {
    if (this.#tickScheduled || this.#urbs.length === 0) return;
    this.#tickScheduled = true;
    const realtime = this.ctx.timeMode === 'realtime';
    const at = realtime ? Math.max(nowMs(), this.#lastTick + TICK_MS) : nowMs();
    this.ctx.scheduler.at(at, () => {
      this.#tickScheduled = false;
      this.#lastTick = at;
      if (this.#tick(realtime ? BUDGET[this.#speed] : Infinity)) this.kick();
    });
  }

  /** One timer run; true if anything moved (another tick may move more). */
  #tick(budget: number): boolean {
    let total = budget;
    let progress = false;
    for (const pending of [...this.#urbs]) {
      if (!this.#urbs.includes(pending)) continue; // unlinked by a completion
      if (total <= 0) break;
      const { urb } = pending;
      const ep = this.#findEndpoint(isEp0(urb) ? 0 : urb.endpoint);
      if (ep === undefined) {
        this.#finish(pending, EPROTO);
        progress = true;
        continue;
      }
      if (ep.halted && !pending.setupStage) {
        this.#finish(pending, EPIPE);
        progress = true;
        continue;
      }
      let limit = total;
      const status = { value: EINPROGRESS };
      if (pending.setupStage) {
        progress = true;
        pending.setupStage = false;
        ep.halted = false;
        ep.nuke(EOVERFLOW); // stale data from an earlier control transfer
        const value = this.#control(urb, status);
        if (value < 0) {
          urb.actual = 0;
          this.#finish(pending, EPIPE);
          continue;
        }
        if (status.value !== EINPROGRESS) {
          this.#finish(pending, status.value);
          continue;
        }
        limit = CONTROL_LIMIT;
      }
      const sent = this.#transfer(urb, ep, limit, status);
      if (ep !== this.ep0) total -= sent;
      if (sent > 0) progress = true;
      if (status.value !== EINPROGRESS) {
        this.#finish(pending, status.value);
        progress = true;
      }
    }
    return progress;
  }

  /** find_endpoint: ep0, or the enabled endpoint with that address. */
  #findEndpoint(address: number): DummyEp | undefined {
    if (!this.#enabled) return undefined;
    if (address === 0) return this.ep0;
    return this.eps.find((ep) => ep.desc?.bEndpointAddress === address);
  }

  /**
   * The SETUP stage: dummy's handle_control_request, then the driver's setup. Returns < 0 to
   * stall; sets `status` when the UDC answered the request itself.
   */
  #control(urb: Urb, status: { value: number }): number {
    const setup = urb.setup!;
    const recipient = setup.bRequestType & 0x1f;
    const standard = (setup.bRequestType & 0x60) === 0;
    if (standard) {
      switch (setup.bRequest) {
        case USB_REQ_SET_ADDRESS:
          if (setup.bRequestType !== USB_RECIP_DEVICE) break;
          // the cable is point to point: the address only moves the gadget's state
          this.state = setup.wValue === 0 ? 'default' : 'addressed';
          status.value = 0;
          return 0;
        case USB_REQ_SET_FEATURE:
        case USB_REQ_CLEAR_FEATURE:
          if (setup.bRequestType !== USB_RECIP_ENDPOINT || setup.wValue !== USB_FEATURE_ENDPOINT_HALT) break;
          return this.#haltFeature(setup, setup.bRequest === USB_REQ_SET_FEATURE, status);
        case USB_REQ_GET_STATUS:
          if ((setup.bRequestType & USB_DIR_IN) === 0 || recipient > USB_RECIP_ENDPOINT) break;
          return this.#getStatus(urb, setup, status);
      }
    }
    return this.#driver?.setup(setup) ?? -1;
  }

  #haltFeature(setup: UsbCtrlRequest, set: boolean, status: { value: number }): number {
    const ep = this.#findEndpoint(setup.wIndex & 0xff);
    if (ep === undefined || ep === this.ep0) return -errnoOf('EOPNOTSUPP');
    ep.halted = set;
    status.value = 0;
    if (!set) this.kick();
    return 0;
  }

  #getStatus(urb: Urb, setup: UsbCtrlRequest, status: { value: number }): number {
    // device: not self-powered, no remote wakeup; interface: nothing; endpoint: halt
    let first = 0;
    if ((setup.bRequestType & 0x1f) === USB_RECIP_ENDPOINT) {
      const ep = this.#findEndpoint(setup.wIndex & 0xff);
      if (ep === undefined) return -errnoOf('EOPNOTSUPP');
      first = ep.halted ? 1 : 0;
    }
    const n = Math.min(2, urb.buffer.length);
    urb.buffer.set([first, 0].slice(0, n));
    urb.actual = n;
    status.value = 0;
    return 0;
  }

  /** dummy's transfer(): moves bytes between the URB and the endpoint's requests; returns bytes sent. */
  #transfer(urb: Urb, ep: DummyEp, limitIn: number, status: { value: number }): number {
    let limit = limitIn;
    let sent = 0;
    const toHost = isEp0(urb) ? (urb.setup!.bRequestType & USB_DIR_IN) !== 0 && urb.setup!.wLength > 0 : (urb.endpoint & USB_DIR_IN) !== 0;
    const maxpacket = ep.maxpacket;
    top: for (;;) {
      for (const req of [...ep.requests]) {
        let rescan = false;
        const hostLen = urb.buffer.length - urb.actual;
        const devLen = req.length - req.actual;
        let len = Math.min(hostLen, devLen);
        let isShort: boolean;
        if (len === 0) {
          isShort = true;
        } else {
          if (limit < maxpacket && limit < len) break top;
          len = Math.min(len, limit);
          if (len >= maxpacket) {
            isShort = false;
            if (len % maxpacket !== 0) rescan = true;
            len -= len % maxpacket;
          } else {
            isShort = true;
          }
          this.#copy(urb, req, len, toHost);
          limit -= len;
          sent += len;
          urb.actual += len;
          req.actual += len;
        }
        if (isShort) {
          if (hostLen === devLen) {
            req.status = 0;
            status.value = 0;
          } else if (toHost) {
            req.status = 0;
            status.value = devLen > hostLen ? EOVERFLOW : 0;
          } else {
            status.value = 0;
            req.status = hostLen > devLen ? EOVERFLOW : 0;
          }
        } else {
          if (req.length === req.actual) {
            if (req.zero && toHost) rescan = true;
            else req.status = 0;
          }
          if (urb.buffer.length === urb.actual) {
            if (urb.zeroPacket && !toHost) rescan = true;
            else status.value = 0;
          }
        }
        if (req.status !== EINPROGRESS) {
          ep.requests.splice(ep.requests.indexOf(req), 1);
          this.#release(req);
          req.complete(req);
          rescan = true;
        }
        if (status.value !== EINPROGRESS) break top;
        if (rescan) continue top;
      }
      break;
    }
    return sent;
  }

  /** dummy_perform_transfer: the bytes themselves, between host and gadget memory. */
  #copy(urb: Urb, req: UsbRequest, len: number, toHost: boolean): void {
    const host = urb.buffer.subarray(urb.actual, urb.actual + len);
    if (toHost) requestRead(req, req.actual, host);
    else requestWrite(req, req.actual, host);
  }

  #finish(pending: PendingUrb, status: number): void {
    const i = this.#urbs.indexOf(pending);
    if (i >= 0) this.#urbs.splice(i, 1);
    this.#giveUrb(pending.urb, status);
  }

  #giveUrb(urb: Urb, status: number): void {
    urb.complete(status);
  }

  // ---- dummy's emulated FIFO -----------------------------------------------------------------

  fifoHolds(req: UsbRequest): boolean {
    return this.#fifo?.original === req;
  }

  /** Copies a short IN request into the FIFO request (if free); the caller completes the original. */
  takeFifo(ep: DummyEp, original: UsbRequest): boolean {
    if (this.#fifo !== undefined) return false;
    const buf = new Uint8Array(original.length);
    requestRead(original, 0, buf);
    const req = usbRequest({ length: original.length, buf, zero: original.zero, complete: () => this.#dropFifo() });
    this.#fifo = { ep, req, original };
    ep.requests.push(req);
    return true;
  }

  #release(req: UsbRequest): void {
    if (this.#fifo?.req === req) this.#fifo = undefined;
  }

  #dropFifo(): void {
    this.#fifo = undefined;
  }

  /** usb_gadget_giveback_request with a status (dequeue, nuke). */
  giveback(req: UsbRequest, status: number): void {
    this.#release(req);
    req.status = status;
    req.complete(req);
  }

  // ---- sysfs: /sys/class/udc/dummy_udc.0 and the module parameters ----------------------------

  install(): void {
    const vfs = this.ctx.vfs;
    const dir = `/sys/devices/platform/dummy_udc.0/udc/${this.name}`;
    const ro = (name: string, show: () => string) => vfs.attr(`${dir}/${name}`, { mode: 0o444, show });
    ro('state', () => `${this.state}\n`);
    ro('function', () => `${this.functionName ?? ''}\n`);
    ro('current_speed', () => `${this.#connected ? SPEED_STRINGS[this.#speed] : 'UNKNOWN'}\n`);
    ro('maximum_speed', () => `${SPEED_STRINGS[this.maxSpeed]}\n`);
    ro('is_otg', () => '0\n');
    ro('is_a_peripheral', () => '0\n');
    ro('is_selfpowered', () => '0\n');
    ro('a_hnp_support', () => '0\n');
    ro('a_alt_hnp_support', () => '0\n');
    ro('b_hnp_enable', () => '0\n');
    vfs.attr(`${dir}/soft_connect`, {
      mode: 0o200,
      store: (text) => {
        if (this.#driver === undefined) throw kerr('EOPNOTSUPP', 'no gadget driver bound');
        const word = text.replace(/\n$/, '');
        if (word === 'connect') this.#pullup(true);
        else if (word === 'disconnect') {
          // udc/core.c soft_connect_store: usb_gadget_disconnect (pull-up off, then the driver's
          // disconnect: composite resets its configuration, FunctionFS reports DISABLE), then
          // usb_gadget_udc_stop (dummy_udc_stop's stop_activity).
          this.#pullup(false);
          this.#driver.disconnect();
          this.#stopActivity();
        } else throw kerr('EINVAL', `soft_connect takes connect or disconnect, not ${JSON.stringify(text)}`);
      },
    });
    vfs.attr(`${dir}/uevent`, { mode: 0o644, show: () => '', store: () => undefined });
    vfs.symlink(`/sys/class/udc/${this.name}`, `../../devices/platform/dummy_udc.0/udc/${this.name}`);
    const params = '/sys/module/dummy_hcd/parameters';
    const yn = (on: boolean) => (on ? 'Y\n' : 'N\n');
    vfs.attr(`${params}/is_high_speed`, { mode: 0o444, show: () => yn(this.maxSpeed !== 'full') });
    vfs.attr(`${params}/is_super_speed`, { mode: 0o444, show: () => yn(this.maxSpeed === 'super') });
    vfs.attr(`${params}/num`, { mode: 0o444, show: () => '1\n' });
    vfs.attr(`${params}/sg`, { mode: 0o444, show: () => yn(this.sgSupported) });
  }
}
