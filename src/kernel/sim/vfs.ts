// The simulated file tree: sysfs attributes (show/store callbacks, as kernfs calls a driver's),
// directories, symlinks and device nodes. Paths are absolute; symlinks are followed.
import { kerr } from './errno.js';
import { SimFile } from './file.js';
import { O_ACCMODE, O_RDONLY, O_WRONLY, POLLERR, POLLIN, POLLPRI, POLLRDNORM, SEEK_CUR, SEEK_END, SEEK_SET } from '../../abi/index.js';
import type { EntryKind } from '../port.js';

export interface AttrOps {
  /** Mode bits as `ls -l` shows them (0o444 read-only, 0o644 read-write, 0o200 write-only). */
  mode: number;
  show?: () => string;
  /** Receives the written bytes as text, exactly as written (trailing newline included). */
  store?: (text: string) => void;
}

export type VfsNode =
  | { kind: 'directory'; mode: number; children: Map<string, VfsNode> }
  | { kind: 'file'; attr: AttrOps }
  | { kind: 'symlink'; target: string }
  | { kind: 'chardev'; mode: number; open: (flags: number) => SimFile };

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
    this.#content ??= new TextEncoder().encode(this.attr.show!());
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
  readonly root: VfsNode = { kind: 'directory', mode: 0o755, children: new Map() };
  readonly #inodes = new WeakMap<VfsNode, number>();
  #lastIno = 0;

  /** Resolves `path`; `followLast` = false returns a final symlink itself. */
  lookup(path: string, followLast = true, depth = 0): VfsNode {
    if (depth > 40) throw kerr('ELOOP');
    let node = this.root;
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
      const child = node.children.get(part);
      if (child === undefined) throw kerr('ENOENT');
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
  mkdir(path: string, mode = 0o755): VfsNode & { kind: 'directory' } {
    let node = this.root as VfsNode & { kind: 'directory' };
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
    return [...node.children].map(([name, child]) => ({ name, kind: child.kind === 'chardev' ? 'other' : child.kind }));
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
      case 'file': {
        if (access !== O_WRONLY && node.attr.show === undefined) throw kerr('EACCES');
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
    if (node.kind !== 'file' || node.attr.show === undefined) throw kerr(node.kind === 'file' ? 'EACCES' : 'EINVAL');
    return node.attr.show();
  }

  writeText(path: string, text: string): void {
    const node = this.lookup(path);
    if (node.kind === 'directory') throw kerr('EISDIR');
    if (node.kind !== 'file' || node.attr.store === undefined) throw kerr(node.kind === 'file' ? 'EACCES' : 'EINVAL');
    if (text.length > 0) node.attr.store(text);
  }
}
