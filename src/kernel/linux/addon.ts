// Loads the native addon on first use, so that everything that does not touch the real kernel
// (the sim, the ABI tables, the network backend) works where the addon was never built.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { IoctlArgRule } from '../../abi/index.js';
import type { PointerFields } from '../port.js';

/** A native poll handle (an opaque, type-tagged external). */
export interface NativeWatcher {
  readonly __nativeWatcher: unique symbol;
}

/** Values from the platform's C headers, compiled into the addon. */
export interface NativeConstants {
  readonly O_RDONLY: number; readonly O_RDWR: number; readonly O_NONBLOCK: number;
  readonly O_CLOEXEC: number; readonly O_ACCMODE: number;
  readonly F_GETFD: number; readonly F_SETFD: number; readonly F_GETFL: number;
  readonly F_SETFL: number; readonly FD_CLOEXEC: number;
  readonly F_ADD_SEALS: number; readonly F_GET_SEALS: number; readonly F_SEAL_SEAL: number;
  readonly F_SEAL_SHRINK: number; readonly F_SEAL_GROW: number; readonly F_SEAL_WRITE: number;
  readonly F_SEAL_FUTURE_WRITE: number;
  readonly MFD_CLOEXEC: number; readonly MFD_ALLOW_SEALING: number; readonly MFD_HUGETLB: number;
  readonly PROT_READ: number; readonly PROT_WRITE: number;
  readonly MAP_SHARED: number; readonly MAP_PRIVATE: number;
  readonly SEEK_SET: number; readonly SEEK_CUR: number; readonly SEEK_END: number;
  readonly POLLIN: number; readonly POLLPRI: number; readonly POLLOUT: number;
  readonly POLLERR: number; readonly POLLHUP: number; readonly POLLNVAL: number;
  readonly POLLRDNORM: number; readonly POLLWRNORM: number;
  readonly UV_READABLE: number; readonly UV_WRITABLE: number;
  readonly UV_DISCONNECT: number; readonly UV_PRIORITIZED: number;
  readonly PAGE_SIZE: number;
}

/** The addon's functions: failures come back as negative errno values, never thrown. */
export interface Addon {
  ioctl(fd: number, request: number, arg?: number | ArrayBufferView | ArrayBuffer, pointers?: PointerFields): number;
  close(fd: number): number;
  fcntl(fd: number, cmd: number, arg?: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  memfdCreate(name: string, flags: number): number;
  /** mount(2) without flags; `data` is the option string. */
  mount(source: string, target: string, fstype: string, data?: string): number;
  /** umount2(2) without flags. */
  umount(target: string): number;
  pollNow(fd: number, events: number): number;
  mmap(fd: number, length: number, prot: number, flags: number, offset: number): ArrayBuffer | number;
  munmap(mapping: ArrayBuffer): number;
  watcherCreate(fd: number, callback: (status: number, uvEvents: number) => void): NativeWatcher | number;
  watcherStart(watcher: NativeWatcher, uvEvents: number): number;
  watcherStop(watcher: NativeWatcher): number;
  watcherClose(watcher: NativeWatcher): number;
  /** uv_ref / uv_unref: whether the watcher keeps the event loop alive. */
  watcherRef(watcher: NativeWatcher, referenced: boolean): number;
  /**
   * Starts read(2) (or write(2)) of `bytes` on `fd` on a thread of its own; `done` gets the
   * count or -errno, and whether a blockingCancel interrupted the call before it had a result.
   * Returns the call's id, or -errno if it could not start (EBADF: `fd` is not open).
   */
  blockingIo(fd: number, bytes: Uint8Array, write: boolean, done: (result: number, interrupted: boolean) => void): number;
  /** Interrupts a pending blockingIo call; -ENOENT if it is not pending. */
  blockingCancel(id: number): number;
  /** Forgets the URBs submitted on `fd` (the kernel freed them when it was closed); returns how many. */
  urbRelease(fd: number): number;
  readonly constants: NativeConstants;
  /**
   * Every request ioctl() accepts, keyed by request number (decimal string), with how the
   * kernel uses its argument (see src/abi/ioctl-args.ts); any other request is a RangeError.
   */
  readonly requests: Readonly<Record<string, IoctlArgRule>>;
}

/** Where the addon is: IIOJS_ADDON overrides the build output of `npm install`. */
export function addonPath(): string {
  return process.env['IIOJS_ADDON'] ??
    fileURLToPath(new URL('../../../../build/Release/iiojs_kernel.node', import.meta.url));
}

let loaded: Addon | undefined;

/** The addon if something loaded it already (what close() needs: nothing to forget otherwise). */
export function loadedAddon(): Addon | undefined {
  return loaded;
}

export function loadAddon(): Addon {
  if (loaded !== undefined) return loaded;
  const path = addonPath();
  try {
    loaded = createRequire(import.meta.url)(path) as Addon;
  } catch (cause) {
    const error = new Error(
      `iiojs native addon is not available at ${path} (${(cause as Error).message}); the local: ` +
        'backend needs it. Build it with `npm rebuild iiojs` (needs python3, make and a C compiler), ' +
        'or use the sim: backend.',
      { cause },
    ) as Error & { code: string };
    error.code = 'ERR_IIOJS_ADDON_MISSING';
    throw error;
  }
  return loaded;
}
