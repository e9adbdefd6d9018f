// READ and WRITE of every attribute kind the text protocol names: device, debug, buffer and
// channel attributes, one at a time or all at once, answered with the framing of
// attr-framing.ts. Lookups follow iiod: channels by id or name within their direction, buffer
// attributes of a device's only buffer (the XML lists `buffer-attribute`s only then).
import type { Attr } from '../../core/attr.js';
import type { Device } from '../../core/device.js';
import { allReply, decodeAll, valueReply, valueText } from './attr-framing.js';
import { neg, wireErrno } from './errno.js';
import type { AttrTarget } from './parser.js';

/** The attributes `target` names on `device`, in XML order; a negative errno if there is no such target. */
function targetAttrs(device: Device, target: AttrTarget): ReadonlyMap<string, Attr> | number {
  switch (target.kind) {
    case 'device':
      return device.attrs;
    case 'debug':
      return device.debugAttrs;
    case 'buffer':
      return device.buffers.length === 1 ? device.buffers[0]!.attrs : neg('ENOENT');
    case 'channel': {
      const channel = device.findChannel(target.channel, target.output ? 'out' : 'in');
      return channel === undefined ? neg('ENOENT') : channel.attrs;
    }
  }
}

/** The reply to READ: one value, every value ("read all"), or `-errno\n`. */
export async function readAttrs(device: Device, target: AttrTarget, name: string | undefined): Promise<Buffer | string> {
  const attrs = targetAttrs(device, target);
  if (typeof attrs === 'number') return `${attrs}\n`;
  if (name === undefined) {
    const values = await Promise.all([...attrs.values()].map((a) => a.read().catch(wireErrno)));
    return allReply(values);
  }
  const attr = attrs.get(name);
  if (attr === undefined) return `${neg('ENOENT')}\n`;
  try {
    return valueReply(await attr.read());
  } catch (e) {
    return `${wireErrno(e)}\n`;
  }
}

/** WRITE: the payload's bytes written (one value, or every value), or a negative errno. */
export async function writeAttrs(device: Device, target: AttrTarget, name: string | undefined, payload: Buffer): Promise<number> {
  const attrs = targetAttrs(device, target);
  if (typeof attrs === 'number') return attrs;
  try {
    if (name !== undefined) {
      const attr = attrs.get(name);
      if (attr === undefined) return neg('ENOENT');
      await attr.write(valueText(payload));
      return payload.length;
    }
    const values = decodeAll(payload, attrs.size);
    const list = [...attrs.values()];
    let failure = 0;
    for (const [i, value] of values.entries()) {
      if (value === undefined) continue;
      await list[i]!.write(value).catch((e: unknown) => {
        failure ||= wireErrno(e);
      });
    }
    return failure || payload.length;
  } catch (e) {
    return wireErrno(e);
  }
}
