/**
 * Linux open/fcntl/memfd/mmap/lseek/poll constants used with the objects of
 * kernel-abi.md §1.2 (buffer fd flags), §2.9 (poll on DMABUF fds), §4.1 (heap
 * `fd_flags`), §4.2 (memfd seals for udmabuf) and §4.3 (mmap, lseek). Node's
 * `fs.constants` is used where it has the value (it is compiled for this arch);
 * the rest are taken from the kernel uapi headers, per architecture where they
 * differ. PAGE_SIZE is deliberately absent: it is a runtime property.
 */

import { constants as fsConstants } from 'node:fs';

/** `O_CLOEXEC` for a `process.arch` name: generic 0o2000000, Alpha/PA-RISC 0o10000000, SPARC 0x400000. */
export function oCloexecFor(arch: string): number {
  switch (arch) {
    case 'alpha':
    case 'parisc':
    case 'parisc64':
    case 'hppa':
      return 0o10000000;
    case 'sparc':
    case 'sparc64':
      return 0x400000;
    default:
      return 0o2000000;
  }
}

/**
 * `POLLWRNORM` for a `process.arch` name. asm-generic says 0x100, but MIPS, SPARC,
 * m68k and xtensa define it as POLLOUT (4) (their 0x100 is POLLWRBAND).
 */
export function pollWrNormFor(arch: string): number {
  switch (arch) {
    case 'mips':
    case 'mipsel':
    case 'mips64':
    case 'mips64el':
    case 'sparc':
    case 'sparc64':
    case 'm68k':
    case 'xtensa':
      return 0x004;
    default:
      return 0x100;
  }
}

export const O_RDONLY: number = fsConstants.O_RDONLY;
export const O_WRONLY: number = fsConstants.O_WRONLY;
export const O_RDWR: number = fsConstants.O_RDWR;
/** Same on every Linux arch; Node does not export it. */
export const O_ACCMODE = 0o3;
/** Arch-specific (0o4000 generic, 0x80 MIPS, 0x4000 SPARC, …); Node has the right one. */
export const O_NONBLOCK: number = fsConstants.O_NONBLOCK;
export const O_CLOEXEC: number = oCloexecFor(process.arch);

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
/** F_LINUX_SPECIFIC_BASE (1024) + 9 / + 10. */
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;

export const F_SEAL_SEAL = 0x0001;
export const F_SEAL_SHRINK = 0x0002;
export const F_SEAL_GROW = 0x0004;
export const F_SEAL_WRITE = 0x0008;
export const F_SEAL_FUTURE_WRITE = 0x0010;

export const MFD_CLOEXEC = 0x0001;
export const MFD_ALLOW_SEALING = 0x0002;
export const MFD_HUGETLB = 0x0004;

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const POLLRDNORM = 0x040;
export const POLLWRNORM: number = pollWrNormFor(process.arch);
