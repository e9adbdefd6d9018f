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
