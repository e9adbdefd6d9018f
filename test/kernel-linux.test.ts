// The Linux Kernel port and its native addon on this machine (no IIO here): memfd, seals, mmap,
// readiness waits, ioctl error mapping, worker threads, and resource use over many cycles.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as abi from '../src/abi/index.js';
import { DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL } from '../src/abi/index.js';
import { loadAddon } from '../src/kernel/linux/addon.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
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

  test('a closed fd gives EBADF; an integer argument is passed by value', () => {
    const fd = sealedMemfd(kernel.pageSize);
    kernel.close(fd);
    assert.throws(() => kernel.ioctl(fd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, new Uint8Array(16)), {
      code: 'EBADF',
      syscall: 'ioctl(IIO_BUFFER_DMABUF_ENQUEUE)',
    });
    const live = sealedMemfd(kernel.pageSize);
    try {
      assert.throws(() => kernel.ioctl(live, 0x5401, 0), { code: 'ENOTTY', syscall: 'ioctl(0x00005401)' });
    } finally {
      kernel.close(live);
    }
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
      const target = new Uint8Array(80);
      assert.throws(() => kernel.ioctl(fd, 0xc0383e04, arg, [[48, target]]), { code: 'ENOTTY' });
      assert.ok(arg.every((b) => b === 0xab), 'the argument is unchanged after the call');
      assert.throws(() => kernel.ioctl(fd, 0xc0383e04, arg, [[49, target]]), RangeError);
      assert.throws(() => kernel.ioctl(fd, 0xc0383e04, arg, [[0, 'x' as never]]), TypeError);
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
      [() => addon.ioctl(0, 0, {} as never), TypeError],
      [() => addon.ioctl(0, 0, 2 ** 40), RangeError],
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
    } finally {
      rmSync(dir, { recursive: true });
    }
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
