/**
 * The FunctionFS DMABUF ABI of kernel-abi.md §5.1
 * (include/uapi/linux/usb/functionfs.h): attach, detach and transfer ioctls
 * issued on a data endpoint file, and the packed
 * `struct usb_ffs_dmabuf_transfer_req`.
 */

import { CURRENT_IOC_LAYOUT, SIZEOF_INT, iow, type IocLayout } from './ioc.js';
import { defineStruct, s32, u32, u64, type DecodedStruct } from './struct.js';

/** No transfer flags are defined: `flags` must be 0 (§5.2). */
export const USB_FFS_DMABUF_TRANSFER_MASK = 0x0;

/** `struct usb_ffs_dmabuf_transfer_req` (§5.1): packed, 16 bytes. */
export const usbFfsDmabufTransferReqStruct = defineStruct('usb_ffs_dmabuf_transfer_req', 16, {
  fd: s32(0),
  flags: u32(4),
  length: u64(8),
});
export type UsbFfsDmabufTransferReq = DecodedStruct<typeof usbFfsDmabufTransferReqStruct>;

/** The FunctionFS DMABUF request numbers for one `_IOC` layout, keyed by kernel name. */
export function functionfsIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    FUNCTIONFS_DMABUF_ATTACH: iow('g', 131, SIZEOF_INT, layout),
    FUNCTIONFS_DMABUF_DETACH: iow('g', 132, SIZEOF_INT, layout),
    FUNCTIONFS_DMABUF_TRANSFER: iow('g', 133, usbFfsDmabufTransferReqStruct, layout),
  } as const;
}

const ioctls = functionfsIoctls();
/** Argument: a pointer to an int holding the DMABUF fd. */
export const FUNCTIONFS_DMABUF_ATTACH = ioctls.FUNCTIONFS_DMABUF_ATTACH;
export const FUNCTIONFS_DMABUF_DETACH = ioctls.FUNCTIONFS_DMABUF_DETACH;
export const FUNCTIONFS_DMABUF_TRANSFER = ioctls.FUNCTIONFS_DMABUF_TRANSFER;
