// memfd_create(2) files: shmem-backed, growable, sealable (F_ADD_SEALS), mappable. udmabuf
// builds DMABUFs from their pages (kernel-abi §4.2).
import { F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, MAP_PRIVATE, MAP_SHARED, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGETLB, O_RDWR, PROT_WRITE, SEEK_CUR, SEEK_END, SEEK_SET } from '../../abi/index.js';
import { kerr } from './errno.js';
import { SimFile } from './file.js';
import { Memory } from './memory.js';

const ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

export class MemFdFile extends SimFile {
  readonly name: string;
  readonly memory = new Memory(0);
  seals: number;
  #pos = 0;
  /** Shared mappings alive, and which of them are writable (F_SEAL_WRITE is refused then). */
  #sharedMappings = new Set<Uint8Array>();
  #writableMappings = new Set<Uint8Array>();

  constructor(name: string, mfdFlags: number) {
    super(O_RDWR);
    if (mfdFlags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB)) throw kerr('EINVAL');
    if (new TextEncoder().encode(name).length > 249) throw kerr('EINVAL');
    this.name = `/memfd:${name} (deleted)`;
    // Without MFD_ALLOW_SEALING the file starts sealed against further seals.
    this.seals = mfdFlags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  }

  get size(): number {
    return this.memory.size;
  }

  truncate(length: number): void {
    if (length < this.size && this.seals & F_SEAL_SHRINK) throw kerr('EPERM');
    if (length > this.size && this.seals & F_SEAL_GROW) throw kerr('EPERM');
    this.memory.resize(length);
  }

  addSeals(seals: number): void {
    if (seals & ~ALL_SEALS) throw kerr('EINVAL');
    if (this.seals & F_SEAL_SEAL) throw kerr('EPERM');
    if (seals & F_SEAL_WRITE && this.#writableMappings.size > 0) throw kerr('EBUSY');
    this.seals |= seals;
  }

  override read(into: Uint8Array): number {
    const n = Math.max(0, Math.min(into.length, this.size - this.#pos));
    into.set(this.memory.view(this.#pos, n));
    this.#pos += n;
    return n;
  }

  override write(from: Uint8Array): number {
    if (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) throw kerr('EPERM');
    const end = this.#pos + from.length;
    if (end > this.size) this.truncate(end);
    this.memory.view(this.#pos, from.length).set(from);
    this.#pos = end;
    return from.length;
  }

  override lseek(offset: number, whence: number): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.#pos : whence === SEEK_END ? this.size : NaN;
    if (Number.isNaN(base) || base + offset < 0) throw kerr('EINVAL');
    return (this.#pos = base + offset);
  }

  override mmap(length: number, prot: number, flags: number, offset: number): Uint8Array {
    const shared = (flags & (MAP_SHARED | MAP_PRIVATE)) === MAP_SHARED;
    if (shared && prot & PROT_WRITE && this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) throw kerr('EPERM');
    if (offset + length > this.size) throw kerr('ENXIO', 'mapping beyond the end of the memfd'); // SIGBUS territory in C
    if (!shared) return this.memory.view(offset, length).slice(); // private: a copy-on-write snapshot
    const mapping = this.memory.map(offset, length);
    this.#sharedMappings.add(mapping);
    if (prot & PROT_WRITE) this.#writableMappings.add(mapping);
    return mapping;
  }

  override munmap(mapping: Uint8Array): void {
    this.#writableMappings.delete(mapping);
    if (this.#sharedMappings.delete(mapping)) this.memory.unmap();
  }
}
