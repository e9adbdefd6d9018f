// The Kernel port on the real Linux kernel: node:fs for files, directories and sysfs, the native
// addon for ioctl (usbfs URBs included), fcntl, lseek, mmap, memfd, mount, readiness waits and
// blocking I/O on threads.
import * as fs from 'node:fs';
import { readlinkSync } from 'node:fs';
import { ioctlName } from '../../abi/index.js';
import { errnoOf, systemError } from '../../errors.js';
import type { BlockingOptions, DirEntry, EntryKind, FileStat, KernelPort, PointerFields, WaitOptions } from '../port.js';
import { loadAddon, loadedAddon, type Addon } from './addon.js';
import { blockingIo, interruptBlocking } from './blocking.js';
import { forgetFd, waitReady } from './readiness.js';

function kindOf(entry: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryKind {
  if (entry.isSymbolicLink()) return 'symlink';
  if (entry.isDirectory()) return 'directory';
  if (entry.isFile()) return 'file';
  return 'other';
}

/** What an fd refers to, for error messages: a path, or e.g. `anon_inode:iio:buffer`. */
function describeFd(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * node:fs's error for an fd made ours: the file named, and the errnos libuv has no name for
 * (FunctionFS's EL2HLT, udmabuf's EBADFD) given their kernel names.
 */
function fdError(error: NodeJS.ErrnoException, syscall: string, fd: number): Error {
  return error.errno === undefined ? error : systemError(error.errno, syscall, describeFd(fd));
}

/**
 * The fds this thread opened through node:fs. Node tracks those in worker threads (and closes
 * them when the worker exits), so they must be closed through node:fs too; fds the kernel hands
 * out through ioctls or memfd_create are closed directly.
 */
const openedByNode = new Set<number>();

export class LinuxKernel implements KernelPort {
  readonly kind = 'linux';
  #addon: Addon | undefined;

  /** The addon, loaded on first use (ERR_IIOJS_ADDON_MISSING names the fix if it is not built). */
  get #native(): Addon {
    return (this.#addon ??= loadAddon());
  }

  get pageSize(): number {
    return this.#native.constants.PAGE_SIZE;
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const entries = await fs.promises.readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, kind: kindOf(e) }));
  }

  async stat(path: string): Promise<FileStat> {
    const s = await fs.promises.stat(path);
    return { kind: kindOf(s), mode: s.mode & 0o7777, size: s.size, ino: s.ino };
  }

  readlink(path: string): Promise<string> {
    return fs.promises.readlink(path);
  }

  readText(path: string): Promise<string> {
    return fs.promises.readFile(path, 'utf8');
  }

  async writeText(path: string, text: string): Promise<void> {
    const handle = await fs.promises.open(path, 'w');
    try {
      const bytes = Buffer.from(text);
      const { bytesWritten } = await handle.write(bytes, 0, bytes.length, null);
      // sysfs consumes a store in one call; a short write means the attribute took less.
      if (bytesWritten !== bytes.length) {
        throw systemError(errnoOf('EIO'), 'write', path, `short write (${bytesWritten} of ${bytes.length} bytes)`);
      }
    } finally {
      await handle.close();
    }
  }

  writeTextSync(path: string, text: string): void {
    fs.writeFileSync(path, text);
  }

  mkdir(path: string, mode?: number): Promise<void> {
    return fs.promises.mkdir(path, mode).then(() => undefined);
  }

  rmdir(path: string): Promise<void> {
    return fs.promises.rmdir(path);
  }

  symlink(target: string, path: string): Promise<void> {
    return fs.promises.symlink(target, path);
  }

  unlink(path: string): Promise<void> {
    return fs.promises.unlink(path);
  }

  async mount(source: string, target: string, fstype: string, data?: string): Promise<void> {
    const rc = this.#native.mount(source, target, fstype, data);
    if (rc < 0) throw systemError(rc, 'mount', target, data === undefined ? `${fstype} ${source}` : `${fstype} ${source} (${data})`);
  }

  async umount(target: string): Promise<void> {
    const rc = this.#native.umount(target);
    if (rc < 0) throw systemError(rc, 'umount', target);
  }

  open(path: string, flags: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.open(path, flags, (error, fd) => {
        if (error) return reject(error);
        openedByNode.add(fd);
        resolve(fd);
      });
    });
  }

  close(fd: number): void {
    forgetFd(fd, () => describeFd(fd));
    interruptBlocking(fd, () => describeFd(fd));
    if (openedByNode.delete(fd)) fs.closeSync(fd);
    else {
      const rc = this.#native.close(fd);
      if (rc < 0) throw systemError(rc, 'close', undefined, `fd ${fd}`);
    }
    // usbfs killed and freed the fd's URBs in its release: their memory is ours again
    loadedAddon()?.urbRelease(fd);
  }

  read(fd: number, into: Uint8Array): Promise<number> {
    // Node returns 0 for a zero-length read without making the syscall (port.ts).
    if (into.byteLength === 0) {
      return Promise.reject(Object.assign(new RangeError(`read of fd ${fd} into 0 bytes: Node would not make the syscall; give a non-zero length`), { code: 'ERR_OUT_OF_RANGE' }));
    }
    return new Promise((resolve, reject) => {
      fs.read(fd, into, 0, into.byteLength, null, (error, n) => (error ? reject(fdError(error, 'read', fd)) : resolve(n)));
    });
  }

  write(fd: number, from: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.write(fd, from, 0, from.byteLength, null, (error, n) => (error ? reject(fdError(error, 'write', fd)) : resolve(n)));
    });
  }

  readBlocking(fd: number, into: Uint8Array, options: BlockingOptions = {}): Promise<number> {
    return blockingIo(this.#native, fd, into, false, options.signal, () => describeFd(fd));
  }

  writeBlocking(fd: number, from: Uint8Array, options: BlockingOptions = {}): Promise<number> {
    return blockingIo(this.#native, fd, from, true, options.signal, () => describeFd(fd));
  }

  ioctl(fd: number, request: number, arg?: number | ArrayBufferView | ArrayBuffer, pointers?: PointerFields): number {
    const rc = this.#native.ioctl(fd, request, arg, pointers);
    if (rc < 0) throw systemError(rc, `ioctl(${ioctlName(request)})`, describeFd(fd));
    return rc;
  }

  fcntl(fd: number, cmd: number, arg?: number): number {
    const rc = this.#native.fcntl(fd, cmd, arg);
    if (rc < 0) throw systemError(rc, 'fcntl', describeFd(fd));
    return rc;
  }

  lseek(fd: number, offset: number, whence: number): number {
    const rc = this.#native.lseek(fd, offset, whence);
    if (rc < 0) throw systemError(rc, 'lseek', describeFd(fd));
    return rc;
  }

  mmap(fd: number, length: number, prot: number, flags: number, offset = 0): Uint8Array {
    const mapping = this.#native.mmap(fd, length, prot, flags, offset);
    if (typeof mapping === 'number') throw systemError(mapping, 'mmap', describeFd(fd), `${length} bytes at ${offset}`);
    return new Uint8Array(mapping);
  }

  munmap(mapping: Uint8Array): void {
    if (!(mapping instanceof Uint8Array)) throw new TypeError('munmap takes the Uint8Array returned by mmap');
    const rc = this.#native.munmap(mapping.buffer as ArrayBuffer);
    if (rc < 0) throw systemError(rc, 'munmap', undefined, 'not mapped (already unmapped?)');
  }

  poll(fd: number, events: number, options: WaitOptions = {}): Promise<number> {
    return waitReady(this.#native, fd, events, options.signal, () => describeFd(fd), options.fence === true);
  }

  memfdCreate(name: string, flags: number): number {
    const fd = this.#native.memfdCreate(name, flags);
    if (fd < 0) throw systemError(fd, 'memfd_create', name);
    return fd;
  }

  ftruncate(fd: number, length: number): void {
    fs.ftruncateSync(fd, length);
  }
}
