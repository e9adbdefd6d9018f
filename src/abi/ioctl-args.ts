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
 *   `count × elemSize` bytes, `count` being the u16 or u32 (`countSize`) at `countOffset`:
 *   the kernel writes them (SYNC_IOC_FILE_INFO), or reads or writes them as the transfer's
 *   direction says (USBDEVFS_CONTROL, USBDEVFS_BULK).
 * - `urb`: USBDEVFS_SUBMITURB's `usbdevfs_urb` (`size` bytes) whose u64 at `pointerOffset`
 *   points to `buffer_length` (the s32 at `countOffset`) × `elemSize` bytes; both stay in use
 *   until the URB is reaped (src/kernel/port.ts).
 * - `urb-reap`: `size` (8) bytes the kernel writes: the reaped URB's usercontext.
 * - `urb-discard`: the bytes given to SUBMITURB, which name the URB.
 * - `string`: a NUL-terminated string of at most `size` bytes, NUL included.
 * - `none` / `value`: no argument, or an integer passed by value.
 * `out`: the kernel writes the argument back. It follows `_IOC_READ` except where the kernel
 * does otherwise: usbfs's `_IOR` requests that only read an int, and CONTROL/BULK, whose
 * struct is only read (their data goes through the pointer).
 */

import { DMA_BUF_NAME_LEN, dmaBufIoctls } from './dma-buf.js';
import { dmaHeapIoctls } from './dma-heap.js';
import { functionfsIoctls } from './functionfs.js';
import { iioIoctls } from './iio.js';
import { CURRENT_IOC_LAYOUT, decodeIoc, type IocLayout } from './ioc.js';
import { syncFenceInfoStruct, syncFileInfoStruct, syncFileIoctls } from './sync-file.js';
import { udmabufCreateItemStruct, udmabufCreateListStruct, udmabufIoctls } from './udmabuf.js';
import { usbdevfsBulkTransferStruct, usbdevfsCtrlTransferStruct, usbdevfsUrbStruct, usbfsIoctls } from './usbfs.js';

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
      readonly countSize: 2 | 4;
      readonly elemSize: number;
      readonly pointerOffset: number;
    }
  | { readonly kind: 'urb'; readonly size: number; readonly pointerOffset: number; readonly countOffset: number; readonly elemSize: number }
  | { readonly kind: 'urb-reap'; readonly size: number }
  | { readonly kind: 'urb-discard' };

/** The argument rule of every request of `abiIoctls(layout)`, keyed by request number. */
export function ioctlArgRules(layout: IocLayout = CURRENT_IOC_LAYOUT): ReadonlyMap<number, IoctlArgRule> {
  const struct = (request: number): IoctlArgRule => {
    const { size, read } = decodeIoc(request, layout);
    return { kind: 'struct', size, out: read };
  };
  /** An `_IOR` request whose int the kernel only reads (usbfs's historical directions). */
  const input = (request: number): IoctlArgRule => ({ kind: 'struct', size: decodeIoc(request, layout).size, out: false });
  const none: IoctlArgRule = { kind: 'none' };
  const rules = new Map<number, IoctlArgRule>();
  const all = { ...iioIoctls(layout), ...dmaBufIoctls(layout), ...dmaHeapIoctls(layout), ...functionfsIoctls(layout) };
  for (const request of Object.values(all)) rules.set(request, struct(request));
  const ffs = functionfsIoctls(layout);
  for (const request of [ffs.FUNCTIONFS_FIFO_STATUS, ffs.FUNCTIONFS_FIFO_FLUSH, ffs.FUNCTIONFS_CLEAR_HALT, ffs.FUNCTIONFS_ENDPOINT_REVMAP]) {
    rules.set(request, none);
  }
  rules.set(ffs.FUNCTIONFS_INTERFACE_REVMAP, { kind: 'value' });
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
    countSize: 4,
    elemSize: syncFenceInfoStruct.size,
    pointerOffset: syncFileInfoStruct.fields.syncFenceInfo.offset,
  });
  const usb = usbfsIoctls(layout);
  rules.set(usb.USBDEVFS_CONTROL, {
    kind: 'pointer',
    size: usbdevfsCtrlTransferStruct.size,
    out: false,
    countOffset: usbdevfsCtrlTransferStruct.fields.wLength.offset,
    countSize: 2,
    elemSize: 1,
    pointerOffset: usbdevfsCtrlTransferStruct.fields.data.offset,
  });
  rules.set(usb.USBDEVFS_BULK, {
    kind: 'pointer',
    size: usbdevfsBulkTransferStruct.size,
    out: false,
    countOffset: usbdevfsBulkTransferStruct.fields.len.offset,
    countSize: 4,
    elemSize: 1,
    pointerOffset: usbdevfsBulkTransferStruct.fields.data.offset,
  });
  rules.set(usb.USBDEVFS_SUBMITURB, {
    kind: 'urb',
    size: usbdevfsUrbStruct.size,
    pointerOffset: usbdevfsUrbStruct.fields.buffer.offset,
    countOffset: usbdevfsUrbStruct.fields.bufferLength.offset,
    elemSize: 1,
  });
  for (const request of [usb.USBDEVFS_REAPURB, usb.USBDEVFS_REAPURBNDELAY]) {
    rules.set(request, { kind: 'urb-reap', size: decodeIoc(request, layout).size });
  }
  rules.set(usb.USBDEVFS_DISCARDURB, { kind: 'urb-discard' });
  for (const request of [usb.USBDEVFS_SETINTERFACE, usb.USBDEVFS_SETCONFIGURATION, usb.USBDEVFS_CLAIMINTERFACE,
    usb.USBDEVFS_RELEASEINTERFACE, usb.USBDEVFS_CLEAR_HALT]) {
    rules.set(request, input(request));
  }
  rules.set(usb.USBDEVFS_GET_CAPABILITIES, struct(usb.USBDEVFS_GET_CAPABILITIES));
  for (const request of [usb.USBDEVFS_RESET, usb.USBDEVFS_GET_SPEED]) rules.set(request, none);
  return rules;
}
