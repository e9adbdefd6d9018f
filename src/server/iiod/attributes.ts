// READ and WRITE of every attribute kind the text protocol names: device, debug, buffer and
// channel attributes, one at a time or all at once, answered with the framing of
// attr-framing.ts. Lookups follow iiod: channels by id or name within their direction, buffer
// attributes of a device's only buffer (the XML lists `buffer-attribute`s only then).
import type { Attr } from '../../core/attr.js';
import type { Device } from '../../core/device.js';
import { allReply, decodeAll, valueReply, valueText, type SizedReply } from './attr-framing.js';
import { refusal, wireErrno } from './errno.js';
import type { AttrTarget } from './parser.js';

/** The attributes `target` names on `device`, in XML order; throws (ENOENT) if there is no such target. */
function targetAttrs(device: Device, target: AttrTarget): ReadonlyMap<string, Attr> {
  switch (target.kind) {
    case 'device':
      return device.attrs;
    case 'debug':
      return device.debugAttrs;
    case 'buffer':
      if (device.buffers.length === 1) return device.buffers[0]!.attrs;
      throw refusal('ENOENT', 'READ', `${device.toString()} has ${device.buffers.length} buffers: the text protocol names buffer attributes of a device's only buffer`);
    case 'channel': {
      const channel = device.findChannel(target.channel, target.output ? 'out' : 'in');
      if (channel === undefined) throw refusal('ENOENT', 'READ', `${device.toString()} has no ${target.output ? 'output' : 'input'} channel ${target.channel}`);
      return channel.attrs;
    }
  }
}

function attrOf(device: Device, attrs: ReadonlyMap<string, Attr>, name: string): Attr {
  const attr = attrs.get(name);
  if (attr === undefined) throw refusal('ENOENT', 'READ', `${device.toString()} has no attribute ${name} there`);
  return attr;
}

/** The reply to READ: one value, or every value ("read all", each one's errno in its slot). Throws why not. */
export async function readAttrs(device: Device, target: AttrTarget, name: string | undefined): Promise<SizedReply> {
  const attrs = targetAttrs(device, target);
  if (name === undefined) {
    const values = await Promise.all([...attrs.values()].map((a) => a.read().catch(wireErrno)));
    return allReply(values);
  }
  return valueReply(await attrOf(device, attrs, name).read());
}

/** WRITE: the payload's bytes written (one value, or every value). Throws the first failure. */
export async function writeAttrs(device: Device, target: AttrTarget, name: string | undefined, payload: Buffer): Promise<number> {
  const attrs = targetAttrs(device, target);
  if (name !== undefined) {
    await attrOf(device, attrs, name).write(valueText(payload));
    return payload.length;
  }
  const values = decodeAll(payload, attrs.size);
  const list = [...attrs.values()];
  let failure: unknown;
  for (const [i, value] of values.entries()) {
    if (value === undefined) continue;
    // Every value is written even when one fails, as iiod does.
    await list[i]!.write(value).catch((e: unknown) => {
      failure ??= e;
    });
  }
  if (failure !== undefined) throw failure;
  return payload.length;
}
