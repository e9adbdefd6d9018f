// The Kernel port: the syscall-level surface the local backend needs, and nothing more.
// Two implementations: `linux` (the real kernel, through node:fs and the native addon) and
// `sim` (a model of the kernel). Errors are Node-style system errors (see errors.ts) whose
// `syscall` names the operation, e.g. `ioctl(IIO_BUFFER_DMABUF_ENQUEUE)`.
//
// Calls that can block in the kernel are asynchronous (sysfs I/O, open, read, write, readiness
// waits). ioctl, fcntl, lseek, mmap and the memfd calls are synchronous: the kernel answers them
// at once when used as kernel-abi.md §7 says (O_NONBLOCK buffer fds, waiting for readiness
// before DMA_BUF_IOCTL_SYNC), and a synchronous call costs a fraction of a promise round-trip.

export type EntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface DirEntry {
  name: string;
  kind: EntryKind;
}

export interface FileStat {
  /** The kind of what the path resolves to (symlinks are followed). */
  kind: EntryKind;
  /** Permission bits, e.g. 0o644; sysfs marks read-only attributes 0o444. */
  mode: number;
  size: number;
  /**
   * The inode number. sysfs gives every new directory a new one, so a device re-probed under
   * the same name (and the same dev number) is told apart by it.
   */
  ino: number;
}

export interface BlockingOptions {
  /** Interrupts the call, as a signal interrupts a blocked syscall. */
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Cancels the wait; it then rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * The fd is a DMABUF or sync file: it reports no POLLHUP/POLLERR, and a block goes round it
   * again and again. The wake-up's events are then exact (no poll(2) after it), and the watcher
   * stays armed, unref'd, between waits (no epoll ADD/DEL per block) until it fires unwaited.
   */
  fence?: boolean;
}

/** [offset, target] pairs: the address of `target` is written into the ioctl argument at `offset`. */
export type PointerFields = ReadonlyArray<readonly [offset: number, target: ArrayBufferView | ArrayBuffer]>;

export interface KernelPort {
  readonly kind: 'linux' | 'sim';
  /** The size of a memory page; mmap offsets and udmabuf sizes are multiples of it. */
  readonly pageSize: number;

  // sysfs, debugfs and /dev as a file tree
  readdir(path: string): Promise<DirEntry[]>;
  stat(path: string): Promise<FileStat>;
  readlink(path: string): Promise<string>;
  /** Reads a whole attribute file (sysfs text, trailing newline included). */
  readText(path: string): Promise<string>;
  /** Writes an attribute in one write(), as sysfs requires. */
  writeText(path: string, text: string): Promise<void>;
  /** The same, synchronously: only for process-exit paths, where nothing asynchronous runs. */
  writeTextSync(path: string, text: string): void;

  // directories, links and mounts (configfs gadgets, FunctionFS)
  mkdir(path: string, mode?: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  /** Creates `path` as a symlink to `target` (configfs links a function into a config so). */
  symlink(target: string, path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** mount(2), e.g. `mount('iio', '/dev/ffs-iio', 'functionfs')`; `data` is the option string. */
  mount(source: string, target: string, fstype: string, data?: string): Promise<void>;
  /** umount2(2) without flags. */
  umount(target: string): Promise<void>;

  // file descriptors
  /** Opens with numeric flags (O_RDWR, O_NONBLOCK, ...); always close-on-exec. */
  open(path: string, flags: number): Promise<number>;
  /** Closes the fd; readiness waits on it reject with ECANCELED first. */
  close(fd: number): void;
  /**
   * read(2) into `into`; returns the byte count (0 at EOF). A zero-length `into` is a
   * RangeError: Node never issues such a read (usb.md §A4), so FunctionFS's ep0 status ACK is a
   * read of a non-zero length, which the kernel clamps to the request's wLength of 0.
   */
  read(fd: number, into: Uint8Array): Promise<number>;
  /** write(2) from `from`; returns the byte count. */
  write(fd: number, from: Uint8Array): Promise<number>;
  /**
   * read(2) and write(2) for files that block and cannot be polled (FunctionFS endpoint files
   * have no .poll: epoll_ctl answers EPERM, usb.md §A4). The call runs on a thread of its own,
   * never on the event loop nor libuv's pool, so any number may be pending. `signal` interrupts
   * it as a signal does (the kernel dequeues the request and answers EINTR): the promise then
   * rejects with an AbortError, unless the kernel finished first, whose result it then keeps
   * (bytes read are never dropped). close(fd) interrupts pending calls on `fd` (ECANCELED).
   */
  readBlocking(fd: number, into: Uint8Array, options?: BlockingOptions): Promise<number>;
  writeBlocking(fd: number, from: Uint8Array, options?: BlockingOptions): Promise<number>;
  /**
   * ioctl(2), for the requests the port knows: those of src/abi (their argument rules are
   * src/abi/ioctl-args.ts). On Linux any other request is a RangeError (ERR_OUT_OF_RANGE); the
   * sim answers it as its kernel model does. `arg` must be of the kind the request takes: bytes
   * (an ArrayBuffer or ArrayBufferView) for a request that takes an address, covering all the
   * kernel touches there (the `_IOC_SIZE`, UDMABUF_CREATE_LIST's header plus `count` items,
   * DMA_BUF_SET_NAME's string up to its NUL); undefined for one that takes none. The wrong kind
   * is a TypeError (ERR_INVALID_ARG_TYPE), too few bytes a RangeError. `pointers` is only for
   * requests with a pointer field (SYNC_IOC_FILE_INFO: `[[48, fences]]`, at least
   * `num_fences × 80` bytes); a pointer field without one is passed as NULL. The kernel works
   * on a copy of the bytes, copied back afterwards when the request writes its argument; the
   * pointer field keeps the caller's value. Returns the kernel's result.
   *
   * usbfs URBs (usb.md §A2) are asynchronous, so their memory outlives the call:
   * USBDEVFS_SUBMITURB takes the `usbdevfs_urb` bytes and `[[16, data]]` (at least
   * `buffer_length` bytes), and both stay referenced, neither moved nor freed, until the URB is
   * reaped or its fd closed. USBDEVFS_REAPURBNDELAY's 8-byte argument receives the reaped URB's
   * `usercontext` (never an address: none reaches JS), and the kernel's copy of that URB
   * (status, actual_length, error_count) is written into the bytes given to SUBMITURB, whose
   * `data` then holds what an IN URB received. USBDEVFS_DISCARDURB takes the bytes given to
   * SUBMITURB. The blocking USBDEVFS_CONTROL and USBDEVFS_BULK block the caller's thread (use
   * URBs when the other end runs in the same process).
   */
  ioctl(fd: number, request: number, arg?: number | ArrayBufferView | ArrayBuffer, pointers?: PointerFields): number;
  /** fcntl(2) for F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_ADD_SEALS and F_GET_SEALS. */
  fcntl(fd: number, cmd: number, arg?: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  /** Maps `length` bytes of `fd`; the returned bytes are the mapped memory itself. */
  mmap(fd: number, length: number, prot: number, flags: number, offset?: number): Uint8Array;
  /**
   * Unmaps a mapping returned by mmap(). Its buffer is detached first (length becomes 0), so no
   * view can reach unmapped memory. Unmapping twice is EINVAL; bytes mmap() did not return are
   * a TypeError.
   */
  munmap(mapping: Uint8Array): void;
  /**
   * Resolves with the poll(2) revents once any of `events` (POLLIN, POLLOUT, POLLPRI) is ready;
   * POLLHUP and POLLERR are reported whether requested or not. A pending wait keeps the process
   * alive like any I/O; an fd nobody waits on never does. close(fd) rejects pending waits.
   */
  poll(fd: number, events: number, options?: WaitOptions): Promise<number>;
  memfdCreate(name: string, flags: number): number;
  ftruncate(fd: number, length: number): void;
}
