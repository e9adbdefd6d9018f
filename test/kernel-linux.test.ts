// The Linux Kernel port and its native addon on this machine (no IIO here): memfd, seals, mmap,
// readiness waits, ioctl error mapping, worker threads, and resource use over many cycles.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import * as abi from '../src/abi/index.js';
import {
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_START,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL,
  SYNC_IOC_FILE_INFO,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  abiIoctls,
  decodeIoc,
  io,
  ior,
  ioctlArgRules,
  iowr,
  syncFileInfoStruct,
  udmabufCreateListStruct,
} from '../src/abi/index.js';
import { loadAddon } from '../src/kernel/linux/addon.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { errnoOf } from '../src/errors.js';
import { runWithInheritedFds } from './support/inherited-fds.js';

const kernel = new LinuxKernel();
const c = loadAddon().constants;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Mappings of memfds with this name that the process still has. */
function mappingsOf(name: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes(`/memfd:${name}`)).length;
}

function sealedMemfd(size: number, name = 'iiojs-test'): number {
  const fd = kernel.memfdCreate(name, c.MFD_CLOEXEC | c.MFD_ALLOW_SEALING);
  kernel.ftruncate(fd, size);
  kernel.fcntl(fd, c.F_ADD_SEALS, c.F_SEAL_SHRINK);
  return fd;
}

/** Runs `body` with a fresh page-sized sealed memfd, closed afterwards. */
function withMemfd(body: (fd: number) => void): void {
  const fd = sealedMemfd(kernel.pageSize);
  try {
    body(fd);
  } finally {
    kernel.close(fd);
  }
}

describe('memfd, seals and mmap', () => {
  test('the mapping and the file show the same bytes both ways', () => {
    const size = 4 * kernel.pageSize;
    const fd = sealedMemfd(size);
    try {
      const mapping = kernel.mmap(fd, size, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED);
      assert.equal(mapping.byteLength, size);
      const view = mapping;
      view.set([1, 2, 3], size - 3);
      const fromFile = Buffer.alloc(3);
      readSync(fd, fromFile, 0, 3, size - 3);
      assert.deepEqual([...fromFile], [1, 2, 3]);
      writeSync(fd, Buffer.from([9, 8, 7]), 0, 3, 100);
      assert.deepEqual([...view.subarray(100, 103)], [9, 8, 7]);
      kernel.munmap(mapping);
    } finally {
      kernel.close(fd);
    }
  });

  test('seals are applied and enforced', () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      assert.equal(kernel.fcntl(fd, c.F_GET_SEALS) & c.F_SEAL_SHRINK, c.F_SEAL_SHRINK);
      assert.throws(() => kernel.ftruncate(fd, 1), { code: 'EPERM' }); // shrinking is sealed
      kernel.ftruncate(fd, 2 * kernel.pageSize); // growing is not
      kernel.fcntl(fd, c.F_ADD_SEALS, c.F_SEAL_WRITE);
      assert.throws(() => kernel.mmap(fd, kernel.pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED), {
        code: 'EPERM',
        syscall: 'mmap',
      });
      const readOnly = kernel.mmap(fd, kernel.pageSize, c.PROT_READ, c.MAP_SHARED);
      kernel.munmap(readOnly);
    } finally {
      kernel.close(fd);
    }
  });

  test('a memfd without MFD_ALLOW_SEALING refuses seals', () => {
    const fd = kernel.memfdCreate('iiojs-unsealable', c.MFD_CLOEXEC);
    try {
      assert.throws(() => kernel.fcntl(fd, c.F_ADD_SEALS, c.F_SEAL_SHRINK), { code: 'EPERM', syscall: 'fcntl' });
    } finally {
      kernel.close(fd);
    }
  });

  test('lseek reports the size, as used for DMABUF fds', () => {
    const fd = sealedMemfd(3 * kernel.pageSize);
    try {
      assert.equal(kernel.lseek(fd, 0, c.SEEK_END), 3 * kernel.pageSize);
      assert.equal(kernel.lseek(fd, 0, c.SEEK_SET), 0);
      assert.throws(() => kernel.lseek(fd, -1, c.SEEK_SET), { code: 'EINVAL', syscall: 'lseek' });
    } finally {
      kernel.close(fd);
    }
  });

  test('munmap detaches the ArrayBuffer, so JS can never reach unmapped memory', () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      const mapping = kernel.mmap(fd, kernel.pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED);
      const alias = new Uint16Array(mapping.buffer);
      mapping[0] = 1;
      kernel.munmap(mapping);
      assert.equal(mapping.length, 0);
      assert.equal(mapping.buffer.byteLength, 0);
      assert.equal(alias.length, 0, 'every view of the mapping is detached');
      assert.equal(mapping[0], undefined);
      assert.throws(() => new Uint8Array(mapping.buffer, 0, 1), TypeError);
      assert.throws(() => kernel.munmap(mapping), { code: 'EINVAL', syscall: 'munmap' });
    } finally {
      kernel.close(fd);
    }
  });

  test('mmap of a closed fd fails cleanly with EBADF', () => {
    const fd = sealedMemfd(kernel.pageSize);
    kernel.close(fd);
    assert.throws(() => kernel.mmap(fd, kernel.pageSize, c.PROT_READ, c.MAP_SHARED), {
      code: 'EBADF',
      errno: -9,
      syscall: 'mmap',
    });
  });

  test('10,000 map/unmap cycles leave no fd, mapping or memory behind', () => {
    const fd = sealedMemfd(16 * kernel.pageSize, 'iiojs-cycles');
    try {
      const warm = kernel.mmap(fd, 16 * kernel.pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED);
      assert.equal(mappingsOf('iiojs-cycles'), 1);
      kernel.munmap(warm);
      const fdsBefore = openFds();
      const rssBefore = process.memoryUsage().rss;
      for (let i = 0; i < 10_000; i++) {
        const mapping = kernel.mmap(fd, 16 * kernel.pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED);
        new Uint32Array(mapping.buffer)[i % 1024] = i;
        kernel.munmap(mapping);
      }
      assert.equal(openFds(), fdsBefore);
      assert.equal(mappingsOf('iiojs-cycles'), 0);
      const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      assert.ok(grownMiB < 32, `RSS grew by ${grownMiB.toFixed(1)} MiB over 10,000 cycles`);
    } finally {
      kernel.close(fd);
    }
  });
});

describe('ioctl', () => {
  test('kernel errors become Node-style errors naming the request and the file', () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      const sync = new Uint8Array(8);
      new DataView(sync.buffer).setBigUint64(0, BigInt(DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ), true);
      assert.throws(
        () => kernel.ioctl(fd, DMA_BUF_IOCTL_SYNC, sync),
        (e: Error & Record<string, unknown>) => {
          assert.equal(e.code, 'ENOTTY');
          assert.equal(e.errno, -25);
          assert.equal(e.syscall, 'ioctl(DMA_BUF_IOCTL_SYNC)');
          assert.equal(e.path, '/memfd:iiojs-test (deleted)');
          assert.match(e.message, /^ENOTTY: .+, ioctl\(DMA_BUF_IOCTL_SYNC\) '\/memfd:iiojs-test \(deleted\)'$/);
          return true;
        },
      );
    } finally {
      kernel.close(fd);
    }
  });

  test('a closed fd gives EBADF', () => {
    const fd = sealedMemfd(kernel.pageSize);
    kernel.close(fd);
    assert.throws(() => kernel.ioctl(fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, new Uint8Array(16)), {
      code: 'EBADF',
      syscall: 'ioctl(IIO_BUFFER_DMABUF_ENQUEUE)',
    });
  });

  test('an argument smaller than the size encoded in the request is refused before the kernel sees it', () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      // 0x40106994 encodes 16 bytes: the kernel would read past an 8-byte buffer.
      assert.throws(() => kernel.ioctl(fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, new Uint8Array(8)), {
        name: 'RangeError',
        message: /holds 8 bytes but request 0x40106994 needs 16/,
      });
      assert.throws(() => kernel.ioctl(fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, new Uint16Array(4)), RangeError);
      // a view into a larger buffer counts only its own bytes
      assert.throws(() => kernel.ioctl(fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, new Uint8Array(64).subarray(60)), RangeError);
    } finally {
      kernel.close(fd);
    }
  });

  test('pointer fields are patched for the call and restored afterwards', () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      const arg = new Uint8Array(56).fill(0xab);
      new DataView(arg.buffer).setUint32(40, 1, true); // num_fences 1 (x86/arm: little-endian)
      const before = arg.slice();
      const target = new Uint8Array(80);
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[48, target]]), { code: 'ENOTTY' });
      assert.deepEqual(arg, before, 'the argument is unchanged after the call');
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[49, target]]), RangeError);
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[48, 'x' as never]]), TypeError);
    } finally {
      kernel.close(fd);
    }
  });

  test('wrong arguments throw TypeError or RangeError and never reach the kernel', () => {
    const addon = loadAddon();
    const bad: Array<[() => unknown, ErrorConstructor]> = [
      [() => addon.ioctl('3' as never, 0), TypeError],
      [() => addon.ioctl(-1, 0), RangeError],
      [() => addon.ioctl(1.5, 0), RangeError],
      [() => addon.ioctl(Number.NaN, 0), RangeError],
      [() => addon.ioctl(0, 2 ** 32), RangeError],
      [() => addon.ioctl(0, DMA_BUF_IOCTL_SYNC, {} as never), TypeError],
      [() => addon.ioctl(0, DMA_BUF_IOCTL_SYNC, 2 ** 40), TypeError],
      [() => addon.ioctl(0, 0, 0), RangeError], // request 0 is not in the table
      [() => addon.fcntl(0, 5 /* F_GETLK: pointer argument */), RangeError],
      [() => addon.mmap(0, 0, 1, 1, 0), RangeError],
      [() => addon.mmap(0, 4096, 1, 0x10 /* MAP_FIXED */, 0), RangeError],
      [() => addon.munmap(new ArrayBuffer(8)), TypeError],
      [() => addon.munmap({} as never), TypeError],
      [() => addon.memfdCreate(7 as never, 0), TypeError],
      [() => addon.memfdCreate('x'.repeat(300), 0), RangeError],
      [() => addon.watcherStart({} as never, 1), TypeError],
      [() => addon.watcherCreate(0, 'not a function' as never), TypeError],
      [() => addon.pollNow(0, 0x10000), RangeError],
    ];
    for (const [call, type] of bad) assert.throws(call, type, call.toString());
  });
});

describe('ioctl argument rules (issue 13: no JavaScript value makes the kernel touch memory it was not given)', () => {
  const FIONREAD = 0x541b;
  /** Requests the conformance suites send to see the kernel refuse or resize them. */
  const probes = [
    io('i', 0xee), ior('T', 1, 4), io('b', 0x7f), io('u', 0x7f), io('>', 0x7f),
    iowr('H', 1, 24), iowr('H', 0, 16), iowr('H', 0, 32), ior('H', 0, 24),
  ];


  /** A sync_file_info with num_fences `count` and a recognisable pointer field. */
  function fileInfo(count: number): Uint8Array {
    const arg = syncFileInfoStruct.encode({ numFences: count, syncFenceInfo: 0x1122334455667788n });
    return arg;
  }

  test('the addon exports its request table: exactly abiIoctls(), FIONREAD and the conformance probes, with their extents', () => {
    const table = loadAddon().requests;
    const expected = new Map<number, unknown>(ioctlArgRules());
    expected.set(FIONREAD, { kind: 'struct', size: 4, out: true });
    for (const probe of probes) {
      const { size, read } = decodeIoc(probe);
      expected.set(probe, size === 0 ? { kind: 'none' } : { kind: 'struct', size, out: read });
    }
    assert.deepEqual(new Set(Object.keys(table).map(Number)), new Set(expected.keys()));
    for (const [request, rule] of expected) assert.deepEqual({ ...table[request] }, rule, `0x${request.toString(16)}`);
    for (const [name, request] of Object.entries(abiIoctls())) assert.ok(table[request] !== undefined, name);
    // the struct rules use the request's own _IOC_SIZE
    for (const [name, request] of Object.entries(abiIoctls())) {
      const rule = table[request]!;
      if (rule.kind === 'struct' || rule.kind === 'pointer' || rule.kind === 'flex') {
        assert.equal(rule.size, decodeIoc(request).size, name);
      }
    }
  });

  test('an unknown request is refused with a RangeError naming it, before the kernel sees it', () => {
    withMemfd((fd) => {
      for (const request of [0x5401 /* TCGETS */, 0, iowr('i', 0x94, 16), 0xffffffff]) {
        assert.throws(() => kernel.ioctl(fd, request, new Uint8Array(64)), {
          name: 'RangeError',
          code: 'ERR_OUT_OF_RANGE',
          message: new RegExp(`0x${request.toString(16).padStart(8, '0')} is not one the iiojs addon knows`),
        });
      }
      assert.throws(() => kernel.ioctl(fd, -(2 ** 31)), { code: 'ERR_OUT_OF_RANGE', message: /0x80000000/ });
    });
  });

  test('a number (or nothing) given to a request that takes an address is a TypeError', () => {
    withMemfd((fd) => {
      for (const request of [DMA_BUF_IOCTL_SYNC, UDMABUF_CREATE, SYNC_IOC_FILE_INFO, FIONREAD]) {
        for (const arg of [0, 4096, undefined]) {
          assert.throws(() => kernel.ioctl(fd, request, arg), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
        }
      }
      // and a request that takes none refuses bytes and numbers
      assert.throws(() => kernel.ioctl(fd, io('b', 0x7f), 0), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => kernel.ioctl(fd, io('b', 0x7f), new Uint8Array(8)), TypeError);
      assert.throws(() => kernel.ioctl(fd, io('b', 0x7f)), { code: 'ENOTTY' });
    });
  });

  test('SYNC_IOC_FILE_INFO with num_fences 3 and a 100-byte target is a RangeError', () => {
    withMemfd((fd) => {
      const arg = fileInfo(3);
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[48, new Uint8Array(100)]]), {
        name: 'RangeError',
        code: 'ERR_OUT_OF_RANGE',
        message: /holds 100 bytes but request 0x[0-9a-f]{8} writes 3 × 80 = 240/,
      });
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[48, new Uint8Array(240)]]), { code: 'ENOTTY' });
      // num_fences 0: the kernel writes nothing there, so any target (or none) does
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, fileInfo(0), [[48, new Uint8Array(0)]]), { code: 'ENOTTY' });
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, fileInfo(3)), { code: 'ENOTTY' }); // no target: NULL
      // pointer fields only where the request has them
      assert.throws(() => kernel.ioctl(fd, DMA_BUF_IOCTL_SYNC, new Uint8Array(8), [[0, new Uint8Array(8)]]), TypeError);
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[40, new Uint8Array(240)]]), RangeError);
    });
  });

  test('UDMABUF_CREATE_LIST with a count larger than the bytes hold is a RangeError', () => {
    withMemfd((fd) => {
      const list = new Uint8Array(8 + 2 * 24);
      udmabufCreateListStruct.encode({ count: 3 }, list);
      assert.throws(() => kernel.ioctl(fd, UDMABUF_CREATE_LIST, list), {
        name: 'RangeError',
        message: /holds 56 bytes but request 0x[0-9a-f]{8} needs 80/,
      });
      udmabufCreateListStruct.encode({ count: 0xffffffff }, list);
      assert.throws(() => kernel.ioctl(fd, UDMABUF_CREATE_LIST, list), RangeError);
      udmabufCreateListStruct.encode({ count: 2 }, list);
      assert.throws(() => kernel.ioctl(fd, UDMABUF_CREATE_LIST, list), { code: 'ENOTTY' });
      // more than the stack copy holds: 200 items
      const long = new Uint8Array(8 + 200 * 24);
      udmabufCreateListStruct.encode({ count: 200 }, long);
      assert.throws(() => kernel.ioctl(fd, UDMABUF_CREATE_LIST, long), { code: 'ENOTTY' });
    });
  });

  test('a bad second pointer pair leaves the first pointer slot untouched', () => {
    withMemfd((fd) => {
      for (const second of [[48, 'bad'], [56, new Uint8Array(80)], [48, new Uint8Array(80)], 'bad']) {
        const arg = fileInfo(1);
        const before = arg.slice();
        const pointers = [[48, new Uint8Array(80)], second] as never;
        assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, pointers), RangeError);
        assert.deepEqual(arg, before, JSON.stringify(second));
      }
      const arg = fileInfo(1);
      const before = arg.slice();
      assert.throws(() => kernel.ioctl(fd, SYNC_IOC_FILE_INFO, arg, [[48, 'bad' as never]]), TypeError);
      assert.deepEqual(arg, before);
    });
  });

  test('DMA_BUF_SET_NAME reads a string up to its NUL, at most 32 bytes', () => {
    withMemfd((fd) => {
      assert.throws(() => kernel.ioctl(fd, DMA_BUF_SET_NAME_B, new Uint8Array(4).fill(0x6e)), {
        name: 'RangeError',
        message: /holds 4 bytes without a NUL but request 0x[0-9a-f]{8} reads up to 32/,
      });
      assert.throws(() => kernel.ioctl(fd, DMA_BUF_SET_NAME_B, Uint8Array.of(0x6e, 0)), { code: 'ENOTTY' });
      assert.throws(() => kernel.ioctl(fd, DMA_BUF_SET_NAME_B, new Uint8Array(40).fill(0x6e)), { code: 'ENOTTY' });
    });
  });

  test('a request that writes its argument writes the caller\'s bytes, through any view (FIONREAD)', () => {
    withMemfd((fd) => {
      const avail = new Int32Array(1);
      assert.equal(kernel.ioctl(fd, FIONREAD, avail), 0);
      assert.equal(avail[0], kernel.pageSize);
      const shared = new Int32Array(new SharedArrayBuffer(16)).subarray(2);
      assert.equal(kernel.ioctl(fd, FIONREAD, shared), 0);
      assert.deepEqual([...new Int32Array(shared.buffer)], [0, 0, kernel.pageSize, 0]);
      assert.throws(() => kernel.ioctl(fd, FIONREAD, new Uint8Array(3)), RangeError);
    });
  });
});

describe('usbfs URBs and transfers: argument rules and the URB table (usb.md §A2, on a memfd: ENOTTY)', () => {
  const urbOf = (fields: Partial<abi.UsbdevfsUrb>) => abi.usbdevfsUrbStruct.encode({
    type: abi.USBDEVFS_URB_TYPE_BULK, endpoint: 0x81, status: 0, flags: 0, buffer: 0x55aa55aa55aa55aan, bufferLength: 16, actualLength: 0,
    startFrame: 0, numberOfPackets: 0, errorCount: 0, signr: 0, usercontext: 42n, ...fields,
  });


  test('SUBMITURB: the urb must hold 56 bytes and its buffer buffer_length bytes; ISO URBs are refused', () => {
    withMemfd((fd) => {
      const urb = urbOf({});
      const before = urb.slice();
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb, [[16, new Uint8Array(16)]]), { code: 'ENOTTY', syscall: 'ioctl(USBDEVFS_SUBMITURB)' });
      assert.deepEqual(urb, before, 'the caller\'s urb is not written: the kernel got a copy');
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb.subarray(0, 55), [[16, new Uint8Array(16)]]), { name: 'RangeError', message: /holds 55 bytes but request 0x8038550a needs 56/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb, [[16, new Uint8Array(15)]]), { name: 'RangeError', message: /holds 15 bytes but request 0x8038550a writes 16 × 1 = 16/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb, [[24, new Uint8Array(16)]]), { name: 'RangeError', message: /at offset 16, not 24/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urbOf({ type: abi.USBDEVFS_URB_TYPE_ISO })), { name: 'RangeError', message: /isochronous/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb, [[16, 'data' as never]]), TypeError);
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, 0), TypeError);
      // a negative buffer_length needs no bytes (the kernel refuses it); no buffer at all is NULL
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urbOf({ bufferLength: -1 }), [[16, new Uint8Array(0)]]), { code: 'ENOTTY' });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb), { code: 'ENOTTY' });
    });
  });

  test('REAPURB(NDELAY) take 8 bytes, DISCARDURB the submitted bytes; CONTROL and BULK a u16 or u32 count', () => {
    withMemfd((fd) => {
      for (const request of [abi.USBDEVFS_REAPURB, abi.USBDEVFS_REAPURBNDELAY]) {
        const context = new BigUint64Array([7n]);
        assert.throws(() => kernel.ioctl(fd, request, context), { code: 'ENOTTY' });
        assert.equal(context[0], 7n, 'nothing reaped, nothing written');
        assert.throws(() => kernel.ioctl(fd, request, new Uint8Array(7)), RangeError);
        assert.throws(() => kernel.ioctl(fd, request), TypeError);
      }
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_DISCARDURB, urbOf({})), { code: 'ENOTTY', syscall: 'ioctl(USBDEVFS_DISCARDURB)' });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_DISCARDURB, 0), TypeError);
      const control = abi.usbdevfsCtrlTransferStruct.encode({ bRequestType: 0xc0, bRequest: 1, wValue: 0, wIndex: 0, wLength: 300, timeout: 100, data: 0n });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_CONTROL, control, [[16, new Uint8Array(299)]]), { message: /holds 299 bytes but request 0xc0185500 writes 300 × 1 = 300/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_CONTROL, control, [[16, new Uint8Array(300)]]), { code: 'ENOTTY' });
      const bulk = abi.usbdevfsBulkTransferStruct.encode({ ep: 0x81, len: 70_000, timeout: 100, data: 0n });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_BULK, bulk, [[16, new Uint8Array(65_536)]]), { message: /writes 70000 × 1/ });
      assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_BULK, bulk, [[16, new Uint8Array(70_000)]]), { code: 'ENOTTY' });
    });
  });

  test('5,000 refused SUBMITURBs release their references: the urbs and buffers are collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fd = sealedMemfd(kernel.pageSize);
    const refs: Array<WeakRef<object>> = [];
    try {
      for (let i = 0; i < 5_000; i++) {
        const urb = urbOf({ bufferLength: 4096, usercontext: BigInt(i) });
        const data = new Uint8Array(4096);
        if (i % 500 === 0) refs.push(new WeakRef(urb), new WeakRef(data));
        assert.throws(() => kernel.ioctl(fd, abi.USBDEVFS_SUBMITURB, urb, [[16, data]]), { code: 'ENOTTY' });
      }
    } finally {
      kernel.close(fd);
    }
    assert.equal(loadAddon().urbRelease(fd), 0, 'no refused URB was kept in the table');
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(refs.filter((r) => r.deref() !== undefined).length, 0);
  });
});

describe('readiness waits', () => {
  test('eventfd, socketpair and pipes: readiness, hang-up, errors, cancellation, close', () => {
    const run = runWithInheritedFds(here('./support/fd-readiness-child.js'));
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as Record<string, any>;
    const { POLLIN, POLLOUT, POLLHUP, POLLERR } = c;
    assert.equal(seen['eventfdPendingBeforeWrite'], true);
    assert.equal(seen['eventfdReadable'], POLLIN);
    assert.equal(seen['eventfdWritable'], POLLOUT);
    assert.equal(seen['socketWritableAtOnce'], POLLOUT);
    assert.equal(seen['socketReadPendingBeforeData'], true);
    assert.equal(seen['socketReadable'], POLLIN);
    assert.equal(seen['socketPendingWithPeer'], true);
    assert.equal(seen['socketPeerClosed'] & POLLHUP, POLLHUP, 'peer close is reported as a hang-up');
    assert.equal(seen['abortedWait'].name, 'AbortError');
    assert.equal(seen['abortedWait'].code, 'ABORT_ERR');
    assert.equal(seen['alreadyAbortedWait'].name, 'AbortError');
    assert.equal(seen['timedOutWait'].name, 'AbortError');
    assert.equal(seen['pipeData'], POLLIN);
    assert.equal(seen['pipePendingWithWriter'], true);
    assert.equal(seen['pipeWriterClosed'], POLLHUP, 'a pipe with no writer left is a hang-up');
    assert.equal(seen['pipeReaderClosed'], POLLOUT | POLLERR, 'a pipe with no reader left is an error');
    assert.equal(seen['eventfdPendingAfterDrain'], true);
    assert.equal(seen['closedWhileWaiting'].code, 'ECANCELED');
    assert.equal(seen['closedWhileWaiting'].syscall, 'poll');
    assert.match(seen['closedWhileWaiting'].message, /was closed while waiting/);
    assert.equal(seen['waitOnClosedFd'].code, 'EBADF');
  });

  test('a regular file is always ready (poll(2) semantics, no watcher needed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      writeFileSync(join(dir, 'f'), 'x');
      const fd = await kernel.open(join(dir, 'f'), c.O_RDONLY);
      assert.equal(await kernel.poll(fd, c.POLLIN), c.POLLIN);
      kernel.close(fd);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('worker threads', () => {
  test('the addon works in several workers at once and survives termination mid-wait', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const workers = [0, 1].map(() => new Worker(here('./support/port-worker.js'), { workerData: { fifo, cycles: 300 } }));
      const results = await Promise.all(
        workers.map((w) => new Promise<{ sum: number; writable: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        })),
      );
      for (const r of results) {
        assert.equal(r.writable, c.POLLOUT);
        assert.ok(r.sum > 0);
      }
      // each worker still has a wait pending on the FIFO: terminating must be clean
      const codes = await Promise.all(workers.map((w) => w.terminate()));
      assert.deepEqual(codes, [1, 1]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('files and sysfs-style attributes', () => {
  test('readdir, stat, readText, writeText, open/read/write on a temporary tree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      writeFileSync(join(dir, 'in_voltage0_raw'), '123\n', { mode: 0o444 });
      await kernel.writeText(join(dir, 'sampling_frequency'), '1000\n');
      const entries = (await kernel.readdir(dir)).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(entries, [
        { name: 'in_voltage0_raw', kind: 'file' },
        { name: 'sampling_frequency', kind: 'file' },
      ]);
      assert.equal((await kernel.stat(join(dir, 'in_voltage0_raw'))).mode, 0o444);
      assert.equal(await kernel.readText(join(dir, 'sampling_frequency')), '1000\n');
      await assert.rejects(kernel.writeText(dir, '1'), { code: 'EISDIR' });
      kernel.writeTextSync(join(dir, 'sampling_frequency'), '1000\n'); // the process-exit path
      assert.throws(() => kernel.writeTextSync(dir, '1'), { code: 'EISDIR' });
      await assert.rejects(kernel.readText(join(dir, 'missing')), { code: 'ENOENT', path: join(dir, 'missing') });

      const fd = await kernel.open(join(dir, 'sampling_frequency'), c.O_RDWR);
      assert.equal(await kernel.write(fd, Buffer.from('2000')), 4);
      kernel.lseek(fd, 0, c.SEEK_SET);
      const into = new Uint8Array(16);
      assert.equal(await kernel.read(fd, into), 5);
      assert.equal(Buffer.from(into.subarray(0, 5)).toString(), '2000\n');
      assert.equal(kernel.fcntl(fd, c.F_GETFD) & c.FD_CLOEXEC, c.FD_CLOEXEC, 'fds are close-on-exec');
      kernel.fcntl(fd, c.F_SETFL, kernel.fcntl(fd, c.F_GETFL) | c.O_NONBLOCK);
      assert.equal(kernel.fcntl(fd, c.F_GETFL) & c.O_NONBLOCK, c.O_NONBLOCK);
      kernel.close(fd);

      // read/write errors name the file, as every port call's do
      const attr = join(dir, 'sampling_frequency');
      const writeOnly = await kernel.open(attr, abi.O_WRONLY);
      await assert.rejects(kernel.read(writeOnly, into), { code: 'EBADF', syscall: 'read', path: attr });
      kernel.close(writeOnly);
      const readOnly = await kernel.open(attr, c.O_RDONLY);
      await assert.rejects(kernel.write(readOnly, into), { code: 'EBADF', syscall: 'write', path: attr });
      kernel.close(readOnly);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('directories, links and mounts (configfs gadgets, FunctionFS: usb.md §A1)', () => {
  test('mkdir, symlink, unlink and rmdir on a temporary tree, with Node-style errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      await kernel.mkdir(join(dir, 'functions'), 0o700);
      assert.equal((await kernel.stat(join(dir, 'functions'))).mode, 0o700);
      await kernel.mkdir(join(dir, 'configs'));
      await kernel.symlink(join(dir, 'functions'), join(dir, 'configs', 'link'));
      assert.equal(await kernel.readlink(join(dir, 'configs', 'link')), join(dir, 'functions'));
      assert.equal((await kernel.stat(join(dir, 'configs', 'link'))).kind, 'directory', 'stat follows the link');
      await assert.rejects(kernel.mkdir(join(dir, 'functions')), { code: 'EEXIST', syscall: 'mkdir', path: join(dir, 'functions') });
      await assert.rejects(kernel.rmdir(join(dir, 'configs')), { code: 'ENOTEMPTY', syscall: 'rmdir' });
      await assert.rejects(kernel.symlink('x', join(dir, 'configs', 'link')), { code: 'EEXIST', syscall: 'symlink' });
      await kernel.unlink(join(dir, 'configs', 'link'));
      await assert.rejects(kernel.unlink(join(dir, 'configs', 'link')), { code: 'ENOENT', syscall: 'unlink' });
      await kernel.rmdir(join(dir, 'configs'));
      await kernel.rmdir(join(dir, 'functions'));
      assert.deepEqual(await kernel.readdir(dir), []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('mount and umount a tmpfs with an option string; the kernel\'s errors name the target', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.split(' ')[4] === dir);
    try {
      try {
        await kernel.mount('iiojs-test', dir, 'tmpfs', 'size=64k,mode=0750');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPERM' && process.getuid?.() !== 0) return t.skip('mount(2) needs CAP_SYS_ADMIN');
        throw e;
      }
      const [line] = mounted();
      assert.match(line ?? '', / - tmpfs iiojs-test rw,.*size=64k,mode=750/);
      assert.equal((await kernel.stat(dir)).mode, 0o750, 'the options reached the filesystem');
      await kernel.writeText(join(dir, 'f'), 'x');
      await assert.rejects(kernel.mount('iiojs-test', dir, 'no-such-fs'), { code: 'ENODEV', syscall: 'mount', path: dir, message: /no-such-fs iiojs-test/ });
      await kernel.umount(dir);
      assert.deepEqual(mounted(), []);
      await assert.rejects(kernel.umount(dir), { code: 'EINVAL', syscall: 'umount', path: dir }); // not a mount point
      await assert.rejects(kernel.umount(join(dir, 'missing')), { code: 'ENOENT', syscall: 'umount' });
    } finally {
      if (mounted().length > 0) execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true });
    }
  });

  test('mount arguments that are not plain strings are refused before the kernel sees them', async () => {
    const addon = loadAddon();
    assert.throws(() => addon.mount('x', '/tmp', 'tmpfs', 7 as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => addon.mount('x', '/tmp\0/etc', 'tmpfs'), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /target must not contain NUL/ });
    assert.throws(() => addon.mount('x', '/tmp', 'tmpfs', 'o'.repeat(4096)), { name: 'RangeError', message: /mount data is too long \(max 4095 bytes\)/ });
    assert.throws(() => addon.umount(undefined as never), { name: 'TypeError', message: /target must be a string/ });
    await assert.rejects(kernel.mount('x', 'y'.repeat(5000), 'tmpfs'), RangeError);
  });

  test('a zero-length read is a RangeError: Node would skip the syscall (usb.md §A4, the ep0 status ACK)', async () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      await assert.rejects(kernel.read(fd, new Uint8Array(0)), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /fd \d+ into 0 bytes/ });
      assert.equal(await kernel.read(fd, new Uint8Array(1)), 1, 'the fd is untouched and still reads');
    } finally {
      kernel.close(fd);
    }
  });
});

describe('blocking reads and writes on threads (FunctionFS endpoint files cannot be polled: usb.md §A4)', () => {
  const FIONREAD = 0x541b;
  const threads = () => readdirSync('/proc/self/task').length;

  /** Resolves once `condition()` holds, checking on every turn of the loop (no fixed sleep). */
  async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A FIFO opened O_RDWR: reads block until someone writes (no EOF: we are a writer too). */
  async function withFifo(body: (fd: number, path: string, closed: () => void) => Promise<void>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const fd = await kernel.open(path, c.O_RDWR);
    let open = true;
    try {
      await body(fd, path, () => (open = false));
    } finally {
      if (open) kernel.close(fd);
      rmSync(dir, { recursive: true });
    }
  }

  const pendingFor = async (promise: Promise<unknown>) => {
    const marker = Symbol('pending');
    // two turns of the loop: a call that could complete at once would have by then
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    return (await Promise.race([promise, Promise.resolve(marker)])) === marker;
  };

  test('24 pending reads, many more than libuv\'s 4 pool threads, while fs calls still complete; writes then feed them', async () => {
    await withFifo(async (fd, path) => {
      const before = threads();
      const reads = Array.from({ length: 24 }, () => {
        const into = new Uint8Array(4);
        return kernel.readBlocking(fd, into).then((n) => Buffer.from(into.subarray(0, n)).toString());
      });
      assert.equal(threads(), before + 24, 'one thread per pending call');
      // the pool is free: a burst of fs calls completes while every read still blocks
      const stats = await Promise.all(Array.from({ length: 16 }, () => fs.promises.stat(path)));
      assert.ok(stats.every((s) => s.isFIFO()));
      assert.ok(await pendingFor(Promise.race(reads)), 'no read completes without data');
      await kernel.write(fd, Buffer.from('r'.repeat(4 * 24)));
      assert.deepEqual(await Promise.all(reads), Array(24).fill('rrrr'));
      await until(() => threads() === before, 'every read\'s thread has exited');
    });
  });

  test('an AbortSignal interrupts a blocked read (AbortError); the data written afterwards is not lost', async () => {
    await withFifo(async (fd) => {
      const controller = new AbortController();
      const read = kernel.readBlocking(fd, new Uint8Array(8), { signal: controller.signal });
      assert.ok(await pendingFor(read));
      controller.abort(new Error('stop'));
      await assert.rejects(read, (e: Error & { code?: string; cause?: unknown }) => {
        assert.equal(e.name, 'AbortError');
        assert.equal(e.code, 'ABORT_ERR');
        assert.equal((e.cause as Error).message, 'stop');
        return true;
      });
      await kernel.write(fd, Buffer.from('kept'));
      const into = new Uint8Array(8);
      assert.equal(await kernel.readBlocking(fd, into), 4, 'the aborted read took nothing');
      assert.equal(Buffer.from(into.subarray(0, 4)).toString(), 'kept');
    });
  });

  test('an abort racing the thread\'s start is never lost: 600 reads aborted at once, a turn later and after the call is blocked', async () => {
    await withFifo(async (fd) => {
      const when = [(abort: () => void) => abort(), (abort: () => void) => setImmediate(abort), (abort: () => void) => queueMicrotask(abort)];
      const calls = Array.from({ length: 600 }, (_, i) => {
        const controller = new AbortController();
        const read = kernel.readBlocking(fd, new Uint8Array(1), { signal: controller.signal });
        when[i % when.length]!(() => controller.abort());
        return read;
      });
      const outcomes = await Promise.allSettled(calls);
      assert.ok(outcomes.every((o) => o.status === 'rejected' && (o.reason as Error).name === 'AbortError'));
    });
  });

  test('an already aborted signal rejects without the syscall; aborting after the read completed changes nothing', async () => {
    await withFifo(async (fd) => {
      await kernel.write(fd, Buffer.from('ab'));
      const before = threads();
      await assert.rejects(kernel.readBlocking(fd, new Uint8Array(8), { signal: AbortSignal.abort() }), { name: 'AbortError' });
      assert.equal(threads(), before, 'no thread was started');
      const controller = new AbortController();
      const into = new Uint8Array(8);
      assert.equal(await kernel.readBlocking(fd, into, { signal: controller.signal }), 2, 'the data was still there');
      controller.abort();
      assert.equal(Buffer.from(into.subarray(0, 2)).toString(), 'ab');
    });
  });

  test('close(fd) interrupts the calls pending on it with ECANCELED, and only those', async () => {
    await withFifo(async (fd, path, closed) => {
      const other = await kernel.open(path, c.O_RDWR);
      try {
        const reads = [kernel.readBlocking(fd, new Uint8Array(4)), kernel.readBlocking(fd, new Uint8Array(4))];
        const bystander = kernel.readBlocking(other, new Uint8Array(4));
        assert.ok(await pendingFor(Promise.race([...reads, bystander])));
        kernel.close(fd);
        closed();
        for (const read of reads) {
          await assert.rejects(read, (e: Error & Record<string, unknown>) => {
            assert.equal(e.code, 'ECANCELED');
            assert.equal(e.syscall, 'read');
            assert.equal(e.path, path);
            assert.match(e.message, /^ECANCELED: .*, read '.+': fd \d+ was closed during the read$/);
            return true;
          });
        }
        assert.throws(() => kernel.fcntl(fd, c.F_GETFD), { code: 'EBADF' }, 'the fd itself is closed');
        assert.ok(await pendingFor(bystander), 'a call on another fd of the same FIFO is untouched');
        await kernel.write(other, Buffer.from('wxyz'));
        assert.equal(await bystander, 4);
      } finally {
        kernel.close(other);
      }
    });
  });

  test('a write blocks on a full pipe until a reader drains it; interrupted after a partial write, it keeps its count', async () => {
    await withFifo(async (fd) => {
      const size = 1 << 20;
      const from = new Uint8Array(size).map((_, i) => i * 7);
      const write = kernel.writeBlocking(fd, from);
      const got: Uint8Array[] = [];
      let total = 0;
      while (total < size) {
        const into = new Uint8Array(100_000);
        const n = await kernel.readBlocking(fd, into);
        got.push(into.subarray(0, n));
        total += n;
      }
      assert.equal(await write, size);
      assert.deepEqual(Buffer.concat(got), Buffer.from(from), 'every byte arrived, in order');

      // nobody reads now: the write fills the pipe and blocks; the abort ends it with the count so far
      const controller = new AbortController();
      const partial = kernel.writeBlocking(fd, from, { signal: controller.signal });
      const queued = new Int32Array(1);
      await until(() => kernel.ioctl(fd, FIONREAD, queued) === 0 && queued[0]! > 0 && (loadAddon().pollNow(fd, c.POLLOUT) & c.POLLOUT) === 0, 'the pipe is full');
      controller.abort();
      assert.equal(await partial, queued[0], 'bytes written before the interrupt are reported, not an AbortError');
    });
  });

  test('the bytes stay alive while the kernel may write them, even when nothing else holds them', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await withFifo(async (fd) => {
      let into: Uint8Array | undefined = new Uint8Array(64 * 1024);
      const ref = new WeakRef(into);
      const read = kernel.readBlocking(fd, into);
      into = undefined;
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.ok(ref.deref() !== undefined, 'the pending call holds its bytes');
      await kernel.write(fd, Buffer.from('alive'));
      assert.equal(await read, 5);
      assert.equal(Buffer.from(ref.deref()!.subarray(0, 5)).toString(), 'alive');
    });
  });

  test('process signals do not interrupt a blocking call (its thread takes none)', async () => {
    await withFifo(async (fd) => {
      let seen = 0;
      const onSignal = () => void seen++;
      process.on('SIGUSR2', onSignal);
      try {
        const read = kernel.readBlocking(fd, new Uint8Array(4));
        assert.ok(await pendingFor(read));
        for (let i = 0; i < 5; i++) process.kill(process.pid, 'SIGUSR2');
        await until(() => seen === 5, 'the signals were handled');
        assert.ok(await pendingFor(read), 'still blocked after the signals');
        await kernel.write(fd, Buffer.from('done'));
        assert.equal(await read, 4);
      } finally {
        process.off('SIGUSR2', onSignal);
      }
    });
  });

  test('a pending call keeps the process alive; a finished one keeps nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      // The child blocks in a read with nothing else to do, says so, and exits once it has read.
      const script = `
        import { LinuxKernel } from ${JSON.stringify(new URL('../src/kernel/linux/index.js', import.meta.url).href)};
        const k = new LinuxKernel();
        const fd = await k.open(${JSON.stringify(fifo)}, 2 /* O_RDWR */);
        const into = new Uint8Array(16);
        k.readBlocking(fd, into).then((n) => console.log('read ' + Buffer.from(into.subarray(0, n))));
        console.log('pending');
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk) => { out += chunk; if (out.includes('pending')) resolve(); }));
      // the child is alive only through its pending read; feed it through the FIFO
      const writer = await kernel.open(fifo, c.O_RDWR);
      try {
        await kernel.write(writer, Buffer.from('hello'));
        assert.equal(await exited, 0, 'the child exits on its own once the read is done');
      } finally {
        kernel.close(writer);
      }
      assert.match(out, /pending\nread hello\n/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('terminating a worker mid-read interrupts its reads\' threads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-'));
    try {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const before = threads();
      const worker = new Worker(here('./support/blocking-worker.js'), { workerData: { fifo, reads: 6 } });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      assert.ok(threads() >= before + 6, 'the reads run on threads of their own');
      assert.equal(await worker.terminate(), 1);
      await until(() => threads() === before, 'the worker and its reads\' threads are gone');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('bad arguments: TypeError, EBADF, and unknown ids', async () => {
    const addon = loadAddon();
    await assert.rejects(kernel.readBlocking(0, 'x' as never), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(kernel.writeBlocking(0, new Uint16Array(2) as never), TypeError);
    const fd = sealedMemfd(kernel.pageSize);
    kernel.close(fd);
    await assert.rejects(kernel.readBlocking(fd, new Uint8Array(4)), { code: 'EBADF', syscall: 'read' });
    await assert.rejects(kernel.writeBlocking(fd, new Uint8Array(4)), { code: 'EBADF', syscall: 'write' });
    assert.throws(() => addon.blockingIo(0, new Uint8Array(1), 1 as never, () => {}), TypeError);
    assert.throws(() => addon.blockingIo(0, new Uint8Array(1), false, 'f' as never), TypeError);
    assert.throws(() => addon.blockingIo(-1, new Uint8Array(1), false, () => {}), RangeError);
    assert.equal(addon.blockingCancel(2 ** 52), -errnoOf('ENOENT'));
    assert.throws(() => addon.blockingCancel(0), RangeError);
  });

  test('a memfd reads and writes through the same path (a file that never blocks)', async () => {
    const fd = sealedMemfd(kernel.pageSize);
    try {
      assert.equal(await kernel.writeBlocking(fd, Buffer.from('memfd')), 5);
      kernel.lseek(fd, 0, c.SEEK_SET);
      const into = new Uint8Array(5);
      assert.equal(await kernel.readBlocking(fd, into), 5);
      assert.equal(Buffer.from(into).toString(), 'memfd');
      assert.equal(await kernel.readBlocking(fd, new Uint8Array(0)), 0, 'a zero-length read is made (unlike read())');
    } finally {
      kernel.close(fd);
    }
  });

  test('1,400 calls (completed, aborted, interrupted by close) lose no byte and leave no thread, fd or memory behind', async () => {
    await withFifo(async (fd, path) => {
      const threadsBefore = threads();
      const fdsBefore = openFds();
      const rssBefore = process.memoryUsage().rss;
      const queued = new Int32Array(1);
      for (let round = 0; round < 100; round++) {
        const other = await kernel.open(path, c.O_RDWR);
        const controller = new AbortController();
        const plain = Array.from({ length: 8 }, () => kernel.readBlocking(other, new Uint8Array(1)));
        const abortable = Array.from({ length: 6 }, () => kernel.readBlocking(other, new Uint8Array(1), { signal: controller.signal }));
        await kernel.write(fd, new Uint8Array(8));
        controller.abort();
        kernel.close(other);
        const codes = async (calls: Promise<number>[]) =>
          (await Promise.allSettled(calls)).map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error & { code: string }).code));
        const [plainOutcomes, abortableOutcomes] = await Promise.all([codes(plain), codes(abortable)]);
        assert.ok(plainOutcomes.every((o) => o === 1 || o === 'ECANCELED'), JSON.stringify(plainOutcomes));
        assert.ok(abortableOutcomes.every((o) => o === 1 || o === 'ABORT_ERR'), JSON.stringify(abortableOutcomes));
        // each byte was read by exactly one call, or is still in the pipe
        const reads = [...plainOutcomes, ...abortableOutcomes].filter((o) => o === 1).length;
        kernel.ioctl(fd, FIONREAD, queued);
        assert.equal(reads + queued[0]!, 8, `round ${round}: ${reads} read, ${queued[0]} left`);
        if (queued[0]! > 0) await kernel.read(fd, new Uint8Array(queued[0]!));
      }
      await until(() => threads() === threadsBefore, 'every call\'s thread has exited');
      assert.equal(openFds(), fdsBefore, 'no dup of an fd is left open');
      const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      assert.ok(grownMiB < 32, `RSS grew by ${grownMiB.toFixed(1)} MiB`);
    });
  });
});

describe('without the addon', () => {
  test('file access still works and native calls name the fix', () => {
    const script = `
      import { LinuxKernel } from ${JSON.stringify(new URL('../src/kernel/linux/index.js', import.meta.url).href)};
      const k = new LinuxKernel();
      const version = await k.readText('/proc/version');
      try { k.memfdCreate('x', 0); console.log('loaded'); }
      catch (e) { console.log(JSON.stringify({ version: version.length > 0, code: e.code, message: e.message })); }
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, IIOJS_ADDON: '/nonexistent/iiojs_kernel.node' },
    });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { version: boolean; code: string; message: string };
    assert.equal(out.version, true);
    assert.equal(out.code, 'ERR_IIOJS_ADDON_MISSING');
    assert.match(out.message, /\/nonexistent\/iiojs_kernel\.node/);
    assert.match(out.message, /npm rebuild iiojs/);
  });
});

describe('the ABI tables agree with the C headers compiled into the addon', () => {
  test('open, fcntl, memfd, mmap, lseek and poll constants', () => {
    const names = [
      'O_RDONLY', 'O_RDWR', 'O_NONBLOCK', 'O_CLOEXEC', 'O_ACCMODE', 'F_GETFD', 'F_SETFD', 'F_GETFL', 'F_SETFL',
      'FD_CLOEXEC', 'F_ADD_SEALS', 'F_GET_SEALS', 'F_SEAL_SEAL', 'F_SEAL_SHRINK', 'F_SEAL_GROW', 'F_SEAL_WRITE',
      'F_SEAL_FUTURE_WRITE', 'MFD_CLOEXEC', 'MFD_ALLOW_SEALING', 'MFD_HUGETLB', 'PROT_READ', 'PROT_WRITE',
      'MAP_SHARED', 'MAP_PRIVATE', 'SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR',
      'POLLHUP', 'POLLNVAL', 'POLLRDNORM', 'POLLWRNORM',
    ] as const;
    const table = abi as unknown as Record<string, number>;
    for (const name of names) assert.equal(table[name], c[name], name);
  });
});
