/**
 * How the kernel uses the argument of each request in `abiIoctls()`: the
 * native addon's request table (native/iiojs_kernel.c, exported as
 * `requests`) must agree with this, and the sim port checks arguments by it,
 * so code refused on Linux is refused on the sim the same way.
 *
 * - `struct`: `size` bytes at the argument address (the `_IOC_SIZE`).
 * - `flex`: a `size`-byte header, then `count × elemSize` bytes, `count` being
 *   the u32 at `countOffset` (UDMABUF_CREATE_LIST).
 * - `pointer`: `size` bytes whose u64 at `pointerOffset` points to
 *   `count × elemSize` bytes the kernel writes (SYNC_IOC_FILE_INFO).
 * - `string`: a NUL-terminated string of at most `size` bytes, NUL included.
 * - `none` / `value`: no argument, or an integer passed by value.
 * `out`: the kernel writes the argument back (`_IOC_READ`).
 */

import { DMA_BUF_NAME_LEN, dmaBufIoctls } from './dma-buf.js';
import { dmaHeapIoctls } from './dma-heap.js';
import { functionfsIoctls } from './functionfs.js';
import { iioIoctls } from './iio.js';
import { CURRENT_IOC_LAYOUT, decodeIoc, type IocLayout } from './ioc.js';
import { syncFenceInfoStruct, syncFileInfoStruct, syncFileIoctls } from './sync-file.js';
import { udmabufCreateItemStruct, udmabufCreateListStruct, udmabufIoctls } from './udmabuf.js';

export type IoctlArgRule =
  | { readonly kind: 'none' }
  | { readonly kind: 'value' }
  | { readonly kind: 'struct' | 'string'; readonly size: number; readonly out: boolean }
  | { readonly kind: 'flex'; readonly size: number; readonly out: boolean; readonly countOffset: number; readonly elemSize: number }
  | {
      readonly kind: 'pointer';
      readonly size: number;
      readonly out: boolean;
      readonly countOffset: number;
      readonly elemSize: number;
      readonly pointerOffset: number;
    };

/** The argument rule of every request of `abiIoctls(layout)`, keyed by request number. */
export function ioctlArgRules(layout: IocLayout = CURRENT_IOC_LAYOUT): ReadonlyMap<number, IoctlArgRule> {
  const struct = (request: number): IoctlArgRule => {
    const { size, read } = decodeIoc(request, layout);
    return { kind: 'struct', size, out: read };
  };
  const rules = new Map<number, IoctlArgRule>();
  const all = { ...iioIoctls(layout), ...dmaBufIoctls(layout), ...dmaHeapIoctls(layout), ...functionfsIoctls(layout) };
  for (const request of Object.values(all)) rules.set(request, struct(request));
  const dmaBuf = dmaBufIoctls(layout);
  for (const request of [dmaBuf.DMA_BUF_SET_NAME_A, dmaBuf.DMA_BUF_SET_NAME_B]) {
    rules.set(request, { kind: 'string', size: DMA_BUF_NAME_LEN, out: false });
  }
  const udmabuf = udmabufIoctls(layout);
  rules.set(udmabuf.UDMABUF_CREATE, struct(udmabuf.UDMABUF_CREATE));
  rules.set(udmabuf.UDMABUF_CREATE_LIST, {
    kind: 'flex',
    size: udmabufCreateListStruct.size,
    out: false,
    countOffset: udmabufCreateListStruct.fields.count.offset,
    elemSize: udmabufCreateItemStruct.size,
  });
  const sync = syncFileIoctls(layout);
  rules.set(sync.SYNC_IOC_MERGE, struct(sync.SYNC_IOC_MERGE));
  rules.set(sync.SYNC_IOC_SET_DEADLINE, struct(sync.SYNC_IOC_SET_DEADLINE));
  rules.set(sync.SYNC_IOC_FILE_INFO, {
    kind: 'pointer',
    size: syncFileInfoStruct.size,
    out: true,
    countOffset: syncFileInfoStruct.fields.numFences.offset,
    elemSize: syncFenceInfoStruct.size,
    pointerOffset: syncFileInfoStruct.fields.syncFenceInfo.offset,
  });
  return rules;
}
