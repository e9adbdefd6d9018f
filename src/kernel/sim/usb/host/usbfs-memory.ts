// usbfs's memory budget (devio.c usbfs_increase_memory_usage): what every usbfs URB, CONTROL and
// BULK holds at once, kernel-wide, is bounded by usbcore's usbfs_memory_mb parameter (16 MiB by
// default, 0 = no limit; /sys/module/usbcore/parameters/usbfs_memory_mb, mode 0644). A transfer
// that would go past it fails with ENOMEM and takes nothing.
import type { SimContext } from '../../context.js';
import { kerr } from '../../errno.js';
import { kstrtouint } from '../../iio/kstrto.js';

export class UsbfsMemory {
  limitMb = 16;
  #usage = 0;

  get usage(): number {
    return this.#usage;
  }

  /** Takes `amount` bytes of the budget, or throws ENOMEM. */
  increase(amount: number): void {
    const limit = this.limitMb * 2 ** 20;
    if (limit > 0 && this.#usage + amount > limit) {
      throw kerr('ENOMEM', `usbfs would hold ${this.#usage + amount} bytes, usbfs_memory_mb allows ${limit}`);
    }
    this.#usage += amount;
  }

  decrease(amount: number): void {
    this.#usage = Math.max(0, this.#usage - amount);
  }
}

const budgets = new WeakMap<SimContext, UsbfsMemory>();

/** The kernel's one budget (usbcore is loaded once, whatever the number of buses). */
export function usbfsMemory(ctx: SimContext): UsbfsMemory {
  let memory = budgets.get(ctx);
  if (memory !== undefined) return memory;
  budgets.set(ctx, (memory = new UsbfsMemory()));
  const budget = memory;
  ctx.vfs.attr('/sys/module/usbcore/parameters/usbfs_memory_mb', {
    mode: 0o644,
    show: () => `${budget.limitMb}\n`,
    store: (text) => void (budget.limitMb = kstrtouint(text)),
  });
  return memory;
}
