/**
 * The udmabuf ABI of kernel-abi.md §4.2 (include/uapi/linux/udmabuf.h): turning
 * sealed memfd ranges into a DMABUF through `/dev/udmabuf`. The new DMABUF fd is
 * the ioctl's return value. `UDMABUF_CREATE_LIST` takes an 8-byte header
 * followed by `count` 24-byte items; its request number encodes only the header
 * size, and the kernel reads the items from just past it.
 */

import { CURRENT_IOC_LAYOUT, iow, type IocLayout } from './ioc.js';
import { defineStruct, u32, u64, type DecodedStruct, type EncodableStruct } from './struct.js';

export const UDMABUF_FLAGS_CLOEXEC = 0x01;

/** Default of the udmabuf module parameter `list_limit`: more items → EINVAL. */
export const UDMABUF_LIST_LIMIT = 1024;

/** `struct udmabuf_create`: 24 bytes. */
export const udmabufCreateStruct = defineStruct('udmabuf_create', 24, {
  memfd: u32(0),
  flags: u32(4),
  offset: u64(8),
  size: u64(16),
});
export type UdmabufCreate = DecodedStruct<typeof udmabufCreateStruct>;

/** `struct udmabuf_create_item`: 24 bytes. */
export const udmabufCreateItemStruct = defineStruct('udmabuf_create_item', 24, {
  memfd: u32(0),
  pad: u32(4),
  offset: u64(8),
  size: u64(16),
});
export type UdmabufCreateItem = DecodedStruct<typeof udmabufCreateItemStruct>;

/** The fixed header of `struct udmabuf_create_list`; the flexible `list[]` starts at offset 8. */
export const udmabufCreateListStruct = defineStruct('udmabuf_create_list', 8, {
  flags: u32(0),
  count: u32(4),
});

export interface UdmabufCreateList {
  flags: number;
  items: UdmabufCreateItem[];
}

/** Encode header plus items; `count` is taken from `items.length`. */
export function encodeUdmabufCreateList(
  list: { readonly flags?: number; readonly items: readonly EncodableStruct<typeof udmabufCreateItemStruct>[] },
  maxItems: number = UDMABUF_LIST_LIMIT,
): Uint8Array {
  const count = list.items.length;
  if (count > maxItems) {
    throw new RangeError(`udmabuf_create_list: ${count} items exceed the limit of ${maxItems}`);
  }
  const header = udmabufCreateListStruct.size;
  const item = udmabufCreateItemStruct.size;
  const bytes = new Uint8Array(header + count * item);
  udmabufCreateListStruct.encode({ flags: list.flags ?? 0, count }, bytes);
  list.items.forEach((it, i) => {
    udmabufCreateItemStruct.encode(it, bytes.subarray(header + i * item));
  });
  return bytes;
}

/** Decode header plus `count` items, as the kernel reads them. */
export function decodeUdmabufCreateList(bytes: Uint8Array): UdmabufCreateList {
  const { flags, count } = udmabufCreateListStruct.decode(bytes);
  const header = udmabufCreateListStruct.size;
  const item = udmabufCreateItemStruct.size;
  const need = header + count * item;
  if (bytes.length < need) {
    throw new RangeError(`udmabuf_create_list: ${count} items need ${need} bytes, got ${bytes.length}`);
  }
  const items: UdmabufCreateItem[] = [];
  for (let i = 0; i < count; i++) items.push(udmabufCreateItemStruct.decode(bytes.subarray(header + i * item)));
  return { flags, items };
}

/** The udmabuf request numbers for one `_IOC` layout, keyed by kernel name. */
export function udmabufIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    UDMABUF_CREATE: iow('u', 0x42, udmabufCreateStruct, layout),
    UDMABUF_CREATE_LIST: iow('u', 0x43, udmabufCreateListStruct, layout),
  } as const;
}

const ioctls = udmabufIoctls();
export const UDMABUF_CREATE = ioctls.UDMABUF_CREATE;
export const UDMABUF_CREATE_LIST = ioctls.UDMABUF_CREATE_LIST;
