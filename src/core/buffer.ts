// A hardware buffer of a device (libiio v1's iio_buffer): its index, direction, attributes and
// the scan elements it carries. Opening it as a stream with a channels mask, and its blocks,
// come with item 3. Not called `Buffer`, which would shadow Node's.
import type { BufferDescription } from '../backends/backend.js';
import { Attr, attrMap } from './attr.js';
import type { Channel } from './channel.js';
import type { Device } from './device.js';
import { notFound } from './errors.js';
import type { Session } from './session.js';

export class IioBuffer {
  readonly device: Device;
  readonly index: number;
  readonly direction: 'in' | 'out';
  readonly attrs: ReadonlyMap<string, Attr>;
  /** The scan elements it carries, in mask order. */
  readonly channels: readonly Channel[];

  /** @internal */
  constructor(session: Session, device: Device, d: BufferDescription) {
    this.device = device;
    this.index = d.index;
    this.direction = d.direction;
    this.channels = Object.freeze(d.channels.map((p) => device.channels[p]!));
    this.attrs = attrMap((siblings) => d.attributes.map((a) =>
      new Attr(session, { kind: 'buffer', device: device.id, buffer: d.index, name: a.name }, a, device.name, siblings)));
  }

  get output(): boolean {
    return this.direction === 'out';
  }

  attr(name: string): Attr {
    const attr = this.attrs.get(name);
    if (attr === undefined) throw notFound('ENOENT', this.toString(), 'attribute', name, [...this.attrs.keys()]);
    return attr;
  }

  /** e.g. `buffer0 of iio:device0 (adc4)`. */
  toString(): string {
    return `buffer${this.index} of ${this.device.toString()}`;
  }
}
