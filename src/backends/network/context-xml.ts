// The context XML an iiod server sends for PRINT (iiod-protocol.md §4c) as a ContextDescription:
// libiio 0.24's elements (device, channel, scan-element, attribute, debug-attribute,
// buffer-attribute) and libiio v1's (buffer, event-attribute, channel labels), which our own
// server emits too. Parsed with xmldom (not validated: the DTD is libiio's business); what the
// description needs is checked here. Channels are put in mask order — scan elements by index
// (ties by shift), then the others in XML order — whatever order the server sent them in.
import { DOMParser, type Element } from '@xmldom/xmldom';
import { parseScanType } from '../../format/scan-type.js';
import { compareScanOrder } from '../../format/scan-layout.js';
import type {
  AttrDescription, BufferDescription, ChannelDescription, ContextDescription, DeviceDescription,
} from '../backend.js';
import { parseChannelName } from '../../format/attr-names.js';
import { XML_ELEMENT_LIMIT } from './commands.js';

/** The XML is not a context description we can use. */
export class ContextXmlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContextXmlError';
  }
}

export function parseContextXml(text: string): ContextDescription {
  // Counted before parsing (start tags; a `<` in a comment counts too, which errs on the safe side).
  const elements = text.match(/<[A-Za-z_:]/g)?.length ?? 0;
  if (elements > XML_ELEMENT_LIMIT) throw new ContextXmlError(`${elements} elements, more than the ${XML_ELEMENT_LIMIT} a context description may have`);
  let root: Element | null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new ContextXmlError(`XML ${level}: ${message}`);
      },
    }).parseFromString(text, 'text/xml');
    root = doc.documentElement;
  } catch (e) {
    throw e instanceof ContextXmlError ? e : new ContextXmlError(`not well-formed XML: ${(e as Error).message}`, { cause: e });
  }
  if (root === null || root.tagName !== 'context') throw new ContextXmlError(`the root element is ${root === null ? 'missing' : `<${root.tagName}>`}, not <context>`);
  const version = {
    major: integer(root, 'version-major'),
    minor: integer(root, 'version-minor'),
    git: required(root, 'version-git'),
  };
  return {
    name: required(root, 'name'),
    description: root.getAttribute('description') ?? '',
    version,
    attributes: children(root, 'context-attribute').map((a) => ({ name: required(a, 'name'), value: required(a, 'value') })),
    devices: children(root, 'device').map(device),
  };
}

function device(el: Element): DeviceDescription {
  const id = required(el, 'id');
  const channels = sortChannels(children(el, 'channel').map((c) => channel(c, id)));
  const trigger = /^trigger\d+$/.test(id);
  const out: DeviceDescription = {
    id,
    trigger,
    channels,
    attributes: attrs(el, 'attribute'),
    debugAttributes: attrs(el, 'debug-attribute'),
    eventAttributes: attrs(el, 'event-attribute'),
    buffers: buffers(el, id, channels),
  };
  const name = el.getAttribute('name');
  const label = el.getAttribute('label');
  if (name !== null) out.name = name;
  if (label !== null) out.label = label;
  if (trigger) out.triggerSupport = false;
  return out;
}

function channel(el: Element, deviceId: string): ChannelDescription {
  const id = required(el, 'id');
  const type = required(el, 'type');
  if (type !== 'input' && type !== 'output') throw new ContextXmlError(`channel ${id} of ${deviceId}: type ${JSON.stringify(type)} is neither input nor output`);
  const output = type === 'output';
  const out: ChannelDescription = { id, output, type: id, attributes: attrs(el, 'attribute'), eventAttributes: attrs(el, 'event-attribute') };
  // The id spells the sysfs type, numbers and modifier, as the attribute files would.
  const parts = parseChannelName(`${output ? 'out' : 'in'}_${id}_raw`);
  if (parts !== undefined && parts.level !== 'direction') {
    out.type = parts.type;
    if (parts.level === 'channel') {
      if (parts.index !== undefined) out.index = parts.index;
      if (parts.channel2 !== undefined) out.channel2 = parts.channel2;
      if (parts.modifier !== undefined) out.modifier = parts.modifier;
    }
  }
  const name = el.getAttribute('name');
  const label = el.getAttribute('label');
  if (name !== null) out.name = name;
  if (label !== null) out.label = label;
  const scan = children(el, 'scan-element')[0];
  if (scan !== undefined) {
    const where = `scan element of channel ${id} of ${deviceId}`;
    let format;
    try {
      format = parseScanType(required(scan, 'format'), where);
    } catch (e) {
      throw new ContextXmlError((e as Error).message, { cause: e });
    }
    // Upper-case S/U is the XML's spelling of bits == storagebits; the kernel's `_type` that
    // ScanType stands for is always lower case.
    out.scan = { index: integer(scan, 'index'), type: { ...format, fullyDefined: false } };
    const scale = scan.getAttribute('scale');
    if (scale !== null) {
      const value = Number(scale);
      if (scale.trim() === '' || !Number.isFinite(value)) throw new ContextXmlError(`${where}: scale ${JSON.stringify(scale)} is not a number`);
      out.scan.scale = value;
    }
  }
  return out;
}

/** Mask order (iiod-protocol.md §4a "Channel numbering and masks"); Array.sort is stable. */
function sortChannels(channels: ChannelDescription[]): ChannelDescription[] {
  const scans = channels.filter((c) => c.scan !== undefined)
    .sort((a, b) => compareScanOrder(a.scan!, b.scan!));
  return [...scans, ...channels.filter((c) => c.scan === undefined)];
}

/**
 * libiio v1 lists buffers (`buffer` with channel references); 0.24 has one buffer per device
 * that has scan elements, with `buffer-attribute`s, carrying the scan elements of one direction.
 */
function buffers(el: Element, deviceId: string, channels: readonly ChannelDescription[]): BufferDescription[] {
  const listed = children(el, 'buffer');
  if (listed.length > 0) {
    return listed.map((b) => {
      const index = integer(b, 'index');
      const direction = required(b, 'direction');
      if (direction !== 'in' && direction !== 'out') throw new ContextXmlError(`buffer ${index} of ${deviceId}: direction ${JSON.stringify(direction)} is neither in nor out`);
      const carried = children(b, 'channel').map((c) => {
        const id = required(c, 'id');
        const output = required(c, 'type') === 'output';
        const position = channels.findIndex((ch) => ch.id === id && ch.output === output);
        if (position < 0 || channels[position]!.scan === undefined) throw new ContextXmlError(`buffer ${index} of ${deviceId} carries ${id}, which is not a scan element of the device`);
        return position;
      });
      return { index, direction, attributes: attrs(b, 'attribute'), channels: carried.sort((x, y) => x - y) };
    });
  }
  const scans = channels.map((c, position) => ({ c, position })).filter(({ c }) => c.scan !== undefined);
  if (scans.length === 0) return [];
  const output = scans.every(({ c }) => c.output);
  return [{
    index: 0,
    direction: output ? 'out' : 'in',
    attributes: attrs(el, 'buffer-attribute'),
    channels: scans.filter(({ c }) => c.output === output).map(({ position }) => position),
  }];
}

function attrs(el: Element, tag: string): AttrDescription[] {
  return children(el, tag).map((a) => {
    const name = required(a, 'name');
    return { name, filename: a.getAttribute('filename') ?? name };
  });
}

function children(el: Element, tag: string): Element[] {
  const out: Element[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const node = el.childNodes.item(i);
    if (node !== null && node.nodeType === node.ELEMENT_NODE && (node as Element).tagName === tag) out.push(node as Element);
  }
  return out;
}

function required(el: Element, attr: string): string {
  const value = el.getAttribute(attr);
  if (value === null) throw new ContextXmlError(`<${el.tagName}${idOf(el)}> has no ${attr} attribute`);
  return value;
}

function integer(el: Element, attr: string): number {
  const text = required(el, attr);
  if (!/^\d{1,9}$/.test(text.trim())) throw new ContextXmlError(`<${el.tagName}${idOf(el)}>: ${attr} ${JSON.stringify(text)} is not a non-negative integer`);
  return Number(text);
}

function idOf(el: Element): string {
  const id = el.getAttribute('id') ?? el.getAttribute('name');
  return id === null ? '' : ` ${JSON.stringify(id)}`;
}
