// The simulated kernel as a Kernel port: the same syscall surface as kernel/linux, answered by a
// model of Linux (vfs + sysfs, IIO, dma-buf, DMA heaps, udmabuf, sync_file) instead of the real
// thing. Errors are the same Node-style system errors the Linux port raises.
import { F_ADD_SEALS, F_GETFD, F_GETFL, F_GET_SEALS, F_SETFD, F_SETFL, FD_CLOEXEC, ioctlName, O_NONBLOCK, POLLERR, POLLHUP, POLLNVAL } from '../../abi/index.js';
import { abortError, errnoOf, isSystemError, systemError } from '../../errors.js';
import { checkIoctlArg, ioctlArgRule } from '../ioctl-check.js';
import type { BlockingOptions, DirEntry, FileStat, KernelPort, PointerFields, WaitOptions } from '../port.js';
import { CURRENT_IOC_LAYOUT, decodeIoc } from '../../abi/index.js';
import type { SimContext, TimeMode } from './context.js';
import { KernelError } from './errno.js';
import { Faults } from './faults.js';
import { FdTable, type IoctlArg, type SimFile } from './file.js';
import { installDmaBufDevices } from './dma-buf-devices.js';
import { installIio, type IioControl } from './iio/index.js';
import { installUsb, type UsbControl, type UsbOptions } from './usb/index.js';
import { MemFdFile } from './memfd.js';
import { installProcSysKernel } from './procfs.js';
import { defaultScenario } from './scenario.js';
import type { Scenario } from './scenario-types.js';
import { Scheduler } from './scheduler.js';
import { Vfs } from './vfs.js';

export interface SimKernelOptions {
  timeMode?: TimeMode;
  pageSize?: number;
  /** The virtual IIO hardware (default: defaultScenario()). */
  scenario?: Scenario;
  /** The USB link (dummy_hcd): scatter-gather on the UDC and the speed (usb/index.ts). */
  usb?: UsbOptions;
}

/** Converts a KernelError into the Node-style error the Linux port would raise. */
function translate(e: unknown, syscall: string, path?: string): unknown {
  if (!(e instanceof KernelError)) return e;
  const detail = e.message === e.code ? undefined : e.message.slice(e.code.length + 2);
  return systemError(errnoOf(e.code), syscall, path, detail);
}

/** A live mapping: the file it maps, for munmap. */
const MAPPED = new WeakMap<Uint8Array, SimFile>();
const EVER_MAPPED = new WeakSet<Uint8Array>();

export class SimKernel implements KernelPort {
  readonly kind = 'sim';
  readonly pageSize: number;
  readonly context: SimContext;
  /** Kernel-side controls of the IIO devices (unplug, DMA pacing and faults, counters). */
  readonly iio: IioControl;
  /** Kernel-side handles of the USB link (the UDC, the host side). */
  readonly usb: UsbControl;

  constructor(options: SimKernelOptions = {}) {
    this.pageSize = options.pageSize ?? 4096;
    this.context = {
      vfs: new Vfs(),
      fds: new FdTable(),
      scheduler: new Scheduler(),
      faults: new Faults(),
      pageSize: this.pageSize,
      timeMode: options.timeMode ?? 'realtime',
    };
    const scenario = options.scenario ?? defaultScenario();
    installProcSysKernel(this.context.vfs);
    installDmaBufDevices(this.context, { heaps: scenario.dmaHeaps ?? ['system'], udmabuf: scenario.udmabuf ?? true });
    this.iio = installIio(this.context, scenario);
    // where userspace makes directories (mount points): devtmpfs and tmpfs
    for (const dir of ['/dev', '/tmp', '/mnt', '/run']) this.context.vfs.tmpfs(dir);
    this.usb = installUsb(this.context, options.usb);
  }

  get faults(): Faults {
    return this.context.faults;
  }

  /** Runs a syscall body, translating kernel errors; `op` names it for faults and messages. */
  #call<T>(syscall: string, path: string | undefined, body: () => T): T {
    try {
      this.context.faults.check(syscall, path);
      return body();
    } catch (e) {
      throw translate(e, syscall, path);
    }
  }

  async #callAsync<T>(syscall: string, path: string | undefined, body: () => T | Promise<T>): Promise<T> {
    try {
      this.context.faults.check(syscall, path);
      return await body();
    } catch (e) {
      throw translate(e, syscall, path);
    }
  }

  #file(fd: number): SimFile | undefined {
    return this.context.fds.lookup(fd);
  }

  async readdir(path: string): Promise<DirEntry[]> {
    return this.#callAsync('scandir', path, () => this.context.vfs.readdir(path));
  }

  async stat(path: string): Promise<FileStat> {
    return this.#callAsync('stat', path, () => this.context.vfs.stat(path));
  }

  async readlink(path: string): Promise<string> {
    return this.#callAsync('readlink', path, () => this.context.vfs.readlink(path));
  }

  async readText(path: string): Promise<string> {
    return this.#callAsync('read', path, () => this.context.vfs.readText(path));
  }

  async writeText(path: string, text: string): Promise<void> {
    return this.#callAsync('write', path, () => this.context.vfs.writeText(path, text));
  }

  writeTextSync(path: string, text: string): void {
    this.#call('write', path, () => this.context.vfs.writeText(path, text));
  }

  async mkdir(path: string, mode = 0o777): Promise<void> {
    return this.#callAsync('mkdir', path, () => this.context.vfs.makeDirectory(path, mode));
  }

  async rmdir(path: string): Promise<void> {
    return this.#callAsync('rmdir', path, () => this.context.vfs.removeDirectory(path));
  }

  async symlink(target: string, path: string): Promise<void> {
    return this.#callAsync('symlink', path, () => this.context.vfs.makeSymlink(target, path));
  }

  async unlink(path: string): Promise<void> {
    return this.#callAsync('unlink', path, () => this.context.vfs.removeFile(path));
  }

  async mount(source: string, target: string, fstype: string, data = ''): Promise<void> {
    return this.#callAsync('mount', target, () => this.context.vfs.mount(source, target, fstype, data));
  }

  async umount(target: string): Promise<void> {
    return this.#callAsync('umount2', target, () => this.context.vfs.unmount(target));
  }

  async open(path: string, flags: number): Promise<number> {
    return this.#callAsync('open', path, () => this.context.fds.install(this.context.vfs.open(path, flags), true));
  }

  close(fd: number): void {
    const file = this.#file(fd);
    this.#call('close', file?.name, () => {
      this.#cancelWaits(fd);
      for (const interrupt of this.#blocked.get(fd) ?? []) interrupt.abort();
      this.context.fds.close(fd);
    });
  }

  async read(fd: number, into: Uint8Array): Promise<number> {
    checkReadLength(into);
    const file = this.#file(fd);
    return this.#callAsync('read', file?.name, () => keepAlive(this.context.fds.get(fd).read(into)));
  }

  async write(fd: number, from: Uint8Array): Promise<number> {
    const file = this.#file(fd);
    return this.#callAsync('write', file?.name, () => keepAlive(this.context.fds.get(fd).write(from)));
  }

  async readBlocking(fd: number, into: Uint8Array, options: BlockingOptions = {}): Promise<number> {
    checkReadLength(into);
    return this.#blocking('read', fd, options.signal, (file, signal) => file.read(into, signal));
  }

  async writeBlocking(fd: number, from: Uint8Array, options: BlockingOptions = {}): Promise<number> {
    return this.#blocking('write', fd, options.signal, (file, signal) => file.write(from, signal));
  }

  /** Interrupters of the blocking calls pending on each fd, for close(). */
  readonly #blocked = new Map<number, Set<AbortController>>();

  /**
   * A read/write the file may sleep in: `signal` and close(fd) both interrupt its kernel wait;
   * the file then answers as Linux does (EINTR, or its result if it finished first), and an
   * EINTR becomes the AbortError (signal) or ECANCELED (close) of the port's contract.
   */
  async #blocking(syscall: string, fd: number, signal: AbortSignal | undefined, body: (file: SimFile, signal: AbortSignal) => Promise<number> | number): Promise<number> {
    if (signal?.aborted) throw abortError(signal);
    const name = this.#file(fd)?.name;
    const closed = new AbortController();
    const pending = this.#blocked.get(fd) ?? new Set();
    this.#blocked.set(fd, pending);
    pending.add(closed);
    try {
      return await this.#callAsync(syscall, name, () => keepAlive(body(this.context.fds.get(fd), signal === undefined ? closed.signal : AbortSignal.any([signal, closed.signal]))));
    } catch (e) {
      if (!isSystemError(e, 'EINTR')) throw e;
      if (closed.signal.aborted) throw systemError(errnoOf('ECANCELED'), syscall, name, `fd ${fd} was closed while the call was blocked`);
      if (signal?.aborted) throw abortError(signal);
      throw e;
    } finally {
      pending.delete(closed);
      if (pending.size === 0 && this.#blocked.get(fd) === pending) this.#blocked.delete(fd);
    }
  }

  ioctl(fd: number, request: number, arg?: number | ArrayBufferView | ArrayBuffer, pointers?: PointerFields): number {
    // Requests of src/abi are checked as the addon checks them; others only against _IOC_SIZE.
    if (ioctlArgRule(request) !== undefined) checkIoctlArg(request, arg, pointers);
    else checkArgSize(request, arg);
    const file = this.#file(fd);
    return this.#call(ioctlSyscall(request), file?.name, () => {
      const target = this.context.fds.get(fd);
      const bytes = toIoctlArg(arg);
      return target.ioctl(request >>> 0, bytes, resolvePointers(pointers, bytes instanceof Uint8Array ? bytes.length : 0));
    });
  }

  fcntl(fd: number, cmd: number, arg = 0): number {
    const file = this.#file(fd);
    return this.#call('fcntl', file?.name, () => {
      const target = this.context.fds.get(fd);
      switch (cmd) {
        case F_GETFD:
          return this.context.fds.cloexec(fd) ? FD_CLOEXEC : 0;
        case F_SETFD:
          this.context.fds.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
          return 0;
        case F_GETFL:
          return target.flags;
        case F_SETFL:
          // only the status flags can change; the access mode is fixed at open
          target.flags = (target.flags & ~O_NONBLOCK) | (arg & O_NONBLOCK);
          target.waitQueue.wake();
          return 0;
        case F_ADD_SEALS:
        case F_GET_SEALS:
          if (!(target instanceof MemFdFile)) throw new KernelError('EINVAL');
          if (cmd === F_GET_SEALS) return target.seals;
          target.addSeals(arg);
          return 0;
        default:
          throw new RangeError('fcntl: cmd must be F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_ADD_SEALS or F_GET_SEALS');
      }
    });
  }

  lseek(fd: number, offset: number, whence: number): number {
    const file = this.#file(fd);
    return this.#call('lseek', file?.name, () => this.context.fds.get(fd).lseek(offset, whence));
  }

  mmap(fd: number, length: number, prot: number, flags: number, offset = 0): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 1) throw new RangeError('length must be an integer in [1, 9007199254740991]');
    const file = this.#file(fd);
    return this.#call('mmap', file?.name, () => {
      const target = this.context.fds.get(fd);
      if (offset % this.pageSize !== 0) throw new KernelError('EINVAL');
      const mapping = target.mmap(length, prot, flags, offset);
      MAPPED.set(mapping, target.get()); // a mapping keeps its file alive, as in Linux
      EVER_MAPPED.add(mapping);
      return mapping;
    });
  }

  munmap(mapping: Uint8Array): void {
    if (!(mapping instanceof Uint8Array) || !EVER_MAPPED.has(mapping)) {
      throw new TypeError('munmap takes the Uint8Array returned by mmap');
    }
    const file = MAPPED.get(mapping);
    this.#call('munmap', undefined, () => {
      if (file === undefined) throw new KernelError('EINVAL', 'not mapped (already unmapped?)');
      MAPPED.delete(mapping);
      file.munmap(mapping);
      file.put();
    });
  }

  memfdCreate(name: string, flags: number): number {
    return this.#call('memfd_create', name, () => this.context.fds.install(new MemFdFile(name, flags), true));
  }

  ftruncate(fd: number, length: number): void {
    const file = this.#file(fd);
    this.#call('ftruncate', file?.name, () => {
      const target = this.context.fds.get(fd);
      if (!(target instanceof MemFdFile)) throw new KernelError('EINVAL');
      target.truncate(length);
    });
  }

  // ---- readiness ----------------------------------------------------------------------------

  readonly #waits = new Map<number, Set<(error: Error) => void>>();

  poll(fd: number, events: number, options: WaitOptions = {}): Promise<number> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const file = this.#file(fd);
    if (file === undefined) return Promise.reject(systemError(errnoOf('EBADF'), 'poll'));
    this.context.scheduler.runDue();
    const ready = () => file.poll(events) & (events | POLLHUP | POLLERR | POLLNVAL);
    const now = ready();
    if (now !== 0) return Promise.resolve(now);
    return new Promise<number>((resolve, reject) => {
      // A pending wait keeps the process alive, like a real poll on a real fd.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const cancels = this.#waits.get(fd) ?? new Set();
      this.#waits.set(fd, cancels);
      const finish = () => {
        clearInterval(keepAlive);
        unsubscribe();
        cancels.delete(cancel);
        signal?.removeEventListener('abort', onAbort);
      };
      const cancel = (error: Error) => {
        finish();
        reject(error);
      };
      const onAbort = () => cancel(abortError(signal!));
      const unsubscribe = file.waitQueue.add(() => {
        const revents = ready();
        if (revents === 0) return;
        finish();
        resolve(revents);
      });
      cancels.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #cancelWaits(fd: number): void {
    const cancels = this.#waits.get(fd);
    if (cancels === undefined) return;
    this.#waits.delete(fd);
    const name = this.#file(fd)?.name;
    for (const cancel of [...cancels]) {
      cancel(systemError(errnoOf('ECANCELED'), 'poll', name, `fd ${fd} was closed while waiting`));
    }
  }
}

/** A call sleeping in the kernel keeps the process alive, as a thread blocked in read(2) does. */
function keepAlive<T>(result: T | Promise<T>): T | Promise<T> {
  if (!(result instanceof Promise)) return result;
  const timer = setInterval(() => undefined, 1 << 30);
  return result.finally(() => clearInterval(timer));
}

/** Node never issues a zero-length read (usb.md §A4), so the port refuses one as the Linux port does. */
function checkReadLength(into: Uint8Array): void {
  if (into.length === 0) throw new RangeError('read needs a buffer of at least 1 byte (Node skips the syscall for 0)');
}

/** The bytes a request's argument must hold, by request (decoded once). */
const argSizes = new Map<number, number>();
function argSize(request: number): number {
  let need = argSizes.get(request);
  if (need === undefined) {
    const { dir, size } = decodeIoc(request);
    argSizes.set(request, (need = dir === CURRENT_IOC_LAYOUT.none ? 0 : size));
  }
  return need;
}

/** As the Linux port: bytes passed by address must hold the size the request encodes (RangeError). */
function checkArgSize(request: number, arg: number | ArrayBufferView | ArrayBuffer | undefined): void {
  if (arg === undefined || typeof arg === 'number') return;
  const need = argSize(request);
  if (arg.byteLength < need) {
    const hex = (request >>> 0).toString(16).padStart(8, '0');
    throw new RangeError(`ioctl argument holds ${arg.byteLength} bytes but request 0x${hex} needs ${need}`);
  }
}

/** `ioctl(NAME)` by request, made once per request. */
const syscallNames = new Map<number, string>();
function ioctlSyscall(request: number): string {
  let name = syscallNames.get(request);
  if (name === undefined) syscallNames.set(request, (name = `ioctl(${ioctlName(request)})`));
  return name;
}

function toIoctlArg(arg: number | ArrayBufferView | ArrayBuffer | undefined): IoctlArg {
  if (arg === undefined || typeof arg === 'number' || arg instanceof Uint8Array) return arg;
  if (arg instanceof ArrayBuffer) return new Uint8Array(arg);
  if (ArrayBuffer.isView(arg)) return new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength);
  throw new TypeError('ioctl argument must be an integer, ArrayBuffer or ArrayBufferView');
}

/** As the Linux port: each pointer field lies inside the argument (8 bytes, as the kernel reads them). */
const NO_POINTERS: ReadonlyMap<number, Uint8Array> = new Map();

function resolvePointers(pointers: PointerFields | undefined, argBytes: number): ReadonlyMap<number, Uint8Array> {
  if (pointers === undefined || pointers.length === 0) return NO_POINTERS;
  const out = new Map<number, Uint8Array>();
  for (const [offset, target] of pointers ?? []) {
    if (!Number.isInteger(offset) || offset < 0 || offset > argBytes - 8) {
      throw new RangeError(`pointer offset must be an integer in [0, ${argBytes - 8}]`);
    }
    const bytes = toIoctlArg(target);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('pointer target must be an ArrayBuffer or ArrayBufferView');
    out.set(offset, bytes);
  }
  return out;
}
