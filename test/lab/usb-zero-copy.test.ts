// The demonstration of issue 15: capture DMABUFs go from the lab ADC to the host side of
// dummy_hcd through FunctionFS, and our process never maps them. Each DMABUF (system heap) is
// attached both to lab-adc's IIO buffer and to the gadget's IN endpoint (iiod's 1-pipe
// descriptors); per block: IIO ENQUEUE, FunctionFS TRANSFER (which waits for IIO's WRITE fence
// itself), the host reaps a bulk IN URB through usbfs, and the next ENQUEUE of that DMABUF
// follows its POLLOUT (FunctionFS's READ fence signalled). Everything goes through the Kernel
// port, wrapped so that mmap and DMA_BUF_IOCTL_SYNC throw and are counted (usb.md §A4
// "chaining", kernel-abi.md §2, §5.3). Real-kernel tier only; with dummy_hcd.sg=0 ATTACH is
// EPERM (usb.md §A5) and the test skips, saying so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DMA_BUF_IOCTL_SYNC, FUNCTIONFS_DMABUF_ATTACH, FUNCTIONFS_DMABUF_TRANSFER, FUNCTIONFS_ENABLE, O_RDWR, POLLOUT,
  USB_FUNCTIONFS_EVENT_SIZE, decodeFfsEvent, usbFfsDmabufTransferReqStruct,
} from '../../src/abi/index.js';
import { isSystemError } from '../../src/errors.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { pollWithin } from '../support/dmabuf.js';
import { attach as iioAttach, enqueue as iioEnqueue, getBufferFd, heapBuffer } from '../support/iio-calls.js';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { firstBadScan, LAB_ADC_SCAN, labAdcScanAt } from '../support/lab-pattern.js';
import { spyPort } from '../support/port-spy.js';
import { IIOD_STRINGS, createFfsGadget, iiodDescriptors } from '../support/usb-gadget.js';
import { UsbHost, URB_WAIT_MS, type Urb, type UrbResult } from '../support/usb-host.js';

const LAB_ADC = { name: 'lab-adc', dev: '/dev/iio:device2', sys: '/sys/bus/iio/devices/iio:device2' } as const;
const BLOCK = 256 * 1024;
const IN_FLIGHT = 4;
const BLOCKS = 16; // 4 MiB: TCG is slow
/** The host's address of ep1: usb_ep_autoconfig took dummy_udc's ep1in-bulk (linux-6.12-usb.txt). */
const HOST_IN = 0x81;

/** The Linux port, with the calls that would touch a DMABUF's pages from the CPU counted and refused. */
function noCpuAccessPort(kernel: KernelPort): { k: KernelPort; counts: { mmap: number; sync: number } } {
  const counts = { mmap: 0, sync: 0 };
  const k = spyPort(kernel, {
    mmap: () => (...args) => {
      counts.mmap++;
      throw new Error(`mmap(${args.join(', ')}) in the zero-copy demonstration`);
    },
    ioctl: (original) => (fd, request, arg, pointers) => {
      if (request === DMA_BUF_IOCTL_SYNC) {
        counts.sync++;
        throw new Error(`DMA_BUF_IOCTL_SYNC on fd ${fd} in the zero-copy demonstration`);
      }
      return original(fd, request, arg, pointers);
    },
  });
  return { k, counts };
}

/** Lines of /proc/self/maps that map a DMABUF (dma-buf files are named "/dmabuf:NAME"). */
async function dmabufMappings(k: KernelPort): Promise<string[]> {
  return (await k.readText('/proc/self/maps')).split('\n').filter((line) => /\bdmabuf/.test(line));
}

test('capture DMABUFs from lab-adc reach the host side of dummy_hcd through FunctionFS, never mapped, every sample intact (usb.md §A4, §A5; kernel-abi.md §2, §5.3)', async (t) => {
  const { kernel: linux } = bootUnderTest();
  const { k, counts } = noCpuAccessPort(linux);
  assert.equal((await k.readText(`${LAB_ADC.sys}/name`)).trim(), LAB_ADC.name);

  const gadget = await createFfsGadget(k, { name: 'zerocopy', vendorId: 0x0456, productId: 0xb673, product: 'iiojs zero-copy' });
  const fds: number[] = []; // closed last-first: host, IIO, ep files (ep0 last unbinds the gadget), DMABUFs
  let host: UsbHost | undefined;
  const bufferEnable = `${LAB_ADC.sys}/buffer0/enable`;
  try {
    const ep0 = await k.open(`${gadget.mountpoint}/ep0`, O_RDWR);
    const dmabufs: number[] = [];
    for (let i = 0; i < IN_FLIGHT; i++) dmabufs.push(await heapBuffer(k, BLOCK));
    fds.push(...dmabufs, ep0);
    await k.write(ep0, iiodDescriptors(1));
    await k.write(ep0, IIOD_STRINGS);
    const ep = await k.open(`${gadget.mountpoint}/ep1`, O_RDWR);
    fds.push(ep);
    await gadget.bind();
    // TRANSFER is EAGAIN until the host has set the configuration: wait for ENABLE (usb.md §A1)
    const events = new Uint8Array(4 * USB_FUNCTIONFS_EVENT_SIZE);
    for (let enabled = false; !enabled;) {
      const n = await k.readBlocking(ep0, events, { signal: AbortSignal.timeout(URB_WAIT_MS) });
      for (let at = 0; at < n; at += USB_FUNCTIONFS_EVENT_SIZE) enabled ||= decodeFfsEvent(events, at).type === FUNCTIONFS_ENABLE;
    }

    try {
      for (const d of dmabufs) k.ioctl(ep, FUNCTIONFS_DMABUF_ATTACH, Int32Array.of(d));
    } catch (e) {
      if (!isSystemError(e, 'EPERM')) throw e;
      // EPERM is the fallback only where the UDC lacks scatter-gather: this boot's dummy_hcd.sg=0
      assert.equal((await k.readText('/sys/module/dummy_hcd/parameters/sg')).trim(), 'N', 'ATTACH EPERM with sg on');
      t.skip('dummy_hcd.sg=0: FUNCTIONFS_DMABUF_ATTACH is EPERM (no scatter-gather in the UDC), nothing moves zero-copy');
      return;
    }

    host = await UsbHost.open(k, (await gadget.hostDevice(URB_WAIT_MS)).usbfs);
    host.claim(0);
    const dev = await k.open(LAB_ADC.dev, O_RDWR);
    fds.push(dev);
    const buffer = getBufferFd(k, dev, 0);
    fds.push(buffer);
    for (const c of [0, 1, 2]) await k.writeText(`${LAB_ADC.sys}/buffer0/in_voltage${c}_en`, '1');
    for (const d of dmabufs) iioAttach(k, buffer, d);
    await k.writeText(bufferEnable, '1');

    const transfer = usbFfsDmabufTransferReqStruct.encode({ fd: 0, flags: 0, length: BigInt(BLOCK) });
    const start = performance.now();
    /** Block `b` into its DMABUF: capture, hand to the IN endpoint, and the host's URB for it. */
    const send = (b: number): Urb => {
      const d = dmabufs[b % IN_FLIGHT]!;
      const urb = host!.bulkIn(HOST_IN, BLOCK);
      iioEnqueue(k, buffer, d, BLOCK);
      new DataView(transfer.buffer).setInt32(0, d, true);
      // blocks until the capture's WRITE fence signals: FunctionFS waits for IIO (usb.md §A4)
      k.ioctl(ep, FUNCTIONFS_DMABUF_TRANSFER, transfer);
      return urb;
    };
    const urbs = Array.from({ length: IN_FLIGHT }, (_, b) => send(b));
    let first = -1;
    for (let b = 0; b < BLOCKS; b++) {
      const r: UrbResult = await host.reap(urbs[b]!);
      assert.equal(r.status, 0, `block ${b}: URB status`);
      assert.equal(r.actual, BLOCK, `block ${b}: bytes`);
      if (first < 0) {
        first = labAdcScanAt(r.data);
        assert.ok(Number.isInteger(first), `the first scan's u32 (${3 * first}) is not 3n`);
      }
      assert.equal(firstBadScan(r.data, first + b * (BLOCK / LAB_ADC_SCAN)), -1, `block ${b}: lab-adc's pattern broken`);
      assert.deepEqual(await dmabufMappings(k), [], 'a DMABUF is mapped into this process');
      const d = dmabufs[b % IN_FLIGHT]!;
      // FunctionFS's READ fence: the next capture into this DMABUF may start (kernel-abi.md §2)
      assert.equal((await pollWithin(k, d, POLLOUT, URB_WAIT_MS)) & POLLOUT, POLLOUT, `block ${b}: the DMABUF's fences never signalled`);
      if (b + IN_FLIGHT < BLOCKS) urbs.push(send(b + IN_FLIGHT));
    }
    const seconds = (performance.now() - start) / 1000;
    assert.deepEqual(counts, { mmap: 0, sync: 0 });
    t.diagnostic(`${BLOCKS} blocks of ${BLOCK} B (${(BLOCKS * BLOCK) / 2 ** 20} MiB, scans ${first}..${first + (BLOCKS * BLOCK) / LAB_ADC_SCAN - 1}) in ${seconds.toFixed(2)} s: ${((BLOCKS * BLOCK) / 1e6 / seconds).toFixed(1)} MB/s`);
  } finally {
    await k.writeText(bufferEnable, '0').catch(() => undefined);
    await host?.close();
    for (const fd of fds.reverse()) k.close(fd);
    await gadget.close();
  }
});
