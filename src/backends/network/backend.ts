// The network backend (`ip:host[:port]`): an iiod client speaking the legacy text protocol
// (iiod-protocol.md §4a), which libiio 0.24's iiod and ours both serve. Like libiio 0.24, a
// context socket carries PRINT, TIMEOUT, attribute READ/WRITE and GETTRIG/SETTRIG, registers go
// through the debug attribute `direct_reg_access`, and each open buffer has a socket of its own
// (buffer.ts). Every reply is bounded by the timeout (libiio's network default, 5 s), and the
// server is told half of it (TIMEOUT), so that its own refill gives up first, with a clean reply.
import type { ScanElement } from '../../format/scan-layout.js';
import { errnoOf, systemError } from '../../errors.js';
import { libiioSampleSize } from '../../iiod/mask.js';
import type {
  AttrRef, Backend, BufferHandle, ContextDescription, DeviceDescription, OpOptions, OpenBufferOptions, TriggerRef,
} from '../backend.js';
import { UnsupportedError, attrLabel, closedError, deviceLabel } from '../errors.js';
import { KeyedLock, checkU32, parseRegisterValue } from '../registers.js';
import { checkTimeout } from '../waits.js';
import { parseIpUri, type IiodAddress } from './address.js';
import { NetworkBuffer } from './buffer.js';
import { ATTR_VALUE_LIMIT, NAME_LIMIT, XML_LIMIT, attrBytes, attrPath, attrText, readPayload, token } from './commands.js';
import { IiodConnection, type RunOptions, type Wire } from './connection.js';
import { ContextXmlError, parseContextXml } from './context-xml.js';

/** libiio's default timeout for network contexts. */
export const NETWORK_TIMEOUT_MS = 5000;

export interface NetworkBackendOptions {
  /** The limit of each command's reply and of each block transfer, ms (0: none; default 5000). */
  timeoutMs?: number;
}

export class NetworkBackend implements Backend {
  readonly uri: string;
  readonly address: IiodAddress;
  readonly #conn: IiodConnection;
  readonly #buffers = new Set<NetworkBuffer>();
  readonly #registerLock = new KeyedLock();
  #description: ContextDescription | undefined;
  /** The description's devices by id, and its triggers by name: every command looks one up. */
  #devices = new Map<string, DeviceDescription>();
  #triggersByName = new Map<string, DeviceDescription>();
  #timeoutMs: number;
  #closed = false;

  constructor(uri: string, options: NetworkBackendOptions = {}) {
    this.uri = uri;
    this.address = parseIpUri(uri);
    this.#timeoutMs = checkTimeout(options.timeoutMs ?? NETWORK_TIMEOUT_MS);
    this.#conn = new IiodConnection(this.address, { onConnect: (wire) => this.#sendTimeout(wire) });
  }

  /** The limit set by setTimeout() or the options (0: none). */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  async describe(options?: OpOptions): Promise<ContextDescription> {
    this.#check();
    const xml = await this.#run('PRINT', 'the context description', async (wire) => {
      wire.line('PRINT');
      const length = await wire.status();
      if (length < 0) throw wire.remote(length);
      const payload = await readPayload(wire, length, XML_LIMIT);
      try {
        const text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
        return parseContextXml(text);
      } catch (e) {
        const detail = e instanceof ContextXmlError ? e.message : 'the XML is not UTF-8';
        const error = wire.remote(-errnoOf('EPROTO'), `unusable context XML: ${detail}`);
        error.cause = e;
        throw error;
      }
    }, options);
    // libiio's network context: its own name, the server's attributes, and where it is.
    this.#description = {
      ...xml,
      name: 'network',
      attributes: [
        ...xml.attributes.filter((a) => a.name !== 'uri' && a.name !== 'ip,ip-addr'),
        { name: 'ip,ip-addr', value: this.address.host },
        { name: 'uri', value: this.uri },
      ],
    };
    // The first of an id (or a trigger's name) wins, as a search of the list would find it.
    this.#devices = new Map();
    this.#triggersByName = new Map();
    for (const d of xml.devices) {
      if (!this.#devices.has(d.id)) this.#devices.set(d.id, d);
      if (d.trigger && d.name !== undefined && !this.#triggersByName.has(d.name)) this.#triggersByName.set(d.name, d);
    }
    return this.#description;
  }

  async readAttr(ref: AttrRef, options?: OpOptions): Promise<string> {
    this.#check();
    if (ref.kind === 'context') return this.#contextAttr(ref.name);
    const what = this.#attrWhat(ref);
    const path = attrPath(this.#addressable(ref, what));
    return this.#run('READ', what, async (wire) => {
      wire.line(`READ ${path}`);
      const length = await wire.status();
      if (length < 0) throw wire.remote(length);
      return attrText(await readPayload(wire, length, ATTR_VALUE_LIMIT));
    }, options);
  }

  async writeAttr(ref: AttrRef, value: string, options?: OpOptions): Promise<void> {
    this.#check();
    if (ref.kind === 'context') {
      this.#contextAttr(ref.name);
      throw systemError(errnoOf('EACCES'), 'write', undefined, `context attribute "${ref.name}" is a static value`);
    }
    const what = `${this.#attrWhat(ref)}, value ${JSON.stringify(value)}`;
    const path = attrPath(this.#addressable(ref, what));
    const bytes = attrBytes(value);
    await this.#run('WRITE', what, async (wire) => {
      wire.line(`WRITE ${path} ${bytes.length}`);
      await wire.bytes(bytes);
      const written = await wire.status();
      if (written < 0) throw wire.remote(written);
    }, options);
  }

  async getTrigger(device: string, options?: OpOptions): Promise<TriggerRef | null> {
    this.#check();
    const dev = this.#device(device);
    const name = await this.#currentTrigger(dev, options);
    if (name === null) return null;
    this.#described();
    const id = this.#triggersByName.get(name)?.id;
    return id === undefined ? { name } : { name, id };
  }

  async setTrigger(device: string, trigger: string | null, options?: OpOptions): Promise<void> {
    this.#check();
    const dev = this.#device(device);
    const what = `trigger of ${deviceLabel(dev.id, dev.name)}`;
    const arg = trigger === null ? '' : ` ${token(trigger, 'trigger')}`;
    await this.#run('SETTRIG', `${what}, value ${JSON.stringify(trigger ?? '')}`, async (wire) => {
      wire.line(`SETTRIG ${token(dev.id, 'device')}${arg}`);
      const status = await wire.status();
      if (status < 0) throw wire.remote(status);
    }, options);
    // The kernel takes unknown names and silently detaches: read back what it did.
    const named = trigger === null ? undefined : this.#devices.get(trigger);
    const wanted = trigger === null ? null : ((named?.trigger === true ? named.name : undefined) ?? trigger);
    const now = await this.#currentTrigger(dev, options);
    if (now !== wanted) {
      throw systemError(errnoOf('EINVAL'), 'SETTRIG', this.address.label,
        `${what}: asked for ${wanted === null ? 'none' : JSON.stringify(wanted)}, the server has ${now === null ? 'none' : JSON.stringify(now)}`);
    }
  }

  async readRegister(device: string, address: number, options?: OpOptions): Promise<number> {
    this.#check();
    checkU32('address', address);
    const ref = this.#registers(device);
    return this.#registerLock.run(device, async () => {
      await this.writeAttr(ref, `0x${address.toString(16)}`, options);
      const text = (await this.readAttr(ref, options)).trim();
      const value = parseRegisterValue(text);
      if (!Number.isSafeInteger(value)) {
        throw systemError(errnoOf('EIO'), 'READ', this.address.label, `registers of ${deviceLabel(device, this.#device(device).name)}: unexpected register value ${JSON.stringify(text)}`);
      }
      return value;
    });
  }

  async writeRegister(device: string, address: number, value: number, options?: OpOptions): Promise<void> {
    this.#check();
    checkU32('address', address);
    checkU32('value', value);
    const ref = this.#registers(device);
    await this.#registerLock.run(device, () => this.writeAttr(ref, `0x${address.toString(16)} 0x${value.toString(16)}`, options));
  }

  async openBuffer(device: string, index: number, mask: readonly number[], options: OpenBufferOptions): Promise<BufferHandle> {
    this.#check();
    const dev = this.#device(device);
    const label = deviceLabel(dev.id, dev.name);
    const buffer = dev.buffers.find((b) => b.index === index);
    if (buffer === undefined) throw systemError(errnoOf('ENODEV'), 'OPEN', this.address.label, `${label} has no buffer ${index}`);
    if (options.mode === 'dmabuf') throw new UnsupportedError('dmabuf', `${dev.id}/buffer${index}`, `samples come over TCP from iiod at ${this.address.label}: file I/O mode only`);
    if (!(Number.isSafeInteger(options.blocks) && options.blocks >= 1)) throw new RangeError(`${dev.id}/buffer${index}: blocks must be a positive integer, got ${options.blocks}`);
    if (!(Number.isSafeInteger(options.blockBytes) && options.blockBytes >= 1)) throw new RangeError(`${dev.id}/buffer${index}: blockBytes must be a positive integer, got ${options.blockBytes}`);
    for (const p of mask) {
      if (!buffer.channels.includes(p)) throw systemError(errnoOf('EINVAL'), 'OPEN', this.address.label, `${dev.id}/buffer${index} carries no scan element at channel position ${p}`);
    }
    // OPEN names no buffer: the server takes the first one that carries every channel of the mask.
    if (dev.buffers.find((b) => mask.every((p) => b.channels.includes(p))) !== buffer) {
      throw new UnsupportedError('buffer', label, `iiod's text protocol cannot pick buffer ${index}: an earlier buffer carries the same channels`);
    }
    const element = (p: number): ScanElement => {
      const c = dev.channels[p]!;
      return { index: c.scan!.index, type: c.scan!.type, ...(c.type === 'timestamp' ? { timestamp: true } : {}) };
    };
    const sampleBytes = libiioSampleSize(mask.map(element));
    if (sampleBytes !== options.scanBytes) {
      throw new UnsupportedError('layout', `${dev.id}/buffer${index}`, `iiod lays out ${sampleBytes}-byte samples (libiio's rule) where this scan takes ${options.scanBytes} bytes (the kernel's rule): enable other channels`);
    }
    if (options.blockBytes % sampleBytes !== 0) throw new RangeError(`${dev.id}/buffer${index}: ${options.blockBytes} bytes is not a whole number of ${sampleBytes}-byte samples`);
    const handle: NetworkBuffer = new NetworkBuffer({
      connection: new IiodConnection(this.address, { onConnect: (wire) => this.#sendTimeout(wire) }),
      device: dev.id, index, output: buffer.direction === 'out', mask: [...mask].sort((a, b) => a - b), channelCount: dev.channels.length, element,
      sampleBytes, blockBytes: options.blockBytes, blocks: options.blocks, timeoutMs: () => this.#timeoutMs,
      onClose: () => this.#buffers.delete(handle),
    });
    this.#buffers.add(handle);
    return handle;
  }

  setTimeout(ms: number): void {
    this.#timeoutMs = checkTimeout(ms);
    // The server's limit too, on the context socket (iiod 0.24 keeps one for all its clients).
    if (!this.#closed) void this.#run('TIMEOUT', 'setting the timeout', (wire) => this.#sendTimeout(wire)).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#buffers].map((b) => b.close()));
    await this.#conn.close();
  }

  /**
   * TIMEOUT <ms/2> (libiio's choice). Advisory: servers that lack the command answer -22, and
   * libiio's iiod over a context that cannot time out -38; the client's own limit still holds.
   */
  async #sendTimeout(wire: Wire): Promise<void> {
    wire.line(`TIMEOUT ${Math.floor(this.#timeoutMs / 2)}`);
    await wire.status();
  }

  #run<T>(command: string, what: string, task: (wire: Wire) => Promise<T>, options?: OpOptions): Promise<T> {
    const run: RunOptions = { timeoutMs: this.#timeoutMs };
    if (options?.signal !== undefined) run.signal = options.signal;
    return this.#conn.run(command, what, task, run);
  }

  async #currentTrigger(dev: DeviceDescription, options?: OpOptions): Promise<string | null> {
    const label = deviceLabel(dev.id, dev.name);
    try {
      return await this.#run('GETTRIG', `trigger of ${label}`, async (wire) => {
        wire.line(`GETTRIG ${token(dev.id, 'device')}`);
        const length = await wire.status();
        if (length < 0) throw wire.remote(length);
        if (length === 0) return null;
        return attrText(await readPayload(wire, length, NAME_LIMIT));
      }, options);
    } catch (e) {
      const code = (e as { code?: string }).code;
      // libiio 0.24's iiod: ENOENT when there is no trigger/current_trigger; EIO when it is
      // empty (its local backend reads the kernel's 0-byte "no trigger" answer as an error).
      if (code === 'ENOENT') throw new UnsupportedError('trigger', label, 'the device takes no trigger', { cause: e });
      if (code === 'EIO') return null;
      throw e;
    }
  }

  #check(): void {
    if (this.#closed) throw closedError(`the ${this.uri} backend`);
  }

  #described(): ContextDescription {
    if (this.#description === undefined) throw new Error('NetworkBackend: describe() must come first');
    return this.#description;
  }

  #device(id: string): DeviceDescription {
    this.#described();
    const device = this.#devices.get(id);
    if (device === undefined) throw systemError(errnoOf('ENODEV'), 'find', this.address.label, `no IIO device ${id}`);
    return device;
  }

  #contextAttr(name: string): string {
    const attr = this.#described().attributes.find((a) => a.name === name);
    if (attr === undefined) throw systemError(errnoOf('ENOENT'), 'read', undefined, `no context attribute "${name}"`);
    return attr.value;
  }

  #attrWhat(ref: AttrRef): string {
    this.#described();
    const device = 'device' in ref ? this.#devices.get(ref.device) : undefined;
    return attrLabel(ref, device?.name);
  }

  /** What the text protocol can name: no event attributes, and buffer attributes only of a device's only buffer. */
  #addressable(ref: Exclude<AttrRef, { kind: 'context' }>, what: string): Exclude<AttrRef, { kind: 'context' | 'event' }> {
    if (ref.kind === 'event') throw new UnsupportedError('attribute', what, `iiod's text protocol has no command for event attributes`);
    if (ref.kind === 'buffer' && this.#device(ref.device).buffers.length !== 1) {
      throw new UnsupportedError('attribute', what, `iiod's text protocol names the attributes of a device's only buffer; this device has ${this.#device(ref.device).buffers.length}`);
    }
    return ref;
  }

  #registers(device: string): AttrRef & { kind: 'debug' } {
    const dev = this.#device(device);
    if (!dev.debugAttributes.some((a) => a.name === 'direct_reg_access')) {
      throw new UnsupportedError('registers', deviceLabel(dev.id, dev.name), 'no register access (no direct_reg_access debug attribute)');
    }
    return { kind: 'debug', device, name: 'direct_reg_access' };
  }

}
