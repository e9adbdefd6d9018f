// The DMABUF allocators' device nodes (kernel-abi §4.1, §4.2): /dev/dma_heap/<name> for each
// heap, /dev/udmabuf with its module parameters under /sys/module/udmabuf/parameters
// (size_limit_mb and list_limit, mode 0644, written as kstrtoint reads them: decimal, 0x hex or
// 0 octal, optional sign, one trailing newline; anything else EINVAL, beyond int ERANGE).
import type { SimContext } from './context.js';
import { DmaHeapFile } from './dma-heap.js';
import { kerr } from './errno.js';
import { defaultUdmabufParams, UdmabufFile, type UdmabufParams } from './udmabuf.js';

export interface DmaBufDeviceOptions {
  /** Heap names, e.g. ["system"]; [] for none (then /dev/dma_heap does not exist). */
  heaps: readonly string[];
  /** Whether /dev/udmabuf (CONFIG_UDMABUF) exists. */
  udmabuf: boolean;
}

/** The kernel allows up to 128 heaps. */
const MAX_HEAPS = 128;

export function installDmaBufDevices(ctx: SimContext, options: DmaBufDeviceOptions): void {
  if (options.heaps.length > MAX_HEAPS) throw new RangeError(`at most ${MAX_HEAPS} DMA heaps`);
  for (const heap of new Set(options.heaps)) {
    if (heap === '' || heap.includes('/') || heap === '.' || heap === '..') throw new RangeError(`bad DMA heap name ${JSON.stringify(heap)}`);
    ctx.vfs.chardev(`/dev/dma_heap/${heap}`, (flags) => new DmaHeapFile(ctx, heap, flags));
  }
  if (!options.udmabuf) return;
  const params: UdmabufParams = defaultUdmabufParams();
  ctx.vfs.chardev('/dev/udmabuf', (flags) => new UdmabufFile(ctx, params, flags));
  const dir = '/sys/module/udmabuf/parameters';
  ctx.vfs.attr(`${dir}/size_limit_mb`, {
    mode: 0o644,
    show: () => `${params.sizeLimitMb}\n`,
    store: (text) => void (params.sizeLimitMb = kstrtoint(text)),
  });
  ctx.vfs.attr(`${dir}/list_limit`, {
    mode: 0o644,
    show: () => `${params.listLimit}\n`,
    store: (text) => void (params.listLimit = kstrtoint(text)),
  });
}

/** kstrtoint(text, 0): what param_set_int accepts. */
export function kstrtoint(text: string): number {
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\n?$/.exec(text);
  if (match === null) throw kerr('EINVAL');
  const [, sign, digits] = match as unknown as [string, string, string];
  const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits.startsWith('0') ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const value = sign === '-' ? -magnitude : magnitude;
  if (value < -(2n ** 31n) || value > 2n ** 31n - 1n) throw kerr('ERANGE');
  return Number(value);
}
