// A channel of a device (libiio's iio_channel): identity, scan element format, attributes.
import type { ChannelDescription, ScanElementDescription } from '../backends/backend.js';
import type { ScanElement } from '../format/scan-layout.js';
import type { ScanType } from '../format/scan-type.js';
import { Attr, attrMap } from './attr.js';
import type { Device } from './device.js';
import { notFound } from './errors.js';
import type { Session } from './session.js';

/**
 * A channel's scan element: a `ScanElement` of src/format (index, type, timestamp), so a set of
 * them goes straight into computeScanLayout, plus `scale` and `offset` as read when the context
 * was opened.
 */
export interface ChannelScanElement extends Readonly<ScanElement> {
  readonly type: Readonly<ScanType>;
  readonly scale?: number;
  readonly offset?: number;
}

export class Channel {
  readonly device: Device;
  /** libiio's id: `voltage0`, `voltage1-voltage2`, `accel_x`, `timestamp`. */
  readonly id: string;
  /** The driver's extend name (`RX_LO`), libiio's channel name. */
  readonly name: string | undefined;
  /** The `label` attribute's value. */
  readonly label: string | undefined;
  readonly output: boolean;
  /** The sysfs type name: `voltage`, `accel`, `timestamp`, ... */
  readonly type: string;
  readonly modifier: string | undefined;
  /** The channel number (`voltage3` → 3); undefined for unindexed channels. */
  readonly index: number | undefined;
  /** The other channel of a differential pair (`voltage1-voltage2` → 2). */
  readonly channel2: number | undefined;
  /** Its position in the device's channels: its bit in a channels mask. */
  readonly position: number;
  /** Set for channels that can be streamed (scan elements). */
  readonly scanElement: ChannelScanElement | undefined;
  readonly attrs: ReadonlyMap<string, Attr>;
  readonly eventAttrs: ReadonlyMap<string, Attr>;

  /** @internal */
  constructor(session: Session, device: Device, d: ChannelDescription, position: number) {
    this.device = device;
    this.id = d.id;
    this.name = d.name;
    this.label = d.label;
    this.output = d.output;
    this.type = d.type;
    this.modifier = d.modifier;
    this.index = d.index;
    this.channel2 = d.channel2;
    this.position = position;
    this.scanElement = d.scan === undefined ? undefined : freezeScan(d.scan, d.type === 'timestamp');
    const ref = { device: device.id, channel: d.id, output: d.output };
    this.attrs = attrMap((siblings) => d.attributes.map((a) => new Attr(session, { kind: 'channel', ...ref, name: a.name }, a, device.name, siblings)));
    this.eventAttrs = attrMap((siblings) => d.eventAttributes.map((a) =>
      new Attr(session, { kind: 'event', device: device.id, channel: { id: d.id, output: d.output }, name: a.name }, a, device.name, siblings)));
  }

  get direction(): 'in' | 'out' {
    return this.output ? 'out' : 'in';
  }

  get differential(): boolean {
    return this.channel2 !== undefined;
  }

  /** The attribute `name`; throws ENOENT naming the channel and what it has. */
  attr(name: string): Attr {
    const attr = this.attrs.get(name);
    if (attr === undefined) throw notFound('ENOENT', this.toString(), 'attribute', name, [...this.attrs.keys()]);
    return attr;
  }

  eventAttr(name: string): Attr {
    const attr = this.eventAttrs.get(name);
    if (attr === undefined) throw notFound('ENOENT', this.toString(), 'event attribute', name, [...this.eventAttrs.keys()]);
    return attr;
  }

  /** e.g. `input channel voltage0 of iio:device0 (adc4)`. */
  toString(): string {
    return `${this.output ? 'output' : 'input'} channel ${this.id} of ${this.device.toString()}`;
  }
}

function freezeScan(s: ScanElementDescription, timestamp: boolean): ChannelScanElement {
  const out: { index: number; type: Readonly<ScanType>; timestamp?: boolean; scale?: number; offset?: number } = { index: s.index, type: Object.freeze({ ...s.type }) };
  if (timestamp) out.timestamp = true;
  if (s.scale !== undefined) out.scale = s.scale;
  if (s.offset !== undefined) out.offset = s.offset;
  return Object.freeze(out);
}
