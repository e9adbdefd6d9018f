// DMABUF allocation for zero-copy blocks (kernel-abi §4): a DMA heap first (system by default),
// udmabuf over a sealed memfd second. Each source is tried; one that is absent (ENOENT) or
// unsupported (ENOTTY) passes to the next, and when none works the caller gets a typed error it
// can fall back on (file I/O blocks). How one DMABUF is made (and with which open flags) is
// src/kernel/dmabuf.ts, shared with feature detection (kernel/probe.ts).
import { dmabufFromHeap, dmabufFromUdmabuf } from '../../kernel/dmabuf.js';
import { isSystemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';

export type DmabufSource = 'heap' | 'udmabuf';

export interface Dmabuf {
  readonly fd: number;
  /** Bytes, rounded up to whole pages. */
  readonly size: number;
  readonly source: DmabufSource;
}

export interface DmabufAllocOptions {
  /** Sources in the order to try (default: heap, then udmabuf). */
  sources?: readonly DmabufSource[];
  /** The DMA heap under /dev/dma_heap (default "system"). */
  heap?: string;
  /** Where device nodes live (default "/dev"). */
  dev?: string;
}

/** No DMABUF allocator worked: the caller falls back to file I/O. `causes` says why, per source. */
export class DmabufUnavailableError extends Error {
  readonly code = 'ERR_IIOJS_NO_DMABUF';
  constructor(readonly causes: ReadonlyArray<{ source: DmabufSource; error: Error }>) {
    super(`no DMABUF allocator available: ${causes.map((c) => `${c.source}: ${c.error.message}`).join('; ')}`);
    this.name = 'DmabufUnavailableError';
  }
}

/** Errors that mean "this source is not available here", as opposed to a real failure. */
function unavailable(e: unknown): boolean {
  return isSystemError(e, 'ENOENT', 'ENOTTY', 'ENODEV', 'EACCES');
}

function roundToPages(port: KernelPort, size: number): number {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`DMABUF size must be a positive integer, not ${size}`);
  return Math.ceil(size / port.pageSize) * port.pageSize;
}

/** Allocates a DMABUF of at least `size` bytes from the first source that works. */
export async function allocateDmabuf(port: KernelPort, size: number, options: DmabufAllocOptions = {}): Promise<Dmabuf> {
  const bytes = roundToPages(port, size);
  const dev = options.dev ?? '/dev';
  const causes: Array<{ source: DmabufSource; error: Error }> = [];
  for (const source of options.sources ?? ['heap', 'udmabuf']) {
    try {
      const fd = source === 'heap'
        ? await dmabufFromHeap(port, `${dev}/dma_heap/${options.heap ?? 'system'}`, bytes)
        : await dmabufFromUdmabuf(port, `${dev}/udmabuf`, bytes);
      return { fd, size: bytes, source };
    } catch (e) {
      if (!unavailable(e)) throw e; // e.g. EINVAL for a udmabuf over size_limit_mb: a real error
      causes.push({ source, error: e as Error });
    }
  }
  throw new DmabufUnavailableError(causes);
}
