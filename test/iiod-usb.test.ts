// The iiod server over USB (usb.md §A1, §A2) on the simulated kernel's dummy_hcd link: `serve(ctx,
// { usb })` makes a configfs gadget with iiod's FunctionFS function and binds it; a host in the
// same process speaks libiio 0.24's USB transport to it through usbfs (support/libiio-usb-host.ts):
// vendor requests, pipes, the text protocol framed in bulk transfers, zero-copy capture and
// playback by FUNCTIONFS_DMABUF_TRANSFER (and the copy path on a UDC without scatter-gather),
// and what disconnects and unbinds leave behind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel, type SimKernelOptions } from '../src/kernel/sim/index.js';
import { serve, type IiodServer, type ServeOptions } from '../src/server/iiod/index.js';
import { LibiioUsbHost } from './support/libiio-usb-host.js';
import { findUsbDevice } from './support/usb-gadget.js';

const ADC = 'iio:device0';

interface UsbServed {
  kernel: SimKernel;
  ctx: Context;
  server: IiodServer;
  host: LibiioUsbHost;
  notices: string[];
  errors: string[];
  close(): Promise<void>;
}

async function serveUsb(options: { sim?: SimKernelOptions; usb?: Exclude<ServeOptions['usb'], boolean | undefined> } = {}): Promise<UsbServed> {
  const kernel = new SimKernel(options.sim ?? {});
  const ctx = await Context.open(new LocalBackend(kernel, { uri: 'sim:' }));
  const notices: string[] = [];
  const errors: string[] = [];
  const server = await serve(ctx, { network: false, usb: options.usb ?? {}, log: { info: () => undefined, error: (l) => errors.push(l), notice: (l) => notices.push(l) } });
  const device = await findUsbDevice(kernel, { vendorId: 0x1d6b, productId: 0x0104 });
  const host = await LibiioUsbHost.open(kernel, device.usbfs);
  const close = async (): Promise<void> => {
    await host.close();
    await server.close();
    await ctx.close();
  };
  return { kernel, ctx, server, host, notices, errors, close };
}

describe('iiod over USB (sim)', () => {
  test('smoke: RESET_PIPES, OPEN_PIPE 0, VERSION, PRINT, READ, READBUF', async () => {
    const s = await serveUsb();
    try {
      assert.equal(await s.host.resetPipes(), 0);
      const pipe = await s.host.openPipe(0);
      await pipe.send('VERSION\r\n');
      console.log(await pipe.line());
      const xml = await pipe.print();
      assert.match(xml, /<context/);
      console.log(await pipe.read(`${ADC} voltage0 scale`));
      const buf = await s.host.openPipe(1);
      assert.equal(await buf.command(`OPEN ${ADC} 1024 00000004`), 0);
      const data = await buf.readBuffer(ADC, 2048, 1);
      console.log(typeof data === 'number' ? data : data.length, s.notices, s.errors, s.server.usb?.traffic);
    } finally {
      await s.close();
    }
  });
});
