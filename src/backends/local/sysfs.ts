// Directory listings and attribute reads through the Kernel port, tolerant of what sysfs and
// debugfs may lack (a missing directory, an unmounted debugfs, a debugfs root only root can
// read).
import { isSystemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';

export interface SysfsFile {
  /** The file name in its directory. */
  name: string;
  /** Absolute path. */
  path: string;
  mode: number;
}

export interface Listing {
  files: SysfsFile[];
  /** Subdirectory names (symlinks are not followed: `subsystem`, `device`, `of_node`). */
  dirs: string[];
}

const ABSENT = ['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM'];

/** The regular files (with modes) and subdirectories of `dir`, sorted by name; empty when `dir` is absent. */
export async function listDir(port: KernelPort, dir: string): Promise<Listing> {
  let entries;
  try {
    entries = await port.readdir(dir);
  } catch (e) {
    if (isSystemError(e, ...ABSENT)) return { files: [], dirs: [] };
    throw e;
  }
  const names = entries.filter((e) => e.kind === 'file').map((e) => e.name).sort();
  const files = await Promise.all(names.map(async (name) => {
    const path = `${dir}/${name}`;
    const { mode } = await port.stat(path);
    return { name, path, mode };
  }));
  const dirs = entries.filter((e) => e.kind === 'directory').map((e) => e.name).sort();
  return { files, dirs };
}

/** An attribute's text without the one trailing newline sysfs adds. */
export function trimNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** Reads an attribute; undefined when it is absent or unreadable. */
export async function readOptional(port: KernelPort, path: string): Promise<string | undefined> {
  try {
    return trimNewline(await port.readText(path));
  } catch (e) {
    if (isSystemError(e)) return undefined;
    throw e;
  }
}

/** Numeric order for `iio:device2` < `iio:device10`. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
