// readBlocking/writeBlocking: read(2) and write(2) on files that block and cannot be polled
// (FunctionFS endpoint files, usb.md §A4), each on a thread of the addon's own (native/blocking.c).
// Here: the calls pending on each fd, so that an AbortSignal or close(fd) interrupts them and
// the promise says why; a result the kernel produced before the interrupt is kept.
import { abortError, errnoOf, systemError } from '../../errors.js';
import type { Addon } from './addon.js';

interface PendingCall {
  readonly cancel: () => void;
  /** Why it was interrupted: an AbortSignal, or close(fd) (with the fd's name taken then). */
  interruptedBy?: { signal: AbortSignal } | { closed: string | undefined };
}

/** The pending calls of this thread, by fd (module state is per thread, like the addon's). */
const pendingByFd = new Map<number, Set<PendingCall>>();

export function blockingIo(
  addon: Addon,
  fd: number,
  bytes: Uint8Array,
  write: boolean,
  signal: AbortSignal | undefined,
  describe: () => string | undefined,
): Promise<number> {
  if (!(bytes instanceof Uint8Array)) {
    return Promise.reject(Object.assign(new TypeError(`${write ? 'from' : 'into'} must be a Uint8Array`), { code: 'ERR_INVALID_ARG_TYPE' }));
  }
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const syscall = write ? 'write' : 'read';
  return new Promise<number>((resolve, reject) => {
    const onAbort = () => {
      call.interruptedBy = { signal: signal! };
      call.cancel();
    };
    const id = addon.blockingIo(fd, bytes, write, (result, interrupted) => {
      signal?.removeEventListener('abort', onAbort);
      const calls = pendingByFd.get(fd);
      if (calls?.delete(call) && calls.size === 0) pendingByFd.delete(fd);
      const by = call.interruptedBy;
      if (interrupted && by !== undefined) {
        if ('signal' in by) reject(abortError(by.signal));
        else reject(systemError(errnoOf('ECANCELED'), syscall, by.closed, `fd ${fd} was closed during the ${syscall}`));
      } else if (result < 0) {
        reject(systemError(result, syscall, describe()));
      } else {
        resolve(result);
      }
    });
    if (id < 0) return reject(systemError(id, syscall, describe()));
    const call: PendingCall = { cancel: () => addon.blockingCancel(id) };
    let calls = pendingByFd.get(fd);
    if (calls === undefined) pendingByFd.set(fd, (calls = new Set()));
    calls.add(call);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Called before an fd is closed: its pending calls are interrupted and reject with ECANCELED. */
export function interruptBlocking(fd: number, describe: () => string | undefined): void {
  const calls = pendingByFd.get(fd);
  if (calls === undefined) return;
  pendingByFd.delete(fd);
  const closed = describe();
  for (const call of calls) {
    call.interruptedBy ??= { closed };
    call.cancel();
  }
}
