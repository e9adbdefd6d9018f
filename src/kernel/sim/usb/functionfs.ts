// FunctionFS (drivers/usb/gadget/function/f_fs.c): the filesystem, its ffs_data and ep0.
// configfs makes an instance (functions/ffs.<name>, an ffs_dev here); mount(2) of type
// "functionfs" with that name as source gives a directory holding ep0. Userspace writes the
// descriptors then the strings to ep0 (FFS_READ_DESCRIPTORS → FFS_READ_STRINGS → FFS_ACTIVE),
// which creates ep1..epN (ffs-epfile.ts) and makes the instance ready to bind (ffs-function.ts).
// ep0 then carries the event queue (BIND, UNBIND, ENABLE, DISABLE, SETUP, SUSPEND, RESUME, with
// the kernel's coalescing) and the SETUP data and status stages (usb.md §A1).
//
// Errnos as f_fs.c answers them: a bad descriptors or strings blob EINVAL (an unknown flag
// ENOSYS), ep0 read before the strings EBADFD, a read shorter than one event EINVAL, no event
// with O_NONBLOCK EAGAIN, a data stage in the wrong direction stalls (EL2HLT), a write without
// a pending SETUP ESRCH, a SETUP replaced before it was answered EIDRM (once).
import { errnoCode, errnoOf } from '../../../errors.js';
import {
  decodeFfsDescriptors,
  decodeFfsStrings,
  encodeFfsEvent,
  FfsBlobError,
  FFS_BLOB_MIN_SIZE,
  FUNCTIONFS_BIND,
  FUNCTIONFS_DISABLE,
  FUNCTIONFS_ENABLE,
  FUNCTIONFS_EVENTFD,
  FUNCTIONFS_INTERFACE_REVMAP,
  FUNCTIONFS_RESUME,
  FUNCTIONFS_SETUP,
  FUNCTIONFS_SUSPEND,
  FUNCTIONFS_UNBIND,
  USB_FUNCTIONFS_EVENT_SIZE,
  type FfsDescriptors,
  type FfsParseCounts,
  type FfsStrings,
} from '../../../abi/functionfs.js';
import { USB_DIR_IN, type UsbCtrlRequest } from '../../../abi/usb.js';
import { POLLIN, POLLOUT } from '../../../abi/index.js';
import type { SimContext } from '../context.js';
import { kerr } from '../errno.js';
import { SimFile, type IoctlArg } from '../file.js';
import { KMutex } from '../kmutex.js';
import type { DirNode, MountedFilesystem } from '../vfs.js';
import { WaitQueue, waitEvent } from '../wait.js';
import { FfsEpFile } from './ffs-epfile.js';
import type { FfsFunction } from './ffs-function.js';
import { EINPROGRESS as EINPROGRESS_STATUS, usbRequest, type UsbGadget, type UsbRequest } from './gadget.js';

export type FfsState = 'read-descriptors' | 'read-strings' | 'active' | 'closing' | 'deactivated';
type SetupState = 'none' | 'pending' | 'cancelled';

const ZERO_SETUP: UsbCtrlRequest = { bRequestType: 0, bRequest: 0, wValue: 0, wIndex: 0, wLength: 0 };

/** struct ffs_dev: the instance configfs made (functions/ffs.<name>). */
export class FfsDev {
  mounted = false;
  /** Descriptors and strings written: the instance may bind (ffs_ready). */
  descReady = false;
  data: FfsData | undefined;
  /** Bound functions of this instance (f_fs_opts.refcnt): the first bind binds ffs_data. */
  refcnt = 0;
  /** ffs_closed's unregister_gadget_item: unbinds the gadget this instance is in. */
  unbindGadget: (() => void) | undefined;

  constructor(readonly name: string) {}
}

/** The mount options (ffs_fs_parse_param), as parsed. */
export interface FfsMountOptions {
  fileMode: number;
  rootMode: number;
  noDisconnect: boolean;
}

/** The descriptors as the ep0 write left them, with what the bind needs. */
export interface FfsParsed {
  readonly descs: FfsDescriptors & { flags: number };
  readonly epsCount: number;
  readonly interfacesCount: number;
  /** The highest string index the descriptors use (ffs->strings_count). */
  readonly stringsCount: number;
  /** eps_addrmap[1..epsCount]: the endpoint addresses in descriptor order. */
  readonly addrmap: readonly number[];
}

/** struct ffs_data: one mount of an instance. */
export class FfsData {
  state: FfsState = 'read-descriptors';
  setupState: SetupState = 'none';
  /** ev.types: at most four pending event types. */
  readonly events: number[] = [];
  /** ev.setup: the last SETUP, wIndex already function-relative. */
  setup: UsbCtrlRequest = ZERO_SETUP;
  readonly mutex = new KMutex();
  /** Woken on events, setup state changes and ep0 completions (ev.waitq), and when endpoints are enabled (ffs->wait). */
  readonly waitq = new WaitQueue();
  parsed: FfsParsed | undefined;
  strings: FfsStrings | undefined;
  epfiles: FfsEpFile[] = [];
  /** ffs->gadget, between functionfs_bind and functionfs_unbind. */
  gadget: UsbGadget | undefined;
  /** The bound function whose endpoints are enabled (ffs->func). */
  func: FfsFunction | undefined;
  /** The ep0 request (ffs->ep0req) exists: between bind and unbind. */
  ep0req = false;
  /** The string id of the first string (usb_string_ids_n at bind). */
  firstStringId = 0;
  /** The ep0 request queued by a sleeping ep0 read or write. */
  #ep0Pending: UsbRequest | undefined;
  opened = 0;
  readonly root: DirNode;

  constructor(
    readonly ctx: SimContext,
    readonly dev: FfsDev,
    readonly options: FfsMountOptions,
  ) {
    this.root = { kind: 'directory', mode: options.rootMode, children: new Map() };
    this.root.children.set('ep0', { kind: 'regular', mode: options.fileMode, open: (flags, path) => this.#openEp0(flags, path) });
  }

  get gadgetSpeedIndex(): 0 | 1 | 2 {
    const speed = this.gadget?.speed;
    return speed === 'super' ? 2 : speed === 'high' ? 1 : 0;
  }

  /** ffs_ep0_open (the sim does not make open wait for ffs->mutex, which a sleeping ep0 read holds). */
  #openEp0(flags: number, path: string): SimFile {
    this.openedFile();
    if (this.state === 'closing') {
      this.closed();
      throw kerr('EBUSY', 'the instance is closing');
    }
    return new Ep0File(this, flags, path);
  }

  /** ffs_data_opened: the first open of a deactivated instance (no_disconnect) resets it. */
  openedFile(): void {
    this.opened++;
    if (this.opened === 1 && this.state === 'deactivated') {
      this.state = 'closing';
      this.reset();
    }
  }

  /** ffs_data_closed: the last close resets the instance (or deactivates it with no_disconnect). */
  closed(): void {
    if (--this.opened === 0) {
      if (this.options.noDisconnect) {
        this.state = 'deactivated';
        this.#destroyEpfiles();
        if (this.setupState === 'pending') this.stall();
      } else {
        this.state = 'closing';
        this.reset();
      }
    }
    if (this.opened < 0) {
      this.state = 'closing';
      this.reset();
    }
  }

  /** ffs_data_reset (through ffs_data_clear and ffs_closed: a bound gadget is unbound). */
  reset(): void {
    this.dev.descReady = false;
    if (this.gadget !== undefined) this.dev.unbindGadget?.();
    this.#destroyEpfiles();
    this.parsed = undefined;
    this.#counts = {};
    this.strings = undefined;
    this.events.length = 0;
    this.state = 'read-descriptors';
    this.setupState = 'none';
    this.waitq.wake();
  }

  #destroyEpfiles(): void {
    for (const epfile of this.epfiles) this.root.children.delete(epfile.name);
    this.epfiles = [];
  }

  /** The umount (ffs_fs_kill_sb): ffs_data_closed with no file open resets the instance. */
  kill(): void {
    this.closed();
    this.opened = 0;
    this.dev.mounted = false;
    this.dev.data = undefined;
  }

  // ---- descriptors and strings (the first two ep0 writes) --------------------------------------

  /** __ffs_data_got_descs. */
  gotDescriptors(bytes: Uint8Array): void {
    let descs: FfsDescriptors & { flags: number };
    const counts: FfsParseCounts = { ...this.#counts };
    try {
      descs = decodeFfsDescriptors(bytes, counts);
    } catch (e) {
      this.#counts = counts;
      if (e instanceof FfsBlobError) throw kerr(e.reason === 'flags' ? 'ENOSYS' : 'EINVAL', e.message);
      throw e;
    }
    if (descs.flags & FUNCTIONFS_EVENTFD) {
      // eventfd_ctx_fdget: the sim has no eventfd, so any open fd is the wrong kind
      // (the kernel gets the eventfd before it parses a block: the counts stay as they were)
      throw kerr(this.ctx.fds.lookup(descs.eventfd ?? -1) === undefined ? 'EBADF' : 'EINVAL', 'FUNCTIONFS_EVENTFD: not an eventfd');
    }
    this.#counts = counts;
    // the counts may be an earlier, refused blob's: the kernel then compared this one against them
    const { endpoints: addrmap, interfaces } = counts.reference!.tally;
    this.parsed = { descs, epsCount: addrmap.length, interfacesCount: interfaces, stringsCount: counts.stringsCount ?? 0, addrmap };
  }

  /** ffs->eps_count, interfaces_count, eps_addrmap and strings_count: they outlive a refused blob (FfsParseCounts). */
  #counts: FfsParseCounts = {};

  /** __ffs_data_got_strings: at least as many strings as the descriptors use. */
  gotStrings(bytes: Uint8Array): void {
    let strings: FfsStrings;
    try {
      strings = decodeFfsStrings(bytes);
    } catch (e) {
      if (e instanceof FfsBlobError) throw kerr('EINVAL', e.message);
      throw e;
    }
    const have = strings.langs[0]?.strings.length ?? 0;
    const need = this.parsed!.stringsCount;
    if (have < need) throw kerr('EINVAL', `the descriptors use string ${need}, the blob has ${have}`);
    this.strings = strings;
  }

  /** ffs_epfiles_create: ep1..epN, in descriptor order (usb.md §A1). */
  createEpfiles(): void {
    const parsed = this.parsed!;
    this.epfiles = parsed.addrmap.map((address, i) => new FfsEpFile(this, i + 1, address));
    for (const epfile of this.epfiles) {
      this.root.children.set(epfile.name, { kind: 'regular', mode: this.options.fileMode, open: (flags, path) => epfile.open(flags, path) });
    }
  }

  // ---- events (ffs_event_add) ----------------------------------------------------------------

  /** __ffs_event_add: cancels an unanswered SETUP and drops the events this one supersedes. */
  addEvent(type: number): void {
    if (this.setupState === 'pending') this.setupState = 'cancelled';
    let drop: (t: number) => boolean;
    switch (type) {
      case FUNCTIONFS_RESUME:
        drop = (t) => t === FUNCTIONFS_RESUME || t === FUNCTIONFS_SUSPEND;
        break;
      case FUNCTIONFS_SUSPEND:
      case FUNCTIONFS_SETUP:
        drop = (t) => t === type;
        break;
      case FUNCTIONFS_BIND:
      case FUNCTIONFS_UNBIND:
      case FUNCTIONFS_DISABLE:
      case FUNCTIONFS_ENABLE:
        // everything but power management goes
        drop = (t) => t !== FUNCTIONFS_SUSPEND && t !== FUNCTIONFS_RESUME;
        break;
      default:
        throw new RangeError(`unknown FunctionFS event ${type}`);
    }
    const kept = this.events.filter((t) => !drop(t));
    this.events.splice(0, this.events.length, ...kept, type);
    this.waitq.wake();
  }

  /** ffs_func_setup's part: records the SETUP (wIndex already remapped) and queues the event. */
  addSetup(ctrl: UsbCtrlRequest): void {
    this.setup = { ...ctrl };
    this.addEvent(FUNCTIONFS_SETUP);
  }

  /** __ffs_ep0_stall. */
  stall(): number {
    this.gadget?.ep0.setHalt();
    this.setupState = 'none';
    return -errnoOf('EL2HLT');
  }

  /** functionfs_unbind's usb_ep_dequeue of ep0req: a sleeping ep0 call gets -ECONNRESET. */
  cancelEp0(): void {
    const req = this.#ep0Pending;
    if (req !== undefined && req.status === EINPROGRESS_STATUS) this.gadget?.ep0.dequeue(req);
  }

  /** ffs_setup_state_clear_cancelled: true (and back to none) if the SETUP was cancelled. */
  clearCancelled(): boolean {
    if (this.setupState !== 'cancelled') return false;
    this.setupState = 'none';
    return true;
  }

  /** __ffs_ep0_queue_wait: queues the data or status stage on ep0 and sleeps until it completes. */
  async queueWait(buf: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    const gadget = this.gadget;
    if (gadget === undefined || !this.ep0req) throw kerr('EINVAL', 'no ep0 request (not bound)');
    let done = false;
    const req: UsbRequest = usbRequest({
      length: buf.length,
      buf,
      zero: buf.length < this.setup.wLength,
      complete: () => {
        done = true;
        this.waitq.wake();
      },
    });
    gadget.ep0.queue(req);
    this.#ep0Pending = req;
    const completed = await waitEvent(this.waitq, () => done, signal);
    this.#ep0Pending = undefined;
    if (!completed) {
      if (req.status === EINPROGRESS_STATUS) this.gadget?.ep0.dequeue(req);
      throw kerr('EINTR');
    }
    this.setupState = 'none';
    if (req.status < 0) throw kerr(errnoCode(req.status));
    return req.actual;
  }
}


/** The ep0 file. */
class Ep0File extends SimFile {
  readonly #unsubscribe: () => void;
  #released = false;

  constructor(
    private readonly ffs: FfsData,
    flags: number,
    readonly name: string,
  ) {
    super(flags);
    this.#unsubscribe = ffs.waitq.add(() => this.waitQueue.wake());
  }

  override async read(into: Uint8Array, signal?: AbortSignal): Promise<number> {
    const ffs = this.ffs;
    if (ffs.clearCancelled()) throw kerr('EIDRM', 'the SETUP was superseded before it was answered');
    await ffs.mutex.lock(this.nonblocking, signal);
    try {
      if (ffs.state !== 'active') throw kerr('EBADFD', `ep0 is in state ${ffs.state}`);
      if (ffs.clearCancelled()) throw kerr('EIDRM');
      if (ffs.setupState === 'none') {
        const n = Math.floor(into.length / USB_FUNCTIONFS_EVENT_SIZE);
        if (n === 0) throw kerr('EINVAL', `a read of ep0 takes at least one ${USB_FUNCTIONFS_EVENT_SIZE}-byte event`);
        if (this.nonblocking && ffs.events.length === 0) throw kerr('EAGAIN');
        if (!(await waitEvent(ffs.waitq, () => ffs.events.length > 0, signal))) throw kerr('EINTR');
        const count = Math.min(n, ffs.events.length);
        const types = ffs.events.splice(0, count);
        types.forEach((type, i) => {
          // only a SETUP carries its request; the kernel zeroes the others'
          if (type === FUNCTIONFS_SETUP) ffs.setupState = 'pending';
          encodeFfsEvent(type === FUNCTIONFS_SETUP ? { type, setup: ffs.setup } : { type }, into, i * USB_FUNCTIONFS_EVENT_SIZE);
        });
        return count * USB_FUNCTIONFS_EVENT_SIZE;
      }
      // a SETUP is pending: this read is its OUT data stage, or its status ACK (wLength 0)
      if (ffs.setup.bRequestType & USB_DIR_IN) throw kerr(errnoCode(ffs.stall()), 'the pending SETUP is IN: read stalls ep0');
      const len = Math.min(into.length, ffs.setup.wLength);
      const buf = new Uint8Array(len);
      const n = await ffs.queueWait(buf, signal);
      into.set(buf.subarray(0, n));
      return n;
    } finally {
      ffs.mutex.unlock();
    }
  }

  override async write(from: Uint8Array, signal?: AbortSignal): Promise<number> {
    const ffs = this.ffs;
    if (ffs.clearCancelled()) throw kerr('EIDRM', 'the SETUP was superseded before it was answered');
    await ffs.mutex.lock(this.nonblocking, signal);
    try {
      switch (ffs.state) {
        case 'read-descriptors':
        case 'read-strings':
          if (from.length < FFS_BLOB_MIN_SIZE) throw kerr('EINVAL', `${from.length} bytes: a blob has at least ${FFS_BLOB_MIN_SIZE}`);
          if (ffs.state === 'read-descriptors') {
            ffs.gotDescriptors(from.slice());
            ffs.state = 'read-strings';
          } else {
            ffs.gotStrings(from.slice());
            ffs.createEpfiles();
            ffs.state = 'active';
            ffs.dev.descReady = true; // ffs_ready
          }
          ffs.waitq.wake();
          return from.length;
        case 'active': {
          if (ffs.clearCancelled()) throw kerr('EIDRM', 'the SETUP was superseded before it was answered');
          if (ffs.setupState === 'none') throw kerr('ESRCH', 'no SETUP is pending');
          if (!(ffs.setup.bRequestType & USB_DIR_IN)) throw kerr(errnoCode(ffs.stall()), 'the pending SETUP is OUT: write stalls ep0');
          const len = Math.min(from.length, ffs.setup.wLength);
          return await ffs.queueWait(from.slice(0, len), signal);
        }
        default:
          throw kerr('EBADFD', `ep0 is in state ${ffs.state}`);
      }
    } finally {
      ffs.mutex.unlock();
    }
  }

  /** ffs_ep0_poll. */
  override poll(events: number): number {
    const ffs = this.ffs;
    let mask = 0;
    if (ffs.state === 'read-descriptors' || ffs.state === 'read-strings') mask = POLLOUT;
    else if (ffs.state === 'active') {
      if (ffs.setupState === 'none') mask = ffs.events.length > 0 ? POLLIN : 0;
      else mask = POLLIN | POLLOUT;
    }
    return mask & events;
  }

  override ioctl(request: number, arg: IoctlArg): number {
    if (request === FUNCTIONFS_INTERFACE_REVMAP) {
      const func = this.ffs.func;
      if (func === undefined) throw kerr('ENODEV', 'no function is enabled');
      const index = func.revmapInterface(typeof arg === 'number' ? arg : 0);
      if (index < 0) throw kerr(errnoCode(index), 'not an interface of this function');
      return index;
    }
    throw kerr('ENOTTY'); // dummy_udc has no gadget ioctl
  }

  protected override release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#unsubscribe();
    this.ffs.closed();
  }
}

/** The FunctionFS filesystem type: instances by name, mount options as ffs_fs_parse_param. */
export class FunctionFs {
  readonly #devs = new Map<string, FfsDev>();

  constructor(private readonly ctx: SimContext) {}

  /** _ffs_alloc_dev + ffs_name_dev: EBUSY if the name is taken, ENAMETOOLONG past 40 bytes. */
  allocDev(name: string): FfsDev {
    if (Buffer.byteLength(name) >= 41) throw kerr('ENAMETOOLONG', `instance name ${name}`);
    if (this.#devs.has(name)) throw kerr('EBUSY', `a FunctionFS instance ${name} exists`);
    const dev = new FfsDev(name);
    this.#devs.set(name, dev);
    return dev;
  }

  freeDev(dev: FfsDev): void {
    this.#devs.delete(dev.name);
  }

  /** ffs_fs_get_tree: the instance named by `source` must exist (ENOENT) and not be mounted (EBUSY). */
  mount(source: string, data: string): MountedFilesystem {
    if (source === '') throw kerr('EINVAL', 'no source specified');
    const options = parseOptions(data);
    const dev = this.#devs.get(source);
    if (dev === undefined) throw kerr('ENOENT', `no FunctionFS instance ${source} (mkdir functions/ffs.${source} first)`);
    if (dev.mounted) throw kerr('EBUSY', `${source} is mounted already`);
    const ffs = new FfsData(this.ctx, dev, options);
    dev.mounted = true;
    dev.data = ffs;
    return {
      root: ffs.root,
      busy: () => ffs.opened > 0,
      kill: () => ffs.kill(),
    };
  }
}

/** The superblock flags mount(8) may pass in the option string (vfs_parse_sb_flag). */
const SB_FLAGS = new Set(['ro', 'rw', 'sync', 'async', 'dirsync', 'lazytime', 'nolazytime', 'mand', 'nomand']);
const BOOL_NAMES = new Map([['0', false], ['1', true], ['false', false], ['true', true], ['n', false], ['y', true], ['no', false], ['yes', true], ['off', false], ['on', true]]);

/** ffs_fs_parse_param over the comma-separated options: EINVAL for an unknown key or a bad value. */
function parseOptions(data: string): FfsMountOptions {
  const options: FfsMountOptions = { fileMode: 0o600, rootMode: 0o500, noDisconnect: false };
  for (const item of data.split(',')) {
    if (item === '' || SB_FLAGS.has(item)) continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const bad = () => kerr('EINVAL', `functionfs: bad value for '${key}': ${JSON.stringify(value ?? null)}`);
    const u32 = () => {
      // fsparam_u32: kstrtouint with base 0 (0x hex, 0 octal)
      if (value === undefined || !/^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.test(value)) throw bad();
      const n = Number(value.startsWith('0x') || value.startsWith('0X') ? value : value.length > 1 && value.startsWith('0') ? parseInt(value, 8) : value);
      if (n > 0xffff_ffff) throw bad();
      return n;
    };
    switch (key) {
      case 'no_disconnect': {
        const b = value === undefined ? undefined : BOOL_NAMES.get(value);
        if (b === undefined) throw bad();
        options.noDisconnect = b;
        break;
      }
      case 'rmode':
        options.rootMode = u32() & 0o555;
        break;
      case 'fmode':
        options.fileMode = u32() & 0o666;
        break;
      case 'mode': {
        const mode = u32();
        options.rootMode = mode & 0o555;
        options.fileMode = mode & 0o666;
        break;
      }
      case 'uid':
      case 'gid':
        if (u32() === 0xffff_ffff) throw kerr('EINVAL', `functionfs: ${key}: unmapped value`);
        break;
      default:
        throw kerr('EINVAL', `functionfs: unknown parameter '${key}'`);
    }
  }
  return options;
}
