// The iiod server over USB (usb.md §A1, §A2) on the simulated kernel's dummy_hcd link: `serve(ctx,
// { usb })` makes a configfs gadget with iiod's FunctionFS function and binds it; a host in the
// same process speaks libiio 0.24's USB transport to it through usbfs (support/libiio-usb-host.ts):
// the descriptors and strings, the vendor requests, the text protocol framed in bulk transfers,
// zero-copy capture and playback by FUNCTIONFS_DMABUF_TRANSFER (usb.md §A3, §A4) and the copy
// path on a UDC without scatter-gather (§A5), disconnects and unbinds mid-transfer, and hostile
// pipe traffic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { DMA_BUF_IOCTL_SYNC, USB_DT_STRING, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR } from '../src/abi/index.js';
import { LocalBackend } from '../src/backends/local/backend.js';
import { NetworkBackend } from '../src/backends/network/backend.js';
import { Context } from '../src/core/context.js';
import { IIOD_OPEN_PIPE, IIOD_REQUEST_TYPE } from '../src/iiod/usb.js';
import type { KernelPort } from '../src/kernel/port.js';
import { SimKernel, type SimKernelOptions } from '../src/kernel/sim/index.js';
import { serve, type IiodServer, type UsbServeOptions } from '../src/server/iiod/index.js';
import { createFfsGadget } from '../src/usb/configfs-gadget.js';
import { fnv1a } from './support/checksum.js';
import { LibiioUsbHost, type LibiioPipe } from './support/libiio-usb-host.js';
import { spyPort } from './support/port-spy.js';
import { assertRamp, column } from './support/ramp.js';
import { findUsbDevice, usbDeviceGone } from './support/usb-gadget.js';

const ADC = 'iio:device0';
const TX = 'iio:device4';
const IDS = { vendorId: 0x1d6b, productId: 0x0104 };
/** usb.md §A1: iiod's blobs for one pipe, byte for byte. */
const IIOD_N1_HEX = `03000000 69000000 07000000 03000000 03000000 05000000
  09 04 00 00 02 02 00 00 01  07 05 81 02 40 00 00  07 05 01 02 40 00 00
  09 04 00 00 02 02 00 00 01  07 05 81 02 00 02 00  07 05 01 02 00 02 00
  09 04 00 00 02 02 00 00 01  07 05 81 02 00 04 00 06 30 00 00 00 00  07 05 01 02 00 04 00 06 30 00 00 00 00`;
const IIOD_STRINGS_HEX = '02000000 16000000 01000000 01000000 0904 49494f00';
const hex = (text: string): string => text.replace(/\s+/g, '');

interface Counts {
  mmap: number;
  sync: number;
  ep0Writes: string[];
}

interface UsbServed {
  kernel: SimKernel;
  ctx: Context;
  server: IiodServer;
  host: LibiioUsbHost;
  counts: Counts;
  notices: string[];
  errors: string[];
  /** The sim's open fds once the context is up, before the server. */
  baseline: number;
  close(): Promise<void>;
}

/** A port that counts what touches a DMABUF's pages from the CPU, and records ep0 writes. */
function countingPort(kernel: SimKernel, counts: Counts): KernelPort {
  const ep0 = new Set<number>();
  return spyPort(kernel, {
    mmap: (original) => (...args) => {
      counts.mmap++;
      return original(...args);
    },
    ioctl: (original) => (fd, request, arg, pointers) => {
      if (request === DMA_BUF_IOCTL_SYNC) counts.sync++;
      return original(fd, request, arg, pointers);
    },
    open: (original) => async (path, flags) => {
      const fd = await original(path, flags);
      if (path.endsWith('/ep0')) ep0.add(fd);
      return fd;
    },
    write: (original) => (fd, from) => {
      if (ep0.has(fd)) counts.ep0Writes.push(Buffer.from(from).toString('hex'));
      return original(fd, from);
    },
  });
}

async function serveUsb(options: { sim?: SimKernelOptions; usb?: UsbServeOptions } = {}): Promise<UsbServed> {
  const kernel = new SimKernel(options.sim ?? {});
  const counts: Counts = { mmap: 0, sync: 0, ep0Writes: [] };
  const ctx = await Context.open(new LocalBackend(countingPort(kernel, counts), { uri: 'sim:' }));
  const baseline = kernel.context.fds.size;
  const notices: string[] = [];
  const errors: string[] = [];
  const server = await serve(ctx, { network: false, usb: options.usb ?? {}, log: { info: () => undefined, error: (l) => errors.push(l), notice: (l) => notices.push(l) } });
  let host: LibiioUsbHost;
  try {
    host = await LibiioUsbHost.open(kernel, (await findUsbDevice(kernel, IDS)).usbfs);
  } catch (e) {
    await server.close();
    await ctx.close();
    throw e;
  }
  const close = async (): Promise<void> => {
    await host.close();
    await server.close();
    await ctx.close();
  };
  return { kernel, ctx, server, host, counts, notices, errors, baseline, close };
}

/** Waits until every pipe has ended and the sim's fd table is back to `baseline` + what stays open. */
async function settled(s: UsbServed, extra: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (s.kernel.context.fds.size !== s.baseline + extra) {
    if (Date.now() > deadline) assert.fail(`${s.kernel.context.fds.size} fds open, expected ${s.baseline + extra}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Samples per capture block: adc4 runs at 1 MS/s in real time, and a READBUF costs the sim's
 * link a few milliseconds of round trips (its timers tick at Node's 1 ms at best), so blocks
 * hold tens of milliseconds of samples, or the hardware drops scans between READBUFs.
 */
const BLOCK = 65536;

/** The open fds a serving gadget keeps: ep0 (the server) and the host's usbfs node (the test). */
const SERVING_FDS = 2;

/** Reads `count` READBUFs of `samples` ramp samples (adc4 voltage2 alone) and checks them. */
async function readRamp(pipe: LibiioPipe, samples: number, count: number): Promise<number> {
  assert.equal(await pipe.command(`OPEN ${ADC} ${samples} 00000004`), 0);
  const values: number[] = [];
  for (let i = 0; i < count; i++) {
    const data = await pipe.readBuffer(ADC, samples * 2, 1);
    assert.ok(Buffer.isBuffer(data), `READBUF answered ${String(data)}`);
    assert.equal(data.length, samples * 2);
    values.push(...column(data, 1, 0));
  }
  assertRamp(values, 'voltage2');
  assert.equal(await pipe.command(`CLOSE ${ADC}`), 0);
  return values.length * 2;
}

describe('the gadget (usb.md §A1)', () => {
  test('iiod\'s descriptors and strings, byte for byte, for 1 and 3 pipes; the host finds the "IIO" interface', async () => {
    for (const pipes of [1, 3]) {
      const s = await serveUsb({ usb: { pipes } });
      try {
        assert.equal(s.counts.ep0Writes.length, 2);
        if (pipes === 1) assert.equal(s.counts.ep0Writes[0], hex(IIOD_N1_HEX));
        assert.equal(s.counts.ep0Writes[0]!.length / 2, 51 + 54 * pipes, '51 + 54N bytes');
        assert.equal(s.counts.ep0Writes[1], hex(IIOD_STRINGS_HEX));
        assert.equal(s.host.endpoints.length, pipes);
        const iface = s.host.descriptors.find((d) => d.type === 'interface');
        assert.ok(iface?.type === 'interface');
        assert.equal(iface.bInterfaceClass, 0x02, 'USB_CLASS_COMM');
        assert.equal(iface.bNumEndpoints, 2 * pipes);
        // The interface's string, as libiio's scan reads it (en-US, UTF-16LE).
        const r = await s.host.host.reap(s.host.host.control({ bRequestType: USB_DIR_IN, bRequest: USB_REQ_GET_DESCRIPTOR, wValue: (USB_DT_STRING << 8) | iface.iInterface, wIndex: 0x0409, wLength: 255 }));
        assert.equal(r.status, 0);
        assert.equal(Buffer.from(r.data.subarray(2)).toString('utf16le'), 'IIO');
      } finally {
        await s.close();
      }
    }
  });

  test('close() unbinds and removes the gadget; a gadget a crashed run left is taken down at start', async () => {
    const kernel = new SimKernel();
    const ctx = await Context.open(new LocalBackend(kernel, { uri: 'sim:' }));
    try {
      const server = await serve(ctx, { network: false, usb: true });
      assert.equal(server.usb?.udc, 'dummy_udc.0');
      await findUsbDevice(kernel, IDS);
      await server.close();
      await usbDeviceGone(kernel, IDS);
      await assert.rejects(kernel.stat('/sys/kernel/config/usb_gadget/iiojs'), { code: 'ENOENT' });
      await assert.rejects(kernel.stat('/dev/ffs-iiojs'), { code: 'ENOENT' });
      // What a killed server leaves: the configfs gadget and the mount, nothing holding them.
      const k = kernel as KernelPort;
      await k.mkdir('/sys/kernel/config/usb_gadget/iiojs');
      await k.mkdir('/sys/kernel/config/usb_gadget/iiojs/configs/c.1');
      await k.mkdir('/sys/kernel/config/usb_gadget/iiojs/functions/ffs.iiojs');
      await k.symlink('/sys/kernel/config/usb_gadget/iiojs/functions/ffs.iiojs', '/sys/kernel/config/usb_gadget/iiojs/configs/c.1/ffs.iiojs');
      await k.mkdir('/dev/ffs-iiojs');
      await k.mount('iiojs', '/dev/ffs-iiojs', 'functionfs');
      const notices: string[] = [];
      const again = await serve(ctx, { network: false, usb: true, log: { info: () => undefined, error: () => undefined, notice: (l) => notices.push(l) } });
      assert.deepEqual(notices, ['usb: removed gadget iiojs left by an earlier run']);
      await findUsbDevice(kernel, IDS);
      await again.close();
    } finally {
      await ctx.close();
    }
  });
});

describe('--ffs: a FunctionFS the board made (as iiod -F)', () => {
  test('the descriptors go to its ep0, the board binds the UDC after, the host talks; close leaves the board\'s gadget', async () => {
    const kernel = new SimKernel();
    const ctx = await Context.open(new LocalBackend(kernel, { uri: 'sim:' }));
    const board = await createFfsGadget(kernel, { name: 'pluto', vendorId: 0x0456, productId: 0xb673, functionName: 'iio_ffs', mountpoint: '/dev/iio_ffs' });
    try {
      const server = await serve(ctx, { network: false, usb: { ffs: '/dev/iio_ffs', pipes: 2 } });
      assert.equal(server.usb?.gadget, undefined);
      assert.equal(server.usb?.mountpoint, '/dev/iio_ffs');
      assert.deepEqual((await kernel.readdir('/dev/iio_ffs')).map((e) => e.name).sort(), ['ep0', 'ep1', 'ep2', 'ep3', 'ep4']);
      await board.bind(); // S23udc: echo ci_hdrc.0 > UDC, once iiod wrote its descriptors
      const host = await LibiioUsbHost.open(kernel, (await findUsbDevice(kernel, { vendorId: 0x0456, productId: 0xb673 })).usbfs);
      try {
        assert.equal(await host.resetPipes(), 0);
        assert.equal(await (await host.openPipe(0)).print(), ctx.toXml());
        assert.equal(await host.vendor(IIOD_OPEN_PIPE, 2), -32, 'pipe 2 of 2');
      } finally {
        await host.close();
      }
      await server.close();
      // ep0 closed: FunctionFS unbinds the gadget itself; the board's gadget and mount stay.
      assert.equal((await kernel.readText(`${board.dir}/UDC`)).trim(), '');
      await kernel.stat('/dev/iio_ffs/ep0');
    } finally {
      await board.close();
      await ctx.close();
    }
  });

  test('a remote context needs usb.kernel: its own kernel is not this machine\'s', async () => {
    const kernel = new SimKernel();
    const local = await Context.open(new LocalBackend(kernel, { uri: 'sim:' }));
    const tcp = await serve(local, { port: 0 });
    const remote = await Context.open(new NetworkBackend(`ip:127.0.0.1:${tcp.port}`));
    try {
      assert.equal(remote.kernel, undefined);
      await assert.rejects(serve(remote, { network: false, usb: true }), /ip:127\.0\.0\.1:\d+ has no kernel of its own: usb\.kernel says whose USB device port serves it/);
      const over = await serve(remote, { network: false, usb: { kernel } });
      assert.equal(over.usb?.udc, 'dummy_udc.0');
      const host = await LibiioUsbHost.open(kernel, (await findUsbDevice(kernel, IDS)).usbfs);
      try {
        await host.resetPipes();
        assert.match(await (await host.openPipe(0)).print(), /iiojs-adc4/);
      } finally {
        await host.close();
      }
      await over.close();
    } finally {
      await remote.close();
      await tcp.close();
      await local.close();
    }
  });
});

describe('vendor requests (usb.md §A1)', () => {
  test('RESET_PIPES, OPEN_PIPE and CLOSE_PIPE are acknowledged; a pipe out of range, an unknown request or another request type stalls, and the pipes go on', async () => {
    const s = await serveUsb();
    try {
      assert.equal(await s.host.resetPipes(), 0);
      const p0 = await s.host.openPipe(0);
      assert.equal(await s.host.vendor(IIOD_OPEN_PIPE, 3), -32, 'pipe 3 of 3: EPIPE (stalled)');
      assert.equal(await s.host.vendor(7), -32, 'unknown bRequest');
      const r = await s.host.host.reap(s.host.host.control({ bRequestType: IIOD_REQUEST_TYPE | USB_DIR_IN, bRequest: IIOD_OPEN_PIPE, wValue: 1, wIndex: 0, wLength: 4 }));
      assert.equal(r.status, -32, 'a device-to-host request');
      assert.equal(await p0.command('TIMEOUT 1000'), 0, 'pipe 0 still answers');
      const p1 = await s.host.openPipe(1);
      assert.equal(await p1.command(`OPEN ${ADC} 256 00000004`), 0);
      assert.equal(s.server.usb?.openPipes, 2);
      assert.equal(await s.host.closePipe(1), 0);
      await settled(s, SERVING_FDS + 2, 5000); // pipe 0's two endpoint files stay open; pipe 1 freed its buffer
      assert.equal(await p0.command('TIMEOUT 1000'), 0);
      assert.equal(await s.host.resetPipes(), 0);
      await settled(s, SERVING_FDS);
      assert.ok(s.errors.some((l) => /stalled .*bRequest 1 wValue 3: pipe 3: this server has 3/.test(l)), s.errors.join('\n'));
    } finally {
      await s.close();
    }
  });
});

describe('libiio\'s text protocol over pipes (usb.md §A2)', () => {
  test('PRINT, then READ of every attribute of every device gives what the context reads', async () => {
    const s = await serveUsb();
    try {
      await s.host.resetPipes();
      const pipe = await s.host.openPipe(0);
      const xml = await pipe.print();
      assert.equal(xml, s.ctx.toXml());
      const doc = new DOMParser().parseFromString(xml, 'text/xml');
      let checked = 0;
      for (const dev of Array.from(doc.getElementsByTagName('device'))) {
        const id = dev.getAttribute('id')!;
        const device = s.ctx.find(id)!;
        const targets: Array<[string, { read(): Promise<string> } | undefined]> = [];
        for (const a of Array.from(dev.childNodes).filter((n) => n.nodeName === 'attribute')) {
          const name = (a as unknown as { getAttribute(n: string): string }).getAttribute('name');
          targets.push([`${id} ${name}`, device.attrs.get(name)]);
        }
        for (const ch of Array.from(dev.getElementsByTagName('channel'))) {
          const output = ch.getAttribute('type') === 'output';
          const channel = device.findChannel(ch.getAttribute('id')!, output ? 'out' : 'in')!;
          for (const a of Array.from(ch.getElementsByTagName('attribute'))) {
            const name = a.getAttribute('name')!;
            targets.push([`${id} ${output ? 'OUTPUT' : 'INPUT'} ${channel.id} ${name}`, channel.attrs.get(name)]);
          }
        }
        for (const [target, attr] of targets) {
          assert.ok(attr !== undefined, target);
          const got = await pipe.read(target);
          const expected = await attr.read().catch((e: { errno: number }) => e.errno);
          // A channel's raw value is a live sample: only its form can be compared.
          if (/ (raw|input)$/.test(target)) assert.match(String(got), /^-?\d+(\.\d+)?$/, target);
          else assert.equal(got, expected, target);
          checked++;
        }
      }
      assert.ok(checked > 50, `${checked} attributes`);
    } finally {
      await s.close();
    }
  });

  test('a capture by DMABUF: the ramp sample by sample, every sample byte by FUNCTIONFS_DMABUF_TRANSFER, no block mapped or synced', async () => {
    const s = await serveUsb();
    try {
      await s.host.resetPipes();
      await s.host.openPipe(0);
      const pipe = await s.host.openPipe(1);
      const bytes = await readRamp(pipe, BLOCK, 4);
      const traffic = s.server.usb!.traffic;
      assert.equal(traffic.dmabufSent, bytes, 'every sample byte went by DMABUF');
      assert.ok(traffic.written < 8 * 64, `${traffic.written} bytes written by the CPU: the count and mask lines only`);
      assert.equal(s.counts.mmap, 0, 'no block was mapped');
      assert.equal(s.counts.sync, 0, 'no DMA_BUF_IOCTL_SYNC');
      assert.ok(s.notices.some((l) => /usb pipe 1: buffer0 of iio:device0 .*: zero-copy: blocks go to \/dev\/ffs-iiojs\/ep3/.test(l)), s.notices.join('\n'));
    } finally {
      await s.close();
    }
  });

  test('the copy path on a UDC without scatter-gather: ATTACH is EPERM (usb.md §A5), said once, and the data is the same', async () => {
    const s = await serveUsb({ sim: { usb: { sg: false } } });
    try {
      await s.host.resetPipes();
      await s.host.openPipe(0);
      const pipe = await s.host.openPipe(1);
      const bytes = await readRamp(pipe, BLOCK, 3);
      const traffic = s.server.usb!.traffic;
      assert.equal(traffic.dmabufSent, 0);
      assert.ok(traffic.written >= bytes);
      assert.ok(s.notices.some((l) => /copied: .*ep3 takes no DMABUFs \(EPERM from FUNCTIONFS_DMABUF_ATTACH: the UDC has no scatter-gather\)/.test(l)), s.notices.join('\n'));
    } finally {
      await s.close();
    }
  });

  test('--copy (zeroCopy: false) copies on a UDC that takes DMABUFs, and says so', async () => {
    const s = await serveUsb({ usb: { zeroCopy: false } });
    try {
      await s.host.resetPipes();
      const pipe = await s.host.openPipe(1);
      await readRamp(pipe, BLOCK, 2);
      assert.equal(s.server.usb!.traffic.dmabufSent, 0);
      assert.ok(s.notices.some((l) => /copied: the server was told to copy/.test(l)), s.notices.join('\n'));
    } finally {
      await s.close();
    }
  });

  test('READBUFs that are not whole blocks are copied (and said why), with the data contiguous', async () => {
    const s = await serveUsb();
    try {
      await s.host.resetPipes();
      const pipe = await s.host.openPipe(1);
      assert.equal(await pipe.command(`OPEN ${ADC} 1024 00000004`), 0);
      const values: number[] = [];
      for (let i = 0; i < 6; i++) values.push(...column((await pipe.readBuffer(ADC, 1000, 1)) as Buffer, 1, 0));
      assertRamp(values, 'voltage2');
      assert.equal(s.server.usb!.traffic.dmabufSent, 0, 'no READBUF started at a block and took it whole');
      assert.ok(s.counts.mmap > 0 && s.counts.sync > 0, 'the blocks were mapped, and synced around the CPU\'s reads');
    } finally {
      await s.close();
    }
  });

  test('WRITEBUF by DMABUF: the samples land in the transmitter\'s blocks from the OUT endpoint, unmapped, checksum intact', async () => {
    const s = await serveUsb();
    try {
      const tx = s.kernel.iio.device('iiojs-trx-tx').buffer(0);
      await s.host.resetPipes();
      const pipe = await s.host.openPipe(1);
      assert.equal(await pipe.command(`OPEN ${TX} 4096 00000003`), 0);
      const blocks = [0, 1, 2, 3, 4, 5].map((k) => Buffer.from(Uint8Array.from({ length: 16384 }, (_, i) => (i * 7 + k * 13) & 0xff)));
      for (const block of blocks) assert.equal(await pipe.writeBuffer(TX, block), block.length);
      assert.equal(await pipe.command(`CLOSE ${TX}`), 0);
      assert.equal(tx.stats.bytes, 6 * 16384);
      assert.equal(tx.stats.checksum, fnv1a(Buffer.concat(blocks)));
      assert.equal(s.server.usb!.traffic.dmabufReceived, 6 * 16384);
      assert.equal(s.counts.mmap, 0);
      assert.ok(s.notices.some((l) => /usb pipe 1: buffer0 of iio:device4 .*zero-copy: WRITEBUF samples land in its DMABUFs from \/dev\/ffs-iiojs\/ep4/.test(l)), s.notices.join('\n'));
    } finally {
      await s.close();
    }
  });

  test('two buffers at once on two pipes: a capture and a playback', async () => {
    const s = await serveUsb();
    try {
      const tx = s.kernel.iio.device('iiojs-trx-tx').buffer(0);
      await s.host.resetPipes();
      const p1 = await s.host.openPipe(1);
      const p2 = await s.host.openPipe(2);
      assert.equal(await p2.command(`OPEN ${TX} 1024 00000003`), 0);
      const payload = Buffer.from(Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) & 0xff));
      const [bytes] = await Promise.all([readRamp(p1, BLOCK, 3), (async () => {
        for (let i = 0; i < 6; i++) assert.equal(await p2.writeBuffer(TX, payload), 4096);
        assert.equal(await p2.command(`CLOSE ${TX}`), 0);
      })()]);
      assert.equal(bytes, 3 * BLOCK * 2);
      assert.equal(tx.stats.checksum, fnv1a(Buffer.concat(Array(6).fill(payload))));
    } finally {
      await s.close();
    }
  });
});

describe('hosts that go away (usb.md §A4: DETACH cancels, ep close detaches)', () => {
  for (const how of ['soft disconnect', 'UDC unbind'] as const) {
    for (const op of ['READBUF', 'WRITEBUF'] as const) {
      test(`${how} mid-${op} frees every fd, mapping and attachment`, async () => {
        const s = await serveUsb();
        try {
          await s.host.resetPipes();
          const pipe = await s.host.openPipe(1);
          if (op === 'READBUF') {
            s.kernel.iio.device('iiojs-adc4').buffer(0).stall(); // the READBUF waits for the DMA
            assert.equal(await pipe.command(`OPEN ${ADC} 4096 00000004`), 0);
            await pipe.send(`READBUF ${ADC} 8192\r\n`);
          } else {
            assert.equal(await pipe.command(`OPEN ${TX} 4096 00000003`), 0);
            assert.equal(await pipe.command(`WRITEBUF ${TX} 16384`), 0);
            await pipe.send(new Uint8Array(4096)); // a quarter of the payload: the DMABUF transfer waits for the rest
          }
          await waitFor(() => s.kernel.context.fds.size > s.baseline + SERVING_FDS + 2, 'the buffer open');
          const k = s.kernel as KernelPort;
          if (how === 'UDC unbind') await k.writeText('/sys/kernel/config/usb_gadget/iiojs/UDC', '\n');
          else await k.writeText('/sys/class/udc/dummy_udc.0/soft_connect', 'disconnect');
          await usbDeviceGone(s.kernel, IDS);
          await s.host.close();
          await settled(s, 1, 10_000); // ep0 alone
          assert.equal(s.server.usb?.openPipes, 0);
          const stats = s.kernel.iio.device(op === 'READBUF' ? 'iiojs-adc4' : 'iiojs-trx-tx').buffer(0).stats;
          assert.equal(stats.queued + stats.active, 0, 'no block left with the buffer');
        } finally {
          await s.server.close();
          await s.ctx.close();
        }
      });
    }
  }
});

describe('a DMABUF transfer that fails after its count line went out', () => {
  test('ends that pipe (the host cannot be kept in step), frees its buffer, and pipe 0 answers on', async () => {
    const s = await serveUsb();
    try {
      await s.host.resetPipes();
      const p0 = await s.host.openPipe(0);
      const pipe = await s.host.openPipe(1);
      assert.equal(await pipe.command(`OPEN ${ADC} ${BLOCK} 00000004`), 0);
      await pipe.send(`READBUF ${ADC} ${BLOCK * 2}\r\n`);
      assert.equal(await pipe.integer(), BLOCK * 2);
      await pipe.exact(9); // the mask line; the samples' transfer is queued, the host takes none
      // The IN endpoint halted under the transfer: dummy_hcd ends its request with an error.
      const k = s.kernel as KernelPort;
      await k.writeText('/sys/class/udc/dummy_udc.0/soft_connect', 'disconnect');
      await waitFor(() => s.server.usb!.openPipes === 0, 'every pipe ended');
      await waitFor(() => s.errors.some((l) => /usb pipe 1: disconnected: .*FUNCTIONFS_DMABUF_TRANSFER/.test(l)), `the failure logged: ${s.errors.join('; ')}`);
      await k.writeText('/sys/class/udc/dummy_udc.0/soft_connect', 'connect');
      await s.host.close();
      const again = await LibiioUsbHost.open(s.kernel, (await findUsbDevice(s.kernel, IDS)).usbfs);
      try {
        assert.equal(await again.resetPipes(), 0);
        const q0 = await again.openPipe(0);
        assert.match(await q0.print(), /<context/);
        const q1 = await again.openPipe(1);
        assert.equal(await readRamp(q1, BLOCK, 2), 2 * BLOCK * 2, 'the buffer streams again');
      } finally {
        await again.close();
      }
      void p0;
    } finally {
      await s.server.close();
      await s.ctx.close();
    }
  });
});

describe('hostile pipe traffic', () => {
  test('malformed, overlong and random input on pipe 0 gets errors and bounded memory; pipe 1 streams on', async () => {
    const s = await serveUsb();
    try {
      await s.host.resetPipes();
      const p0 = await s.host.openPipe(0);
      const p1 = await s.host.openPipe(1);
      const streaming = readRamp(p1, BLOCK, 4);
      assert.equal(await p0.command('FOO BAR'), -22);
      assert.equal(await p0.command(`READ ${ADC} INPUT nochannel raw`), -2);
      assert.equal(await p0.command('READBUF nodev 16'), -19);
      assert.equal(await p0.command(`OPEN ${ADC} 99999999999 00000004`), -22);
      await p0.send(`${'X'.repeat(9000)}\r\n`);
      assert.equal(await p0.integer(), -22, 'a line longer than 4096 bytes');
      assert.equal(await p0.command(`WRITE ${ADC} sampling_frequency ${2 ** 40}`), -22, 'a payload over the limit (then the pipe ends)');
      let seed = 7;
      const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      const p2 = await s.host.openPipe(2);
      for (let i = 0; i < 20; i++) {
        const junk = Uint8Array.from({ length: 1 + (random() % 600) }, () => random() & 0xff);
        junk[junk.length - 1] = 0x0a;
        await p2.send(junk);
        const reply = await p2.line();
        assert.match(reply, /^-\d+$/, 'an error for each line of junk');
      }
      assert.equal(await streaming, 4 * BLOCK * 2);
      await p2.send('VERSION\r\n');
      assert.match(await p2.line(), /^0\.24\./, 'pipe 2 still in step');
    } finally {
      await s.close();
    }
  });
});

describe('fuzzed vendor requests', () => {
  test('random bRequest/wValue/wLength: each acknowledged or stalled, never hanging; then the server works as new', async () => {
    const s = await serveUsb();
    try {
      let seed = 99;
      const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      for (let i = 0; i < 60; i++) {
        const bRequest = random() % 5 === 0 ? random() & 0xff : random() % 4;
        const wValue = random() % 3 === 0 ? random() & 0xffff : random() % 4;
        const wLength = random() % 4 === 0 ? random() % 16 : 0;
        const r = await s.host.host.reap(s.host.host.control({ bRequestType: IIOD_REQUEST_TYPE, bRequest, wValue, wIndex: 0, wLength }, new Uint8Array(wLength)));
        const valid = wLength === 0 && (bRequest === 0 || (bRequest <= 2 && wValue < 3));
        assert.equal(r.status, valid ? 0 : -32, `bRequest ${bRequest} wValue ${wValue} wLength ${wLength}`);
      }
      assert.equal(await s.host.resetPipes(), 0);
      await settled(s, SERVING_FDS);
      const pipe = await s.host.openPipe(0);
      assert.equal(await pipe.print(), s.ctx.toXml());
    } finally {
      await s.close();
    }
  });
});

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
