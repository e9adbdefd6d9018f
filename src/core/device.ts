// An IIO device or a trigger (libiio's iio_device): channels, attributes of every kind,
// buffers, its current trigger and its registers.
import type { DeviceDescription, IioEvent, OpOptions } from '../backends/backend.js';
import { UnsupportedError, deviceLabel } from '../backends/errors.js';
import { errnoOf, systemError } from '../errors.js';
import { Attr, attrMap } from './attr.js';
import { IioBuffer } from './buffer.js';
import { Channel } from './channel.js';
import { notFound } from './errors.js';
import type { Session } from './session.js';

export class Device {
  /** `iio:deviceN` or `triggerN`. */
  readonly id: string;
  readonly name: string | undefined;
  readonly label: string | undefined;
  /** Channels in mask order: scan elements by scan index, then the others. */
  readonly channels: readonly Channel[];
  readonly attrs: ReadonlyMap<string, Attr>;
  /** debugfs attributes (`direct_reg_access`, ...). */
  readonly debugAttrs: ReadonlyMap<string, Attr>;
  /** events/ attributes that belong to no channel (channels have their own `eventAttrs`). */
  readonly eventAttrs: ReadonlyMap<string, Attr>;
  readonly buffers: readonly IioBuffer[];
  /** Whether the device can take a trigger; undefined when the backend cannot tell. */
  readonly triggerSupport: boolean | undefined;
  readonly registers: Registers;
  readonly #session: Session;

  /** @internal Built by the context from its description. */
  constructor(session: Session, d: DeviceDescription) {
    this.#session = session;
    this.id = d.id;
    this.name = d.name;
    this.label = d.label;
    this.triggerSupport = d.triggerSupport;
    this.channels = Object.freeze(d.channels.map((c, position) => new Channel(session, this, c, position)));
    this.attrs = attrMap((s) => d.attributes.map((a) => new Attr(session, { kind: 'device', device: d.id, name: a.name }, a, d.name, s)));
    this.debugAttrs = attrMap((s) => d.debugAttributes.map((a) => new Attr(session, { kind: 'debug', device: d.id, name: a.name }, a, d.name, s)));
    this.eventAttrs = attrMap((s) => d.eventAttributes.map((a) => new Attr(session, { kind: 'event', device: d.id, name: a.name }, a, d.name, s)));
    this.buffers = Object.freeze(d.buffers.map((b) => new IioBuffer(session, this, b)));
    this.registers = new Registers(session, this, this.debugAttrs.has('direct_reg_access'));
  }

  /** A trigger (`triggerN`) rather than an IIO device. */
  get isTrigger(): boolean {
    return false;
  }

  /**
   * The channel whose id, extend name or label is `key`; inputs first unless `direction` says.
   * Undefined when there is none.
   */
  findChannel(key: string, direction?: 'in' | 'out'): Channel | undefined {
    const candidates = this.channels
      .filter((c) => direction === undefined || c.direction === direction)
      .sort((a, b) => Number(a.output) - Number(b.output));
    return candidates.find((c) => c.id === key) ?? candidates.find((c) => c.name === key) ?? candidates.find((c) => c.label === key);
  }

  /** Like findChannel, but throws ENOENT naming the device and its channels. */
  channel(key: string, direction?: 'in' | 'out'): Channel {
    const channel = this.findChannel(key, direction);
    if (channel === undefined) {
      const what = direction === undefined ? 'channel' : `${direction === 'out' ? 'output' : 'input'} channel`;
      throw notFound('ENOENT', this.toString(), what, key, this.channels.map((c) => `${c.id} (${c.direction})`));
    }
    return channel;
  }

  /** The attribute `name`; throws ENOENT naming the device and what it has. */
  attr(name: string): Attr {
    return lookup(this.attrs, name, this, 'attribute');
  }

  debugAttr(name: string): Attr {
    return lookup(this.debugAttrs, name, this, 'debug attribute');
  }

  eventAttr(name: string): Attr {
    return lookup(this.eventAttrs, name, this, 'event attribute');
  }

  /**
   * The device's events (thresholds and the like, enabled through event attributes), as they
   * arrive: `for await (const event of device.events({ signal }))`. One reader per device at a
   * time (the kernel answers EBUSY to a second). Leaving the loop closes the event fd.
   */
  async *events(options: OpOptions = {}): AsyncGenerator<IioEvent, void, undefined> {
    this.#session.check(options);
    const backend = this.#session.backend;
    if (backend.openEvents === undefined) throw new UnsupportedError('events', deviceLabel(this.id, this.name), `the ${backend.uri} backend has no event support`);
    const handle = await backend.openEvents(this.id, options);
    try {
      for (;;) yield await handle.read(options);
    } finally {
      handle.close();
    }
  }

  /** The buffer with this index (0 for most devices). */
  buffer(index = 0): IioBuffer {
    const buffer = this.buffers.find((b) => b.index === index);
    if (buffer === undefined) throw notFound('ENOENT', this.toString(), 'buffer', String(index), this.buffers.map((b) => String(b.index)));
    return buffer;
  }

  /** The trigger the device uses, or null. UnsupportedError if it takes none. */
  async getTrigger(options?: OpOptions): Promise<Trigger | null> {
    this.#session.check(options);
    const ref = await this.#session.backend.getTrigger(this.id, options);
    if (ref === null) return null;
    const trigger = ref.id === undefined ? undefined : this.#session.triggers.get(ref.id);
    if (trigger !== undefined) return trigger;
    throw systemError(errnoOf('ENODEV'), 'find', undefined,
      `${this.toString()} uses trigger ${JSON.stringify(ref.name)}${ref.id === undefined ? '' : ` (${ref.id})`}, which is not in this context (it appeared after the context was opened)`);
  }

  /**
   * Attaches a trigger (a Trigger of this context, or a trigger id or name), or detaches with
   * null. The kernel's answer is read back: a trigger it did not take is an error.
   */
  async setTrigger(trigger: Trigger | string | null, options?: OpOptions): Promise<void> {
    this.#session.check(options);
    let id: string | null;
    if (trigger === null) id = null;
    else if (typeof trigger === 'string') {
      const known = this.#session.triggers.get(trigger) ?? [...this.#session.triggers.values()].find((t) => t.name === trigger);
      id = known?.id ?? trigger;
    } else id = trigger.id;
    if (this.triggerSupport === false) {
      throw new UnsupportedError('trigger', this.toString(), 'the device takes no trigger');
    }
    await this.#session.backend.setTrigger(this.id, id, options);
  }

  /** e.g. `iio:device0 (adc4)`. */
  toString(): string {
    return deviceLabel(this.id, this.name);
  }
}

/** A trigger device (`triggerN`); its `name` is what devices' current_trigger holds. */
export class Trigger extends Device {
  override get isTrigger(): boolean {
    return true;
  }
}

/** Register access through debugfs `direct_reg_access` (libiio's iio_device_reg_read/write). */
export class Registers {
  readonly #session: Session;
  readonly #device: Device;
  /** The device has `direct_reg_access`. */
  readonly supported: boolean;

  /** @internal */
  constructor(session: Session, device: Device, supported: boolean) {
    this.#session = session;
    this.#device = device;
    this.supported = supported;
  }

  /** The 32-bit value of register `address`. */
  async read(address: number, options?: OpOptions): Promise<number> {
    this.#check(options);
    return this.#session.backend.readRegister(this.#device.id, address, options);
  }

  async write(address: number, value: number, options?: OpOptions): Promise<void> {
    this.#check(options);
    await this.#session.backend.writeRegister(this.#device.id, address, value, options);
  }

  #check(options?: OpOptions): void {
    this.#session.check(options);
    if (!this.supported) throw new UnsupportedError('registers', this.#device.toString(), 'no register access (no direct_reg_access debug attribute)');
  }
}

function lookup(map: ReadonlyMap<string, Attr>, name: string, device: Device, what: string): Attr {
  const attr = map.get(name);
  if (attr === undefined) throw notFound('ENOENT', device.toString(), what, name, [...map.keys()]);
  return attr;
}
