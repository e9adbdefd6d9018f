// Tests for src/abi: every number, struct size and field offset is checked against
// kernel-abi.md (expected values are the doc's, hard-coded), plus the codecs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';

import {
  ALT_IOC_LAYOUT,
  CURRENT_IOC_LAYOUT,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_NAME_LEN,
  encodeDmaBufName,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_SYNC_END,
  DMA_BUF_SYNC_READ,
  DMA_BUF_SYNC_RW,
  DMA_BUF_SYNC_START,
  DMA_BUF_SYNC_VALID_FLAGS_MASK,
  DMA_BUF_SYNC_WRITE,
  DMA_HEAP_IOCTL_ALLOC,
  DMA_HEAP_VALID_FD_FLAGS,
  DMA_HEAP_VALID_HEAP_FLAGS,
  FD_CLOEXEC,
  FUNCTIONFS_DMABUF_ATTACH,
  FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER,
  F_ADD_SEALS,
  F_GETFD,
  F_GETFL,
  F_GET_SEALS,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  F_SETFD,
  F_SETFL,
  GENERIC_IOC_LAYOUT,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL,
  IIO_BUFFER_DMABUF_CYCLIC,
  IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL,
  IIO_BUFFER_DMABUF_SUPPORTED_FLAGS,
  IIO_BUFFER_GET_FD_IOCTL,
  IIO_CHAN_TYPES,
  IIO_EVENT_DIRECTIONS,
  IIO_EVENT_TYPES,
  IIO_GET_EVENT_FD_IOCTL,
  IIO_MODIFIERS,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_HUGETLB,
  O_ACCMODE,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  PARISC_IOC_LAYOUT,
  POLLERR,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  POLLOUT,
  POLLPRI,
  POLLRDNORM,
  POLLWRNORM,
  PROT_READ,
  PROT_WRITE,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  SIZEOF_INT,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_MERGE,
  SYNC_IOC_SET_DEADLINE,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  UDMABUF_FLAGS_CLOEXEC,
  UDMABUF_LIST_LIMIT,
  USB_FFS_DMABUF_TRANSFER_MASK,
  abiIoctls,
  chars,
  decodeIioEventId,
  decodeIoc,
  decodeUdmabufCreateList,
  defineStruct,
  dmaBufExportSyncFileStruct,
  dmaBufImportSyncFileStruct,
  dmaBufIoctls,
  dmaBufSyncStruct,
  dmaHeapAllocationDataStruct,
  dmaHeapIoctls,
  encodeIioEventId,
  encodeUdmabufCreateList,
  functionfsIoctls,
  iioDmabufStruct,
  iioEventDataStruct,
  iioIoctls,
  io,
  ioc,
  iocLayoutFor,
  ioctlName,
  ior,
  iow,
  iowr,
  oCloexecFor,
  pollWrNormFor,
  s32,
  s64,
  syncFenceInfoStruct,
  syncFileInfoStruct,
  syncFileIoctls,
  syncMergeDataStruct,
  syncSetDeadlineStruct,
  u32,
  u64,
  udmabufCreateItemStruct,
  udmabufCreateListStruct,
  udmabufCreateStruct,
  udmabufIoctls,
  usbFfsDmabufTransferReqStruct,
  usbfsIoctls,
  type DecodedStruct,
  type Field,
  type IioDmabuf,
  type IocLayout,
  type Struct,
} from '../src/abi/index.js';

const LE = endianness() === 'LE';

// kernel-abi Appendix A (generic layout), with the decimal values of §2.1, §4.1, §4.2, §4.4,
// §4.6 and §5.1 where the doc gives them.
const DOC_GENERIC: ReadonlyArray<readonly [name: string, hex: number, dec: number | undefined, section: string]> = [
  ['IIO_GET_EVENT_FD_IOCTL', 0x80046990, 2147772816, '§2.1'],
  ['IIO_BUFFER_GET_FD_IOCTL', 0xc0046991, 3221514641, '§1.2 §2.1'],
  ['IIO_BUFFER_DMABUF_ATTACH_IOCTL', 0x40046992, 1074030994, '§2.1'],
  ['IIO_BUFFER_DMABUF_DETACH_IOCTL', 0x40046993, 1074030995, '§2.1'],
  ['IIO_BUFFER_DMABUF_ENQUEUE_IOCTL', 0x40106994, 1074817428, '§2.1'],
  ['DMA_BUF_IOCTL_SYNC', 0x40086200, 1074291200, '§4.4'],
  ['DMA_BUF_SET_NAME_A', 0x40046201, undefined, '§4.5'],
  ['DMA_BUF_SET_NAME_B', 0x40086201, undefined, '§4.5'],
  ['DMA_BUF_IOCTL_EXPORT_SYNC_FILE', 0xc0086202, 3221774850, '§4.6'],
  ['DMA_BUF_IOCTL_IMPORT_SYNC_FILE', 0x40086203, 1074291203, '§4.6'],
  ['DMA_HEAP_IOCTL_ALLOC', 0xc0184800, 3222816768, '§4.1'],
  ['UDMABUF_CREATE', 0x40187542, 1075344706, '§4.2'],
  ['UDMABUF_CREATE_LIST', 0x40087543, 1074296131, '§4.2'],
  ['SYNC_IOC_MERGE', 0xc0303e03, undefined, '§4.6'],
  ['SYNC_IOC_FILE_INFO', 0xc0383e04, undefined, '§4.6'],
  ['SYNC_IOC_SET_DEADLINE', 0x40103e05, undefined, '§4.6'],
  ['FUNCTIONFS_DMABUF_ATTACH', 0x40046783, 1074030467, '§5.1'],
  ['FUNCTIONFS_DMABUF_DETACH', 0x40046784, 1074030468, '§5.1'],
  ['FUNCTIONFS_DMABUF_TRANSFER', 0x40106785, 1074816901, '§5.1'],
];

// kernel-abi §0.2 says these are not valid on MIPS/PowerPC/SPARC/Alpha. Expected values worked
// out by hand from asm/ioctl.h there: NONE=1, READ=2, WRITE=4 at bit 29, 13-bit size.
const ALT_EXPECTED: Readonly<Record<string, number>> = {
  IIO_GET_EVENT_FD_IOCTL: 0x40046990, // _IOR: dir 2
  IIO_BUFFER_GET_FD_IOCTL: 0xc0046991, // _IOWR: dir 6 happens to equal the generic value
  IIO_BUFFER_DMABUF_ATTACH_IOCTL: 0x80046992,
  IIO_BUFFER_DMABUF_DETACH_IOCTL: 0x80046993,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL: 0x80106994,
  DMA_BUF_IOCTL_SYNC: 0x80086200,
  DMA_BUF_SET_NAME_A: 0x80046201,
  DMA_BUF_SET_NAME_B: 0x80086201,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE: 0xc0086202,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE: 0x80086203,
  DMA_HEAP_IOCTL_ALLOC: 0xc0184800,
  UDMABUF_CREATE: 0x80187542,
  UDMABUF_CREATE_LIST: 0x80087543,
  SYNC_IOC_MERGE: 0xc0303e03,
  SYNC_IOC_FILE_INFO: 0xc0383e04,
  SYNC_IOC_SET_DEADLINE: 0x80103e05,
  FUNCTIONFS_DMABUF_ATTACH: 0x80046783,
  FUNCTIONFS_DMABUF_DETACH: 0x80046784,
  FUNCTIONFS_DMABUF_TRANSFER: 0x80106785,
};

// The exported constants, by kernel name, as a consumer sees them.
const EXPORTED: Readonly<Record<string, number>> = {
  IIO_GET_EVENT_FD_IOCTL,
  IIO_BUFFER_GET_FD_IOCTL,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL,
  IIO_BUFFER_DMABUF_DETACH_IOCTL,
  IIO_BUFFER_DMABUF_ENQUEUE_IOCTL,
  DMA_BUF_IOCTL_SYNC,
  DMA_BUF_SET_NAME_A,
  DMA_BUF_SET_NAME_B,
  DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
  DMA_BUF_IOCTL_IMPORT_SYNC_FILE,
  DMA_HEAP_IOCTL_ALLOC,
  UDMABUF_CREATE,
  UDMABUF_CREATE_LIST,
  SYNC_IOC_MERGE,
  SYNC_IOC_FILE_INFO,
  SYNC_IOC_SET_DEADLINE,
  FUNCTIONFS_DMABUF_ATTACH,
  FUNCTIONFS_DMABUF_DETACH,
  FUNCTIONFS_DMABUF_TRANSFER,
};

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// The USB requests (usbfs, FunctionFS's endpoint ioctls) are pinned in abi-usb.test.ts.
const USB_REQUESTS: ReadonlySet<string> = new Set([
  ...Object.keys(usbfsIoctls()),
  ...Object.keys(functionfsIoctls()).filter((name) => !name.startsWith('FUNCTIONFS_DMABUF_')),
]);
/** abiIoctls() without the USB requests: the requests of kernel-abi §1–§5. */
function kernelAbiIoctls(layout: IocLayout): Readonly<Record<string, number>> {
  return Object.fromEntries(Object.entries(abiIoctls(layout)).filter(([name]) => !USB_REQUESTS.has(name)));
}

test('ioc: the generic and alternate layouts (kernel-abi §0.2)', () => {
  // §0.2: 14-bit size, 2-bit dir, NONE=0 WRITE=1 READ=2.
  assert.deepEqual({ ...GENERIC_IOC_LAYOUT }, { sizeBits: 14, dirBits: 2, none: 0, write: 1, read: 2 });
  assert.deepEqual({ ...ALT_IOC_LAYOUT }, { sizeBits: 13, dirBits: 3, none: 1, write: 4, read: 2 });
  assert.deepEqual({ ...PARISC_IOC_LAYOUT }, { sizeBits: 14, dirBits: 2, none: 0, write: 2, read: 1 });

  for (const arch of ['mips', 'mipsel', 'mips64', 'mips64el', 'ppc', 'ppc64', 'sparc', 'sparc64', 'alpha']) {
    assert.equal(iocLayoutFor(arch), ALT_IOC_LAYOUT, arch);
  }
  for (const arch of ['x64', 'ia32', 'arm', 'arm64', 'riscv64', 's390x', 'loong64', 'something-new']) {
    assert.equal(iocLayoutFor(arch), GENERIC_IOC_LAYOUT, arch);
  }
  assert.equal(iocLayoutFor('parisc'), PARISC_IOC_LAYOUT);
  assert.equal(CURRENT_IOC_LAYOUT, iocLayoutFor(process.arch));
});

test('ioc: io/ior/iow/iowr encode dir, size, type and nr (kernel-abi §0.2)', () => {
  const g = GENERIC_IOC_LAYOUT;
  // value = (dir << 30) | (size << 16) | (type << 8) | nr
  assert.equal(io('i', 0xee, g), 0x000069ee);
  assert.equal(ior('T', 1, 4, g), 0x80045401);
  assert.equal(iow('b', 0x7f, 0, g), 0x4000627f);
  assert.equal(iowr(0x3e, 0, 0x3fff, g), 0xffff3e00); // largest generic size; type as a number
  assert.equal(iowr('i', 0x91, SIZEOF_INT, g), 0xc0046991);
  // A struct definition can stand in for its size.
  assert.equal(iow('i', 0x94, { size: 16 }, g), 0x40106994);

  const a = ALT_IOC_LAYOUT;
  assert.equal(io('i', 0xee, a), 0x200069ee); // _IOC_NONE has its own bit on MIPS
  assert.equal(ior('i', 0x90, 4, a), 0x40046990); // _IOR on MIPS uses dir 2
  assert.equal(iow('i', 0x92, 4, a), 0x80046992); // IIO_BUFFER_DMABUF_ATTACH on MIPS
  assert.equal(iow('b', 0, 8, a), 0x80086200); // DMA_BUF_IOCTL_SYNC on MIPS
  assert.equal(iowr('b', 2, 8, a), 0xc0086202);
  assert.equal(iowr('x', 0xff, 0x1fff, a), 0xdfff78ff); // largest alternate size

  const p = PARISC_IOC_LAYOUT;
  assert.equal(iow('i', 0x92, 4, p), 0x80046992);
  assert.equal(ior('i', 0x90, 4, p), 0x40046990);

  // Results are unsigned 32-bit numbers.
  for (const v of [iowr('i', 0x91, 4, g), iow('i', 0x92, 4, a), ioc(7, 'z', 0xff, 0x1fff, a)]) {
    assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, hex(v));
  }
  assert.equal(ioc(7, 'z', 0xff, 0x1fff, a), 0xffff7aff);
});

test('ioc: out-of-range nr, type, size and dir are RangeErrors naming the value', () => {
  const g = GENERIC_IOC_LAYOUT;
  assert.throws(() => iow('i', 256, 4, g), { name: 'RangeError', message: /nr 256\b/ });
  assert.throws(() => iow('i', -1, 4, g), { name: 'RangeError', message: /nr -1\b/ });
  assert.throws(() => iow('i', 1.5, 4, g), { name: 'RangeError', message: /nr 1\.5\b/ });
  assert.throws(() => iow('ab', 1, 4, g), { name: 'RangeError', message: /"ab"/ });
  assert.throws(() => iow('', 1, 4, g), { name: 'RangeError', message: /""/ });
  assert.throws(() => iow('\u0100', 1, 4, g), { name: 'RangeError', message: /type/ });
  assert.throws(() => iow(256, 1, 4, g), { name: 'RangeError', message: /type 256\b/ });
  assert.throws(() => iow(-1, 1, 4, g), { name: 'RangeError', message: /type -1\b/ });
  assert.throws(() => iow('i', 1, 16384, g), { name: 'RangeError', message: /size 16384\b/ });
  assert.throws(() => iow('i', 1, -4, g), { name: 'RangeError', message: /size -4\b/ });
  assert.throws(() => iow('i', 1, 8192, ALT_IOC_LAYOUT), { name: 'RangeError', message: /size 8192\b/ });
  assert.equal(iow('i', 1, 8191, ALT_IOC_LAYOUT), 0x9fff6901);
  assert.throws(() => ioc(4, 'i', 1, 4, g), { name: 'RangeError', message: /dir 4\b/ });
  assert.throws(() => ioc(8, 'i', 1, 4, ALT_IOC_LAYOUT), { name: 'RangeError', message: /dir 8\b/ });
});

test('decodeIoc round-trips every request on every layout (kernel-abi §0.2)', () => {
  const d = decodeIoc(0xc0046991, GENERIC_IOC_LAYOUT);
  assert.deepEqual(d, { dir: 3, type: 0x69, nr: 0x91, size: 4, read: true, write: true });
  assert.deepEqual(decodeIoc(0x40106994, GENERIC_IOC_LAYOUT), {
    dir: 1, type: 0x69, nr: 0x94, size: 16, read: false, write: true,
  });
  assert.deepEqual(decodeIoc(0x40046990, ALT_IOC_LAYOUT), {
    dir: 2, type: 0x69, nr: 0x90, size: 4, read: true, write: false,
  });
  assert.deepEqual(decodeIoc(0x200069ee, ALT_IOC_LAYOUT), {
    dir: 1, type: 0x69, nr: 0xee, size: 0, read: false, write: false,
  });
  // The same number means different things on the two layouts.
  assert.deepEqual(decodeIoc(0x80086200, ALT_IOC_LAYOUT), {
    dir: 4, type: 0x62, nr: 0, size: 8, read: false, write: true,
  });
  assert.deepEqual(decodeIoc(0x80086200, GENERIC_IOC_LAYOUT), {
    dir: 2, type: 0x62, nr: 0, size: 8, read: true, write: false,
  });
  // Signed (C int) forms decode like their unsigned value.
  assert.deepEqual(decodeIoc(0xc0046991 | 0, GENERIC_IOC_LAYOUT), d);

  for (const layout of [GENERIC_IOC_LAYOUT, ALT_IOC_LAYOUT, PARISC_IOC_LAYOUT]) {
    for (const [name, value] of Object.entries(abiIoctls(layout))) {
      const f = decodeIoc(value, layout);
      assert.equal(ioc(f.dir, f.type, f.nr, f.size, layout), value, name);
    }
  }
  assert.throws(() => decodeIoc(2 ** 32, GENERIC_IOC_LAYOUT), { name: 'RangeError', message: /4294967296/ });
  assert.throws(() => decodeIoc(0.5, GENERIC_IOC_LAYOUT), { name: 'RangeError', message: /0\.5/ });
});

test('every request number on the generic layout matches the doc table (kernel-abi Appendix A)', () => {
  const generic = kernelAbiIoctls(GENERIC_IOC_LAYOUT);
  assert.deepEqual(Object.keys(generic).sort(), DOC_GENERIC.map(([name]) => name).sort());
  for (const [name, value, dec, section] of DOC_GENERIC) {
    assert.equal(hex(generic[name] ?? -1), hex(value), `${name} (kernel-abi ${section})`);
    if (dec !== undefined) assert.equal(value, dec, `${name}: doc hex and decimal agree`);
  }
  // Per-component functions give the same numbers (kernel-abi §2.1, §4.1, §4.2, §4.4–§4.6, §5.1).
  assert.equal(iioIoctls(GENERIC_IOC_LAYOUT).IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, 0x40106994);
  assert.equal(dmaBufIoctls(GENERIC_IOC_LAYOUT).DMA_BUF_IOCTL_SYNC, 0x40086200);
  assert.equal(dmaHeapIoctls(GENERIC_IOC_LAYOUT).DMA_HEAP_IOCTL_ALLOC, 0xc0184800);
  assert.equal(udmabufIoctls(GENERIC_IOC_LAYOUT).UDMABUF_CREATE_LIST, 0x40087543);
  assert.equal(syncFileIoctls(GENERIC_IOC_LAYOUT).SYNC_IOC_FILE_INFO, 0xc0383e04);
  assert.equal(functionfsIoctls(GENERIC_IOC_LAYOUT).FUNCTIONFS_DMABUF_TRANSFER, 0x40106785);
});

test('every request number on the MIPS/PowerPC/SPARC/Alpha layout (kernel-abi §0.2)', () => {
  const alt = kernelAbiIoctls(ALT_IOC_LAYOUT);
  assert.deepEqual(Object.keys(alt).sort(), Object.keys(ALT_EXPECTED).sort());
  for (const [name, value] of Object.entries(ALT_EXPECTED)) assert.equal(hex(alt[name] ?? -1), hex(value), name);
  assert.equal(iioIoctls(iocLayoutFor('mips')).IIO_BUFFER_DMABUF_ATTACH_IOCTL, 0x80046992);
  assert.equal(dmaBufIoctls(iocLayoutFor('ppc64')).DMA_BUF_IOCTL_SYNC, 0x80086200);
});

test('exported constants are the numbers for the running arch', () => {
  const mine = kernelAbiIoctls(iocLayoutFor(process.arch));
  assert.deepEqual({ ...mine }, EXPORTED);
  if (CURRENT_IOC_LAYOUT === GENERIC_IOC_LAYOUT) {
    // kernel-abi Appendix A, verbatim, on x86_64/i386/arm/arm64.
    for (const [name, value] of DOC_GENERIC) assert.equal(hex(EXPORTED[name] ?? -1), hex(value), name);
  }
});

test('flag and limit constants (kernel-abi §2.2, §4.1, §4.2, §4.4, §4.5, §5.1)', () => {
  // §2.2
  assert.equal(IIO_BUFFER_DMABUF_CYCLIC, 0x1);
  assert.equal(IIO_BUFFER_DMABUF_SUPPORTED_FLAGS, 0x00000001);
  // §4.4
  assert.equal(DMA_BUF_SYNC_READ, 1);
  assert.equal(DMA_BUF_SYNC_WRITE, 2);
  assert.equal(DMA_BUF_SYNC_RW, 3);
  assert.equal(DMA_BUF_SYNC_START, 0);
  assert.equal(DMA_BUF_SYNC_END, 4);
  assert.equal(DMA_BUF_SYNC_VALID_FLAGS_MASK, 7);
  // §4.5
  assert.equal(DMA_BUF_NAME_LEN, 32);
  // §4.1: fd_flags & ~(O_CLOEXEC | O_ACCMODE) → EINVAL; heap_flags must be 0.
  assert.equal(DMA_HEAP_VALID_FD_FLAGS, O_CLOEXEC | 3);
  assert.equal(DMA_HEAP_VALID_HEAP_FLAGS, 0n);
  if (oCloexecFor(process.arch) === 0o2000000) assert.equal(DMA_HEAP_VALID_FD_FLAGS, 0x80003);
  // §4.2
  assert.equal(UDMABUF_FLAGS_CLOEXEC, 0x01);
  assert.equal(UDMABUF_LIST_LIMIT, 1024);
  // §5.1
  assert.equal(USB_FFS_DMABUF_TRANSFER_MASK, 0x0);
});

test('open/fcntl/memfd/mmap/lseek/poll constants', () => {
  // O_CLOEXEC per arch: generic 0o2000000, alpha/parisc 0o10000000, sparc 0x400000.
  assert.equal(oCloexecFor('x64'), 0o2000000);
  assert.equal(oCloexecFor('arm64'), 0o2000000);
  assert.equal(oCloexecFor('mips'), 0o2000000);
  assert.equal(oCloexecFor('alpha'), 0o10000000);
  assert.equal(oCloexecFor('parisc'), 0o10000000);
  assert.equal(oCloexecFor('sparc64'), 0x400000);
  assert.equal(O_CLOEXEC, oCloexecFor(process.arch));
  // linux-6.12-probe.txt dmabuf_fdinfo on x86_64: "flags: 02000002" for O_RDWR|O_CLOEXEC.
  assert.equal(oCloexecFor('x64') | O_RDWR, 0o2000002);

  assert.equal(O_RDONLY, 0);
  assert.equal(O_RDWR, 2);
  assert.equal(O_ACCMODE, 3);
  assert.ok(O_NONBLOCK > 0 && (O_NONBLOCK & (O_ACCMODE | O_CLOEXEC)) === 0);
  if (process.arch === 'x64' || process.arch === 'arm64' || process.arch === 'arm' || process.arch === 'ia32') {
    assert.equal(O_NONBLOCK, 0o4000);
  }

  assert.deepEqual([F_GETFD, F_SETFD, F_GETFL, F_SETFL, FD_CLOEXEC], [1, 2, 3, 4, 1]);
  assert.deepEqual([F_ADD_SEALS, F_GET_SEALS], [1033, 1034]);
  assert.deepEqual([F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE], [1, 2, 4, 8, 16]);
  assert.deepEqual([MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB], [1, 2, 4]);
  assert.deepEqual([PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE], [1, 2, 1, 2]);
  assert.deepEqual([SEEK_SET, SEEK_CUR, SEEK_END], [0, 1, 2]);
  assert.deepEqual(
    [POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM],
    [0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40],
  );
  // POLLWRNORM is POLLOUT on MIPS and SPARC, 0x100 elsewhere.
  assert.equal(pollWrNormFor('x64'), 0x100);
  assert.equal(pollWrNormFor('ppc64'), 0x100);
  assert.equal(pollWrNormFor('mipsel'), 0x4);
  assert.equal(pollWrNormFor('sparc64'), 0x4);
  assert.equal(POLLWRNORM, pollWrNormFor(process.arch));
});

test('O_CLOEXEC and O_ACCMODE agree with the running kernel (/proc/self/fdinfo)', () => {
  // libuv opens every file with O_CLOEXEC, so the kernel reports our O_CLOEXEC bit.
  const fd = openSync('/proc/self/stat', 'r');
  try {
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
    const m = /^flags:\s+([0-7]+)$/m.exec(info);
    assert.ok(m?.[1] !== undefined, info);
    const flags = parseInt(m[1], 8);
    assert.equal(flags & O_CLOEXEC, O_CLOEXEC);
    assert.equal(flags & O_ACCMODE, O_RDONLY);
  } finally {
    closeSync(fd);
  }
});

type Layout = Readonly<Record<string, readonly [offset: number, size: number, kind: Field['kind']]>>;

function assertLayout<S extends Readonly<Record<string, Field>>>(s: Struct<S>, name: string, size: number, layout: Layout): void {
  assert.equal(s.name, name);
  assert.equal(s.size, size, `sizeof(struct ${name})`);
  const actual: Record<string, readonly [number, number, string]> = {};
  for (const [field, f] of Object.entries(s.fields)) actual[field] = [f.offset, f.size, f.kind];
  assert.deepEqual(actual, layout, `struct ${name} fields`);
}

test('struct sizes and field offsets (kernel-abi §1.1, §2.2, §4.1, §4.2, §4.4, §4.6, §5.1)', () => {
  // §2.2
  assertLayout(iioDmabufStruct, 'iio_dmabuf', 16, { fd: [0, 4, 'u32'], flags: [4, 4, 'u32'], bytesUsed: [8, 8, 'u64'] });
  // §1.1
  assertLayout(iioEventDataStruct, 'iio_event_data', 16, { id: [0, 8, 'u64'], timestamp: [8, 8, 's64'] });
  // §4.4
  assertLayout(dmaBufSyncStruct, 'dma_buf_sync', 8, { flags: [0, 8, 'u64'] });
  // §4.6
  assertLayout(dmaBufExportSyncFileStruct, 'dma_buf_export_sync_file', 8, { flags: [0, 4, 'u32'], fd: [4, 4, 's32'] });
  assertLayout(dmaBufImportSyncFileStruct, 'dma_buf_import_sync_file', 8, { flags: [0, 4, 'u32'], fd: [4, 4, 's32'] });
  // §4.1
  assertLayout(dmaHeapAllocationDataStruct, 'dma_heap_allocation_data', 24, {
    len: [0, 8, 'u64'], fd: [8, 4, 'u32'], fdFlags: [12, 4, 'u32'], heapFlags: [16, 8, 'u64'],
  });
  // §4.2
  assertLayout(udmabufCreateStruct, 'udmabuf_create', 24, {
    memfd: [0, 4, 'u32'], flags: [4, 4, 'u32'], offset: [8, 8, 'u64'], size: [16, 8, 'u64'],
  });
  assertLayout(udmabufCreateItemStruct, 'udmabuf_create_item', 24, {
    memfd: [0, 4, 'u32'], pad: [4, 4, 'u32'], offset: [8, 8, 'u64'], size: [16, 8, 'u64'],
  });
  assertLayout(udmabufCreateListStruct, 'udmabuf_create_list', 8, { flags: [0, 4, 'u32'], count: [4, 4, 'u32'] });
  // §4.6 (sync_merge_data and sync_set_deadline sizes from the SYNC_IOC_* values 0xC0303E03, 0x40103E05)
  assertLayout(syncMergeDataStruct, 'sync_merge_data', 48, {
    name: [0, 32, 'chars'], fd2: [32, 4, 's32'], fence: [36, 4, 's32'], flags: [40, 4, 'u32'], pad: [44, 4, 'u32'],
  });
  assertLayout(syncFenceInfoStruct, 'sync_fence_info', 80, {
    objName: [0, 32, 'chars'], driverName: [32, 32, 'chars'], status: [64, 4, 's32'], flags: [68, 4, 'u32'],
    timestampNs: [72, 8, 'u64'],
  });
  assertLayout(syncFileInfoStruct, 'sync_file_info', 56, {
    name: [0, 32, 'chars'], status: [32, 4, 's32'], flags: [36, 4, 'u32'], numFences: [40, 4, 'u32'],
    pad: [44, 4, 'u32'], syncFenceInfo: [48, 8, 'u64'],
  });
  assertLayout(syncSetDeadlineStruct, 'sync_set_deadline', 16, { deadlineNs: [0, 8, 'u64'], pad: [8, 8, 'u64'] });
  // §5.1
  assertLayout(usbFfsDmabufTransferReqStruct, 'usb_ffs_dmabuf_transfer_req', 16, {
    fd: [0, 4, 's32'], flags: [4, 4, 'u32'], length: [8, 8, 'u64'],
  });
});

test('ioctl size fields match the struct sizes (kernel-abi §2.1, §4.1, §4.2, §4.6, §5.1)', () => {
  const size = (v: number): number => decodeIoc(v, GENERIC_IOC_LAYOUT).size;
  const g = abiIoctls(GENERIC_IOC_LAYOUT);
  assert.equal(size(g.IIO_BUFFER_DMABUF_ENQUEUE_IOCTL), iioDmabufStruct.size);
  assert.equal(size(g.DMA_BUF_IOCTL_SYNC), dmaBufSyncStruct.size);
  assert.equal(size(g.DMA_HEAP_IOCTL_ALLOC), dmaHeapAllocationDataStruct.size);
  assert.equal(size(g.UDMABUF_CREATE), udmabufCreateStruct.size);
  // §4.2: only the 8-byte header, not the items.
  assert.equal(size(g.UDMABUF_CREATE_LIST), 8);
  assert.equal(size(g.SYNC_IOC_MERGE), syncMergeDataStruct.size);
  assert.equal(size(g.SYNC_IOC_FILE_INFO), syncFileInfoStruct.size);
  assert.equal(size(g.SYNC_IOC_SET_DEADLINE), syncSetDeadlineStruct.size);
  assert.equal(size(g.FUNCTIONFS_DMABUF_TRANSFER), usbFfsDmabufTransferReqStruct.size);
  assert.equal(size(g.IIO_BUFFER_DMABUF_ATTACH_IOCTL), SIZEOF_INT);
});

test('struct encode writes host byte order at the documented offsets (kernel-abi §2.2)', () => {
  const bytes = iioDmabufStruct.encode({ fd: 5, flags: IIO_BUFFER_DMABUF_CYCLIC, bytesUsed: 0x1_0000_0002n });
  const expected = LE
    ? [5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0]
    : [0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
  assert.deepEqual([...bytes], expected);

  // Missing fields are zero, like a C designated initializer (§4.1: fd and heap_flags must be 0).
  const heap = dmaHeapAllocationDataStruct.encode({ len: 65536, fdFlags: O_RDWR | O_CLOEXEC });
  assert.equal(heap.length, 24);
  const view = new DataView(heap.buffer);
  assert.equal(view.getBigUint64(0, LE), 65536n);
  assert.equal(view.getUint32(8, LE), 0);
  assert.equal(view.getUint32(12, LE), O_RDWR | O_CLOEXEC);
  assert.equal(view.getBigUint64(16, LE), 0n);
});

test('struct round-trips: bigint u64, negative s32/s64, strings', () => {
  const max = 2n ** 64n - 1n;
  const dmabuf: IioDmabuf = iioDmabufStruct.decode(iioDmabufStruct.encode({ fd: 0xffffffff, flags: 0, bytesUsed: max }));
  assert.deepEqual(dmabuf, { fd: 0xffffffff, flags: 0, bytesUsed: max });
  const bytesUsed: bigint = dmabuf.bytesUsed; // decoded type is inferred from the field spec
  assert.equal(typeof bytesUsed, 'bigint');

  const ev = iioEventDataStruct.decode(iioEventDataStruct.encode({ id: 2n ** 63n + 5n, timestamp: -(2n ** 63n) }));
  assert.deepEqual(ev, { id: 2n ** 63n + 5n, timestamp: -(2n ** 63n) });

  const exp = dmaBufExportSyncFileStruct.decode(dmaBufExportSyncFileStruct.encode({ flags: 3, fd: -1 }));
  assert.deepEqual(exp, { flags: 3, fd: -1 });

  const merge = { name: 'x'.repeat(31), fd2: -2147483648, fence: 2147483647, flags: 0, pad: 0 };
  assert.deepEqual(syncMergeDataStruct.decode(syncMergeDataStruct.encode(merge)), merge);

  const fence = { objName: 'iio', driverName: 'functionfs', status: -4, flags: 1, timestampNs: 123456789012345n };
  assert.deepEqual(syncFenceInfoStruct.decode(syncFenceInfoStruct.encode(fence)), fence);

  const info = syncFileInfoStruct.decode(syncFileInfoStruct.encode({ name: 'dma_fence_stub', status: 1, numFences: 2 }));
  assert.deepEqual(info, { name: 'dma_fence_stub', status: 1, flags: 0, numFences: 2, pad: 0, syncFenceInfo: 0n });

  const req = usbFfsDmabufTransferReqStruct.decode(usbFfsDmabufTransferReqStruct.encode({ fd: -9, length: 4096 }));
  assert.deepEqual(req, { fd: -9, flags: 0, length: 4096n });

  // Numbers are accepted for 64-bit fields; decode always yields bigint.
  const sync = dmaBufSyncStruct.decode(dmaBufSyncStruct.encode({ flags: DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ }));
  assert.deepEqual(sync, { flags: 1n });

  // UTF-8 text survives.
  const named = syncMergeDataStruct.decode(syncMergeDataStruct.encode({ name: 'µ-fence' }));
  assert.equal(named.name, 'µ-fence');
});

test('struct decode reads from Uint8Array views with a byteOffset and ignores trailing bytes', () => {
  const backing = new Uint8Array(64).fill(0xaa);
  const slice = backing.subarray(3, 3 + 20);
  iioDmabufStruct.encode({ fd: 7, flags: 1, bytesUsed: 99n }, slice);
  assert.deepEqual(iioDmabufStruct.decode(slice), { fd: 7, flags: 1, bytesUsed: 99n });
  assert.equal(backing[2], 0xaa); // nothing written before the view
  assert.equal(backing[3 + 16], 0xaa); // nor past the struct
  const buf = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(iioDmabufStruct.encode({ fd: 1, bytesUsed: 2n }))]);
  assert.deepEqual(iioDmabufStruct.decode(buf.subarray(3)), { fd: 1, flags: 0, bytesUsed: 2n });
});

test('struct encode into a caller buffer zeroes the struct and returns that buffer', () => {
  const into = new Uint8Array(24).fill(0xff);
  const out = udmabufCreateStruct.encode({ memfd: 3, size: 4096n }, into);
  assert.equal(out, into);
  assert.deepEqual(udmabufCreateStruct.decode(into), { memfd: 3, flags: 0, offset: 0n, size: 4096n });
  assert.throws(() => udmabufCreateStruct.encode({}, new Uint8Array(23)), {
    name: 'RangeError', message: /udmabuf_create.*24.*23/,
  });
});

test('struct values out of range are RangeErrors naming struct and field', () => {
  const cases: ReadonlyArray<readonly [() => unknown, RegExp]> = [
    [() => iioDmabufStruct.encode({ fd: -1 }), /iio_dmabuf.*\bfd\b.*-1/],
    [() => iioDmabufStruct.encode({ flags: 2 ** 32 }), /iio_dmabuf.*\bflags\b.*4294967296/],
    [() => iioDmabufStruct.encode({ fd: 1.5 }), /iio_dmabuf.*\bfd\b.*1\.5/],
    [() => iioDmabufStruct.encode({ bytesUsed: -1n }), /iio_dmabuf.*bytesUsed.*-1/],
    [() => iioDmabufStruct.encode({ bytesUsed: 2n ** 64n }), /iio_dmabuf.*bytesUsed.*18446744073709551616/],
    [() => iioDmabufStruct.encode({ bytesUsed: 2 ** 53 }), /iio_dmabuf.*bytesUsed/], // not a safe integer
    [() => dmaBufExportSyncFileStruct.encode({ fd: 2 ** 31 }), /dma_buf_export_sync_file.*\bfd\b.*2147483648/],
    [() => dmaBufExportSyncFileStruct.encode({ fd: -(2 ** 31) - 1 }), /dma_buf_export_sync_file.*\bfd\b/],
    [() => iioEventDataStruct.encode({ timestamp: 2n ** 63n }), /iio_event_data.*timestamp/],
    [() => iioEventDataStruct.encode({ timestamp: -(2n ** 63n) - 1n }), /iio_event_data.*timestamp/],
    // char[32] holds at most 31 bytes plus the NUL (§4.5 has the same rule for DMA_BUF_NAME_LEN).
    [() => syncMergeDataStruct.encode({ name: 'x'.repeat(32) }), /sync_merge_data.*\bname\b.*32/],
    [() => syncMergeDataStruct.encode({ name: 'µ'.repeat(16) }), /sync_merge_data.*\bname\b/], // 32 UTF-8 bytes
    [() => syncMergeDataStruct.encode({ name: 'a\0b' }), /sync_merge_data.*\bname\b.*NUL/],
  ];
  for (const [fn, message] of cases) assert.throws(fn, { name: 'RangeError', message });

  // A failed encode leaves the caller's buffer untouched.
  const into = new Uint8Array(16).fill(0xee);
  assert.throws(() => iioDmabufStruct.encode({ fd: 1, bytesUsed: -1n }, into), RangeError);
  assert.deepEqual([...into], new Array<number>(16).fill(0xee));
});

test('struct type errors: unknown fields and wrong value types', () => {
  // @ts-expect-error: no such field
  assert.throws(() => iioDmabufStruct.encode({ bytes_used: 1n }), { name: 'TypeError', message: /bytes_used/ });
  // @ts-expect-error: u32 fields take numbers, not bigint
  assert.throws(() => iioDmabufStruct.encode({ fd: 1n }), { name: 'TypeError', message: /iio_dmabuf.*fd/ });
  // @ts-expect-error: char arrays take strings
  assert.throws(() => syncMergeDataStruct.encode({ name: 5 }), { name: 'TypeError', message: /name/ });
});

test('struct decode of a too-short buffer is a RangeError', () => {
  assert.throws(() => iioDmabufStruct.decode(new Uint8Array(15)), { name: 'RangeError', message: /iio_dmabuf.*16.*15/ });
  assert.throws(() => syncFileInfoStruct.decode(new Uint8Array(48)), { name: 'RangeError', message: /sync_file_info/ });
});

test('char arrays without a NUL decode to the whole array', () => {
  const bytes = new Uint8Array(80);
  bytes.fill(0x61, 0, 32); // obj_name: 32 x 'a', no terminator
  bytes.set([0x69, 0x69, 0x6f], 32); // driver_name: "iio"
  const d = syncFenceInfoStruct.decode(bytes);
  assert.equal(d.objName, 'a'.repeat(32));
  assert.equal(d.driverName, 'iio');
});

test('defineStruct rejects fields outside the struct or overlapping', () => {
  assert.throws(() => defineStruct('bad', 8, { a: u64(4) }), { name: 'RangeError', message: /bad.*\ba\b/ });
  assert.throws(() => defineStruct('bad', 8, { a: u32(0), b: s32(2) }), { name: 'RangeError', message: /bad.*\bb\b.*overlap/ });
  assert.throws(() => defineStruct('bad', 8, { a: chars(0, 0) }), RangeError);
  const ok = defineStruct('ok', 24, { a: s64(0), b: chars(8, 8), c: u64(16) });
  type Ok = DecodedStruct<typeof ok>;
  const v: Ok = ok.decode(ok.encode({ a: -5n, b: 'abc', c: 7 }));
  assert.deepEqual(v, { a: -5n, b: 'abc', c: 7n });
});

test('udmabuf_create_list: 8-byte header then count x 24-byte items (kernel-abi §4.2)', () => {
  const bytes = encodeUdmabufCreateList({
    flags: UDMABUF_FLAGS_CLOEXEC,
    items: [
      { memfd: 3, offset: 0, size: 65536 },
      { memfd: 4, offset: 4096n, size: 65536n },
    ],
  });
  assert.equal(bytes.length, 8 + 2 * 24);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0, LE), UDMABUF_FLAGS_CLOEXEC); // flags
  assert.equal(view.getUint32(4, LE), 2); // count
  assert.equal(view.getUint32(8, LE), 3); // list[0].memfd
  assert.equal(view.getBigUint64(8 + 16, LE), 65536n); // list[0].size
  assert.equal(view.getUint32(8 + 24, LE), 4); // list[1].memfd
  assert.equal(view.getBigUint64(8 + 24 + 8, LE), 4096n); // list[1].offset

  assert.deepEqual(decodeUdmabufCreateList(bytes), {
    flags: 1,
    items: [
      { memfd: 3, pad: 0, offset: 0n, size: 65536n },
      { memfd: 4, pad: 0, offset: 4096n, size: 65536n },
    ],
  });
  assert.equal(encodeUdmabufCreateList({ items: [] }).length, 8);

  // list_limit defaults to 1024 (the probe saw EINVAL for 1025); a caller may raise it.
  const item = { memfd: 3, size: 4096 };
  assert.equal(encodeUdmabufCreateList({ items: new Array(1024).fill(item) }).length, 8 + 1024 * 24);
  assert.throws(() => encodeUdmabufCreateList({ items: new Array(1025).fill(item) }), {
    name: 'RangeError', message: /1025.*1024/,
  });
  assert.equal(encodeUdmabufCreateList({ items: new Array(1025).fill(item) }, 2048).length, 8 + 1025 * 24);
  assert.throws(() => encodeUdmabufCreateList({ items: [{ memfd: -3 }] }), {
    name: 'RangeError', message: /udmabuf_create_item.*memfd/,
  });

  // A header announcing more items than were supplied.
  assert.throws(() => decodeUdmabufCreateList(bytes.subarray(0, 8 + 24)), { name: 'RangeError', message: /2 items/ });
  assert.throws(() => decodeUdmabufCreateList(bytes.subarray(0, 4)), RangeError);
});

test('IIO event ids decode per include/uapi/linux/iio/events.h (kernel-abi §1.1)', () => {
  // IIO_UNMOD_EVENT_CODE(IIO_VOLTAGE, 3, IIO_EV_TYPE_THRESH, IIO_EV_DIR_RISING)
  assert.deepEqual(decodeIioEventId(0x0001_0000_0000_0003n), {
    chanType: 0, channel: 3, channel2: 0, modifier: 0, direction: 1, type: 0, differential: false,
    chanTypeName: 'IIO_VOLTAGE', modifierName: 'IIO_NO_MOD', directionName: 'IIO_EV_DIR_RISING',
    typeName: 'IIO_EV_TYPE_THRESH',
  });
  // IIO_MOD_EVENT_CODE(IIO_ACCEL, 0, IIO_MOD_X, IIO_EV_TYPE_MAG, IIO_EV_DIR_FALLING)
  const accel = decodeIioEventId(0x0102_0103_0000_0000n);
  assert.equal(accel.chanTypeName, 'IIO_ACCEL');
  assert.equal(accel.modifierName, 'IIO_MOD_X');
  assert.equal(accel.typeName, 'IIO_EV_TYPE_MAG');
  assert.equal(accel.directionName, 'IIO_EV_DIR_FALLING');
  // Differential voltage 1-2, either direction; channel fields are signed 16-bit.
  const diff = decodeIioEventId(0x0080_0000_0002_0001n);
  assert.equal(diff.differential, true);
  assert.equal(diff.channel, 1);
  assert.equal(diff.channel2, 2);
  assert.equal(diff.direction, 0);
  const neg = decodeIioEventId(0x0000_0009_8000_ffffn);
  assert.equal(neg.channel, -1);
  assert.equal(neg.channel2, -32768);
  assert.equal(neg.chanTypeName, 'IIO_TEMP');
  // Direction is 7 bits (48..54): bit 55 is diff, not direction.
  const top = decodeIioEventId(0xffff_ffff_ffff_ffffn);
  assert.deepEqual(
    [top.type, top.differential, top.direction, top.modifier, top.chanType, top.channel, top.channel2],
    [0xff, true, 0x7f, 0xff, 0xff, -1, -1],
  );
  assert.equal(top.typeName, undefined);
  assert.equal(top.chanTypeName, undefined);
  // IIO_EV_TYPE_FAULT / IIO_EV_DIR_FAULT_OPENWIRE, the last entries of their enums.
  const fault = decodeIioEventId((8n << 56n) | (6n << 48n));
  assert.equal(fault.typeName, 'IIO_EV_TYPE_FAULT');
  assert.equal(fault.directionName, 'IIO_EV_DIR_FAULT_OPENWIRE');

  assert.throws(() => decodeIioEventId(-1n), RangeError);
  assert.throws(() => decodeIioEventId(2n ** 64n), RangeError);
});

test('IIO event ids: encode is the inverse of decode', () => {
  const fields = { chanType: 3, channel: -2, channel2: 7, modifier: 1, direction: 2, type: 1, differential: true };
  const id = encodeIioEventId(fields);
  assert.equal(id, (1n << 56n) | (1n << 55n) | (2n << 48n) | (1n << 40n) | (3n << 32n) | (7n << 16n) | 0xfffen);
  const d = decodeIioEventId(id);
  assert.deepEqual(
    { chanType: d.chanType, channel: d.channel, channel2: d.channel2, modifier: d.modifier,
      direction: d.direction, type: d.type, differential: d.differential },
    fields,
  );
  assert.equal(encodeIioEventId({ chanType: 0, channel: 3, direction: 1, type: 0 }), 0x0001_0000_0000_0003n);
  assert.throws(() => encodeIioEventId({ chanType: 256, channel: 0, direction: 0, type: 0 }), {
    name: 'RangeError', message: /chanType.*256/,
  });
  assert.throws(() => encodeIioEventId({ chanType: 0, channel: 0x8000, direction: 0, type: 0 }), {
    name: 'RangeError', message: /channel.*32768/,
  });
  assert.throws(() => encodeIioEventId({ chanType: 0, channel: 0, direction: 0x80, type: 0 }), {
    name: 'RangeError', message: /direction.*128/,
  });

  // iio_event_data carries the id as a u64: ids with bit 63 set survive the struct.
  const raw = iioEventDataStruct.encode({ id: 0xff00_0000_0000_0000n, timestamp: 1_700_000_000_000_000_000n });
  const event = iioEventDataStruct.decode(raw);
  assert.equal(decodeIioEventId(event.id).type, 0xff);
  assert.equal(event.timestamp, 1_700_000_000_000_000_000n);
});

test('IIO enum tables are in kernel enum order', () => {
  assert.equal(IIO_CHAN_TYPES[0], 'IIO_VOLTAGE');
  assert.equal(IIO_CHAN_TYPES[3], 'IIO_ACCEL');
  assert.equal(IIO_CHAN_TYPES[9], 'IIO_TEMP');
  assert.equal(IIO_CHAN_TYPES[13], 'IIO_TIMESTAMP');
  assert.equal(IIO_CHAN_TYPES.length, 40);
  assert.equal(IIO_MODIFIERS[0], 'IIO_NO_MOD');
  assert.equal(IIO_MODIFIERS[32], 'IIO_MOD_I');
  assert.equal(IIO_MODIFIERS.length, 53);
  assert.equal(IIO_EVENT_TYPES.length, 9);
  assert.equal(IIO_EVENT_DIRECTIONS.length, 7);
  for (const table of [IIO_CHAN_TYPES, IIO_MODIFIERS, IIO_EVENT_TYPES, IIO_EVENT_DIRECTIONS]) {
    assert.equal(new Set(table).size, table.length);
  }
});

test('ioctlName: kernel names without a trailing _IOCTL, hex for unknown requests', () => {
  const expected: Readonly<Record<string, string>> = {
    IIO_GET_EVENT_FD_IOCTL: 'IIO_GET_EVENT_FD',
    IIO_BUFFER_GET_FD_IOCTL: 'IIO_BUFFER_GET_FD',
    IIO_BUFFER_DMABUF_ATTACH_IOCTL: 'IIO_BUFFER_DMABUF_ATTACH',
    IIO_BUFFER_DMABUF_DETACH_IOCTL: 'IIO_BUFFER_DMABUF_DETACH',
    IIO_BUFFER_DMABUF_ENQUEUE_IOCTL: 'IIO_BUFFER_DMABUF_ENQUEUE',
    DMA_BUF_IOCTL_SYNC: 'DMA_BUF_IOCTL_SYNC',
    DMA_BUF_SET_NAME_A: 'DMA_BUF_SET_NAME_A',
    DMA_BUF_SET_NAME_B: 'DMA_BUF_SET_NAME_B',
    DMA_BUF_IOCTL_EXPORT_SYNC_FILE: 'DMA_BUF_IOCTL_EXPORT_SYNC_FILE',
    DMA_BUF_IOCTL_IMPORT_SYNC_FILE: 'DMA_BUF_IOCTL_IMPORT_SYNC_FILE',
    DMA_HEAP_IOCTL_ALLOC: 'DMA_HEAP_IOCTL_ALLOC',
    UDMABUF_CREATE: 'UDMABUF_CREATE',
    UDMABUF_CREATE_LIST: 'UDMABUF_CREATE_LIST',
    SYNC_IOC_MERGE: 'SYNC_IOC_MERGE',
    SYNC_IOC_FILE_INFO: 'SYNC_IOC_FILE_INFO',
    SYNC_IOC_SET_DEADLINE: 'SYNC_IOC_SET_DEADLINE',
    FUNCTIONFS_DMABUF_ATTACH: 'FUNCTIONFS_DMABUF_ATTACH',
    FUNCTIONFS_DMABUF_DETACH: 'FUNCTIONFS_DMABUF_DETACH',
    FUNCTIONFS_DMABUF_TRANSFER: 'FUNCTIONFS_DMABUF_TRANSFER',
  };
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(EXPORTED).sort());
  for (const [name, value] of Object.entries(EXPORTED)) assert.equal(ioctlName(value), expected[name], name);
  // Every request number is distinct, so the registry is unambiguous.
  assert.equal(new Set(Object.values(EXPORTED)).size, Object.keys(EXPORTED).length);
  // C int (signed) form of a request with the top bit set.
  assert.equal(ioctlName(IIO_BUFFER_GET_FD_IOCTL | 0), 'IIO_BUFFER_GET_FD');
  // Unknown: printf("0x%08x").
  assert.equal(ioctlName(io('i', 0xee, CURRENT_IOC_LAYOUT)), hex(io('i', 0xee, CURRENT_IOC_LAYOUT)));
  assert.equal(ioctlName(0x5401), '0x00005401');
  assert.equal(ioctlName(0xdeadbeef), '0xdeadbeef');
  assert.equal(ioctlName(-1), '0xffffffff');
});

test('§4.5 DMA_BUF_SET_NAME argument: NUL-terminated in a 32-byte buffer, at most 31 bytes', () => {
  const arg = encodeDmaBufName('iiojs:rx0');
  assert.equal(arg.length, DMA_BUF_NAME_LEN);
  assert.equal(new TextDecoder().decode(arg.subarray(0, 9)), 'iiojs:rx0');
  assert.ok(arg.subarray(9).every((b) => b === 0));
  assert.equal(encodeDmaBufName('x'.repeat(31))[31], 0);
  assert.throws(() => encodeDmaBufName('x'.repeat(32)), RangeError);
  assert.throws(() => encodeDmaBufName('é'.repeat(16)), RangeError); // 32 UTF-8 bytes
  assert.throws(() => encodeDmaBufName('a\0b'), RangeError);
});

test('struct number/putNumber: one field without decoding the struct, exact below 2^53, range-checked', () => {
  const bytes = iioDmabufStruct.encode({ fd: 0xffffffff, flags: 1, bytesUsed: 2 ** 53 - 1 });
  assert.equal(iioDmabufStruct.number(bytes, 'fd'), 0xffffffff);
  assert.equal(iioDmabufStruct.number(bytes, 'bytesUsed'), 2 ** 53 - 1);
  iioDmabufStruct.encode({ bytesUsed: 2n ** 64n - 1n }, bytes);
  assert.ok(iioDmabufStruct.number(bytes, 'bytesUsed') >= 2 ** 64 - 2 ** 12, 'a value past 2^53 comes out rounded, never small');
  const ev = iioEventDataStruct.encode({ timestamp: -(2n ** 40n) - 3n });
  assert.equal(iioEventDataStruct.number(ev, 'timestamp'), -(2 ** 40) - 3);
  const exp = dmaBufExportSyncFileStruct.encode({ flags: 3, fd: 7 });
  dmaBufExportSyncFileStruct.putNumber(exp, 'fd', -1);
  assert.deepEqual(dmaBufExportSyncFileStruct.decode(exp), { flags: 3, fd: -1 }, 'the other field left alone');
  assert.throws(() => dmaBufExportSyncFileStruct.putNumber(exp, 'fd', 2 ** 31), RangeError);
  assert.throws(() => syncFileInfoStruct.number(new Uint8Array(syncFileInfoStruct.size), 'name' as never), TypeError);
  assert.throws(() => dmaBufSyncStruct.number(new Uint8Array(4), 'flags'), RangeError);
});
