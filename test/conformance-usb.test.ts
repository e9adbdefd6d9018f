// FunctionFS + usbfs conformance (usb.md §A1, §A2, §A4; kernel-abi.md §2.9, §5): a gadget whose
// descriptors we write to ep0, bound to the dummy UDC, and its host side through usbfs URBs, all
// through the Kernel port only, so the same cases run on the simulated kernel (`npm test`) and on
// Linux 6.12 in the lab (IIOJS_KERNEL=linux). The gadget side answers ep0 with read/write/poll
// and moves endpoint data with readBlocking/writeBlocking; the host side submits and reaps URBs
// (test/support/usb-host.ts), never a blocking USBDEVFS_CONTROL/BULK, since both run here.
//
// Ground truth: every case states what it expects as facts (`label=value`); with IIOJS_RECORD=
// <file> each case appends one line `SCENARIO <name>: <call> -> <facts Linux answered> (expected
// per <section>: <facts expected>) MATCH|MISMATCH` there. test/fixtures/linux-6.12-usb.txt holds
// what the lab's Linux answered in both of its boots (dummy_hcd.sg=0 and sg=1); on the sim every
// fact of a recorded case must equal the recording as well as the literal expectation.
//
// DMABUF cases depend on the UDC's scatter-gather support (usb.md §A5: ATTACH is EPERM without
// it). On Linux the lab's patched dummy_hcd says which mode this boot is in
// (/sys/module/dummy_hcd/parameters/sg); on the sim each DMABUF case runs in both modes, named
// `<case>_sg0` / `<case>_sg1`.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_WRITE,
  FUNCTIONFS_DMABUF_ATTACH,
  FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER,
  FUNCTIONFS_HAS_FS_DESC,
  MAP_SHARED,
  MFD_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  PROT_READ,
  PROT_WRITE,
  USB_CLASS_COMM,
  USB_DIR_IN,
  USB_FUNCTIONFS_EVENT_SIZE,
  USB_RECIP_INTERFACE,
  USB_TYPE_VENDOR,
  USBDEVFS_REAPURBNDELAY,
  decodeFfsDescriptors,
  decodeFfsEvent,
  encodeFfsDescriptors,
  ffsEventName,
  usbFfsDmabufTransferReqStruct,
  type UsbCtrlRequest,
} from '../src/abi/index.js';
import { isSystemError, systemError } from '../src/errors.js';
import type { KernelPort } from '../src/kernel/port.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { pollWithin, syncFileInfo } from './support/dmabuf.js';
import { attach as iioAttach, counterCheck, dmabufSync, enqueue as iioEnqueue, mappedBytes, exportSyncFile, getBufferFd, heapBuffer, setNonblock } from './support/iio-calls.js';
import { KERNEL, bootUnderTest, type Lab } from './support/kernel-under-test.js';
import { labScenario, VADC } from './support/probe-scenario.js';
import { prng } from './support/prng.js';
import { IIOD_STRINGS, createFfsGadget, iiodDescriptors, usbDeviceGone, type FfsGadget } from './support/usb-gadget.js';
import { UsbHost, URB_WAIT_MS, type UrbResult } from './support/usb-host.js';

// ---- ground truth: facts, the recording switch, the fixture ------------------------------------

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/linux-6.12-usb.txt', import.meta.url));
const RECORD = process.env['IIOJS_RECORD'];

/** Facts Linux answered, by scenario name, read from the fixture's SCENARIO lines. */
function recordedFacts(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  if (!existsSync(FIXTURE)) return out;
  for (const line of readFileSync(FIXTURE, 'utf8').split('\n')) {
    const m = /^SCENARIO ([a-z0-9_]+): .*? -> (.*?) \(expected per .*\) (MATCH|MISMATCH)$/.exec(line);
    if (m === null) continue;
    const facts = new Map(m[2]!.split('; ').map((f) => f.split('=', 2) as [string, string]));
    const before = out.get(m[1]!);
    // recorded in both boots: the answers must be the same to be ground truth for the sim
    if (before !== undefined) assert.deepEqual(facts, before, `${m[1]} recorded twice with different answers`);
    out.set(m[1]!, facts);
  }
  return out;
}
const RECORDED = KERNEL === 'sim' ? recordedFacts() : new Map<string, Map<string, string>>();

/** How a fact's value is written: errno codes and numbers as they are, lists joined by commas. */
function show(value: unknown): string {
  if (Array.isArray(value)) return value.map(show).join(',');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return String(value);
}

interface Facts {
  /** Asserts `actual` is `expected` (and, on the sim, what Linux answered), recording both. */
  is(label: string, actual: unknown, expected: unknown): void;
}

/**
 * A conformance case: `section` is what it checks (usb.md / kernel-abi.md), `call` what it does,
 * in the fixture's words.
 */
const CASES = new Set<string>();

function usbCase(name: string, section: string, call: string, body: (f: Facts, t: TestContext) => Promise<void>, skip?: string): void {
  CASES.add(name);
  test(name, { skip: skip ?? false }, async (t) => {
    const answered: string[] = [];
    const expected: string[] = [];
    let match = true;
    const recorded = RECORDED.get(name);
    const facts: Facts = {
      is(label, actual, want) {
        const a = show(actual);
        const w = show(want);
        answered.push(`${label}=${a}`);
        expected.push(`${label}=${w}`);
        if (a !== w) match = false;
        assert.equal(a, w, `${name}: ${label}`);
        const linux = recorded?.get(label);
        if (linux !== undefined) assert.equal(a, linux, `${name}: ${label} (Linux answered ${linux})`);
      },
    };
    badCodes.length = 0;
    try {
      await body(facts, t);
      assert.deepEqual(badCodes, [], 'the port\'s errors name their errno (Node-style code)');
      // a case may not end before stating all that Linux answered for it
      if (recorded !== undefined) assert.deepEqual(answered.map((a) => a.split('=', 1)[0]), [...recorded.keys()], `${name}: the facts Linux answered`);
    } finally {
      if (RECORD !== undefined && answered.length > 0) {
        appendFileSync(RECORD, `SCENARIO ${name}: ${call} -> ${answered.join('; ')} (expected per ${section}: ${expected.join('; ')}) ${match ? 'MATCH' : 'MISMATCH'}\n`);
      }
    }
  });
}

/** System errors whose code does not name their errno, seen by the running case. */
const badCodes: string[] = [];

/**
 * The name of the errno a system error carries: what the kernel answered, recorded even when the
 * port's `code` is wrong (that is noted in badCodes and fails the case after it is recorded).
 */
function errnoName(e: unknown): string {
  if (!isSystemError(e)) throw e;
  const name = systemError(e.errno, e.syscall).code;
  if (e.code !== name) badCodes.push(`${e.syscall}: code ${JSON.stringify(e.code)} for errno ${e.errno} (${name})`);
  return name;
}

/** The value a call returned, or the errno name of the system error it threw. */
function outcome(call: () => unknown): unknown {
  try {
    return call();
  } catch (e) {
    return errnoName(e);
  }
}

async function outcomeOf(call: Promise<unknown>): Promise<unknown> {
  try {
    return await call;
  } catch (e) {
    return errnoName(e);
  }
}

// ---- the kernels and the gadget ----------------------------------------------------------------

const SG_PARAM = '/sys/module/dummy_hcd/parameters/sg';

/** Whether this Linux boot's dummy_hcd does scatter-gather (an unpatched one never does, usb.md §A5). */
async function linuxSg(k: KernelPort): Promise<boolean> {
  try {
    return /^(Y|1)/.test(await k.readText(SG_PARAM));
  } catch (e) {
    if (isSystemError(e, 'ENOENT')) return false;
    throw e;
  }
}
const LINUX_SG = KERNEL === 'linux' ? await linuxSg(new LinuxKernel()) : undefined;

/** A kernel with a dummy UDC whose scatter-gather is `sg` (the sim's), or the real one. */
function usbKernel(sg = true): KernelPort {
  return KERNEL === 'linux' ? new LinuxKernel() : new SimKernel({ usb: { sg } });
}

/** Pipe 0's endpoint files: ep1 is its IN endpoint, ep2 its OUT one (usb.md §A1). */
const EP_IN = 1;
const EP_OUT = 2;
/**
 * Their addresses on the wire: the UDC's endpoints that usb_ep_autoconfig chose (dummy_udc's
 * ep1in-bulk and ep2out-bulk), not the descriptors' 0x81/0x01; the host learns them from the
 * configuration descriptor (usbfs_enumerated, as libiio's usb_verify_eps does).
 */
const HOST_IN = 0x81;
const HOST_OUT = 0x02;
/** dummy_hcd runs at high speed: bulk wMaxPacketSize 512 (usb.md §A5). */
const MPS = 512;

const EVENT_WAIT_MS = 20_000;

/** The gadget's ids: Linux Foundation's "Multifunction Composite Gadget", as the lab's examples use. */
const IDS = { vendorId: 0x1d6b, productId: 0x0104 } as const;

/** `FUNCTIONFS_ENABLE` → `ENABLE`. */
function eventName(type: number): string {
  return ffsEventName(type).replace(/^FUNCTIONFS_/, '');
}

/**
 * A gadget under test: a configfs gadget with one ffs function mounted (test/support/usb-gadget.ts),
 * its ep0 open, and what the case opened after. Everything is closed, unbound, unmounted and
 * removed after the test, whatever happened in it.
 */
class Rig {
  readonly k: KernelPort;
  readonly gadget: FfsGadget;
  #ep0: number;
  readonly #fds: number[] = [];
  /** DMABUF and sync_file fds: closed first (see teardown). */
  readonly #kept: number[] = [];
  #host: UsbHost | undefined;

  private constructor(k: KernelPort, gadget: FfsGadget, ep0: number) {
    this.k = k;
    this.gadget = gadget;
    this.#ep0 = ep0;
  }

  get ep0(): number {
    return this.#ep0;
  }

  /** Closes ep0 (the only open file: FunctionFS resets to FFS_READ_DESCRIPTORS) and opens it again. */
  async reopenEp0(): Promise<void> {
    this.k.close(this.#ep0);
    this.#ep0 = await this.k.open(`${this.gadget.mountpoint}/ep0`, O_RDWR);
  }

  /** A gadget with its FunctionFS mounted and ep0 open; nothing written to ep0 yet. */
  static async make(t: TestContext, k: KernelPort): Promise<Rig> {
    const gadget = await createFfsGadget(k, { name: 'iiojsconf', ...IDS });
    let rig: Rig | undefined;
    t.after(async () => {
      try {
        await rig?.teardown();
      } finally {
        await gadget.close();
        // the next case must not find this one's device, whose disconnect the hub handles later
        await usbDeviceGone(k, IDS);
      }
    });
    const ep0 = await k.open(`${gadget.mountpoint}/ep0`, O_RDWR);
    rig = new Rig(k, gadget, ep0);
    return rig;
  }

  /** The same with iiod's blobs written (ep1..ep{2·pipes} exist, state ACTIVE). */
  static async active(t: TestContext, k: KernelPort, pipes = 1): Promise<Rig> {
    const rig = await Rig.make(t, k);
    await k.write(rig.ep0, iiodDescriptors(pipes));
    await k.write(rig.ep0, IIOD_STRINGS);
    return rig;
  }

  /** Bound to the UDC and configured by the host (FUNCTIONFS_ENABLE read). */
  static async connected(t: TestContext, k: KernelPort, pipes = 1): Promise<Rig> {
    const rig = await Rig.active(t, k, pipes);
    await rig.gadget.bind();
    await rig.waitEvent('ENABLE');
    return rig;
  }

  /** The host side: the enumerated device's usbfs node, opened, with interface 0 claimed. */
  async openHost(): Promise<UsbHost> {
    const device = await this.gadget.hostDevice(EVENT_WAIT_MS);
    this.#host = await UsbHost.open(this.k, device.usbfs);
    this.#host.claim(0);
    return this.#host;
  }

  async openEp(n: number, flags = O_RDWR): Promise<number> {
    const fd = await this.k.open(`${this.gadget.mountpoint}/ep${n}`, flags);
    this.#fds.push(fd);
    return fd;
  }

  /** Remembers a DMABUF or sync_file fd, to close before anything else at teardown; returns it. */
  keep(fd: number): number {
    this.#kept.push(fd);
    return fd;
  }

  /** Closes an fd the rig opened, now. */
  close(fd: number): void {
    this.#fds.splice(this.#fds.indexOf(fd), 1);
    this.k.close(fd);
  }

  /** The events queued on ep0 now (one read of up to 4, the queue's size), after poll says POLLIN. */
  async events(ms = EVENT_WAIT_MS): Promise<string[]> {
    const revents = await pollWithin(this.k, this.ep0, POLLIN, ms);
    if ((revents & POLLIN) === 0) return [];
    const bytes = new Uint8Array(4 * USB_FUNCTIONFS_EVENT_SIZE);
    const n = await this.k.read(this.ep0, bytes);
    const out: string[] = [];
    for (let off = 0; off < n; off += USB_FUNCTIONFS_EVENT_SIZE) out.push(eventName(decodeFfsEvent(bytes, off).type));
    return out;
  }

  /** Reads events until `name` arrives; returns all read, in order. */
  async waitEvent(name: string): Promise<string[]> {
    const seen: string[] = [];
    const deadline = performance.now() + EVENT_WAIT_MS;
    while (!seen.includes(name)) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${name} event on ${this.gadget.mountpoint}/ep0 within ${EVENT_WAIT_MS} ms (saw ${seen.join(', ') || 'none'})`);
      seen.push(...await this.events(left));
    }
    return seen;
  }

  /** The next SETUP event's request (and nothing else queued before it). */
  async setup(): Promise<UsbCtrlRequest> {
    const revents = await pollWithin(this.k, this.ep0, POLLIN, EVENT_WAIT_MS);
    assert.ok(revents & POLLIN, 'no SETUP event');
    const bytes = new Uint8Array(USB_FUNCTIONFS_EVENT_SIZE);
    assert.equal(await this.k.read(this.ep0, bytes), USB_FUNCTIONFS_EVENT_SIZE);
    const event = decodeFfsEvent(bytes, 0);
    assert.equal(eventName(event.type), 'SETUP');
    return event.setup;
  }

  /**
   * Unbinds before closing: when the last FunctionFS file closes, the kernel unbinds the gadget
   * itself (ffs_data_closed → ffs_closed → unregister_gadget_item), and unbinding it then is ENODEV.
   */
  async teardown(): Promise<void> {
    try {
      // A sync_file of a FunctionFS fence must go before the fence's attachment, which closing
      // the ep file frees: its release takes the fence's lock, which lives in the attachment
      // (Linux 6.12.118 f_fs.c; see ffs_dmabuf_detach_cancels).
      for (const fd of this.#kept.splice(0).reverse()) this.k.close(fd);
      await this.#host?.close();
      await this.gadget.unbind();
    } finally {
      for (const fd of this.#fds.splice(0).reverse()) this.k.close(fd);
      this.k.close(this.#ep0);
    }
  }
}

/** A vendor request to interface 0, host to device (iiod's, usb.md §A1). */
function vendorOut(bRequest: number, wValue = 0, wLength = 0, wIndex = 0): UsbCtrlRequest {
  return { bRequestType: USB_TYPE_VENDOR | USB_RECIP_INTERFACE, bRequest, wValue, wIndex, wLength };
}

function vendorIn(bRequest: number, wLength: number): UsbCtrlRequest {
  return { bRequestType: USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_INTERFACE, bRequest, wValue: 0, wIndex: 0, wLength };
}

function setupFacts(r: UsbCtrlRequest): string {
  return [r.bRequestType, r.bRequest, r.wValue, r.wIndex, r.wLength].map((v) => v.toString(16)).join(':');
}

function pattern(n: number, seed = n): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** A copy of `buf` with the little-endian u32 at `offset` replaced. */
function withU32(buf: Uint8Array, offset: number, value: number): Uint8Array {
  const out = buf.slice();
  new DataView(out.buffer).setUint32(offset, value >>> 0, true);
  return out;
}

/** A bound on gadget-side endpoint I/O: the port interrupts the call (EINTR → AbortError) after it. */
function bounded(): { signal: AbortSignal } {
  return { signal: AbortSignal.timeout(URB_WAIT_MS) };
}

function hostFacts(r: UrbResult): string {
  return `${r.status}/${r.actual}`;
}

// ==== ep0 before and while the blobs are written (usb.md §A1; f_fs.c ffs_ep0_write/read/poll) ====

usbCase('ffs_ep0_before_descriptors', 'usb.md §A1 (FFS_READ_DESCRIPTORS)', 'poll(ep0, POLLIN|POLLOUT); read(ep0, 12) before any blob',
  async (f, t) => {
    const rig = await Rig.make(t, usbKernel());
    f.is('poll', await pollWithin(rig.k, rig.ep0, POLLIN | POLLOUT, 5000), POLLOUT);
    f.is('read', await outcomeOf(rig.k.read(rig.ep0, new Uint8Array(12))), 'EBADFD');
  });

usbCase('ffs_descriptors_iiod_1pipe', 'usb.md §A1', 'write(ep0, iiod N=1 blob); write(ep0, strings); readdir(mount)',
  async (f, t) => {
    const rig = await Rig.make(t, usbKernel());
    const blob = iiodDescriptors(1);
    f.is('descriptors', await rig.k.write(rig.ep0, blob), 105);
    f.is('poll', await pollWithin(rig.k, rig.ep0, POLLIN | POLLOUT, 5000), POLLOUT);
    f.is('strings', await rig.k.write(rig.ep0, IIOD_STRINGS), 22);
    f.is('files', (await rig.k.readdir(rig.gadget.mountpoint)).map((e) => e.name).sort(), ['ep0', 'ep1', 'ep2']);
  });

usbCase('ffs_descriptors_iiod_3pipes', 'usb.md §A1', 'write(ep0, iiod N=3 blob); write(ep0, strings); readdir(mount)',
  async (f, t) => {
    const rig = await Rig.make(t, usbKernel());
    f.is('descriptors', await rig.k.write(rig.ep0, iiodDescriptors(3)), 213);
    f.is('strings', await rig.k.write(rig.ep0, IIOD_STRINGS), 22);
    f.is('files', (await rig.k.readdir(rig.gadget.mountpoint)).map((e) => e.name).sort(), ['ep0', 'ep1', 'ep2', 'ep3', 'ep4', 'ep5', 'ep6']);
  });

/**
 * A refused descriptors blob, then iiod's. The state stays FFS_READ_DESCRIPTORS, but a blob whose
 * first speed block parsed leaves its endpoint and interface counts behind (__ffs_data_got_descs
 * sets them before it parses the next block and keeps them on error): a later blob must agree
 * with them (`then`) until ep0 closes (ffs_data_reset), after which iiod's is taken (`reopened`).
 */
function refusedDescriptors(name: string, what: string, errno: string, bad: () => Uint8Array, then: number | string = 105): void {
  const reopen = then === 105 ? '' : '; close and reopen ep0; write(ep0, iiod N=1 blob)';
  usbCase(name, 'usb.md §A1 (f_fs __ffs_data_got_descs)', `write(ep0, ${what}); write(ep0, iiod N=1 blob)${reopen}`, async (f, t) => {
    const rig = await Rig.make(t, usbKernel());
    f.is('refused', await outcomeOf(rig.k.write(rig.ep0, bad())), errno);
    f.is('then', await outcomeOf(rig.k.write(rig.ep0, iiodDescriptors(1))), then);
    if (then === 105) return;
    await rig.reopenEp0();
    f.is('reopened', await rig.k.write(rig.ep0, iiodDescriptors(1)), 105);
  });
}

refusedDescriptors('ffs_descriptors_short', 'the 12-byte v2 header alone (< 16 bytes)', 'EINVAL', () => iiodDescriptors(1).slice(0, 12));
refusedDescriptors('ffs_descriptors_bad_magic', 'iiod blob with magic 4', 'EINVAL', () => withU32(iiodDescriptors(1), 0, 4));
refusedDescriptors('ffs_descriptors_length_field', 'iiod blob whose length field says 104', 'EINVAL', () => withU32(iiodDescriptors(1), 4, 104));
refusedDescriptors('ffs_descriptors_unknown_flag', 'iiod blob with flag 0x100', 'ENOSYS', () => withU32(iiodDescriptors(1), 8, 0x107));
refusedDescriptors('ffs_descriptors_count_over', 'iiod blob with fs_count 4 (3 present)', 'EINVAL', () => withU32(iiodDescriptors(1), 12, 4));
// FS parses as one interface and one endpoint: iiod's two endpoints disagree until ep0 closes
refusedDescriptors('ffs_descriptors_count_under', 'iiod blob with fs_count 2 (3 present)', 'EINVAL', () => withU32(iiodDescriptors(1), 12, 2), 'EINVAL');
refusedDescriptors('ffs_descriptors_interface_blength', 'iiod blob whose first interface descriptor has bLength 8', 'EINVAL', () => {
  const blob = iiodDescriptors(1);
  blob[24] = 8;
  return blob;
});
refusedDescriptors('ffs_descriptors_speeds_disagree', 'iiod blob whose HS block lacks its OUT endpoint', 'EINVAL', () => {
  const blob = decodeFfsDescriptors(iiodDescriptors(1));
  return encodeFfsDescriptors({ ...blob, hs: blob.hs!.slice(0, 2) });
});
refusedDescriptors('ffs_descriptors_trailing_byte', 'iiod blob plus one byte (length field 106)', 'EINVAL', () => {
  const blob = new Uint8Array(106);
  blob.set(iiodDescriptors(1));
  return withU32(blob, 4, 106);
});
refusedDescriptors('ffs_descriptors_empty', 'a v2 header with HAS_FS_DESC and fs_count 0', 'EINVAL', () => {
  const blob = new Uint8Array(16);
  const v = new DataView(blob.buffer);
  v.setUint32(0, 3, true);
  v.setUint32(4, 16, true);
  v.setUint32(8, FUNCTIONFS_HAS_FS_DESC, true);
  return blob;
});

/** iiod's descriptors, then a refused strings blob, then iiod's: the state stays READ_STRINGS. */
function refusedStrings(name: string, what: string, bad: () => Uint8Array): void {
  usbCase(name, 'usb.md §A1 (f_fs __ffs_data_got_strings)', `write(ep0, iiod N=1 blob); write(ep0, ${what}); then write(ep0, iiod strings)`, async (f, t) => {
    const rig = await Rig.make(t, usbKernel());
    await rig.k.write(rig.ep0, iiodDescriptors(1));
    f.is('refused', await outcomeOf(rig.k.write(rig.ep0, bad())), 'EINVAL');
    f.is('then', await rig.k.write(rig.ep0, IIOD_STRINGS), 22);
  });
}

refusedStrings('ffs_strings_bad_magic', 'iiod strings with magic 1', () => withU32(IIOD_STRINGS, 0, 1));
refusedStrings('ffs_strings_none', 'no strings (str_count 0, lang_count 0) where iInterface is 1', () => {
  const blob = new Uint8Array(16);
  const v = new DataView(blob.buffer);
  v.setUint32(0, 2, true);
  v.setUint32(4, 16, true);
  return blob;
});
refusedStrings('ffs_strings_counts_disagree', 'iiod strings with lang_count 0', () => withU32(IIOD_STRINGS, 12, 0));
refusedStrings('ffs_strings_unterminated', 'iiod strings without the final NUL (21 bytes)', () => withU32(IIOD_STRINGS.slice(0, 21), 4, 21));

usbCase('ffs_ep0_active_no_setup', 'usb.md §A1 (FFS_ACTIVE, FFS_NO_SETUP)', 'after the blobs: write(ep0, 16); read(ep0, 8); O_NONBLOCK read(ep0, 12)',
  async (f, t) => {
    const rig = await Rig.active(t, usbKernel());
    f.is('write', await outcomeOf(rig.k.write(rig.ep0, new Uint8Array(16))), 'ESRCH');
    f.is('read_short', await outcomeOf(rig.k.read(rig.ep0, new Uint8Array(8))), 'EINVAL');
    setNonblock(rig.k, rig.ep0, true);
    f.is('read_nonblock', await outcomeOf(rig.k.read(rig.ep0, new Uint8Array(12))), 'EAGAIN');
  });

// ==== events (usb.md §A1 ep0 event loop; f_fs.c __ffs_event_add) ==============================

usbCase('ffs_events_bind_enable_unbind', 'usb.md §A1 (events BIND=0 UNBIND=1 ENABLE=2 DISABLE=3)',
  'write(UDC); events; host configures; events; write(UDC, ""); events',
  async (f, t) => {
    const rig = await Rig.active(t, usbKernel());
    await rig.gadget.bind();
    // the hub debounces a connect for 100 ms and more before it enumerates, so BIND is read alone
    f.is('bind', await rig.events(), ['BIND']);
    f.is('configured', await rig.waitEvent('ENABLE'), ['ENABLE']);
    await rig.gadget.unbind();
    // the pull-up going off suspends the link (dummy_hcd), the disconnect adds DISABLE, then
    // UNBIND purges every queued event but SUSPEND and RESUME
    f.is('unbind', await rig.events(), ['SUSPEND', 'UNBIND']);
    await rig.gadget.bind();
    f.is('rebind', await rig.waitEvent('ENABLE'), ['BIND', 'ENABLE']);
  });

// ==== the host's view (usb.md §A2: libiio's usb_verify_eps) ====================================

usbCase('usbfs_enumerated', 'usb.md §A1 (iiod\'s interface), §A2 (usbfs read: device and config descriptors)',
  'connected (N=1); read(usbfs) descriptors; interface and endpoints of configuration 1',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await UsbHost.open(rig.k, (await rig.gadget.hostDevice(EVENT_WAIT_MS)).usbfs);
    t.after(() => host.close());
    const list = await host.descriptors();
    f.is('types', list.map((d) => d.type), ['device', 'config', 'interface', 'endpoint', 'endpoint']);
    const intf = list.find((d) => d.type === 'interface');
    f.is('interface', intf?.type === 'interface' ? [intf.bInterfaceClass, intf.bNumEndpoints] : [], [USB_CLASS_COMM, 2]);
    const eps = list.flatMap((d) => (d.type === 'endpoint' ? [`${d.bEndpointAddress.toString(16)}/${d.bmAttributes}/${d.wMaxPacketSize}`] : []));
    f.is('endpoints', eps, [`${HOST_IN.toString(16)}/2/${MPS}`, `${HOST_OUT.toString(16)}/2/${MPS}`]);
  });

// ==== SETUP: vendor requests, data stages, the status ACK (usb.md §A1 steps 3-4) =============

usbCase('ffs_setup_vendor_no_data', 'usb.md §A1 (vendor request 0x41, wLength 0, ACK by a read of len > 0)',
  'host control URB 41/01 wValue 0; gadget reads SETUP; host URB before ACK; read(ep0, 1); reap',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const urb = host.control(vendorOut(1));
    f.is('event', setupFacts(await rig.setup()), '41:1:0:0:0');
    // USB_GADGET_DELAYED_STATUS: the status stage waits for userspace
    host.reapReady();
    f.is('before_ack', host.inFlight(urb), true);
    f.is('ack', await rig.k.read(rig.ep0, new Uint8Array(1)), 0);
    f.is('host', hostFacts(await host.reap(urb)), '0/0');
  });

usbCase('ffs_setup_vendor_out_data', 'usb.md §A1 (OUT data stage read from ep0)',
  'host control URB 41/02 wValue 0x1234 wLength 4 data deadbeef; gadget reads SETUP; read(ep0, 64); reap',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const urb = host.control(vendorOut(2, 0x1234, 4), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    f.is('event', setupFacts(await rig.setup()), '41:2:1234:0:4');
    const data = new Uint8Array(64);
    const n = await rig.k.read(rig.ep0, data);
    f.is('data', data.subarray(0, n), Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    f.is('host', hostFacts(await host.reap(urb)), '0/4');
  });

usbCase('ffs_setup_vendor_in_data', 'usb.md §A1 (IN data stage written to ep0)',
  'host control URB c1/03 wLength 16; gadget reads SETUP; write(ep0, 16 bytes); reap; then wLength 64 answered with 5 bytes',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const reply = pattern(16);
    let urb = host.control(vendorIn(3, 16));
    f.is('event', setupFacts(await rig.setup()), 'c1:3:0:0:10');
    f.is('write', await rig.k.write(rig.ep0, reply), 16);
    let r = await host.reap(urb);
    f.is('host', hostFacts(r), '0/16');
    f.is('received', show(r.data) === show(reply), true);
    urb = host.control(vendorIn(3, 64));
    await rig.setup();
    f.is('write_short', await rig.k.write(rig.ep0, reply.subarray(0, 5)), 5);
    r = await host.reap(urb);
    f.is('host_short', hostFacts(r), '0/5');
  });

usbCase('ffs_setup_not_our_interface', 'usb.md §A1 (f_fs revmap: -EDOM, the request stalls)',
  'host control URB 41/01 wIndex 7; reap; O_NONBLOCK read(ep0, 12)',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const urb = host.control(vendorOut(1, 0, 0, 7));
    f.is('host', hostFacts(await host.reap(urb)), '-32/0');
    setNonblock(rig.k, rig.ep0, true);
    f.is('event', await outcomeOf(rig.k.read(rig.ep0, new Uint8Array(12))), 'EAGAIN');
  });

usbCase('ffs_setup_stall', 'usb.md §A1 (a request answered in the wrong direction stalls ep0)',
  'host control URB 41/01 wLength 0; gadget reads SETUP; write(ep0, 1 byte); reap',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const urb = host.control(vendorOut(1));
    await rig.setup();
    // __ffs_ep0_stall answers EL2HLT
    f.is('write', await outcomeOf(rig.k.write(rig.ep0, new Uint8Array(1))), 'EL2HLT');
    f.is('host', hostFacts(await host.reap(urb)), '-32/0');
  });

// ==== endpoint I/O: short packets, exact lengths, ZLPs (usb.md §A1 "one bulk OUT transfer", §A4) ===

usbCase('ffs_epfile_before_enable', 'usb.md §A4 (ffs_epfile_wait_ep: O_NONBLOCK before ENABLE)',
  'before binding: open(ep2, O_RDWR|O_NONBLOCK); readBlocking(ep2, 512)',
  async (f, t) => {
    const rig = await Rig.active(t, usbKernel());
    const ep = await rig.openEp(EP_OUT, O_RDWR | O_NONBLOCK);
    f.is('read', await outcomeOf(rig.k.readBlocking(ep, new Uint8Array(MPS), bounded())), 'EAGAIN');
  });

usbCase('ffs_epfile_poll', 'usb.md §A4 (ep files have no .poll: poll(2) answers DEFAULT_POLLMASK at once; only epoll says EPERM)',
  'before binding: poll(ep1, POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM); poll(ep2, POLLIN)',
  async (f, t) => {
    const rig = await Rig.active(t, usbKernel());
    // DEFAULT_POLLMASK is all four; poll(2) reports the requested ones, whatever the endpoint's state
    const all = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    f.is('poll_in_ep', await pollWithin(rig.k, await rig.openEp(EP_IN), all, 5000), all);
    f.is('poll_out_ep', await pollWithin(rig.k, await rig.openEp(EP_OUT), POLLIN, 5000), POLLIN);
  });

usbCase('ffs_bulk_out_short_packet', 'usb.md §A1 (a short packet ends a bulk OUT transfer)',
  'readBlocking(ep2, 4096); host bulk OUT 100 bytes',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const into = new Uint8Array(4096);
    const read = rig.k.readBlocking(ep, into, bounded());
    const sent = pattern(100);
    f.is('host', hostFacts(await host.reap(host.bulkOut(HOST_OUT, sent))), '0/100');
    f.is('read', await read, 100);
    f.is('bytes', show(into.subarray(0, 100)) === show(sent), true);
  });

usbCase('ffs_bulk_out_exact_length', 'usb.md §A1 (a read of exactly the transfer length)',
  'readBlocking(ep2, 1024); host bulk OUT 1024 bytes (2 x wMaxPacketSize, no ZLP)',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const into = new Uint8Array(2 * MPS);
    const read = rig.k.readBlocking(ep, into, bounded());
    const sent = pattern(2 * MPS);
    f.is('host', hostFacts(await host.reap(host.bulkOut(HOST_OUT, sent))), '0/1024');
    f.is('read', await read, 2 * MPS);
    f.is('bytes', show(into) === show(sent), true);
  });

usbCase('ffs_bulk_out_mps_multiple_merges', 'usb.md §A1 (a multiple of wMaxPacketSize without ZLP merges with the next transfer)',
  'readBlocking(ep2, 4096); host bulk OUT 1024 bytes; host bulk OUT 10 bytes',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const into = new Uint8Array(4096);
    const read = rig.k.readBlocking(ep, into, bounded());
    const first = pattern(2 * MPS, 1);
    const second = pattern(10, 2);
    f.is('host_first', hostFacts(await host.reap(host.bulkOut(HOST_OUT, first))), '0/1024');
    f.is('host_second', hostFacts(await host.reap(host.bulkOut(HOST_OUT, second))), '0/10');
    f.is('read', await read, 2 * MPS + 10);
    f.is('bytes', show(into.subarray(0, 2 * MPS + 10)) === show(first) + show(second), true);
  });

usbCase('ffs_bulk_out_zlp_ends_transfer', 'usb.md §A2 (URB_ZERO_PACKET)',
  'readBlocking(ep2, 4096); host bulk OUT 1024 bytes with USBDEVFS_URB_ZERO_PACKET',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const read = rig.k.readBlocking(ep, new Uint8Array(4096), bounded());
    f.is('host', hostFacts(await host.reap(host.bulkOut(HOST_OUT, pattern(2 * MPS), { zeroPacket: true }))), '0/1024');
    f.is('read', await read, 2 * MPS);
  });

usbCase('ffs_bulk_in_short', 'usb.md §A2 (the host relies on the gadget\'s short packet)',
  'host bulk IN 4096; writeBlocking(ep1, 100 bytes)',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_IN);
    const urb = host.bulkIn(HOST_IN, 4096);
    const sent = pattern(100);
    f.is('write', await rig.k.writeBlocking(ep, sent, bounded()), 100);
    const r = await host.reap(urb);
    f.is('host', hostFacts(r), '0/100');
    f.is('bytes', show(r.data) === show(sent), true);
  });

usbCase('ffs_bulk_in_split', 'usb.md §A1 (no ZLP on IN: the host asks for exact byte counts)',
  'writeBlocking(ep1, 1024 bytes); host bulk IN 512; host bulk IN 512',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_IN);
    const sent = pattern(2 * MPS);
    const write = rig.k.writeBlocking(ep, sent, bounded());
    const a = await host.reap(host.bulkIn(HOST_IN, MPS));
    const b = await host.reap(host.bulkIn(HOST_IN, MPS));
    f.is('host', [hostFacts(a), hostFacts(b)], ['0/512', '0/512']);
    f.is('write', await write, 2 * MPS);
    f.is('bytes', show(a.data) + show(b.data) === show(sent), true);
  });

// ==== usbfs URBs of 1 B to 1 MiB (usb.md §A2: > 16 KiB goes scatter-gather) ====================

const URB_SIZES = [1, 511, 512, 513, 16384, 16385, 65536, 1 << 20];

usbCase('usbfs_urb_sizes_out', 'usb.md §A2 (SUBMITURB bulk OUT, 1 B to 1 MiB)',
  `for n in ${URB_SIZES.join(',')}: readBlocking(ep2, n); host bulk OUT n bytes`,
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const results: string[] = [];
    const intact: boolean[] = [];
    for (const n of URB_SIZES) {
      const into = new Uint8Array(n);
      const read = rig.k.readBlocking(ep, into, bounded());
      const sent = pattern(n);
      const r = await host.reap(host.bulkOut(HOST_OUT, sent));
      results.push(`${hostFacts(r)}:${await read}`);
      intact.push(Buffer.compare(into, sent) === 0);
    }
    f.is('urbs', results, URB_SIZES.map((n) => `0/${n}:${n}`));
    f.is('intact', intact, URB_SIZES.map(() => true));
  });

usbCase('usbfs_urb_sizes_in', 'usb.md §A2 (SUBMITURB bulk IN, 1 B to 1 MiB)',
  `for n in ${URB_SIZES.join(',')}: host bulk IN n; writeBlocking(ep1, n bytes)`,
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_IN);
    const results: string[] = [];
    const intact: boolean[] = [];
    for (const n of URB_SIZES) {
      const urb = host.bulkIn(HOST_IN, n);
      const sent = pattern(n);
      const written = await rig.k.writeBlocking(ep, sent, bounded());
      const r = await host.reap(urb);
      results.push(`${hostFacts(r)}:${written}`);
      intact.push(Buffer.compare(r.data, sent) === 0);
    }
    f.is('urbs', results, URB_SIZES.map((n) => `0/${n}:${n}`));
    f.is('intact', intact, URB_SIZES.map(() => true));
  });

// ==== host disconnect mid-transfer (usb.md §A4 dummy_hcd statuses, §A2 usbdev_poll) ===========

usbCase('ffs_disconnect_mid_transfer', 'usb.md §A4 (endpoint disable nukes requests: ESHUTDOWN), §A2 (usbdev_poll POLLHUP, reap after disconnect)',
  'readBlocking(ep2, 1024) holding one packet, host bulk IN pending; write(UDC, ""); reap; poll(usbfs); REAPURBNDELAY; events',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const host = await rig.openHost();
    const ep = await rig.openEp(EP_OUT);
    const read = outcomeOf(rig.k.readBlocking(ep, new Uint8Array(2 * MPS), bounded()));
    // one packet into the read's request: it is queued (dummy_hcd moves data only between queued
    // requests and URBs), and not complete
    f.is('host_out', hostFacts(await host.reap(host.bulkOut(HOST_OUT, pattern(MPS)))), `0/${MPS}`);
    const urb = host.bulkIn(HOST_IN, MPS);
    await rig.gadget.unbind();
    // the request completes with -ESHUTDOWN, its packet dropped
    f.is('gadget_read', await read, 'ESHUTDOWN');
    // Which comes first is a race (seen both in the lab): dummy_hcd's timer giving the URB back
    // with -EPROTO once the gadget's pull-up is off, or the hub's disconnect flushing it with
    // -ESHUTDOWN
    const r = await host.reap(urb);
    f.is('host_urb', r.status === -71 || r.status === -108 ? 'EPROTO|ESHUTDOWN' : r.status, 'EPROTO|ESHUTDOWN');
    // usbdev_poll: POLLHUP once the device is NOTATTACHED, POLLERR once usbdev_remove took the
    // file off the device's list, which is done before the device leaves sysfs (the lab saw
    // POLLHUP alone in between)
    await usbDeviceGone(rig.k, IDS);
    const revents = await pollWithin(rig.k, host.fd, POLLOUT, URB_WAIT_MS);
    f.is('host_poll', revents & (POLLHUP | POLLERR), POLLHUP | POLLERR);
    // nothing left to reap, and the device is gone (proc_reapurbnonblock)
    f.is('host_reap', outcome(() => rig.k.ioctl(host.fd, USBDEVFS_REAPURBNDELAY, new BigUint64Array(1))), 'ENODEV');
    f.is('events', await rig.events(), ['SUSPEND', 'UNBIND']);
  });

usbCase('ffs_soft_disconnect_mid_transfer', 'usb.md §A4 (endpoint disable nukes requests: ESHUTDOWN); udc/core.c soft_connect_store (usb_gadget_disconnect, then usb_gadget_udc_stop)',
  'readBlocking(ep2, 1024) pending; write(/sys/class/udc/dummy_udc.0/soft_connect, "disconnect"); events',
  async (f, t) => {
    const rig = await Rig.connected(t, usbKernel());
    const ep = await rig.openEp(EP_OUT);
    const read = outcomeOf(rig.k.readBlocking(ep, new Uint8Array(2 * MPS), bounded()));
    await rig.k.writeText('/sys/class/udc/dummy_udc.0/soft_connect', 'disconnect');
    f.is('gadget_read', await read, 'ESHUTDOWN');
    await usbDeviceGone(rig.k, IDS);
    // the driver's disconnect resets the configuration: FunctionFS reports the function disabled
    f.is('events', (await rig.waitEvent('DISABLE')).filter((e) => e !== 'RESUME'), ['SUSPEND', 'DISABLE']);
  });

// ==== FunctionFS DMABUF (usb.md §A4, kernel-abi.md §5.2) =====================================

function ffsAttach(k: KernelPort, ep: number, dmabuf: number): number {
  return k.ioctl(ep, FUNCTIONFS_DMABUF_ATTACH, Int32Array.of(dmabuf));
}

function ffsDetach(k: KernelPort, ep: number, dmabuf: number): number {
  return k.ioctl(ep, FUNCTIONFS_DMABUF_DETACH, Int32Array.of(dmabuf));
}

function ffsTransfer(k: KernelPort, ep: number, dmabuf: number, length: number, flags = 0): number {
  return k.ioctl(ep, FUNCTIONFS_DMABUF_TRANSFER, usbFfsDmabufTransferReqStruct.encode({ fd: dmabuf, flags, length }));
}


const DMABUF_SIZE = 16384;

/** A heap DMABUF holding `bytes`, written through a mapping between SYNC START/END WRITE. */
async function filledDmabuf(k: KernelPort, bytes: Uint8Array): Promise<number> {
  const fd = await heapBuffer(k, bytes.byteLength);
  dmabufSync(k, fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE);
  const map = k.mmap(fd, bytes.byteLength, PROT_READ | PROT_WRITE, MAP_SHARED);
  map.set(bytes);
  k.munmap(map);
  dmabufSync(k, fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE);
  return fd;
}


/**
 * A DMABUF case, registered per scatter-gather mode (`<name>_sg0`, `<name>_sg1`): both on the
 * sim, this boot's on Linux. With sg 0 every ATTACH is EPERM (usb.md §A5).
 */
function dmabufCase(name: string, section: string, call: string, body: (f: Facts, t: TestContext, sg: boolean) => Promise<void>): void {
  for (const sg of [false, true]) {
    const skip = LINUX_SG !== undefined && LINUX_SG !== sg ? `this boot's dummy_hcd has sg=${LINUX_SG ? 1 : 0}` : undefined;
    usbCase(`${name}_sg${sg ? 1 : 0}`, section, `dummy_hcd sg=${sg ? 1 : 0}: ${call}`, (f, t) => body(f, t, sg), skip);
  }
}

/** The sync_file of the DMABUF's fences now (`flags` READ: its writers; RW: all). */
function snapshot(k: KernelPort, keep: (fd: number) => number, dmabuf: number, flags: number): number {
  return keep(exportSyncFile(k, dmabuf, flags));
}

/** A fence's status once it has signalled (POLLIN on its sync_file first, bounded). */
async function signalledStatus(k: KernelPort, sync: number): Promise<number | string> {
  const revents = await pollWithin(k, sync, POLLIN, URB_WAIT_MS);
  return (revents & POLLIN) !== 0 ? syncFileInfo(k, sync).status : 'not signalled';
}

dmabufCase('ffs_dmabuf_attach', 'usb.md §A4 ATTACH step 1, §A5', 'connected; ATTACH(heap DMABUF) on ep1',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
    f.is('attach', outcome(() => ffsAttach(rig.k, ep, dmabuf)), sg ? 0 : 'EPERM');
  });

dmabufCase('ffs_dmabuf_attach_unbound', 'usb.md §A4 ATTACH step 1 (ffs->gadget NULL)', 'blobs written, not bound; ATTACH(heap DMABUF) on ep1',
  async (f, t, sg) => {
    const rig = await Rig.active(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
    f.is('attach', outcome(() => ffsAttach(rig.k, ep, dmabuf)), 'EPERM');
  });

dmabufCase('ffs_dmabuf_attach_bad_fds', 'usb.md §A4 ATTACH steps 1-2 (dma_buf_get)', 'connected; ATTACH(-1); ATTACH(memfd) on ep1',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    f.is('closed_fd', outcome(() => ffsAttach(rig.k, ep, -1)), sg ? 'EBADF' : 'EPERM');
    const memfd = keep(rig.k.memfdCreate('iiojs-not-a-dmabuf', MFD_CLOEXEC));
    f.is('memfd', outcome(() => ffsAttach(rig.k, ep, memfd)), sg ? 'EINVAL' : 'EPERM');
  });

dmabufCase('ffs_dmabuf_attach_twice', 'usb.md §A4 ATTACH step 8 (no duplicate check), DETACH', 'connected; ATTACH x2; DETACH x3 on ep1',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
    f.is('attach', [outcome(() => ffsAttach(rig.k, ep, dmabuf)), outcome(() => ffsAttach(rig.k, ep, dmabuf))], sg ? [0, 0] : ['EPERM', 'EPERM']);
    const detach = () => outcome(() => ffsDetach(rig.k, ep, dmabuf));
    f.is('detach', [detach(), detach(), detach()], sg ? [0, 0, 'EPERM'] : ['EPERM', 'EPERM', 'EPERM']);
  });

dmabufCase('ffs_dmabuf_transfer_checks', 'usb.md §A4 TRANSFER steps 1-3', 'connected, nothing attached; TRANSFER flags 1; length 0; length size+1; length size',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
    f.is('flags', outcome(() => ffsTransfer(rig.k, ep, dmabuf, DMABUF_SIZE, 1)), 'EINVAL');
    f.is('length0', outcome(() => ffsTransfer(rig.k, ep, dmabuf, 0)), 'EINVAL');
    f.is('too_long', outcome(() => ffsTransfer(rig.k, ep, dmabuf, DMABUF_SIZE + 1)), 'EINVAL');
    f.is('not_attached', outcome(() => ffsTransfer(rig.k, ep, dmabuf, DMABUF_SIZE)), 'EPERM');
  });

dmabufCase('ffs_dmabuf_transfer_before_enable', 'usb.md §A4 TRANSFER step 4 (O_NONBLOCK before the host configures: EAGAIN)',
  'write(UDC); events; open(ep1, O_NONBLOCK); ATTACH; TRANSFER, before ENABLE',
  async (f, t, sg) => {
    const rig = await Rig.active(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
    const ep = await rig.openEp(EP_IN, O_RDWR | O_NONBLOCK);
    await rig.gadget.bind();
    // the hub's debounce (100 ms and more) keeps the host from configuring for a while yet
    f.is('events', await rig.events(), ['BIND']);
    f.is('attach', outcome(() => ffsAttach(rig.k, ep, dmabuf)), sg ? 0 : 'EPERM');
    if (sg) f.is('transfer', outcome(() => ffsTransfer(rig.k, ep, dmabuf, DMABUF_SIZE)), 'EAGAIN');
  });

dmabufCase('ffs_dmabuf_in_transfer', 'usb.md §A4 TRANSFER steps 10-13, completion; kernel-abi.md §2.9 (poll, sync_file)',
  'ATTACH(ep1); TRANSFER 16384; sync_file; poll POLLIN/POLLOUT; host bulk IN 16384; poll POLLOUT; sync_file status',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const k = rig.k;
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const sent = pattern(DMABUF_SIZE);
    const dmabuf = keep(await filledDmabuf(k, sent));
    f.is('attach', outcome(() => ffsAttach(k, ep, dmabuf)), sg ? 0 : 'EPERM');
    if (!sg) return;
    const host = await rig.openHost();
    f.is('transfer', ffsTransfer(k, ep, dmabuf, DMABUF_SIZE), 0);
    const sync = snapshot(k, keep, dmabuf, DMA_BUF_SYNC_RW);
    const info = syncFileInfo(k, sync);
    f.is('fence', [info.status, info.numFences, info.fences[0]?.driverName], [0, 1, 'functionfs']);
    // an IN transfer reads the DMABUF: its fence is a READ fence, so readers (POLLIN) go on
    f.is('poll_in', await pollWithin(k, dmabuf, POLLIN, 5000) & POLLIN, POLLIN);
    f.is('poll_out_pending', await pollWithin(k, dmabuf, POLLOUT, 200), 0);
    const r = await host.reap(host.bulkIn(HOST_IN, DMABUF_SIZE));
    f.is('host', hostFacts(r), `0/${DMABUF_SIZE}`);
    f.is('bytes', Buffer.compare(r.data, sent) === 0, true);
    f.is('poll_out', await pollWithin(k, dmabuf, POLLOUT, URB_WAIT_MS) & POLLOUT, POLLOUT);
    f.is('status', await signalledStatus(k, sync), 1);
  });

dmabufCase('ffs_dmabuf_out_transfer', 'usb.md §A4 TRANSFER (OUT: a WRITE fence); kernel-abi.md §2.9',
  'ATTACH(ep2); TRANSFER 16384; sync_file(READ); poll POLLIN; host bulk OUT 16384; poll POLLIN; mmap',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const k = rig.k;
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_OUT);
    const dmabuf = keep(await heapBuffer(k, DMABUF_SIZE));
    f.is('attach', outcome(() => ffsAttach(k, ep, dmabuf)), sg ? 0 : 'EPERM');
    if (!sg) return;
    const host = await rig.openHost();
    f.is('transfer', ffsTransfer(k, ep, dmabuf, DMABUF_SIZE), 0);
    const writers = snapshot(k, keep, dmabuf, DMA_BUF_SYNC_READ);
    f.is('writer_fence', syncFileInfo(k, writers).status, 0);
    f.is('poll_in_pending', await pollWithin(k, dmabuf, POLLIN, 200), 0);
    const sent = pattern(DMABUF_SIZE);
    f.is('host', hostFacts(await host.reap(host.bulkOut(HOST_OUT, sent))), `0/${DMABUF_SIZE}`);
    f.is('poll_in', await pollWithin(k, dmabuf, POLLIN, URB_WAIT_MS) & POLLIN, POLLIN);
    f.is('status', await signalledStatus(k, writers), 1);
    f.is('bytes', Buffer.compare(mappedBytes(k, dmabuf, DMABUF_SIZE), sent) === 0, true);
  });

dmabufCase('ffs_dmabuf_transfer_busy', 'usb.md §A4 TRANSFER step 6 (a pending conflicting fence, O_NONBLOCK: EBUSY)',
  'ATTACH(ep2); TRANSFER 512 (pending: the host sends nothing); O_NONBLOCK TRANSFER 512',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const k = rig.k;
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_OUT);
    const dmabuf = keep(await heapBuffer(k, DMABUF_SIZE));
    f.is('attach', outcome(() => ffsAttach(k, ep, dmabuf)), sg ? 0 : 'EPERM');
    if (!sg) return;
    f.is('first', ffsTransfer(k, ep, dmabuf, MPS), 0);
    setNonblock(k, ep, true);
    f.is('second', outcome(() => ffsTransfer(k, ep, dmabuf, MPS)), 'EBUSY');
  });

/** With sg 0 a DMABUF case ends at its ATTACH on ep1, which is EPERM (usb.md §A5). */
async function refusedAttach(f: Facts, rig: Rig, keep: (fd: number) => number): Promise<void> {
  const ep = await rig.openEp(EP_IN);
  const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
  f.is('attach', outcome(() => ffsAttach(rig.k, ep, dmabuf)), 'EPERM');
}

/** A pending IN transfer (the host reads nothing). */
async function pendingInTransfer(rig: Rig, keep: (fd: number) => number): Promise<{ ep: number; dmabuf: number }> {
  const ep = await rig.openEp(EP_IN);
  const dmabuf = keep(await heapBuffer(rig.k, DMABUF_SIZE));
  ffsAttach(rig.k, ep, dmabuf);
  ffsTransfer(rig.k, ep, dmabuf, DMABUF_SIZE);
  return { ep, dmabuf };
}

// The dequeued request's fence signals with -ECONNRESET (dummy_hcd's dequeue status), but Linux
// 6.12.118 cannot be asked: an FFS fence's lock lives in its attachment (ffs_dmabuf_priv), which
// DETACH and close free once the request's cleanup work has run, while a sync_file may still hold
// the fence. SYNC_IOC_FILE_INFO then takes the freed lock (dma_fence_get_status), and so does
// closing a sync_file that was polled (sync_file_release → dma_fence_remove_callback): both
// oopsed in the lab (general protection fault in queued_spin_lock_slowpath). So the DMABUF's
// POLLOUT tells that the fence signalled (dma_buf_poll takes no lock of a signalled fence); the
// error of a request the UDC ends while the attachment lives is ffs_dmabuf_disconnect's.
dmabufCase('ffs_dmabuf_detach_cancels', 'usb.md §A4 DETACH (usb_ep_dequeue cancels the pending transfer)',
  'ATTACH(ep1); TRANSFER (pending); poll(DMABUF, POLLOUT); DETACH; poll(DMABUF, POLLOUT)',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    if (!sg) return refusedAttach(f, rig, keep);
    const { ep, dmabuf } = await pendingInTransfer(rig, keep);
    f.is('pending', await pollWithin(rig.k, dmabuf, POLLOUT, 200), 0);
    f.is('detach', ffsDetach(rig.k, ep, dmabuf), 0);
    f.is('signalled', await pollWithin(rig.k, dmabuf, POLLOUT, URB_WAIT_MS) & POLLOUT, POLLOUT);
  });

// As above: after the close, the fence's status must not be asked for on Linux 6.12.
dmabufCase('ffs_dmabuf_close_cancels', 'usb.md §A4 DETACH ("closing the ep file does the same")',
  'ATTACH(ep1); TRANSFER (pending); poll(DMABUF, POLLOUT); close(ep1); poll(DMABUF, POLLOUT)',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    if (!sg) return refusedAttach(f, rig, keep);
    const { ep, dmabuf } = await pendingInTransfer(rig, keep);
    f.is('pending', await pollWithin(rig.k, dmabuf, POLLOUT, 200), 0);
    rig.close(ep);
    f.is('signalled', await pollWithin(rig.k, dmabuf, POLLOUT, URB_WAIT_MS) & POLLOUT, POLLOUT);
  });

dmabufCase('ffs_dmabuf_disconnect', 'usb.md §A4 completion (endpoint disable nukes the request: -ESHUTDOWN)',
  'ATTACH(ep1); TRANSFER (pending); write(UDC, ""); sync_file status',
  async (f, t, sg) => {
    const rig = await Rig.connected(t, usbKernel(sg));
    const keep = (fd: number): number => rig.keep(fd);
    if (!sg) return refusedAttach(f, rig, keep);
    const { dmabuf } = await pendingInTransfer(rig, keep);
    const sync = snapshot(rig.k, keep, dmabuf, DMA_BUF_SYNC_RW);
    await rig.gadget.unbind();
    // no DETACH or TRANSFER after this: 6.12's look up ffs->gadget, which unbinding cleared
    f.is('status', await signalledStatus(rig.k, sync), -108);
  });

// ==== chaining with IIO (kernel-abi.md §5.3, usb.md §A4 "IIO-side counterpart") ================

dmabufCase('ffs_dmabuf_iio_chain', 'kernel-abi.md §5.3; usb.md §A4 (IIO enqueue waits usage_rw(true), FFS IN waits for writers)',
  'vadc-dma capture DMABUF also ATTACHed to ep1: ENQUEUE; TRANSFER(O_NONBLOCK); TRANSFER; ENQUEUE(O_NONBLOCK); host bulk IN; ENQUEUE',
  async (f, t, sg) => {
    const lab: Lab = bootUnderTest({ scenario: labScenario, usb: { sg } });
    const k = lab.kernel;
    const rig = await Rig.connected(t, k);
    const keep = (fd: number): number => rig.keep(fd);
    const ep = await rig.openEp(EP_IN);
    const dmabuf = keep(await heapBuffer(k, DMABUF_SIZE));
    f.is('attach_usb', outcome(() => ffsAttach(k, ep, dmabuf)), sg ? 0 : 'EPERM');
    if (!sg) return;
    const host = await rig.openHost();
    const vb = `${VADC.sys}/buffer0`;
    const dev = keep(await k.open(VADC.dev, O_RDWR));
    const buffer = keep(getBufferFd(k, dev, 0));
    t.after(() => k.writeText(`${vb}/enable`, '0'));
    await k.writeText(`${vb}/in_voltage0_en`, '1');
    await k.writeText(`${vb}/in_voltage1_en`, '1');
    f.is('attach_iio', iioAttach(k, buffer, dmabuf), 0);
    await k.writeText(`${vb}/enable`, '1');
    lab.iio.device(VADC.name).buffer(0).delayMs = 300;
    f.is('enqueue', iioEnqueue(k, buffer, dmabuf, DMABUF_SIZE), 0);
    const iioFence = snapshot(k, keep, dmabuf, DMA_BUF_SYNC_READ);
    f.is('iio_fence', syncFileInfo(k, iioFence).status, 0);
    // FunctionFS waits for the capture's WRITE fence: at once with O_NONBLOCK...
    setNonblock(k, ep, true);
    f.is('transfer_nonblock', outcome(() => ffsTransfer(k, ep, dmabuf, DMABUF_SIZE)), 'EBUSY');
    setNonblock(k, ep, false);
    // ...and blocking until it signals
    f.is('transfer', ffsTransfer(k, ep, dmabuf, DMABUF_SIZE), 0);
    f.is('iio_fence_then', syncFileInfo(k, iioFence).status, 1);
    // the next capture waits for every fence, FunctionFS's READ fence too (the host reads nothing yet)
    setNonblock(k, buffer, true);
    f.is('enqueue_nonblock', outcome(() => iioEnqueue(k, buffer, dmabuf, DMABUF_SIZE)), 'EBUSY');
    const r = await host.reap(host.bulkIn(HOST_IN, DMABUF_SIZE));
    f.is('host', hostFacts(r), `0/${DMABUF_SIZE}`);
    // vadc-dma's counter: word k of all it produced is k mod 65536
    f.is('counter_breaks', counterCheck(r.data).mismatches, 0);
    f.is('poll_out', await pollWithin(k, dmabuf, POLLOUT, URB_WAIT_MS) & POLLOUT, POLLOUT);
    f.is('enqueue_again', outcome(() => iioEnqueue(k, buffer, dmabuf, DMABUF_SIZE)), 0);
    setNonblock(k, buffer, false);
  });

test('every scenario of the Linux recording is a case of this suite', { skip: KERNEL !== 'sim' ? 'the recording is checked on the sim' : false }, () => {
  assert.ok(RECORDED.size > 50, `only ${RECORDED.size} scenarios in ${FIXTURE}`);
  assert.deepEqual([...RECORDED.keys()].filter((name) => !CASES.has(name)), []);
});
