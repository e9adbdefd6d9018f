// Open files (the kernel's struct file) and the fd table. Each kind of simulated file
// overrides the operations it supports; the defaults are the VFS's answers for a file that
// lacks the operation.
import { kerr } from './errno.js';
import { WaitQueue } from './wait.js';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_WRONLY, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from '../../abi/index.js';

/** An ioctl argument: a value, or the caller's bytes (which the handler may read and write). */
export type IoctlArg = number | Uint8Array | undefined;

/** Pointer fields of an ioctl argument, resolved: offset → the caller's bytes it points to. */
export type IoctlPointers = ReadonlyMap<number, Uint8Array>;

export abstract class SimFile {
  /** Woken when the file's readiness may have changed. */
  readonly waitQueue = new WaitQueue();
  /** What /proc/self/fd shows for it: a path, or e.g. `anon_inode:iio:buffer`. */
  abstract readonly name: string;
  #refs = 1;

  constructor(public flags: number) {}

  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  get readable(): boolean {
    return (this.flags & O_ACCMODE) !== O_WRONLY;
  }

  get writable(): boolean {
    return (this.flags & O_ACCMODE) !== O_RDONLY;
  }

  /**
   * read(2). A file whose read sleeps returns a promise; `signal` is how the sleeping call learns
   * of a signal (or of its fd closed, at the port): it then ends as the kernel's interrupted wait
   * does (usually EINTR, or the result if the work completed first). Files that never sleep
   * ignore it.
   */
  read(_into: Uint8Array, _signal?: AbortSignal): Promise<number> | number {
    throw kerr('EINVAL');
  }

  /** write(2), with `signal` as for read(). */
  write(_from: Uint8Array, _signal?: AbortSignal): Promise<number> | number {
    throw kerr('EINVAL');
  }

  ioctl(_request: number, _arg: IoctlArg, _pointers: IoctlPointers): number {
    throw kerr('ENOTTY');
  }

  /** poll(2) revents for the requested events; files without poll are always ready. */
  poll(_events: number): number {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  }

  mmap(_length: number, _prot: number, _flags: number, _offset: number): Uint8Array {
    throw kerr('ENODEV');
  }

  munmap(_mapping: Uint8Array): void {}

  lseek(_offset: number, _whence: number): number {
    throw kerr('ESPIPE');
  }

  /** Called when the last reference goes away (close of the last fd, and no kernel user left). */
  protected release(): void {}

  /** Takes a reference (the kernel's get_file), e.g. when a DMABUF is attached somewhere. */
  get(): this {
    this.#refs++;
    return this;
  }

  /** Drops a reference (fput); the last one releases the file. */
  put(): void {
    if (--this.#refs === 0) {
      this.release();
      this.waitQueue.wake();
    }
  }
}

/** The process's fd table. Numbers start at 3 and the lowest free one is reused, as in Linux. */
export class FdTable {
  readonly #files = new Map<number, { file: SimFile; cloexec: boolean }>();

  install(file: SimFile, cloexec: boolean): number {
    let fd = 3;
    while (this.#files.has(fd)) fd++;
    this.#files.set(fd, { file, cloexec });
    return fd;
  }

  /** The file behind `fd`, or EBADF. */
  get(fd: number): SimFile {
    const entry = this.#files.get(fd);
    if (entry === undefined) throw kerr('EBADF');
    return entry.file;
  }

  /** The file behind `fd`, or undefined (for lookups whose error the caller chooses). */
  lookup(fd: number): SimFile | undefined {
    return this.#files.get(fd)?.file;
  }

  cloexec(fd: number): boolean {
    const entry = this.#files.get(fd);
    if (entry === undefined) throw kerr('EBADF');
    return entry.cloexec;
  }

  setCloexec(fd: number, on: boolean): void {
    const entry = this.#files.get(fd);
    if (entry === undefined) throw kerr('EBADF');
    entry.cloexec = on;
  }

  close(fd: number): void {
    const entry = this.#files.get(fd);
    if (entry === undefined) throw kerr('EBADF');
    this.#files.delete(fd);
    entry.file.put();
  }

  get size(): number {
    return this.#files.size;
  }
}
