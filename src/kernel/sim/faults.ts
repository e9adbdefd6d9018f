// Fault injection for tests: make the next matching operation fail with an errno. Operations are
// named like syscalls, e.g. `open /dev/iio:device0`, `ioctl IIO_BUFFER_DMABUF_ENQUEUE`,
// `write /sys/bus/iio/devices/iio:device0/buffer0/enable`, `mmap`; a rule matches when the
// operation starts with its pattern. Device-level faults (fence errors, stalls, unplug,
// overflow) live with the devices.
import { kerr } from './errno.js';

interface Rule {
  pattern: string;
  code: string;
  remaining: number;
}

export class Faults {
  readonly #rules: Rule[] = [];

  /** Fails the next `count` operations starting with `pattern` with `code` (e.g. 'EIO'). */
  failNext(pattern: string, code: string, count = 1): void {
    this.#rules.push({ pattern, code, remaining: count });
  }

  clear(): void {
    this.#rules.length = 0;
  }

  /** Throws if a rule matches `syscall path` (and uses up one of its failures). */
  check(syscall: string, path: string | undefined): void {
    if (this.#rules.length === 0) return; // the common case: no string is built
    const operation = path === undefined ? syscall : `${syscall} ${path}`;
    const i = this.#rules.findIndex((r) => operation.startsWith(r.pattern));
    if (i < 0) return;
    const rule = this.#rules[i]!;
    if (--rule.remaining <= 0) this.#rules.splice(i, 1);
    throw kerr(rule.code, `injected fault on ${operation}`);
  }
}
