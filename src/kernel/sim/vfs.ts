// The simulated file tree: sysfs attributes (show/store callbacks, as kernfs calls a driver's),
// directories, symlinks and device nodes. Paths are absolute; symlinks are followed.
//
// What userspace may do to the tree itself (mkdir, rmdir, symlink, unlink) is each directory's
// business, as each filesystem's inode operations decide it in Linux: a directory answers
// through its DirOps (configfs groups, a tmpfs-like directory), and one without them refuses
// with EPERM, as sysfs does. Filesystems are mounted over directories (mount()): lookups then
// see the mounted root in their place.
import { kerr } from './errno.js';
import { SimFile } from './file.js';
import { O_ACCMODE, O_RDONLY, O_WRONLY, POLLERR, POLLIN, POLLPRI, POLLRDNORM, SEEK_CUR, SEEK_END, SEEK_SET } from '../../abi/index.js';
import type { EntryKind } from '../port.js';

export interface AttrOps {
  /** Mode bits as `ls -l` shows them (0o444 read-only, 0o644 read-write, 0o200 write-only). */
  mode: number;
  show?: () => string;
  /** A binary attribute (sysfs bin_attribute) has bytes instead of text; reading it as text decodes them as UTF-8. */
  bytes?: () => Uint8Array;
  /** Receives the written bytes as text, exactly as written (trailing newline included). */
  store?: (text: string) => void;
}

/**
 * A directory's answers to userspace changing it (the inode operations of its filesystem). Each
 * is called with the name (which does not exist yet for mkdir/symlink, and exists for
 * rmdir/unlink) and updates the tree itself; throwing refuses.
 */
export interface DirOps {
  mkdir?(name: string, mode: number): void;
  rmdir?(name: string): void;
  /** `resolve` looks the target up (for filesystems that link only to what exists). */
  symlink?(name: string, target: string, resolve: () => VfsNode): void;
  unlink?(name: string): void;
}

/** A mounted filesystem (its super block): the root, and what umount needs. */
export interface MountedFilesystem {
  readonly root: DirNode;
  /** Files of it are open: umount is EBUSY. */
  busy(): boolean;
  /** The last umount (kill_sb). */
  kill(): void;
}

/** A filesystem type (struct file_system_type): mount(2) of it, with its source and option string. */
export interface FilesystemType {
  mount(source: string, data: string): MountedFilesystem;
}

export type DirNode = { kind: 'directory'; mode: number; children: Map<string, VfsNode>; ops?: DirOps };

export type VfsNode =
  | DirNode
  | { kind: 'file'; attr: AttrOps }
  | { kind: 'symlink'; target: string }
  | { kind: 'chardev'; mode: number; open: (flags: number) => SimFile }
  /** A regular file whose filesystem opens it (FunctionFS's ep0 and epN); `path` is how it was opened. */
  | { kind: 'regular'; mode: number; open: (flags: number, path: string) => SimFile };

function split(path: string): string[] {
  if (!path.startsWith('/')) throw kerr('ENOENT', `relative path ${path}`);
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** An attribute opened as a file: reads see show() at open time; each write() is one store(). */
class AttrFile extends SimFile {
  #content: Uint8Array | undefined;
  #pos = 0;

  constructor(
    readonly name: string,
    private readonly attr: AttrOps,
    flags: number,
  ) {
    super(flags);
  }

  override read(into: Uint8Array): number {
    this.#content ??= this.attr.bytes?.() ?? new TextEncoder().encode(this.attr.show!());
    const n = Math.min(into.length, this.#content.length - this.#pos);
    if (n <= 0) return 0;
    into.set(this.#content.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return n;
  }

  override write(from: Uint8Array): number {
    if (from.length === 0) return 0;
    this.attr.store!(new TextDecoder().decode(from));
    return from.length;
  }

  override lseek(offset: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.#pos : whence === SEEK_END ? 4096 : NaN;
    if (Number.isNaN(base) || base + offset < 0) throw kerr('EINVAL');
    this.#pos = base + offset;
    this.#content = undefined; // a rewind re-reads the attribute, as sysfs does
    return this.#pos;
  }

  /** sysfs attributes report POLLERR|POLLPRI when notified; plain reads are always ready. */
  override poll(events: number): number {
    return events & (POLLIN | POLLRDNORM | POLLERR | POLLPRI);
  }
}

export class Vfs {
  readonly root: DirNode = { kind: 'directory', mode: 0o755, children: new Map() };
  /** Mount points (a directory) → the mounted filesystem's root. */
  readonly #mounts = new Map<VfsNode, MountedFilesystem>();
  readonly #filesystems = new Map<string, FilesystemType>();
  readonly #inodes = new WeakMap<VfsNode, number>();
  #lastIno = 0;

  /** Resolves `path`; `followLast` = false returns a final symlink itself. */
  lookup(path: string, followLast = true, depth = 0): VfsNode {
    if (depth > 40) throw kerr('ELOOP');
    let node: VfsNode = this.root;
    const parts = split(path);
    const walked: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      if (part === '..') {
        walked.pop();
        node = this.lookup('/' + walked.join('/'), true, depth + 1);
        continue;
      }
      if (node.kind !== 'directory') throw kerr('ENOTDIR');
      const found: VfsNode | undefined = node.children.get(part);
      if (found === undefined) throw kerr('ENOENT');
      const child: VfsNode = this.#mounts.get(found)?.root ?? found;
      const last = i === parts.length - 1;
      if (child.kind === 'symlink' && (!last || followLast)) {
        const target = child.target.startsWith('/') ? child.target : '/' + [...walked, child.target].join('/');
        const resolved = this.lookup(target, true, depth + 1);
        node = resolved;
        walked.splice(0, walked.length, ...split(this.#canonical(target)));
        continue;
      }
      node = child;
      walked.push(part);
    }
    return node;
  }

  /** `target` with `.` and `..` folded (symlink targets are relative to their directory). */
  #canonical(path: string): string {
    const out: string[] = [];
    for (const part of split(path)) {
      if (part === '..') out.pop();
      else out.push(part);
    }
    return '/' + out.join('/');
  }

  #parent(path: string): { dir: Map<string, VfsNode>; name: string } {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) throw kerr('EEXIST');
    const dir = this.mkdir('/' + parts.join('/'));
    if (dir.kind !== 'directory') throw kerr('ENOTDIR');
    return { dir: dir.children, name };
  }

  /** Creates a directory and its parents (mkdir -p); returns it. */
  mkdir(path: string, mode = 0o755): DirNode {
    let node = this.root as DirNode;
    for (const part of split(path)) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = { kind: 'directory', mode, children: new Map() };
        node.children.set(part, child);
      }
      if (child.kind !== 'directory') throw kerr('ENOTDIR', path);
      node = child;
    }
    return node;
  }

  attr(path: string, attr: AttrOps): void {
    const { dir, name } = this.#parent(path);
    dir.set(name, { kind: 'file', attr });
  }

  symlink(path: string, target: string): void {
    const { dir, name } = this.#parent(path);
    dir.set(name, { kind: 'symlink', target });
  }

  chardev(path: string, open: (flags: number) => SimFile, mode = 0o600): void {
    const { dir, name } = this.#parent(path);
    dir.set(name, { kind: 'chardev', mode, open });
  }

  /** Removes a node and everything below it (device unregistration); absent paths are fine. */
  remove(path: string): void {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) return;
    try {
      const dir = this.lookup('/' + parts.join('/'));
      if (dir.kind === 'directory') dir.children.delete(name);
    } catch {
      // already gone
    }
  }

  // ---- what userspace does to the tree (mkdir(2), rmdir(2), symlink(2), unlink(2), mount(2)) --

  /** The directory holding `path`'s last component (which need not exist), and that name. */
  #userParent(path: string): { dir: DirNode; name: string } {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined || name === '..') throw kerr('EEXIST');
    const dir = this.lookup('/' + parts.join('/'));
    if (dir.kind !== 'directory') throw kerr('ENOTDIR');
    return { dir, name };
  }

  makeDirectory(path: string, mode: number): void {
    const { dir, name } = this.#userParent(path);
    if (dir.children.has(name)) throw kerr('EEXIST');
    if (dir.ops?.mkdir === undefined) throw kerr('EPERM');
    dir.ops.mkdir(name, mode);
  }

  removeDirectory(path: string): void {
    const { dir, name } = this.#userParent(path);
    const node = dir.children.get(name);
    if (node === undefined) throw kerr('ENOENT');
    if (node.kind !== 'directory') throw kerr('ENOTDIR');
    if (this.#mounts.has(node)) throw kerr('EBUSY', 'a filesystem is mounted there');
    if (dir.ops?.rmdir === undefined) throw kerr('EPERM');
    dir.ops.rmdir(name);
  }

  makeSymlink(target: string, path: string): void {
    const { dir, name } = this.#userParent(path);
    if (dir.children.has(name)) throw kerr('EEXIST');
    if (dir.ops?.symlink === undefined) throw kerr('EPERM');
    const base = '/' + split(path).slice(0, -1).join('/');
    dir.ops.symlink(name, target, () => this.lookup(target.startsWith('/') ? target : `${base}/${target}`));
  }

  removeFile(path: string): void {
    const { dir, name } = this.#userParent(path);
    const node = dir.children.get(name);
    if (node === undefined) throw kerr('ENOENT');
    if (node.kind === 'directory') throw kerr('EISDIR');
    if (dir.ops?.unlink === undefined) throw kerr('EPERM');
    dir.ops.unlink(name);
  }

  /**
   * Makes the directory at `path` (created if needed) behave as tmpfs does for userspace:
   * mkdir/rmdir (ENOTEMPTY unless empty), symlink and unlink, in it and in what is made in it.
   */
  tmpfs(path: string): DirNode {
    const dir = this.mkdir(path);
    const ops: DirOps = {
      mkdir: (name, mode) => {
        dir.children.set(name, { kind: 'directory', mode: mode & 0o7777, children: new Map() });
        this.tmpfs(`${path === '/' ? '' : path}/${name}`);
      },
      rmdir: (name) => {
        const node = dir.children.get(name)!;
        if (node.kind === 'directory' && node.children.size > 0) throw kerr('ENOTEMPTY');
        dir.children.delete(name);
      },
      symlink: (name, target) => {
        dir.children.set(name, { kind: 'symlink', target });
      },
      unlink: (name) => {
        dir.children.delete(name);
      },
    };
    dir.ops = ops;
    return dir;
  }

  /** Registers a filesystem type for mount(2) (register_filesystem). */
  registerFilesystem(name: string, type: FilesystemType): void {
    this.#filesystems.set(name, type);
  }

  /** mount(2): ENODEV for an unknown type; the type checks source and options. */
  mount(source: string, path: string, fstype: string, data: string): void {
    const type = this.#filesystems.get(fstype);
    if (type === undefined) throw kerr('ENODEV', `unknown filesystem type ${fstype}`);
    const node = this.lookup(path);
    if (node.kind !== 'directory') throw kerr('ENOTDIR');
    const point = this.#mountPoint(path);
    // Linux stacks a second mount on the same point; the sim does not model stacking.
    if (this.#mounts.has(point)) throw kerr('EBUSY', 'the sim mounts one filesystem per directory');
    this.#mounts.set(point, type.mount(source, data));
  }

  /** umount2(2) without flags: EINVAL if `path` is no mount point, EBUSY while its files are open. */
  unmount(path: string): void {
    const node = this.lookup(path);
    for (const [point, fs] of this.#mounts) {
      if (fs.root !== node) continue;
      if (fs.busy()) throw kerr('EBUSY', 'files of this filesystem are open');
      this.#mounts.delete(point);
      fs.kill();
      return;
    }
    throw kerr('EINVAL', 'not a mount point');
  }

  /** The directory node `path` names in its parent (the node a mount covers). */
  #mountPoint(path: string): VfsNode {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) throw kerr('EBUSY', 'the root is mounted already');
    const parent = this.lookup('/' + parts.join('/'));
    if (parent.kind !== 'directory') throw kerr('ENOTDIR');
    const found = parent.children.get(name);
    if (found === undefined) throw kerr('ENOENT');
    return found;
  }

  exists(path: string): boolean {
    try {
      this.lookup(path, false);
      return true;
    } catch {
      return false;
    }
  }

  readdir(path: string): Array<{ name: string; kind: EntryKind }> {
    const node = this.lookup(path);
    if (node.kind !== 'directory') throw kerr('ENOTDIR');
    return [...node.children].map(([name, child]) => ({ name, kind: child.kind === 'chardev' ? 'other' : child.kind === 'regular' ? 'file' : child.kind }));
  }

  stat(path: string): { kind: EntryKind; mode: number; size: number; ino: number } {
    const node = this.lookup(path);
    // kernfs numbers nodes from a cyclic counter: a node made anew gets a new number.
    let ino = this.#inodes.get(node);
    if (ino === undefined) this.#inodes.set(node, (ino = ++this.#lastIno));
    switch (node.kind) {
      case 'directory':
        return { kind: 'directory', mode: node.mode, size: 0, ino };
      case 'file':
        return { kind: 'file', mode: node.attr.mode, size: 4096, ino };
      case 'chardev':
        return { kind: 'other', mode: node.mode, size: 0, ino };
      case 'regular':
        return { kind: 'file', mode: node.mode, size: 0, ino };
      default:
        throw kerr('ELOOP');
    }
  }

  readlink(path: string): string {
    const node = this.lookup(path, false);
    if (node.kind !== 'symlink') throw kerr('EINVAL');
    return node.target;
  }

  /** Opens a path the way open(2) does; kernfs refuses reads without show and writes without store. */
  open(path: string, flags: number): SimFile {
    const node = this.lookup(path);
    const access = flags & O_ACCMODE;
    switch (node.kind) {
      case 'directory':
        throw kerr(access === O_RDONLY ? 'EINVAL' : 'EISDIR');
      case 'chardev':
        return node.open(flags);
      case 'regular':
        return node.open(flags, path);
      case 'file': {
        if (access !== O_WRONLY && node.attr.show === undefined && node.attr.bytes === undefined) throw kerr('EACCES');
        if (access !== O_RDONLY && node.attr.store === undefined) throw kerr('EACCES');
        return new AttrFile(path, node.attr, flags);
      }
      default:
        throw kerr('ELOOP');
    }
  }

  readText(path: string): string {
    const node = this.lookup(path);
    if (node.kind === 'directory') throw kerr('EISDIR');
    if (node.kind !== 'file' || (node.attr.show === undefined && node.attr.bytes === undefined)) throw kerr(node.kind === 'file' ? 'EACCES' : 'EINVAL');
    return node.attr.show?.() ?? new TextDecoder().decode(node.attr.bytes!());
  }

  writeText(path: string, text: string): void {
    const node = this.lookup(path);
    if (node.kind === 'directory') throw kerr('EISDIR');
    if (node.kind !== 'file' || node.attr.store === undefined) throw kerr(node.kind === 'file' ? 'EACCES' : 'EINVAL');
    if (text.length > 0) node.attr.store(text);
  }
}
