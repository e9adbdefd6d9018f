// The lab's USB link (issue 15 §4): dummy_hcd's gadget and host halves in one guest, with the
// test patch vm/dummy_hcd-sg.patch, whose dummy_hcd.sg switches gadget-side scatter-gather.
// vm/guest-tests.sh runs this file in a boot with sg=1 (the default) and again in one with
// dummy_hcd.sg=0, so FunctionFS DMABUF's EPERM fallback is seen on the same kernel (usb.md §A5).
// The gadget is made through the Kernel port (test/support/usb-gadget.ts); libiio's peers are
// Debian's iiod -F and iio_info 0.24 (usb.md §A1, §A2, §A6). Real-kernel tier only.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { basename } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  DMA_BUF_SYNC_END, DMA_BUF_SYNC_START, DMA_BUF_SYNC_WRITE, FUNCTIONFS_DMABUF_ATTACH, FUNCTIONFS_DMABUF_TRANSFER, MAP_SHARED,
  O_RDWR, POLLOUT, PROT_READ, PROT_WRITE, USBDEVFS_BULK, USBDEVFS_CLAIMINTERFACE, usbdevfsBulkTransferStruct,
  usbFfsDmabufTransferReqStruct,
} from '../../src/abi/index.js';
import { dmabufFromHeap } from '../../src/kernel/dmabuf.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { pollWithin } from '../support/dmabuf.js';
import { dmabufSync } from '../support/iio-calls.js';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { prng } from '../support/prng.js';
import { createFfsGadget, endpointFiles, IIOD_STRINGS, iiodDescriptors, type FfsGadget } from '../support/usb-gadget.js';

const { kernel } = bootUnderTest();

const SG_PARAM = '/sys/module/dummy_hcd/parameters/sg';

/** Whether this boot's dummy_udc takes scatter-gather requests (the patch's read-only parameter). */
async function sgSupported(): Promise<boolean> {
  return (await kernel.readText(SG_PARAM)).trim() === 'Y';
}

/** A gadget removed after the test, whatever happened in it. */
async function gadgetFor(t: TestContext, name: string, productId: number): Promise<FfsGadget> {
  const gadget = await createFfsGadget(kernel, {
    name,
    vendorId: 0x0456,
    productId,
    manufacturer: 'iiojs',
    product: `lab ${name}`,
    serialNumber: name,
    configuration: 'iio',
    maxPower: 100,
  });
  t.after(() => gadget.close());
  return gadget;
}

/** The device's first interface directory in sysfs (1-1 → 1-1:1.0). */
function interfaceDir(sysfs: string): string {
  return `${sysfs}/${basename(sysfs)}:1.0`;
}

async function attr(k: KernelPort, path: string): Promise<string> {
  return (await k.readText(path)).trim();
}

test('dummy_hcd.sg: the boot\'s command line sets the parameter, read-only at runtime (usb.md §A5)', async () => {
  const cmdline = await attr(kernel, '/proc/cmdline');
  const given = /(?:^| )dummy_hcd\.sg=(\S+)/.exec(cmdline)?.[1];
  // The patch's default is on; the kernel's bool parameters take 0/1, n/y, N/Y.
  const expected = given === undefined || /^[1yY]/.test(given);
  assert.equal(await sgSupported(), expected, `dummy_hcd.sg=${given ?? '(default)'} on ${cmdline}`);
  assert.equal((await kernel.stat(SG_PARAM)).mode & 0o777, 0o444);
});

test('iiod -F on a configfs gadget: the host side enumerates it and iio_info reaches the lab over usb: (usb.md §A1, §A2, §2)', async (t) => {
  const gadget = await gadgetFor(t, 'iio_ffs', 0xb673);
  // iiod writes the descriptors itself; bind after it did, as Pluto's S23udc does.
  const iiod = spawn('iiod', ['-F', gadget.mountpoint, '-n', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  iiod.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(iiod, 'exit');
  try {
    await servedOverUsb(gadget, exited, () => stderr);
  } finally {
    // Before the gadget goes (after-hooks run later): iiod's open ep files keep the mount busy.
    // SIGKILL: over FunctionFS iiod 0.24 takes some 50 s to stop on SIGTERM (measured here).
    if (iiod.exitCode === null && iiod.signalCode === null) {
      iiod.kill('SIGKILL');
      await exited;
    }
  }
});

async function servedOverUsb(gadget: FfsGadget, exited: Promise<unknown[]>, stderr: () => string): Promise<void> {
  await Promise.race([
    endpointFiles(kernel, gadget, 6, 20_000),
    exited.then(([code]) => assert.fail(`iiod exited (${String(code)}) before writing its descriptors: ${stderr()}`)),
  ]);
  await gadget.bind();
  const device = await gadget.hostDevice(20_000);

  const intf = interfaceDir(device.sysfs);
  assert.equal(await attr(kernel, `${intf}/interface`), 'IIO');
  assert.equal(await attr(kernel, `${intf}/bInterfaceClass`), '02');
  assert.equal(await attr(kernel, `${intf}/bNumEndpoints`), '06');

  const uri = `usb:${device.busnum}.${device.devnum}.0`;
  // iio_info 0.24 exits 1 after a scan (it made no context to print): its listing is the answer.
  const scan = spawnSync('iio_info', ['-S', 'usb'], { encoding: 'utf8' }).stdout;
  assert.match(scan, new RegExp(`0456:b673 \\(iiojs lab iio_ffs\\), serial=iio_ffs \\[${uri.replace(/\./g, '\\.')}\\]`), scan);

  // The same devices as iio_info finds locally: iiod serves the lab's local context.
  const devices = (text: string): string[] => [...text.matchAll(/^\t((?:iio:device|trigger)\d+): (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  const remote = execFileSync('iio_info', ['-u', uri], { encoding: 'utf8' });
  const local = execFileSync('iio_info', ['-u', 'local:'], { encoding: 'utf8' });
  assert.match(remote, /vadc-dma/);
  assert.deepEqual(devices(remote), devices(local));
}

test('FUNCTIONFS_DMABUF_ATTACH on dummy_udc: EPERM unbound; bound, 0 with dummy_hcd.sg=1 and EPERM with sg=0 (usb.md §A4, §A5)', async (t) => {
  const sg = await sgSupported();
  const gadget = await gadgetFor(t, 'dmabuf', 0x0001);
  const fds: number[] = [];
  try {
    await attachOnBoundGadget(gadget, sg, fds);
  } finally {
    // Before the gadget goes: open ep files keep the FunctionFS mount busy.
    for (const fd of fds.reverse()) kernel.close(fd);
  }
});

async function attachOnBoundGadget(gadget: FfsGadget, sg: boolean, fds: number[]): Promise<void> {
  const ep0 = await kernel.open(`${gadget.mountpoint}/ep0`, O_RDWR);
  fds.push(ep0);
  const descriptors = iiodDescriptors(1);
  assert.equal(await kernel.write(ep0, descriptors), descriptors.length);
  assert.equal(await kernel.write(ep0, IIOD_STRINGS), IIOD_STRINGS.length);
  const epIn = await kernel.open(`${gadget.mountpoint}/ep1`, O_RDWR);
  fds.push(epIn);
  const dmabuf = await dmabufFromHeap(kernel, '/dev/dma_heap/system', 65536);
  fds.push(dmabuf);
  const arg = new Int32Array([dmabuf]);

  // No gadget yet: ffs->gadget is NULL until the UDC binds (§A4 ATTACH step 1).
  assert.throws(() => kernel.ioctl(epIn, FUNCTIONFS_DMABUF_ATTACH, arg), { code: 'EPERM', syscall: 'ioctl(FUNCTIONFS_DMABUF_ATTACH)' });

  await gadget.bind();
  const device = await gadget.hostDevice(20_000);
  // No driver claims the interface, yet usbcore's generic device driver chose configuration 1.
  assert.equal(await attr(kernel, `${device.sysfs}/bConfigurationValue`), '1');
  await assert.rejects(kernel.stat(`${interfaceDir(device.sysfs)}/driver`), { code: 'ENOENT' });

  if (sg) {
    assert.equal(kernel.ioctl(epIn, FUNCTIONFS_DMABUF_ATTACH, arg), 0);
  } else {
    assert.throws(() => kernel.ioctl(epIn, FUNCTIONFS_DMABUF_ATTACH, arg), { code: 'EPERM', syscall: 'ioctl(FUNCTIONFS_DMABUF_ATTACH)' });
  }
}

test('a DMABUF TRANSFER to the IN endpoint: the host side reads its bytes through usbfs, then the fence signals (usb.md §A4, §A2)', async (t) => {
  if (!(await sgSupported())) {
    t.skip('dummy_hcd.sg=0: ATTACH is EPERM, there is no transfer to make');
    return;
  }
  const gadget = await gadgetFor(t, 'transfer', 0x0002);
  const fds: number[] = [];
  try {
    await transferToHost(gadget, fds);
  } finally {
    for (const fd of fds.reverse()) kernel.close(fd);
  }
});

async function transferToHost(gadget: FfsGadget, fds: number[]): Promise<void> {
  const ep0 = await kernel.open(`${gadget.mountpoint}/ep0`, O_RDWR);
  fds.push(ep0);
  await kernel.write(ep0, iiodDescriptors(1));
  await kernel.write(ep0, IIOD_STRINGS);
  const epIn = await kernel.open(`${gadget.mountpoint}/ep1`, O_RDWR);
  fds.push(epIn);
  await gadget.bind();
  const device = await gadget.hostDevice(20_000);

  // Neither a whole number of pages nor of 512-byte packets: the last SG entry and packet are partial.
  const size = 256 * 1024;
  const length = size - 4096 - 3;
  const dmabuf = await dmabufFromHeap(kernel, '/dev/dma_heap/system', size);
  fds.push(dmabuf);
  const random = prng(15);
  const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
  const map = kernel.mmap(dmabuf, size, PROT_READ | PROT_WRITE, MAP_SHARED);
  dmabufSync(kernel, dmabuf, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
  map.set(bytes);
  dmabufSync(kernel, dmabuf, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
  kernel.munmap(map);
  assert.equal(kernel.ioctl(epIn, FUNCTIONFS_DMABUF_ATTACH, new Int32Array([dmabuf])), 0);
  const request = usbFfsDmabufTransferReqStruct.encode({ fd: dmabuf, flags: 0, length: BigInt(length) });
  assert.equal(kernel.ioctl(epIn, FUNCTIONFS_DMABUF_TRANSFER, request), 0);

  // The host side's IN endpoint for ep1: dummy_udc picks its own address (sysfs names it).
  const intf = interfaceDir(device.sysfs);
  const inEp = (await kernel.readdir(intf)).map((e) => e.name).find((n) => /^ep_8[0-9a-f]$/.test(n));
  assert.ok(inEp, `no IN endpoint under ${intf}`);
  const host = await kernel.open(device.usbfs, O_RDWR);
  fds.push(host);
  kernel.ioctl(host, USBDEVFS_CLAIMINTERFACE, new Uint32Array([0]));
  const into = new Uint8Array(length);
  const bulk = usbdevfsBulkTransferStruct.encode({ ep: parseInt(inEp.slice(3), 16), len: length, timeout: 20_000, data: 0n });
  // Blocking is fine here: the other end is the kernel's queued request, not this process.
  assert.equal(kernel.ioctl(host, USBDEVFS_BULK, bulk, [[16, into]]), length);
  assert.ok(Buffer.from(into).equals(Buffer.from(bytes)), 'the host side got other bytes than the DMABUF held');
  assert.equal((await pollWithin(kernel, dmabuf, POLLOUT, 20_000)) & POLLOUT, POLLOUT, 'the transfer\'s fence never signalled');
}
