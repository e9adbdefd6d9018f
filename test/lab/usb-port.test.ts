// The Linux port's USB calls on the real kernel (usb.md §A2, §A4): a throwaway configfs gadget
// with one FunctionFS function (two bulk endpoints, test/support/usb-gadget.ts) bound to dummy_udc.0, and its host side in
// the same guest through usbfs. Endpoint files through readBlocking/writeBlocking (they cannot
// be polled), URBs submitted, reaped through poll and discarded through the addon's URB table.
// Real-kernel tier only (vm/run-guest.sh); the FunctionFS + usbfs conformance suite is elsewhere.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  FUNCTIONFS_BIND, FUNCTIONFS_ENABLE, O_RDWR, POLLIN, POLLOUT, USB_CLASS_VENDOR_SPEC, USB_DIR_IN, USB_ENDPOINT_XFER_BULK,
  USBDEVFS_CLAIMINTERFACE, USBDEVFS_DISCARDURB, USBDEVFS_REAPURBNDELAY, USBDEVFS_RELEASEINTERFACE, USBDEVFS_SUBMITURB,
  USBDEVFS_URB_TYPE_BULK, USB_FUNCTIONFS_EVENT_SIZE, decodeFfsEvent, encodeFfsDescriptors, encodeFfsStrings,
  usbdevfsUrbStruct, type UsbDescriptor,
} from '../../src/abi/index.js';
import { errnoOf } from '../../src/errors.js';
import { LinuxKernel } from '../../src/kernel/linux/index.js';
import { createFfsGadget, type FfsGadget } from '../support/usb-gadget.js';

const k = new LinuxKernel();
const [VENDOR, PRODUCT] = [0x1d6b, 0x0104];
const EP_IN = USB_DIR_IN | 1; // ep1 on the gadget side, in descriptor order
const EP_OUT = 2; // ep2

let gadget: FfsGadget | undefined;
let ep0 = -1;
let epIn = -1;
let epOut = -1;
let usb = -1;

function descriptors(maxPacket: number): UsbDescriptor[] {
  return [
    { type: 'interface', bInterfaceNumber: 0, bAlternateSetting: 0, bNumEndpoints: 2, bInterfaceClass: USB_CLASS_VENDOR_SPEC,
      bInterfaceSubClass: 0, bInterfaceProtocol: 0, iInterface: 1 },
    { type: 'endpoint', bEndpointAddress: EP_IN, bmAttributes: USB_ENDPOINT_XFER_BULK, wMaxPacketSize: maxPacket, bInterval: 0 },
    { type: 'endpoint', bEndpointAddress: EP_OUT, bmAttributes: USB_ENDPOINT_XFER_BULK, wMaxPacketSize: maxPacket, bInterval: 0 },
  ];
}

before(async () => {
  gadget = await createFfsGadget(k, { name: 'iiojs-port', functionName: 'port', mountpoint: '/dev/ffs-port', vendorId: VENDOR, productId: PRODUCT });
  ep0 = await k.open(`${gadget.mountpoint}/ep0`, O_RDWR);
  await k.write(ep0, encodeFfsDescriptors({ fs: descriptors(64), hs: descriptors(512) }));
  await k.write(ep0, encodeFfsStrings({ langs: [{ lang: 0x409, strings: ['iiojs port'] }] }));
  await gadget.bind();
  // BIND at once, ENABLE once the host side has set the configuration (usb.md §A1)
  const seen: number[] = [];
  const events = new Uint8Array(4 * USB_FUNCTIONFS_EVENT_SIZE);
  while (!seen.includes(FUNCTIONFS_ENABLE)) {
    const n = await k.readBlocking(ep0, events);
    for (let at = 0; at < n; at += USB_FUNCTIONFS_EVENT_SIZE) seen.push(decodeFfsEvent(events, at).type);
  }
  assert.equal(seen[0], FUNCTIONFS_BIND);
  epIn = await k.open(`${gadget.mountpoint}/ep1`, O_RDWR);
  epOut = await k.open(`${gadget.mountpoint}/ep2`, O_RDWR);
  usb = await k.open((await gadget.hostDevice(60_000)).usbfs, O_RDWR);
  k.ioctl(usb, USBDEVFS_CLAIMINTERFACE, Uint32Array.of(0));
});

after(async () => {
  // the mount stays busy while its files are open; closing ep0 last unbinds the gadget itself
  for (const fd of [usb, epIn, epOut, ep0]) if (fd >= 0) k.close(fd);
  await gadget?.close();
});

function urb(endpoint: number, length: number, usercontext: bigint): Uint8Array {
  return usbdevfsUrbStruct.encode({
    type: USBDEVFS_URB_TYPE_BULK, endpoint, status: 0, flags: 0, buffer: 0n, bufferLength: length, actualLength: 0,
    startFrame: 0, numberOfPackets: 0, errorCount: 0, signr: 0, usercontext,
  });
}

/** Waits for a reapable URB (usbfs polls POLLOUT then, usb.md §A2) and reaps it. */
async function reap(): Promise<bigint> {
  assert.equal((await k.poll(usb, POLLOUT)) & POLLOUT, POLLOUT);
  const context = new BigUint64Array(1);
  assert.equal(k.ioctl(usb, USBDEVFS_REAPURBNDELAY, context), 0);
  return context[0]!;
}

test('an OUT URB reaches a blocking read of the OUT endpoint file; the reap gives its usercontext and status (usb.md §A2, §A4)', async () => {
  const read = new Uint8Array(512);
  const gadgetRead = k.readBlocking(epOut, read);
  const out = urb(EP_OUT, 5, 0x1122334455667788n);
  assert.equal(k.ioctl(usb, USBDEVFS_SUBMITURB, out, [[16, Buffer.from('hello')]]), 0);
  assert.equal(await reap(), 0x1122334455667788n, 'the usercontext, not an address');
  const done = usbdevfsUrbStruct.decode(out);
  assert.equal(done.status, 0);
  assert.equal(done.actualLength, 5);
  assert.equal(done.buffer, 0n, 'the buffer field keeps the caller\'s value');
  assert.equal(await gadgetRead, 5);
  assert.equal(Buffer.from(read.subarray(0, 5)).toString(), 'hello');
});

test('an IN URB receives what a blocking write of the IN endpoint file sends', async () => {
  const data = new Uint8Array(512);
  const into = urb(EP_IN, data.length, 7n);
  assert.equal(k.ioctl(usb, USBDEVFS_SUBMITURB, into, [[16, data]]), 0);
  assert.equal(await k.writeBlocking(epIn, Buffer.from('world!')), 6);
  assert.equal(await reap(), 7n);
  assert.equal(usbdevfsUrbStruct.decode(into).actualLength, 6);
  assert.equal(Buffer.from(data.subarray(0, 6)).toString(), 'world!');
});

test('a discarded URB is reaped with its error; nothing left to reap is EAGAIN', async () => {
  const pending = urb(EP_IN, 64, 9n);
  assert.equal(k.ioctl(usb, USBDEVFS_SUBMITURB, pending, [[16, new Uint8Array(64)]]), 0);
  assert.equal(k.ioctl(usb, USBDEVFS_DISCARDURB, pending), 0);
  assert.equal(await reap(), 9n);
  // devio.c kills the URB (usb_kill_urb): -ENOENT, as 6.12.118 answered
  assert.equal(usbdevfsUrbStruct.decode(pending).status, -errnoOf('ENOENT'));
  assert.throws(() => k.ioctl(usb, USBDEVFS_REAPURBNDELAY, new BigUint64Array(1)), { code: 'EAGAIN', syscall: 'ioctl(USBDEVFS_REAPURBNDELAY)' });
  assert.throws(() => k.ioctl(usb, USBDEVFS_DISCARDURB, pending), { code: 'EINVAL' }, 'a reaped URB is no longer known');
});

test('16 URBs in flight are reaped with their own usercontexts; a 1 MiB IN URB arrives intact', async () => {
  const chunks = Array.from({ length: 16 }, (_, i) => new Uint8Array(4096).fill(i + 1));
  const urbs = chunks.map((_, i) => urb(EP_OUT, 4096, 0xc0de0000n + BigInt(i)));
  const received = new Uint8Array(16 * 4096);
  const gadgetReads = (async () => {
    let at = 0;
    while (at < received.length) at += await k.readBlocking(epOut, received.subarray(at));
  })();
  urbs.forEach((u, i) => assert.equal(k.ioctl(usb, USBDEVFS_SUBMITURB, u, [[16, chunks[i]!]]), 0));
  const contexts = new Set<bigint>();
  for (let i = 0; i < 16; i++) contexts.add(await reap());
  assert.deepEqual([...contexts].sort(), urbs.map((_, i) => 0xc0de0000n + BigInt(i)));
  await gadgetReads;
  assert.ok(Buffer.from(received).equals(Buffer.concat(chunks)), 'the 16 chunks arrived in order');
  for (const u of urbs) assert.equal(usbdevfsUrbStruct.decode(u).actualLength, 4096);

  const big = new Uint8Array(1 << 20);
  const sent = new Uint8Array(1 << 20).map((_, i) => (i * 31 + (i >> 12)) & 0xff);
  const into = urb(EP_IN, big.length, 0xb16n);
  assert.equal(k.ioctl(usb, USBDEVFS_SUBMITURB, into, [[16, big]]), 0);
  let written = 0;
  while (written < sent.length) written += await k.writeBlocking(epIn, sent.subarray(written));
  assert.equal(await reap(), 0xb16n);
  assert.equal(usbdevfsUrbStruct.decode(into).actualLength, sent.length);
  assert.ok(Buffer.from(big).equals(Buffer.from(sent)), 'every byte of the 1 MiB arrived');
});

test('endpoint files have no .poll: poll(2) calls them ready at once; an abort or close interrupts their blocking reads (usb.md §A4)', async () => {
  // DEFAULT_POLLMASK, with no request queued and no host data: readiness says nothing here
  assert.equal(await k.poll(epOut, POLLIN | POLLOUT), POLLIN | POLLOUT);
  const controller = new AbortController();
  const aborted = k.readBlocking(epOut, new Uint8Array(512), { signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(aborted, { name: 'AbortError' });
  // the endpoint still works: the request was dequeued, not lost with data
  const read = new Uint8Array(512);
  const next = k.readBlocking(epOut, read);
  const out = urb(EP_OUT, 3, 1n);
  k.ioctl(usb, USBDEVFS_SUBMITURB, out, [[16, Buffer.from('abc')]]);
  assert.equal(await reap(), 1n);
  assert.equal(await next, 3);
  const reopened = await k.open(`${gadget!.mountpoint}/ep2`, O_RDWR);
  const closing = k.readBlocking(reopened, new Uint8Array(512));
  setImmediate(() => k.close(reopened));
  await assert.rejects(closing, { code: 'ECANCELED', syscall: 'read' });
});

test('URBs left pending when the usbfs fd closes are the kernel\'s to free; the interface is claimed again', async () => {
  const other = await k.open((await gadget!.hostDevice()).usbfs, O_RDWR);
  k.ioctl(usb, USBDEVFS_RELEASEINTERFACE, Uint32Array.of(0));
  k.ioctl(other, USBDEVFS_CLAIMINTERFACE, Uint32Array.of(0));
  for (let i = 0; i < 8; i++) k.ioctl(other, USBDEVFS_SUBMITURB, urb(EP_IN, 64, BigInt(i)), [[16, new Uint8Array(64)]]);
  k.close(other);
  k.ioctl(usb, USBDEVFS_CLAIMINTERFACE, Uint32Array.of(0));
  assert.throws(() => k.ioctl(usb, USBDEVFS_REAPURBNDELAY, new BigUint64Array(1)), { code: 'EAGAIN' }, 'none of them surfaces on another fd');
});
