// A struct mutex that a syscall may sleep on while another holds it across its own sleep
// (FunctionFS's ffs->mutex and epfile->mutex): O_NONBLOCK callers get EAGAIN at once
// (mutex_trylock), the others wait interruptibly (EINTR on a signal).
import { kerr } from './errno.js';
import { WaitQueue, waitEvent } from './wait.js';

export class KMutex {
  #held = false;
  readonly #released = new WaitQueue();

  get held(): boolean {
    return this.#held;
  }

  async lock(nonblock: boolean, signal?: AbortSignal): Promise<void> {
    while (this.#held) {
      if (nonblock) throw kerr('EAGAIN', 'busy (O_NONBLOCK)');
      if (!(await waitEvent(this.#released, () => !this.#held, signal))) throw kerr('EINTR');
    }
    this.#held = true;
  }

  unlock(): void {
    this.#held = false;
    this.#released.wake();
  }
}
