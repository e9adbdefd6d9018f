// The orderings libiio v1 builds from the context XML, which the binary protocol addresses by
// index (iiod-protocol.md §4b, index addressing): devices sorted by id (strcmp), channels by
// scan index (ties by shift) with the channels that have no scan element after them in XML
// order, every attribute list by name (strcmp). A server must build the same from its context.
import type { Attr } from '../../core/attr.js';
import type { Channel } from '../../core/channel.js';
import type { Context } from '../../core/context.js';
import type { Device } from '../../core/device.js';

/** strcmp on the names libiio keeps as bytes (ids and attribute names are ASCII). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sortedAttrs(attrs: ReadonlyMap<string, Attr>): readonly Attr[] {
  return [...attrs.values()].sort((a, b) => byteOrder(a.name, b.name));
}

/** v1's channel order (sort.c): scanned channels by index then shift; the rest keep their order, last. */
function sortedChannels(device: Device): readonly Channel[] {
  const scanned = device.channels.filter((c) => c.scanElement !== undefined);
  const rest = device.channels.filter((c) => c.scanElement === undefined);
  scanned.sort((a, b) => (a.scanElement!.index - b.scanElement!.index) || (a.scanElement!.type.shift - b.scanElement!.type.shift));
  return [...scanned, ...rest];
}

export interface IndexedDevice {
  readonly device: Device;
  readonly channels: readonly Channel[];
  readonly attrs: readonly Attr[];
  readonly debugAttrs: readonly Attr[];
  readonly eventAttrs: readonly Attr[];
  /** Each channel's attributes and event attributes, in `channels` order. */
  readonly channelAttrs: ReadonlyArray<readonly Attr[]>;
  readonly channelEventAttrs: ReadonlyArray<readonly Attr[]>;
}

/** The context as v1 indexes it, built once per server. */
export class BinaryIndex {
  readonly devices: readonly IndexedDevice[];

  constructor(ctx: Context) {
    this.devices = [...ctx.devices, ...ctx.triggers].sort((a, b) => byteOrder(a.id, b.id)).map((device) => {
      const channels = sortedChannels(device);
      return {
        device,
        channels,
        attrs: sortedAttrs(device.attrs),
        debugAttrs: sortedAttrs(device.debugAttrs),
        eventAttrs: sortedAttrs(device.eventAttrs),
        channelAttrs: channels.map((c) => sortedAttrs(c.attrs)),
        channelEventAttrs: channels.map((c) => sortedAttrs(c.eventAttrs)),
      };
    });
  }

  /** The index of the device with this id, or -1. */
  indexOf(id: string): number {
    return this.devices.findIndex((d) => d.device.id === id);
  }
}

/** A buffer's attributes in v1's order. */
export function bufferAttrs(device: Device, bufferIndex: number): readonly Attr[] | undefined {
  const buffer = device.buffers.find((b) => b.index === bufferIndex);
  return buffer === undefined ? undefined : sortedAttrs(buffer.attrs);
}
