// Readiness waits on file descriptors over libuv's poll handles. libuv allows one poll handle per
// fd and loop, so every wait on an fd in this thread shares one watcher; the watcher listens for
// the union of its waiters' events and stops (keeping nothing alive) when nobody waits.
// libuv folds POLLHUP/POLLERR into readable/writable, so each wake-up is followed by a
// zero-timeout poll(2) that gives the exact revents — except on fence fds (DMABUFs, sync
// files), which report neither: there the wake-up's events are exact, and the watcher stays
// armed (unref'd) between waits, so a block going round costs no epoll ADD/DEL; it stops only
// when it fires with nobody waiting.
import { abortError, errnoOf, systemError } from '../../errors.js';
import type { Addon, NativeWatcher } from './addon.js';

interface Waiter {
  events: number;
  resolve(revents: number): void;
  reject(error: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

class FdWatcher {
  readonly #waiters = new Set<Waiter>();
  readonly #native: NativeWatcher;
  #armedEvents = 0;
  #referenced = true;

  constructor(
    private readonly addon: Addon,
    private readonly fd: number,
    private readonly describe: () => string | undefined,
    private readonly fence: boolean,
  ) {
    const native = addon.watcherCreate(fd, (status, uvEvents) => this.#wake(status, uvEvents));
    if (typeof native === 'number') throw systemError(native, 'poll', describe());
    this.#native = native;
  }

  add(waiter: Waiter): void {
    this.#waiters.add(waiter);
    this.#rearm();
  }

  remove(waiter: Waiter): void {
    if (this.#waiters.delete(waiter)) this.#rearm();
  }

  /** Rejects every waiter and releases the native handle. */
  close(error: Error): void {
    for (const waiter of this.#waiters) settle(waiter, () => waiter.reject(error));
    this.#waiters.clear();
    this.addon.watcherClose(this.#native);
  }

  #wake(status: number, uvEvents: number): void {
    const { POLLERR, POLLHUP } = this.addon.constants;
    if (this.fence && this.#waiters.size === 0) {
      // ready with nobody waiting (the block is back with the CPU): stop until the next wait
      this.addon.watcherStop(this.#native);
      this.#armedEvents = 0;
      return;
    }
    let wanted = 0;
    for (const waiter of this.#waiters) wanted |= waiter.events;
    const revents = this.fence && status >= 0 ? this.#fromUv(uvEvents) : exactRevents(this.addon, this.fd, wanted, this.describe);
    if (revents instanceof Error) {
      this.#failAll(revents);
    } else {
      for (const waiter of [...this.#waiters]) {
        const ready = revents & (waiter.events | POLLHUP | POLLERR);
        if (ready !== 0) {
          this.#waiters.delete(waiter);
          settle(waiter, () => waiter.resolve(ready));
        }
      }
      // An error libuv reports through `status` that poll(2) does not show is still an error.
      if (status < 0 && revents === 0) this.#failAll(systemError(status, 'poll', this.describe()));
    }
    // libuv stops the handle itself when it reports an error.
    if (status < 0) this.#armedEvents = 0;
    this.#rearm();
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiters) settle(waiter, () => waiter.reject(error));
    this.#waiters.clear();
  }

  #fromUv(uvEvents: number): number {
    const c = this.addon.constants;
    return ((uvEvents & c.UV_READABLE) !== 0 ? c.POLLIN : 0) | ((uvEvents & c.UV_WRITABLE) !== 0 ? c.POLLOUT : 0);
  }

  #rearm(): void {
    const c = this.addon.constants;
    let uvEvents = 0;
    for (const waiter of this.#waiters) {
      if (waiter.events & c.POLLIN) uvEvents |= c.UV_READABLE;
      if (waiter.events & c.POLLOUT) uvEvents |= c.UV_WRITABLE;
      if (waiter.events & c.POLLPRI) uvEvents |= c.UV_PRIORITIZED;
    }
    // An armed fence watcher nobody waits on keeps listening, but not the process alive.
    const referenced = uvEvents !== 0;
    if (referenced !== this.#referenced) {
      this.addon.watcherRef(this.#native, referenced);
      this.#referenced = referenced;
    }
    if (uvEvents === 0 && this.fence) return;
    if (uvEvents === this.#armedEvents) return;
    if (uvEvents === 0) {
      this.addon.watcherStop(this.#native);
    } else {
      const rc = this.addon.watcherStart(this.#native, uvEvents);
      if (rc < 0) {
        this.#armedEvents = 0;
        this.#failAll(systemError(rc, 'poll', this.describe()));
        return;
      }
    }
    this.#armedEvents = uvEvents;
  }
}

/** poll(2) with a zero timeout: the revents, or the error (POLLNVAL is EBADF). */
function exactRevents(addon: Addon, fd: number, events: number, describe: () => string | undefined): number | Error {
  const revents = addon.pollNow(fd, events);
  if (revents < 0) return systemError(revents, 'poll', describe());
  if ((revents & addon.constants.POLLNVAL) !== 0) return systemError(errnoOf('EBADF'), 'poll', describe());
  return revents;
}

/** Detaches the waiter from its AbortSignal, then settles it. */
function settle(waiter: Waiter, done: () => void): void {
  if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  done();
}

/** The watchers of this thread, by fd (module state is per thread, like the libuv loop). */
const watchers = new Map<number, FdWatcher>();

/** Waits until `fd` is ready for any of `events`, resolving with the exact revents. */
export function waitReady(
  addon: Addon,
  fd: number,
  events: number,
  signal: AbortSignal | undefined,
  describe: () => string | undefined,
  fence = false,
): Promise<number> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const now = exactRevents(addon, fd, events, describe);
  if (now instanceof Error) return Promise.reject(now);
  if (now !== 0) return Promise.resolve(now);
  return new Promise<number>((resolve, reject) => {
    let watcher = watchers.get(fd);
    if (watcher === undefined) {
      watcher = new FdWatcher(addon, fd, describe, fence);
      watchers.set(fd, watcher);
    }
    const waiter: Waiter = { events, resolve, reject, signal, onAbort: undefined };
    if (signal !== undefined) {
      const owner = watcher;
      waiter.onAbort = () => {
        owner.remove(waiter);
        reject(abortError(signal));
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    watcher.add(waiter);
  });
}

/** Called before an fd is closed: pending waits reject with ECANCELED, the handle is released. */
export function forgetFd(fd: number, describe: () => string | undefined): void {
  const watcher = watchers.get(fd);
  if (watcher === undefined) return;
  watchers.delete(fd);
  watcher.close(systemError(errnoOf('ECANCELED'), 'poll', describe(), `fd ${fd} was closed while waiting`));
}
