// A context (libiio's iio_context): everything one backend reaches — context attributes, IIO
// devices and triggers — built once from the backend's description.
import type { Backend, ContextDescription, OpOptions } from '../backends/backend.js';
import type { KernelPort } from '../kernel/port.js';
import { Attr, attrMap } from './attr.js';
import { Device, Trigger } from './device.js';
import { notFound } from './errors.js';
import { Session } from './session.js';
import { contextXml } from './xml.js';

export class Context implements AsyncDisposable {
  /** The backend's name: `local`, `network`. */
  readonly name: string;
  readonly description: string;
  readonly version: Readonly<{ major: number; minor: number; git: string }>;
  /** Context attributes (`local,kernel`, `uri`, ...); their values are `staticValue`. */
  readonly attrs: ReadonlyMap<string, Attr>;
  /** IIO devices (`iio:deviceN`), in the context's order. */
  readonly devices: readonly Device[];
  /** Triggers (`triggerN`). */
  readonly triggers: readonly Trigger[];
  readonly #session: Session;

  private constructor(session: Session, d: ContextDescription) {
    this.#session = session;
    this.name = d.name;
    this.description = d.description;
    this.version = Object.freeze({ ...d.version });
    this.attrs = attrMap((s) => d.attributes.map((a) => new Attr(session, { kind: 'context', name: a.name }, a, undefined, s)));
    this.devices = Object.freeze(d.devices.filter((x) => !x.trigger).map((x) => new Device(session, x)));
    this.triggers = Object.freeze(d.devices.filter((x) => x.trigger).map((x) => new Trigger(session, x)));
    for (const t of this.triggers) session.triggers.set(t.id, t);
  }

  /** Describes the backend's context and builds its objects; the context owns the backend. */
  static async open(backend: Backend, options?: OpOptions): Promise<Context> {
    let description: ContextDescription;
    try {
      description = await backend.describe(options);
    } catch (e) {
      await backend.close();
      throw e;
    }
    return new Context(new Session(backend), description);
  }

  /** The URI the context was opened with. */
  get uri(): string {
    return this.#session.backend.uri;
  }

  /**
   * The Kernel port a `local:` or `sim:` context runs on (its blocks' DMABUF fds are this port's),
   * for handing them to another subsystem, e.g. USB FunctionFS; undefined for a remote context.
   */
  get kernel(): KernelPort | undefined {
    return this.#session.backend.kernel;
  }

  get closed(): boolean {
    return this.#session.closed;
  }

  /** Devices then triggers: the XML's order. */
  get allDevices(): readonly Device[] {
    return [...this.devices, ...this.triggers];
  }

  /** A device or trigger by id, else label, else name (the iiod server's order); undefined if none. */
  find(key: string): Device | undefined {
    const all = this.allDevices;
    return all.find((d) => d.id === key) ?? all.find((d) => d.label === key) ?? all.find((d) => d.name === key);
  }

  /** Like find(), but throws ENODEV listing the devices there are. */
  device(key: string): Device {
    const device = this.find(key);
    if (device === undefined) throw notFound('ENODEV', `context ${this.uri}`, 'device', key, this.allDevices.map((d) => d.toString()));
    return device;
  }

  /** A context attribute's value (`local,kernel`, `uri`). */
  attr(name: string): Attr {
    const attr = this.attrs.get(name);
    if (attr === undefined) throw notFound('ENOENT', `context ${this.uri}`, 'attribute', name, [...this.attrs.keys()]);
    return attr;
  }

  /** libiio's XML description of the context (iiod-protocol.md §4c). */
  toXml(): string {
    return contextXml(this.#xmlContext());
  }

  /** The XML with every readable attribute's current value (libiio's IIO_CTX_XML_INCLUDE_VALUES). */
  async toXmlWithValues(options?: OpOptions): Promise<string> {
    this.#session.check(options);
    const attrs = this.allDevices.flatMap((d) => [
      ...d.attrs.values(), ...d.debugAttrs.values(), ...d.eventAttrs.values(),
      ...d.channels.flatMap((c) => [...c.attrs.values(), ...c.eventAttrs.values()]),
      ...d.buffers.flatMap((b) => [...b.attrs.values()]),
    ]).filter((a) => a.readable !== false);
    const values = new Map<Attr, string>();
    await Promise.all(attrs.map(async (a) => {
      // An attribute that cannot be read now (EBUSY while streaming, EINVAL for an unset register) has no value.
      const value = await a.read(options).catch(() => undefined);
      if (value !== undefined) values.set(a, value);
    }));
    return contextXml(this.#xmlContext(), values);
  }

  /** The limit of blocking operations in ms (0: none): what setTimeout() set, or the backend's default. */
  get timeout(): number {
    return this.#session.backend.timeoutMs;
  }

  /** The limit of blocking operations in ms (0: none). */
  setTimeout(ms: number): void {
    this.#session.check();
    this.#session.backend.setTimeout(ms);
  }

  /** Closes the backend; every later operation rejects with ERR_IIOJS_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.#session.closed) return;
    this.#session.closed = true;
    // Streams first: they stop their buffers through the backend.
    await Promise.allSettled([...this.#session.streams].map((s) => s.close()));
    await this.#session.backend.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #xmlContext(): Parameters<typeof contextXml>[0] {
    return { name: this.name, description: this.description, version: this.version, attrs: this.attrs, devices: this.allDevices };
  }
}
