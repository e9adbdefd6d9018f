/**
 * The `_IOC` ioctl request encoding (kernel-abi.md §0.2). The generic layout
 * (x86_64, i386, arm, arm64, riscv, …) packs nr, type, a 14-bit size and a 2-bit
 * direction; MIPS, PowerPC, SPARC and Alpha use a 13-bit size and a 3-bit
 * direction with different direction values, so the §2.1 numbers are only valid
 * on the generic layout. Every request number in `src/abi/` is computed here for
 * the running architecture rather than hard-coded.
 */

/** How one architecture packs `_IOC(dir, type, nr, size)`. nr and type are always 8 bits at 0 and 8. */
export interface IocLayout {
  readonly sizeBits: number;
  readonly dirBits: number;
  readonly none: number;
  readonly write: number;
  readonly read: number;
}

/** asm-generic/ioctl.h: x86_64, i386, arm, arm64, riscv, s390, loongarch, … */
export const GENERIC_IOC_LAYOUT: IocLayout = Object.freeze({ sizeBits: 14, dirBits: 2, none: 0, write: 1, read: 2 });

/** MIPS, PowerPC, SPARC and Alpha: 13-bit size, 3 direction bits, _IOC_NONE has a bit of its own. */
export const ALT_IOC_LAYOUT: IocLayout = Object.freeze({ sizeBits: 13, dirBits: 3, none: 1, write: 4, read: 2 });

/** PA-RISC keeps the generic widths but swaps READ and WRITE (Node has no parisc port; listed for completeness). */
export const PARISC_IOC_LAYOUT: IocLayout = Object.freeze({ sizeBits: 14, dirBits: 2, none: 0, write: 2, read: 1 });

const ALT_ARCHES: ReadonlySet<string> = new Set([
  'mips', 'mipsel', 'mips64', 'mips64el', 'ppc', 'ppc64', 'sparc', 'sparc64', 'alpha',
]);
const PARISC_ARCHES: ReadonlySet<string> = new Set(['parisc', 'parisc64', 'hppa']);

/** Pick the layout for a `process.arch` name; unknown names get the generic layout. */
export function iocLayoutFor(arch: string): IocLayout {
  if (ALT_ARCHES.has(arch)) return ALT_IOC_LAYOUT;
  if (PARISC_ARCHES.has(arch)) return PARISC_IOC_LAYOUT;
  return GENERIC_IOC_LAYOUT;
}

/** The layout of the machine this process runs on. */
export const CURRENT_IOC_LAYOUT: IocLayout = iocLayoutFor(process.arch);

/** `sizeof(int)` on every Linux ABI; the argument size of the "pointer to int" ioctls. */
export const SIZEOF_INT = 4;

const NR_SHIFT = 0;
const TYPE_SHIFT = 8;
const SIZE_SHIFT = 16;

/** An ioctl argument size: a byte count, or anything with a `size` (a struct definition). */
export type IocSize = number | { readonly size: number };

function typeCode(type: string | number): number {
  let code: number;
  if (typeof type === 'string') {
    if (type.length !== 1) throw new RangeError(`ioctl type ${JSON.stringify(type)} must be a single character`);
    code = type.charCodeAt(0);
  } else {
    code = type;
  }
  if (!Number.isInteger(code) || code < 0 || code > 0xff) {
    throw new RangeError(`ioctl type ${JSON.stringify(type)} is out of range (0..255)`);
  }
  return code;
}

/** Generic `_IOC(dir, type, nr, size)`; `dir` is a raw direction value of `layout`. */
export function ioc(dir: number, type: string | number, nr: number, size: IocSize, layout: IocLayout = CURRENT_IOC_LAYOUT): number {
  const t = typeCode(type);
  if (!Number.isInteger(nr) || nr < 0 || nr > 0xff) throw new RangeError(`ioctl nr ${nr} is out of range (0..255)`);
  const bytes = typeof size === 'number' ? size : size.size;
  const maxSize = 2 ** layout.sizeBits - 1;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > maxSize) {
    throw new RangeError(`ioctl size ${bytes} is out of range (0..${maxSize})`);
  }
  if (!Number.isInteger(dir) || dir < 0 || dir >= 2 ** layout.dirBits) {
    throw new RangeError(`ioctl dir ${dir} is out of range (0..${2 ** layout.dirBits - 1})`);
  }
  // Multiply instead of << for dir: the top bit would otherwise make the int32 intermediate negative.
  const dirPart = dir * 2 ** (SIZE_SHIFT + layout.sizeBits);
  return (dirPart + ((bytes << SIZE_SHIFT) | (t << TYPE_SHIFT) | (nr << NR_SHIFT))) >>> 0;
}

/** `_IO(type, nr)`: no argument, size 0. */
export function io(type: string | number, nr: number, layout: IocLayout = CURRENT_IOC_LAYOUT): number {
  return ioc(layout.none, type, nr, 0, layout);
}

/** `_IOR(type, nr, T)`: the kernel writes `size` bytes to userspace. */
export function ior(type: string | number, nr: number, size: IocSize, layout: IocLayout = CURRENT_IOC_LAYOUT): number {
  return ioc(layout.read, type, nr, size, layout);
}

/** `_IOW(type, nr, T)`: the kernel reads `size` bytes from userspace. */
export function iow(type: string | number, nr: number, size: IocSize, layout: IocLayout = CURRENT_IOC_LAYOUT): number {
  return ioc(layout.write, type, nr, size, layout);
}

/** `_IOWR(type, nr, T)`: both directions. */
export function iowr(type: string | number, nr: number, size: IocSize, layout: IocLayout = CURRENT_IOC_LAYOUT): number {
  return ioc(layout.read | layout.write, type, nr, size, layout);
}

/** The fields of a request number. `read`/`write` are the `_IOC_READ`/`_IOC_WRITE` bits of `dir`. */
export interface DecodedIoc {
  readonly dir: number;
  readonly type: number;
  readonly nr: number;
  readonly size: number;
  readonly read: boolean;
  readonly write: boolean;
}

/** Split a request number into its fields (`_IOC_DIR`, `_IOC_TYPE`, `_IOC_NR`, `_IOC_SIZE`). */
export function decodeIoc(value: number, layout: IocLayout = CURRENT_IOC_LAYOUT): DecodedIoc {
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 0xffffffff) {
    throw new RangeError(`ioctl request ${value} is not a 32-bit value`);
  }
  // Accept the signed form too: FFI layers often hand requests over as a C int.
  const v = value >>> 0;
  const sizeShift = SIZE_SHIFT + layout.sizeBits;
  const dir = Math.floor(v / 2 ** sizeShift) & (2 ** layout.dirBits - 1);
  return {
    dir,
    type: (v >>> TYPE_SHIFT) & 0xff,
    nr: (v >>> NR_SHIFT) & 0xff,
    size: (v >>> SIZE_SHIFT) & (2 ** layout.sizeBits - 1),
    read: (dir & layout.read) !== 0,
    write: (dir & layout.write) !== 0,
  };
}
