// The IIO ↔ USB hand-off as a library API (src/usb/handoff.ts), without the iiod protocol: a
// FunctionFS function of the test's own (iiod's one-pipe descriptors) on the sim's dummy_hcd
// link, a capture stream's blocks sent to its IN endpoint and an OUT endpoint's transfers played
// by the transmitter; by DMABUF where the UDC takes them (never mapped, usb.md §A4), copied on a
// UDC without scatter-gather (ATTACH EPERM, usb.md §A5); cancellation; what is left behind.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { O_RDONLY, O_WRONLY } from '../src/abi/index.js';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { IIOD_STRINGS, iiodDescriptors } from '../src/iiod/usb.js';
import type { KernelPort } from '../src/kernel/port.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { createFfsGadget, type FfsGadget } from '../src/usb/configfs-gadget.js';
import { FfsDmabufEndpoint } from '../src/usb/ffs-dmabuf.js';
import { FfsFunction } from '../src/usb/ffs-function.js';
import { captureToUsb, usbToPlayback } from '../src/usb/handoff.js';
import { fnv1a } from './support/checksum.js';
import { spyPort } from './support/port-spy.js';
import { assertRamp } from './support/ramp.js';
import { findUsbDevice } from './support/usb-gadget.js';
import { UsbHost } from './support/usb-host.js';

const IDS = { vendorId: 0x1234, productId: 0x5678 };

interface Rig {
  kernel: SimKernel;
  port: KernelPort;
  ctx: Context;
  gadget: FfsGadget;
  fn: FfsFunction;
  host: UsbHost;
  /** The host's addresses of the pipe's endpoints (dummy_udc picks them). */
  hostIn: number;
  hostOut: number;
  mmaps: () => number;
  baseline: number;
  close(): Promise<void>;
}

async function rig(sg: boolean): Promise<Rig> {
  const kernel = new SimKernel({ usb: { sg } });
  let mmaps = 0;
  const port = spyPort(kernel, { mmap: (original) => (...args) => (mmaps++, original(...args)) });
  const ctx = await Context.open(new LocalBackend(port, { uri: 'sim:' }));
  const baseline = kernel.context.fds.size;
  const gadget = await createFfsGadget(port, { name: 'handoff', ...IDS });
  let enabled!: () => void;
  const enable = new Promise<void>((resolve) => (enabled = resolve));
  const fn = await FfsFunction.open(port, gadget.mountpoint, iiodDescriptors(1), IIOD_STRINGS, {
    onSetup: () => undefined,
    onEvent: (name) => name === 'FUNCTIONFS_ENABLE' && enabled(),
  });
  await gadget.bind();
  const host = await UsbHost.open(kernel, (await findUsbDevice(kernel, IDS)).usbfs);
  const eps = (await host.descriptors()).flatMap((d) => (d.type === 'endpoint' ? [d.bEndpointAddress] : []));
  host.claim(0);
  await enable; // the host set the configuration: the endpoints are enabled
  const close = async (): Promise<void> => {
    await host.close();
    await fn.close();
    await gadget.close();
    await ctx.close();
  };
  return { kernel, port, ctx, gadget, fn, host, hostIn: eps[0]!, hostOut: eps[1]!, mmaps: () => mmaps, baseline, close };
}

async function endpoint(r: Rig, n: 1 | 2): Promise<FfsDmabufEndpoint> {
  const path = `${r.gadget.mountpoint}/ep${n}`;
  return new FfsDmabufEndpoint(r.port, await r.port.open(path, n === 1 ? O_WRONLY : O_RDONLY), path, n === 1 ? 'in' : 'out');
}

describe('captureToUsb: capture blocks to an IN endpoint', () => {
  for (const sg of [true, false]) {
    test(sg ? 'by DMABUF: the ramp arrives sample by sample, no block is mapped' : 'copied on a UDC without scatter-gather, saying why', async () => {
      const r = await rig(sg);
      try {
        const ep = await endpoint(r, 1);
        const samples = 32768;
        await using stream = await r.ctx.device('iiojs-adc4').buffer(0).open({ channels: ['voltage2'], blockSize: samples, cpuAccess: 'on-touch' });
        const sent = captureToUsb(stream, ep, { blocks: 4 });
        const values: number[] = [];
        for (let i = 0; i < 4; i++) {
          const urb = await r.host.reap(r.host.bulkIn(r.hostIn, samples * 2));
          assert.equal(urb.status, 0);
          const data = Buffer.from(urb.data);
          for (let at = 0; at < data.length; at += 2) values.push(data.readInt16LE(at));
        }
        const result = await sent;
        assertRamp(values, 'voltage2');
        assert.equal(result.blocks, 4);
        if (sg) {
          assert.deepEqual(result, { blocks: 4, dmabufBytes: 4 * samples * 2, copiedBytes: 0, copied: undefined });
          assert.equal(r.mmaps(), 0, 'no block mapped');
        } else {
          assert.equal(result.dmabufBytes, 0);
          assert.equal(result.copiedBytes, 4 * samples * 2);
          assert.match(result.copied!, /ep1 takes no DMABUFs \(EPERM from FUNCTIONFS_DMABUF_ATTACH: the UDC has no scatter-gather\)/);
        }
        await ep.close();
        r.port.close(ep.fd);
      } finally {
        await r.close();
      }
      assert.equal(r.kernel.context.fds.size, r.baseline - 0, 'every fd closed');
    });
  }

  test('an abort while the host reads nothing ends the hand-off (AbortError); the endpoint detaches everything', async () => {
    const r = await rig(true);
    try {
      const ep = await endpoint(r, 1);
      const stream = await r.ctx.device('iiojs-adc4').buffer(0).open({ channels: ['voltage2'], blockSize: 4096, cpuAccess: 'on-touch' });
      const abort = new AbortController();
      const sent = captureToUsb(stream, ep, { signal: abort.signal });
      // The first block is with USB once the stream has taken one back from the hardware.
      while (stream.blocks.every((b) => b.queued)) await new Promise((resolve) => setImmediate(resolve));
      abort.abort();
      await assert.rejects(sent, { name: 'AbortError' });
      assert.equal(stream.running, false, 'the stream was stopped');
      await stream.close();
      await ep.close();
      r.port.close(ep.fd);
    } finally {
      await r.close();
    }
    assert.equal(r.kernel.context.fds.size, r.baseline);
  });

  test('the wrong direction or stream kind is a TypeError', async () => {
    const r = await rig(true);
    try {
      const out = await endpoint(r, 2);
      await using stream = await r.ctx.device('iiojs-adc4').buffer(0).open({ blockSize: 64 });
      await assert.rejects(captureToUsb(stream, out), /ep2 is an OUT endpoint/);
      await assert.rejects(usbToPlayback(out, stream), /is a capture stream/);
      r.port.close(out.fd);
    } finally {
      await r.close();
    }
  });
});

describe('usbToPlayback: an OUT endpoint into playback blocks', () => {
  for (const sg of [true, false]) {
    test(sg ? 'by DMABUF: what the host sends is what the transmitter plays, no block mapped' : 'copied on a UDC without scatter-gather', async () => {
      const r = await rig(sg);
      try {
        const ep = await endpoint(r, 2);
        const tx = r.kernel.iio.device('iiojs-trx-tx').buffer(0);
        const stream = await r.ctx.device('iiojs-trx-tx').buffer(0).open({ blockSize: 1024, blocks: 2, cpuAccess: 'on-touch' });
        const blocks = [0, 1, 2, 3].map((k) => Buffer.from(Uint8Array.from({ length: 1024 * stream.layout.scanBytes }, (_, i) => (i * 5 + k * 11) & 0xff)));
        const received = usbToPlayback(ep, stream, { blocks: blocks.length });
        for (const block of blocks) assert.equal((await r.host.reap(r.host.bulkOut(r.hostOut, block))).status, 0);
        const result = await received;
        await stream.flush({ timeoutMs: 5000 });
        await stream.close();
        assert.equal(tx.stats.checksum, fnv1a(Buffer.concat(blocks)));
        assert.equal(result.blocks, 4);
        if (sg) {
          assert.equal(result.dmabufBytes, 4 * blocks[0]!.length);
          assert.equal(r.mmaps(), 0);
        } else {
          assert.equal(result.copiedBytes, 4 * blocks[0]!.length);
          assert.match(result.copied!, /EPERM/);
        }
        await ep.close();
        r.port.close(ep.fd);
      } finally {
        await r.close();
      }
    });
  }

  test('bytes per block must be whole scans within a block', async () => {
    const r = await rig(true);
    try {
      const ep = await endpoint(r, 2);
      await using stream = await r.ctx.device('iiojs-trx-tx').buffer(0).open({ blockSize: 16 });
      await assert.rejects(usbToPlayback(ep, stream, { bytes: 3 }), RangeError);
      await assert.rejects(usbToPlayback(ep, stream, { bytes: 16 * stream.layout.scanBytes + 4 }), RangeError);
      r.port.close(ep.fd);
    } finally {
      await r.close();
    }
  });
});
