// File I/O blocks: read()/write() on the O_NONBLOCK buffer fd, waiting for POLLIN/POLLOUT
// between partial transfers (kernel-abi §1.3); a read on a buffer being disabled takes what the
// kernel still holds and ends there. Only used when no DMABUF is attached:
// read()/write() on a buffer with DMABUFs attached oopses 6.12. Deadlines are monotonic.
import { setTimeout as sleep } from 'node:timers/promises';
import { POLLIN, POLLOUT } from '../../abi/index.js';
import { errnoOf, isSystemError, systemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';
import { withContext } from '../errors.js';
import { boundedWait, type WaitBounds } from '../waits.js';
import type { DeviceWatch } from './device-watch.js';

/** The longest pause when the buffer reports room it does not take (see transfer). */
const MAX_BACKOFF_MS = 64;

export class FileIo {
  constructor(
    private readonly port: KernelPort,
    private readonly bufferFd: number,
    private readonly watch: DeviceWatch,
    private readonly name: string,
    private readonly output: boolean,
  ) {}

  /**
   * Moves all of `bytes` (read into it for input, write it for output); resolves with the bytes
   * moved. A read ends early once `disabled` fires: a disabled buffer hands out what it still
   * holds (kernel-abi §1.3), so what was read by its first EAGAIN is all there is.
   * `progress.done` counts what is moved as it goes and is where a transfer starts: a call ended
   * by its bound (ETIMEDOUT, an abort) is resumed by the next, losing none of the bytes it moved.
   */
  async transfer(bytes: Uint8Array, bounds: Omit<WaitBounds, 'stop'> = {}, disabled?: AbortSignal, progress = { done: 0 }): Promise<number> {
    const deadline = bounds.timeoutMs ? performance.now() + bounds.timeoutMs : undefined;
    const events = this.output ? POLLOUT : POLLIN;
    let done = progress.done;
    let backoff = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        const part = bytes.subarray(done);
        n = this.output ? await this.port.write(this.bufferFd, part) : await this.port.read(this.bufferFd, part);
      } catch (e) {
        if (!isSystemError(e, 'EAGAIN')) throw withContext(e, this.name);
        if (disabled?.aborted === true) break;
        const revents = await this.#ready(events, bounds, deadline, disabled);
        // poll answers 0 (or HUP) once the device is gone (§2.10): say so rather than retry.
        if ((revents & events) === 0) await this.#checkAlive();
        continue;
      }
      if (n === 0 && !this.output) throw systemError(errnoOf('ENODATA'), 'read', this.name, 'end of file: the buffer has no enabled scan elements');
      if (n === 0) {
        // Output: POLLOUT counts every done block, write() takes them in order (§1.3), so room
        // can be reported that the write does not take yet. Wait for POLLOUT; when a write after
        // it still takes nothing, back off (doubling, bounded) instead of spinning on a ready fd.
        if (backoff > 0) await this.#pause(backoff, bounds, deadline);
        await this.#ready(events, bounds, deadline);
        await this.#checkAlive();
        backoff = Math.min(MAX_BACKOFF_MS, Math.max(1, backoff * 2));
        continue;
      }
      backoff = 0;
      done += n;
      progress.done = done;
    }
    return done;
  }

  #bounds(bounds: Omit<WaitBounds, 'stop'>, deadline: number | undefined): WaitBounds {
    const left = deadline === undefined ? undefined : Math.max(1, Math.ceil(deadline - performance.now()));
    if (deadline !== undefined && performance.now() >= deadline) throw this.#timedOut(bounds.timeoutMs!);
    return {
      ...(left === undefined ? {} : { timeoutMs: left }),
      ...(bounds.signal === undefined ? {} : { signal: bounds.signal }),
      stop: (end) => this.watch.subscribe(end),
    };
  }

  #ready(events: number, bounds: Omit<WaitBounds, 'stop'>, deadline: number | undefined, disabled?: AbortSignal): Promise<number> {
    return boundedWait((signal) => this.#poll(events, signal, disabled), this.#bounds(bounds, deadline), () => this.#timedOut(bounds.timeoutMs!));
  }

  /** poll(), or 0 once `disabled` fires: a disabled, empty buffer is never ready (§1.3). */
  async #poll(events: number, signal: AbortSignal | undefined, disabled: AbortSignal | undefined): Promise<number> {
    if (disabled === undefined) return this.port.poll(this.bufferFd, events, signal === undefined ? {} : { signal });
    const cancel = new AbortController();
    const onAbort = (): void => cancel.abort();
    for (const s of [signal, disabled]) s?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true || disabled.aborted) cancel.abort();
    try {
      return await this.port.poll(this.bufferFd, events, { signal: cancel.signal });
    } catch (e) {
      if (disabled.aborted && signal?.aborted !== true) return 0;
      throw e;
    } finally {
      for (const s of [signal, disabled]) s?.removeEventListener('abort', onAbort);
    }
  }

  #pause(ms: number, bounds: Omit<WaitBounds, 'stop'>, deadline: number | undefined): Promise<void> {
    return boundedWait((signal) => sleep(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined),
      this.#bounds(bounds, deadline), () => this.#timedOut(bounds.timeoutMs!));
  }

  #timedOut(ms: number): Error {
    return systemError(errnoOf('ETIMEDOUT'), 'poll', this.name, this.output ? `no room within ${ms} ms` : `no data within ${ms} ms`);
  }

  async #checkAlive(): Promise<void> {
    const removed = await this.watch.check();
    if (removed !== undefined) throw removed;
  }
}
