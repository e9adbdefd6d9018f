// File I/O blocks: read()/write() on the O_NONBLOCK buffer fd, waiting with poll between
// partial transfers (kernel-abi §1.3). Only used when no DMABUF is attached: read()/write() on a
// buffer with DMABUFs attached oopses 6.12.
import { setTimeout as sleep } from 'node:timers/promises';
import { POLLIN, POLLOUT } from '../../abi/index.js';
import { errnoOf, isSystemError, systemError } from '../../kernel/errors.js';
import type { KernelPort } from '../../kernel/port.js';
import { withContext } from '../errors.js';
import { boundedPoll, type BoundedWaitOptions } from './bounded-wait.js';

export class FileIo {
  constructor(
    private readonly port: KernelPort,
    private readonly bufferFd: number,
    private readonly deviceDir: string,
    private readonly name: string,
    private readonly output: boolean,
  ) {}

  /** Moves all of `bytes` (read into it for input, write it for output). */
  async transfer(bytes: Uint8Array, options: BoundedWaitOptions = {}): Promise<void> {
    let done = 0;
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    const bounds = (): BoundedWaitOptions => ({
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(deadline === undefined ? {} : { timeoutMs: Math.max(0, deadline - Date.now()) }),
    });
    while (done < bytes.length) {
      let n: number;
      try {
        const part = bytes.subarray(done);
        n = this.output ? await this.port.write(this.bufferFd, part) : await this.port.read(this.bufferFd, part);
      } catch (e) {
        if (!isSystemError(e, 'EAGAIN')) throw withContext(e, this.name);
        const revents = await boundedPoll(this.port, this.bufferFd, this.output ? POLLOUT : POLLIN, this.deviceDir, this.name, bounds());
        // poll answers 0 (or HUP) once the device is gone (§2.10); the next read/write says ENODEV.
        if (revents === 0) await this.#checkAlive();
        continue;
      }
      if (n === 0 && !this.output) throw systemError(errnoOf('ENODATA'), 'read', this.name, 'end of file: the buffer has no enabled scan elements');
      if (n === 0) {
        // Output: poll can report space in a block the write may not take yet (the DMA buffer
        // counts every done block, write() takes them in order). Back off instead of spinning.
        const b = bounds();
        if (b.timeoutMs === 0) throw systemError(errnoOf('ETIMEDOUT'), 'write', this.name, `no space within ${options.timeoutMs} ms`);
        await sleep(1, undefined, b.signal === undefined ? {} : { signal: b.signal });
        await this.#checkAlive();
      }
      done += n;
    }
  }

  async #checkAlive(): Promise<void> {
    try {
      await this.port.stat(this.deviceDir);
    } catch (e) {
      if (isSystemError(e, 'ENOENT')) throw systemError(errnoOf('ENODEV'), 'poll', this.name, 'the device was removed');
      throw e;
    }
  }
}
