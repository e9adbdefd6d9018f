// The local backend: libiio's `local` over any Kernel port — the real kernel (`local:`) or the
// simulated one (`sim:`). Attributes are sysfs/debugfs files found by describe(); triggers go
// through trigger/current_trigger (kernel-abi §6.6); registers through debugfs
// direct_reg_access; buffers and blocks through buffer.ts; events through the device's event fd
// (events.ts).
import { abortError, errnoOf, isSystemError, systemError } from '../../errors.js';
import { openLocalEvents } from './events.js';
import type { KernelPort } from '../../kernel/port.js';
import type { AttrRef, Backend, BufferHandle, ContextDescription, DmabufSupport, EventHandle, OpOptions, OpenBufferOptions, TriggerRef } from '../backend.js';
import { openLocalBuffer, probeLocalDmabuf, type LocalBufferFiles } from './buffer.js';
import { UnsupportedError, closedError, deviceLabel, withContext } from '../errors.js';
import { describeLocal, describeRef, refKey, type AttrFile, type LocalDescription, type LocalDevice, type LocalRoots } from './describe.js';
import { trimNewline } from './sysfs.js';
import { KeyedLock, checkU32, parseRegisterValue } from '../registers.js';
import { checkTimeout } from '../waits.js';

export interface LocalBackendOptions {
  /** The `uri` context attribute (default `local:` on the real kernel, `sim:` on the sim). */
  uri?: string;
  /** Where sysfs is (default `/sys`); tests point it at a temporary tree. */
  sysfs?: string;
  /** Where debugfs is (default `<sysfs>/kernel/debug`). */
  debugfs?: string;
  /** Where procfs is (default `/proc`). */
  procfs?: string;
  /** The limit of blocking operations in ms (0: none). */
  timeoutMs?: number;
  /** Where the device nodes are (default `/dev`). */
  dev?: string;
}

export class LocalBackend implements Backend {
  readonly uri: string;
  /** The kernel this backend drives (its buffers, blocks and event handles use it too). */
  readonly kernel: KernelPort;
  readonly #roots: LocalRoots & { dev: string };
  #state: LocalDescription | undefined;
  #closed = false;
  #timeoutMs: number;
  readonly #registerLock = new KeyedLock();

  constructor(kernel: KernelPort, options: LocalBackendOptions = {}) {
    this.kernel = kernel;
    this.uri = options.uri ?? (kernel.kind === 'sim' ? 'sim:' : 'local:');
    const sysfs = options.sysfs ?? '/sys';
    this.#roots = { sysfs, debugfs: options.debugfs ?? `${sysfs}/kernel/debug`, procfs: options.procfs ?? '/proc', dev: options.dev ?? '/dev' };
    this.#timeoutMs = options.timeoutMs ?? 0;
  }

  /** The limit set by setTimeout() or the options (0: none). */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  async describe(options?: OpOptions): Promise<ContextDescription> {
    this.#check(options);
    this.#state = await describeLocal(this.kernel, this.#roots, this.uri);
    return this.#state.description;
  }

  async readAttr(ref: AttrRef, options?: OpOptions): Promise<string> {
    this.#check(options);
    if (ref.kind === 'context') return this.#contextAttr(ref.name);
    const file = this.#file(ref);
    const label = describeRef(ref, this.#described().devices);
    if (!file.readable) throw systemError(errnoOf('EACCES'), 'open', file.path, `${label} is write-only`);
    try {
      return trimNewline(await this.kernel.readText(file.path));
    } catch (e) {
      throw withContext(e, label, file.path);
    }
  }

  async writeAttr(ref: AttrRef, value: string, options?: OpOptions): Promise<void> {
    this.#check(options);
    if (ref.kind === 'context') {
      this.#contextAttr(ref.name);
      throw systemError(errnoOf('EACCES'), 'write', undefined, `context attribute "${ref.name}" is a static value`);
    }
    const file = this.#file(ref);
    const label = describeRef(ref, this.#described().devices);
    if (!file.writable) throw systemError(errnoOf('EACCES'), 'open', file.path, `${label} is read-only`);
    try {
      await this.kernel.writeText(file.path, value);
    } catch (e) {
      throw withContext(e, `${label}, value ${JSON.stringify(value)}`, file.path);
    }
  }

  async getTrigger(device: string, options?: OpOptions): Promise<TriggerRef | null> {
    this.#check(options);
    const dev = this.#device(device);
    const name = trimNewline(await this.#readCurrentTrigger(dev));
    if (name === '') return null;
    const id = await this.#triggerIdByName(name);
    return id === undefined ? { name } : { name, id };
  }

  async setTrigger(device: string, trigger: string | null, options?: OpOptions): Promise<void> {
    this.#check(options);
    const dev = this.#device(device);
    const path = `${dev.dir}/trigger/current_trigger`;
    const label = `trigger of ${deviceLabel(dev.id, dev.name)}`;
    const name = trigger === null ? '' : await this.#triggerName(trigger, label);
    await this.#readCurrentTrigger(dev); // UnsupportedError before any write
    try {
      // A single newline detaches; a 0-byte write would be a no-op (kernel-abi §6.6).
      await this.kernel.writeText(path, name === '' ? '\n' : name);
    } catch (e) {
      throw withContext(e, `${label}, value ${JSON.stringify(name)}`, path);
    }
    // The kernel accepts unknown names and silently detaches: read back what it did.
    const now = trimNewline(await this.kernel.readText(path));
    if (now !== name) {
      throw systemError(errnoOf('EINVAL'), 'write', path, `${label}: asked for ${name === '' ? 'none' : JSON.stringify(name)}, the kernel has ${now === '' ? 'none' : JSON.stringify(now)}`);
    }
  }

  async readRegister(device: string, address: number, options?: OpOptions): Promise<number> {
    this.#check(options);
    checkU32('address', address);
    const { path, label } = this.#registers(device);
    return this.#registerLock.run(device, async () => {
      let text: string;
      try {
        await this.kernel.writeText(path, `0x${address.toString(16)}`);
        text = trimNewline(await this.kernel.readText(path)).trim();
      } catch (e) {
        throw withContext(e, `${label}, register 0x${address.toString(16)}`, path);
      }
      const value = parseRegisterValue(text);
      if (!Number.isSafeInteger(value)) throw systemError(errnoOf('EIO'), 'read', path, `${label}: unexpected register value ${JSON.stringify(text)}`);
      return value;
    });
  }

  async writeRegister(device: string, address: number, value: number, options?: OpOptions): Promise<void> {
    this.#check(options);
    checkU32('address', address);
    checkU32('value', value);
    const { path, label } = this.#registers(device);
    await this.#registerLock.run(device, async () => {
      try {
        await this.kernel.writeText(path, `0x${address.toString(16)} 0x${value.toString(16)}`);
      } catch (e) {
        throw withContext(e, `${label}, register 0x${address.toString(16)} = 0x${value.toString(16)}`, path);
      }
    });
  }

  async openBuffer(device: string, index: number, mask: readonly number[], options: OpenBufferOptions): Promise<BufferHandle> {
    this.#check(options);
    return openLocalBuffer(this.kernel, this.#bufferFiles(device, index), index, mask, { ...options, timeoutMs: () => this.#timeoutMs });
  }

  async probeDmabuf(device: string, index: number, options: OpOptions = {}): Promise<DmabufSupport> {
    this.#check(options);
    return probeLocalDmabuf(this.kernel, this.#bufferFiles(device, index), index);
  }

  #bufferFiles(device: string, index: number): LocalBufferFiles {
    const dev = this.#device(device);
    const desc = this.#described().description.devices.find((d) => d.id === device)?.buffers.find((b) => b.index === index);
    const scanEnable = dev.scanEnable.get(index);
    if (desc === undefined || scanEnable === undefined) throw systemError(errnoOf('ENODEV'), 'open', dev.dir, `${deviceLabel(dev.id, dev.name)} has no buffer ${index}`);
    const state = this.#described();
    const file = (name: string): string | undefined => state.files.get(refKey({ kind: 'buffer', device, buffer: index, name }))?.path;
    const enable = file('enable');
    if (enable === undefined) throw new UnsupportedError('buffer', deviceLabel(dev.id, dev.name), `buffer ${index} has no enable attribute`);
    const length = file('length');
    const watermark = file('watermark');
    return {
      deviceId: dev.id, deviceDir: dev.dir, node: `${this.#roots.dev}/${dev.id}`, enable,
      ...(length === undefined ? {} : { length }), ...(watermark === undefined ? {} : { watermark }),
      scanEnable, output: desc.direction === 'out',
    };
  }

  async openEvents(device: string, options: OpOptions = {}): Promise<EventHandle> {
    this.#check(options);
    const dev = this.#device(device);
    return openLocalEvents(this.kernel, `${this.#roots.dev}/${dev.id}`);
  }

  setTimeout(ms: number): void {
    this.#timeoutMs = checkTimeout(ms);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  get #busDir(): string {
    return `${this.#roots.sysfs}/bus/iio/devices`;
  }

  #check(options: OpOptions | undefined): void {
    if (this.#closed) throw closedError(`the ${this.uri} backend`);
    if (options?.signal?.aborted === true) throw abortError(options.signal);
  }

  #described(): LocalDescription {
    if (this.#state === undefined) throw new Error('LocalBackend: describe() must come first');
    return this.#state;
  }

  #contextAttr(name: string): string {
    const attr = this.#described().description.attributes.find((a) => a.name === name);
    if (attr === undefined) throw systemError(errnoOf('ENOENT'), 'read', undefined, `no context attribute "${name}"`);
    return attr.value;
  }

  #file(ref: AttrRef): AttrFile {
    const state = this.#described();
    const file = state.files.get(refKey(ref));
    if (file === undefined) throw systemError(errnoOf('ENOENT'), 'open', undefined, `no ${describeRef(ref, state.devices)}`);
    return file;
  }

  #device(id: string): LocalDevice {
    const device = this.#described().devices.get(id);
    if (device === undefined) throw systemError(errnoOf('ENODEV'), 'open', `${this.#busDir}/${id}`, `no IIO device ${id}`);
    return device;
  }

  async #readCurrentTrigger(dev: LocalDevice): Promise<string> {
    const path = `${dev.dir}/trigger/current_trigger`;
    try {
      return await this.kernel.readText(path);
    } catch (e) {
      if (isSystemError(e, 'ENOENT')) throw new UnsupportedError('trigger', deviceLabel(dev.id, dev.name), 'the device takes no trigger (no trigger/current_trigger)', { cause: e });
      throw withContext(e, `trigger of ${deviceLabel(dev.id, dev.name)}`, path);
    }
  }

  /** The name of trigger `trigger` (an id, or a name of a trigger added after describe()). */
  async #triggerName(trigger: string, label: string): Promise<string> {
    const path = `${this.#busDir}/${trigger}/name`;
    try {
      if (/^trigger\d+$/.test(trigger)) return trimNewline(await this.kernel.readText(path));
    } catch (e) {
      if (!isSystemError(e, 'ENOENT')) throw withContext(e, label, path);
    }
    if (await this.#triggerIdByName(trigger) !== undefined) return trigger;
    throw systemError(errnoOf('ENODEV'), 'open', path, `no trigger ${trigger} (setting the ${label})`);
  }

  /** Trigger names are unique (kernel-abi §6.6); a trigger added after describe() is found too. */
  async #triggerIdByName(name: string): Promise<string | undefined> {
    const entries = (await this.kernel.readdir(this.#busDir)).map((e) => e.name).filter((n) => /^trigger\d+$/.test(n));
    for (const id of entries) {
      const text = await this.kernel.readText(`${this.#busDir}/${id}/name`).catch(() => undefined);
      if (text !== undefined && trimNewline(text) === name) return id;
    }
    return undefined;
  }

  #registers(device: string): { path: string; label: string } {
    const dev = this.#device(device);
    const label = `registers of ${deviceLabel(dev.id, dev.name)}`;
    if (dev.registers === undefined) {
      throw new UnsupportedError('registers', deviceLabel(dev.id, dev.name), `no register access (no ${this.#roots.debugfs}/iio/${dev.id}/direct_reg_access)`);
    }
    return { path: dev.registers, label };
  }

}
