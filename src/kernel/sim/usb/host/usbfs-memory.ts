// usbfs's memory budget (devio.c usbfs_increase_memory_usage): what every usbfs URB, CONTROL and
// BULK holds at once, kernel-wide, is bounded by usbcore's usbfs_memory_mb parameter (16 MiB by
// default, 0 = no limit; /sys/module/usbcore/parameters/usbfs_memory_mb, mode 0644). A transfer
// that would go past it fails with ENOMEM and takes nothing.
import type { SimContext } from '../../context.js';
import { kerr } from '../../errno.js';
import { kstrtouint } from '../../iio/kstrto.js';
import { Memory } from '../../memory.js';

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

/** sizeof(struct usb_memory) on x86_64, which a mapping counts beside its pages. */
const SIZEOF_USB_MEMORY = 80;

/**
 * A usbfs mmap() (devio.c usbdev_mmap, struct usb_memory): zeroed pages counted against the
 * budget, which URBs whose buffer lies inside use directly (no copy at submit or reap). They are
 * freed once unmapped and no URB uses them; an unmap while URBs still use them takes effect
 * when the last one is freed (Linux keeps the pages; the sim cannot keep a view it detached).
 */
export class UsbfsMapping {
  readonly memory: Memory;
  readonly mapping: Uint8Array;
  #urbs = 0;
  #mapped = true;

  constructor(
    private readonly budget: UsbfsMemory,
    length: number,
    pageSize: number,
  ) {
    const size = Math.ceil(length / pageSize) * pageSize;
    budget.increase(size + SIZEOF_USB_MEMORY);
    this.memory = new Memory(size, size);
    this.mapping = this.memory.map(0, length);
  }

  /**
   * find_memory_area: where `data` starts in this mapping, or undefined if it is not in it. (Its
   * EINVAL for a buffer running past the mapping cannot happen here: no view reaches past it.)
   */
  offsetOf(data: Uint8Array): number | undefined {
    return this.#mapped && data.buffer === this.mapping.buffer ? data.byteOffset : undefined;
  }

  /** An URB takes the pages (urb_use_count). */
  use(): void {
    this.#urbs++;
  }

  /** An URB is freed. */
  release(): void {
    this.#urbs--;
    this.#freeIfUnused();
  }

  unmap(): void {
    this.#mapped = false;
    this.#freeIfUnused();
  }

  #freeIfUnused(): void {
    if (this.#mapped || this.#urbs > 0) return;
    this.memory.unmap();
    this.budget.decrease(this.memory.size + SIZEOF_USB_MEMORY);
  }
}
