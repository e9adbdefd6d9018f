// USB in the simulated kernel: dummy_hcd's two halves joined by the simulated cable (link.ts).
// The device half: the dummy UDC (dummy-udc.ts) with the gadget API (gadget.ts), the composite
// layer (composite.ts), configfs gadgets (configfs.ts) and FunctionFS (functionfs.ts,
// ffs-function.ts, ffs-epfile.ts, ffs-dmabuf.ts). The host half: host/ (bus, hub, usbfs).
// A gadget bound to dummy_udc.0 connects to the host's root port; unbinding it disconnects.
import type { SimContext } from '../context.js';
import { installGadgetConfigfs } from './configfs.js';
import { DummyUdc } from './dummy-udc.js';
import { FunctionFs } from './functionfs.js';
import { installUsbHost, type UsbHost } from './host/index.js';
import type { UsbSpeed } from './link.js';

export interface UsbOptions {
  /**
   * gadget->sg_supported on dummy_udc.0 (the lab's patched dummy_hcd, module parameter `sg`):
   * without it FunctionFS DMABUF ATTACH answers EPERM (usb.md §A4, §A5). Default true.
   */
  sg?: boolean;
  /** The link's fastest speed (dummy_hcd's is_high_speed / is_super_speed). Default 'high'. */
  speed?: UsbSpeed;
}

/** What the sim's tests reach beyond the port: the UDC (suspend, the cable) and the host side. */
export interface UsbControl {
  readonly udc: DummyUdc;
  readonly host: UsbHost;
}

export function installUsb(ctx: SimContext, options: UsbOptions = {}): UsbControl {
  const speed = options.speed ?? 'high';
  const udc = new DummyUdc(ctx, { maxSpeed: speed, sg: options.sg ?? true });
  udc.install();
  const host = installUsbHost(ctx, { speed });
  udc.rootPort = host.rootPort;
  const ffs = new FunctionFs(ctx);
  ctx.vfs.registerFilesystem('functionfs', ffs);
  installGadgetConfigfs(ctx.vfs, new Map([[udc.name, udc]]), ffs);
  return { udc, host };
}
