// Wait queues (the kernel's wait_queue_head): whoever changes state that a poller or a blocked
// reader may care about calls wake(); listeners re-check their condition.
export class WaitQueue {
  readonly #listeners = new Set<() => void>();

  add(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  wake(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  get size(): number {
    return this.#listeners.size;
  }
}

/**
 * wait_event_interruptible: resolves true once `condition()` holds (at once, or at a wake-up of
 * `queue`), false if `signal` fires first (the caller answers EINTR).
 */
export function waitEvent(queue: WaitQueue, condition: () => boolean, signal?: AbortSignal): Promise<boolean> {
  if (condition()) return Promise.resolve(true);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (done: boolean) => {
      remove();
      signal?.removeEventListener('abort', onAbort);
      resolve(done);
    };
    const onAbort = () => finish(false);
    const remove = queue.add(() => {
      if (condition()) finish(true);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
