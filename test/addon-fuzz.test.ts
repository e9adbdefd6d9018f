// Fuzzing the native addon's ioctl (issue 13: it must be safe for any JavaScript input): seeded
// random requests (the addon's table, random numbers, _IOC-encoded ones of random direction and
// size), random argument shapes (numbers of every sort, strings, objects, every TypedArray kind,
// DataView, ArrayBuffer, detached, zero-length, shared and resizable buffers) and random
// `pointers` (bad shapes, wrong offsets, short targets, the argument itself, a getter that
// detaches the argument mid-call), through LinuxKernel.ioctl and the raw addon, on a memfd, a
// FIFO and /dev/null, plus udmabuf, DMA heaps, DMABUFs, sync files and IIO device and buffer fds
// where this machine has them (the lab does). Every call must return a number >= 0, fail with a
// Node-style system error (or -errno from the raw addon), or throw TypeError/RangeError with the
// addon's codes; the caller's bytes at pointer fields must be as they were; the process survives.
// IIOJS_FUZZ_SEED=<n> replays a seed; a failure prints the seed and the call.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_SYNC_RW,
  DMA_HEAP_IOCTL_ALLOC,
  F_GETFL,
  F_SETFL,
  IIO_BUFFER_GET_FD_IOCTL,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  UDMABUF_CREATE,
  UDMABUF_FLAGS_CLOEXEC,
  dmaBufExportSyncFileStruct,
  dmaHeapAllocationDataStruct,
  ioc,
  udmabufCreateStruct,
  type IoctlArgRule,
} from '../src/abi/index.js';
import { loadAddon } from '../src/kernel/linux/addon.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { prng } from './support/prng.js';

const SEED = Number(process.env['IIOJS_FUZZ_SEED'] ?? 0x13addf);
const CALLS = 50_000;

const kernel = new LinuxKernel();
const addon = loadAddon();
const c = addon.constants;
const table = addon.requests;
const known = Object.keys(table).map(Number);

type Outcome = 'ok' | 'system' | 'type' | 'range';

interface Fd {
  readonly name: string;
  readonly fd: number;
}

/** The fds to fuzz on: always a memfd, a FIFO and /dev/null; devices where they exist. */
async function openFds(dir: string): Promise<Fd[]> {
  const fds: Fd[] = [];
  const page = kernel.pageSize;
  const memfd = kernel.memfdCreate('iiojs-fuzz', c.MFD_CLOEXEC | c.MFD_ALLOW_SEALING);
  kernel.ftruncate(memfd, 4 * page);
  kernel.fcntl(memfd, c.F_ADD_SEALS, c.F_SEAL_SHRINK);
  fds.push({ name: 'memfd', fd: memfd });
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  fds.push({ name: 'fifo', fd: await kernel.open(fifo, c.O_RDWR | c.O_NONBLOCK) });
  fds.push({ name: '/dev/null', fd: await kernel.open('/dev/null', c.O_RDWR) });
  const tryOpen = async (path: string, flags = O_RDWR | O_NONBLOCK): Promise<number | undefined> => {
    try {
      return await kernel.open(path, flags);
    } catch {
      return undefined;
    }
  };
  const dmabufs: number[] = [];
  const udmabuf = existsSync('/dev/udmabuf') ? await tryOpen('/dev/udmabuf') : undefined;
  if (udmabuf !== undefined) {
    fds.push({ name: '/dev/udmabuf', fd: udmabuf });
    try {
      dmabufs.push(kernel.ioctl(udmabuf, UDMABUF_CREATE, udmabufCreateStruct.encode({ memfd, flags: UDMABUF_FLAGS_CLOEXEC, size: page })));
    } catch {
      // a kernel without udmabuf support for memfds: the device alone is fuzzed
    }
  }
  const heaps = existsSync('/dev/dma_heap') ? readdirSync('/dev/dma_heap') : [];
  for (const heap of heaps) {
    const fd = await tryOpen(`/dev/dma_heap/${heap}`, O_RDWR);
    if (fd === undefined) continue;
    fds.push({ name: `/dev/dma_heap/${heap}`, fd });
    try {
      const arg = dmaHeapAllocationDataStruct.encode({ len: page, fdFlags: O_RDWR | O_CLOEXEC });
      kernel.ioctl(fd, DMA_HEAP_IOCTL_ALLOC, arg);
      dmabufs.push(dmaHeapAllocationDataStruct.decode(arg).fd);
    } catch {
      // fuzz the heap without a buffer from it
    }
  }
  for (const dmabuf of dmabufs) {
    fds.push({ name: 'dmabuf', fd: dmabuf });
    try {
      const arg = dmaBufExportSyncFileStruct.encode({ flags: DMA_BUF_SYNC_RW, fd: -1 });
      kernel.ioctl(dmabuf, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, arg);
      fds.push({ name: 'sync_file', fd: dmaBufExportSyncFileStruct.decode(arg).fd });
    } catch {
      // a kernel without sync-file export
    }
  }
  const iio = existsSync('/dev') ? readdirSync('/dev').filter((n) => n.startsWith('iio:device')) : [];
  for (const name of iio) {
    const fd = await tryOpen(`/dev/${name}`);
    if (fd === undefined) continue; // busy, or not ours to open
    fds.push({ name, fd });
    try {
      const arg = Int32Array.of(0);
      kernel.ioctl(fd, IIO_BUFFER_GET_FD_IOCTL, arg);
      // non-blocking, so a random ENQUEUE cannot wait for the kernel's 5 s timeout
      kernel.fcntl(arg[0]!, F_SETFL, kernel.fcntl(arg[0]!, F_GETFL) | O_NONBLOCK);
      fds.push({ name: `${name} buffer0`, fd: arg[0]! });
    } catch {
      // a device without buffers
    }
  }
  return fds;
}

const TYPED = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;

const NUMBERS = [0, 1, -1, 0.5, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53), 4096, 0x541b];

function detach(buffer: ArrayBuffer): void {
  structuredClone(buffer, { transfer: [buffer] });
}

function main(seed: number) {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;

  function randomRequest(): number {
    const r = rand();
    if (r < 0.75) return pick(known);
    if (r < 0.85) return int(2 ** 32);
    if (r < 0.95) return ioc(int(4), int(256), int(256), int(2 ** 14)); // random _IOC dir and size
    return pick([NaN, -1, 1.5, 2 ** 32, -(2 ** 31) - 1, '3' as never, undefined as never, 0x541b]);
  }

  /** Random bytes of `length`, some of them shaped for `rule` (a count that fits, or not). */
  function fill(bytes: Uint8Array, rule: IoctlArgRule | undefined): void {
    for (let i = 0; i < bytes.length; i++) bytes[i] = rand() < 0.5 ? 0 : int(256);
    if (rule === undefined || !('countOffset' in rule) || bytes.length < rule.countOffset + 4) return;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fits = Math.floor(Math.max(0, bytes.length - rule.size) / rule.elemSize);
    const count = pick([0, 1, 3, fits, fits + 1, int(8), 0xffffffff]);
    view.setUint32(rule.countOffset, count >>> 0, true);
  }

  /** A byte length near what the request needs: exactly, a little short or long, or random. */
  function lengthFor(rule: IoctlArgRule | undefined): number {
    const size = rule !== undefined && 'size' in rule ? rule.size : 8;
    const extra = rule?.kind === 'flex' ? int(4) * 24 : 0;
    return Math.max(0, pick([size + extra, size - 1, size + 1, 0, int(300), size * 2, 1]));
  }

  function randomBuffer(length: number): ArrayBuffer | SharedArrayBuffer {
    const r = rand();
    if (r < 0.1) return new SharedArrayBuffer(length);
    if (r < 0.15) return new (ArrayBuffer as new (n: number, o: object) => ArrayBuffer)(length, { maxByteLength: length + 64 });
    return new ArrayBuffer(length);
  }

  /** An argument: { arg, bytes } where bytes is the Uint8Array over the same memory, if any. */
  function randomArg(rule: IoctlArgRule | undefined): { arg: unknown; bytes?: Uint8Array; buffer?: ArrayBuffer } {
    const r = rand();
    if (r < 0.12) return { arg: pick(NUMBERS) };
    if (r < 0.18) return { arg: pick([undefined, null, '', 'abcd', {}, { byteLength: 64 }, [1, 2, 3], () => 0, 1n, true, Symbol('x')]) };
    const length = lengthFor(rule);
    const buffer = randomBuffer(length + 16);
    const offset = int(17);
    const bytes = new Uint8Array(buffer, offset, length);
    fill(bytes, rule);
    const plain = buffer instanceof ArrayBuffer ? buffer : undefined;
    if (r < 0.22 && plain !== undefined) {
      const arg = pick([plain, new Uint8Array(plain), new DataView(plain), new Float32Array(plain, 0, 0)]);
      detach(plain); // the views go with it
      return { arg };
    }
    if (r < 0.3) return { arg: buffer, bytes: new Uint8Array(buffer as ArrayBuffer), buffer: plain };
    if (r < 0.4) return { arg: new DataView(buffer, offset, length), bytes, buffer: plain };
    if (r < 0.45) return { arg: Buffer.from(buffer as ArrayBuffer, offset, length), bytes, buffer: plain };
    const Typed = pick(TYPED);
    const elems = Math.floor(length / Typed.BYTES_PER_ELEMENT);
    const aligned = offset - (offset % Typed.BYTES_PER_ELEMENT);
    return { arg: new Typed(buffer as ArrayBuffer, aligned, elems), bytes: new Uint8Array(buffer, aligned, elems * Typed.BYTES_PER_ELEMENT), buffer: plain };
  }

  function randomTarget(argValue: unknown, rule: IoctlArgRule | undefined): unknown {
    const r = rand();
    if (r < 0.15) return argValue;
    if (r < 0.2) return pick(['x', 48, null, undefined, {}]);
    if (r < 0.25) {
      const gone = new ArrayBuffer(80);
      detach(gone);
      return gone;
    }
    const elem = rule !== undefined && 'elemSize' in rule ? rule.elemSize : 80;
    const length = pick([0, elem - 1, elem, 3 * elem, 100, int(1000)]);
    return rand() < 0.5 ? new Uint8Array(length) : new Float64Array(randomBuffer(length * 8) as ArrayBuffer);
  }

  /** pointers: mostly undefined; else good, bad or hostile. Returns the offsets given. */
  function randomPointers(argValue: unknown, argBuffer: ArrayBuffer | undefined, rule: IoctlArgRule | undefined): unknown {
    const r = rand();
    if (r < 0.55) return undefined;
    const good = rule?.kind === 'pointer' || rule?.kind === 'urb' ? rule.pointerOffset : 48;
    const offset = () => pick([good, good, good, good + 1, 0, -8, 1.5, NaN, 2 ** 40, '48']);
    if (r < 0.6) return pick([[], 'pointers', 48, {}, [48], [[]], [null]]);
    const pairs: unknown[] = [];
    const n = pick([1, 1, 1, 2, 3, 5]);
    for (let i = 0; i < n; i++) pairs.push(rand() < 0.9 ? [offset(), randomTarget(argValue, rule)] : 'pair');
    if (r < 0.65 && argBuffer !== undefined && argBuffer.byteLength > 0) {
      // a getter that detaches the argument while the addon reads the pointers
      const first = pairs[0];
      Object.defineProperty(pairs, 0, { get: () => (detach(argBuffer), first) });
    }
    return pairs;
  }

  return { rand, int, pick, randomRequest, randomArg, randomPointers };
}

/** The 8 bytes at each pointer-field offset the call could patch. */
function slots(bytes: Uint8Array | undefined, rule: IoctlArgRule | undefined, pointers: unknown): Map<number, string> {
  const out = new Map<number, string>();
  if (bytes === undefined || bytes.length === 0) return out;
  const offsets = new Set<number>();
  if (rule?.kind === 'pointer' || rule?.kind === 'urb') offsets.add(rule.pointerOffset);
  if (Array.isArray(pointers)) {
    for (let i = 0; i < pointers.length; i++) {
      const d = Object.getOwnPropertyDescriptor(pointers, i);
      const pair: unknown = d !== undefined && 'value' in d ? d.value : undefined; // never run the getter here
      if (Array.isArray(pair) && typeof pair[0] === 'number' && Number.isInteger(pair[0])) offsets.add(pair[0]);
    }
  }
  for (const off of offsets) {
    if (off >= 0 && off + 8 <= bytes.length) out.set(off, Buffer.from(bytes.subarray(off, off + 8)).toString('hex'));
  }
  return out;
}

test('random requests, arguments and pointer fields never reach memory the kernel was not given', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-fuzz-'));
  const fds = await openFds(dir);
  const closed = kernel.memfdCreate('iiojs-fuzz-closed', c.MFD_CLOEXEC);
  kernel.close(closed);
  const targets: Fd[] = [...fds, { name: 'closed fd', fd: closed }, { name: 'fd 99999', fd: 99999 }];
  const baseline = new Set(readdirSync('/proc/self/fd').map(Number));
  const counts: Record<Outcome, number> = { ok: 0, system: 0, type: 0, range: 0 };
  const perFd = new Map<string, number>();
  const g = main(SEED);
  /** Some of the urbs and buffers given to SUBMITURB: refused everywhere here, none may stay referenced. */
  const submitted: Array<WeakRef<object>> = [];
  let call = '';
  try {
    for (let i = 0; i < CALLS; i++) {
      const target = g.pick(targets);
      const request = g.randomRequest();
      const rule = typeof request === 'number' ? table[request >>> 0] : undefined;
      const { arg, bytes, buffer } = g.randomArg(rule);
      const pointers = g.randomPointers(arg, buffer, rule);
      if (bytes !== undefined && target.name.startsWith('/dev/dma_heap') && bytes.length >= 8) {
        // a random len could ask the heap for all of memory: keep allocations to a page
        new DataView(bytes.buffer, bytes.byteOffset, 8).setBigUint64(0, BigInt(kernel.pageSize), true);
      }
      if (rule?.kind === 'urb' && submitted.length < 400) {
        // the first pair by descriptor: reading it could run the detaching getter
        const first = Array.isArray(pointers) ? Object.getOwnPropertyDescriptor(pointers, 0)?.value : undefined;
        for (const v of [arg, ...(Array.isArray(first) ? [first[1]] : [])]) {
          if (typeof v === 'object' && v !== null) submitted.push(new WeakRef(v));
        }
      }
      const raw = g.rand() < 0.3;
      const before = slots(bytes, rule, pointers);
      call = `#${i} ${raw ? 'addon' : 'port'}.ioctl(${target.name}, ${typeof request === 'number' ? `0x${(request >>> 0).toString(16)}` : String(request)}, ` +
        `${describe(arg)}, ${describe(pointers)})`;
      let outcome: Outcome;
      try {
        const rc = raw ? addon.ioctl(target.fd, request, arg as never, pointers as never) : kernel.ioctl(target.fd, request, arg as never, pointers as never);
        assert.equal(typeof rc, 'number');
        assert.ok(Number.isInteger(rc), `result ${rc}`);
        if (rc >= 0) outcome = 'ok';
        else {
          assert.ok(raw && rc >= -4095, `result ${rc}`);
          outcome = 'system';
        }
      } catch (e) {
        outcome = classify(e);
      }
      counts[outcome]++;
      if (outcome === 'ok' || outcome === 'system') perFd.set(target.name, (perFd.get(target.name) ?? 0) + 1);
      // (unless a getter detached the argument during the call: then there are no bytes left)
      if (!isDetached(bytes)) {
        const after = slots(bytes, rule, pointers);
        for (const [off, value] of before) assert.equal(after.get(off), value, `pointer slot at ${off} changed`);
      }
      if (outcome === 'ok') closeNewFds(baseline); // fds the kernel handed out (in the result or the argument)
    }
  } catch (e) {
    if (process.env["IIOJS_FUZZ_DEBUG"]) console.error(e);
    throw new Error(`addon fuzz failed with seed ${SEED} (IIOJS_FUZZ_SEED=${SEED} to replay) at ${call}: ${(e as Error).message}`, { cause: e });
  } finally {
    closeNewFds(baseline);
    for (const { fd } of fds.reverse()) kernel.close(fd);
    rmSync(dir, { recursive: true });
  }
  // usbfs URBs (issue 15): no fd here is a usbfs node, so no URB was kept and every reference is gone
  for (const { fd } of targets) assert.equal(addon.urbRelease(fd), 0, `URBs kept for fd ${fd}`);
  assert.ok(submitted.length > 50, `only ${submitted.length} SUBMITURB arguments sampled`);
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(submitted.filter((r) => r.deref() !== undefined).length, 0, 'SUBMITURB arguments still referenced');
  const message = `seed ${SEED}: ${JSON.stringify(counts)} ${JSON.stringify(Object.fromEntries(perFd))}`;
  t.diagnostic(message);
  for (const outcome of Object.keys(counts) as Outcome[]) assert.ok(counts[outcome] > 20, `no (or few) ${outcome} outcomes: ${message}`);
  // the kernel answered on every fd that is always there
  for (const name of ['memfd', 'fifo', '/dev/null', 'closed fd']) assert.ok((perFd.get(name) ?? 0) > 20, `${name}: ${message}`);
  const kept = new Set(fds.map(({ fd }) => fd));
  const expected = [...baseline].filter((fd) => !kept.has(fd));
  assert.deepEqual(openFdTargets().filter(([fd]) => !expected.includes(fd)), [], 'no fd left behind');
});

/** TypeError/RangeError from the addon (with its codes) or a Node-style system error; else fail. */
function classify(e: unknown): Outcome {
  if (e instanceof TypeError) {
    assert.equal((e as TypeError & { code?: string }).code, 'ERR_INVALID_ARG_TYPE', e.message);
    return 'type';
  }
  if (e instanceof RangeError) {
    assert.equal((e as RangeError & { code?: string }).code, 'ERR_OUT_OF_RANGE', e.message);
    return 'range';
  }
  const s = e as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  assert.ok(e instanceof Error, `threw a non-error: ${String(e)}`);
  assert.equal(typeof s.code, 'string', s.message);
  assert.ok(typeof s.errno === 'number' && s.errno < 0, s.message);
  assert.match(String(s.syscall), /^ioctl\(/, s.message);
  return 'system';
}

function isDetached(bytes: Uint8Array | undefined): boolean {
  if (bytes === undefined || bytes.buffer instanceof SharedArrayBuffer) return false;
  return (bytes.buffer as ArrayBuffer & { detached?: boolean }).detached ?? bytes.buffer.byteLength === 0;
}

/** This process's open fds with what they refer to. */
function openFdTargets(): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.push([Number(name), readlinkSync(`/proc/self/fd/${name}`)]);
    } catch {
      // the directory's own fd, closed once listed
    }
  }
  return out;
}

function closeNewFds(baseline: ReadonlySet<number>): void {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!baseline.has(fd)) addon.close(fd);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'symbol' || typeof v === 'function') return typeof v;
  if (v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return `${v.constructor.name}(${v.byteLength})`;
  if (ArrayBuffer.isView(v)) {
    try {
      return `${v.constructor.name}(${v.byteLength} bytes at ${v.byteOffset})`;
    } catch {
      return `${v.constructor.name}(detached)`; // a DataView's byteLength throws then
    }
  }
  if (Array.isArray(v)) {
    // by descriptor: reading an element could run the detaching getter
    const items = Array.from({ length: v.length }, (_, i) => Object.getOwnPropertyDescriptor(v, i));
    return `[${items.map((d) => (d === undefined ? 'hole' : d.get ? 'getter' : describe(d.value))).join(', ')}]`;
  }
  return v === null ? 'null' : 'object';
}
