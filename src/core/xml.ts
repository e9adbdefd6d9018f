// A context as libiio's XML (iiod-protocol.md §4c): the v0.24 DTD with libiio v1's additions
// (buffer, event-attribute, channel labels, attribute values), embedded so that a validating
// parser — libiio parses with XML_PARSE_DTDVALID — accepts the document. Elements come in
// the context's order, which is the mask and binary-protocol order; v0.24 clients skip the v1
// elements, and read `buffer-attribute`s, emitted too when a device has exactly one buffer.
import { formatScanType, type ScanType } from '../format/scan-type.js';
import type { Attr } from './attr.js';
import type { Channel } from './channel.js';
import type { Device } from './device.js';

export const CONTEXT_DTD = [
  '<!ELEMENT context (device | context-attribute)*>',
  '<!ELEMENT context-attribute EMPTY>',
  '<!ELEMENT device (channel | attribute | debug-attribute | buffer-attribute | buffer | event-attribute)*>',
  '<!ELEMENT channel (scan-element?, (attribute | event-attribute)*)>',
  '<!ELEMENT attribute EMPTY>',
  '<!ELEMENT scan-element EMPTY>',
  '<!ELEMENT debug-attribute EMPTY>',
  '<!ELEMENT buffer-attribute EMPTY>',
  '<!ELEMENT event-attribute EMPTY>',
  '<!ELEMENT buffer (attribute | channel)*>',
  '<!ATTLIST context name CDATA #REQUIRED version-major CDATA #REQUIRED version-minor CDATA #REQUIRED version-git CDATA #REQUIRED description CDATA #IMPLIED>',
  '<!ATTLIST context-attribute name CDATA #REQUIRED value CDATA #REQUIRED>',
  '<!ATTLIST device id CDATA #REQUIRED name CDATA #IMPLIED label CDATA #IMPLIED>',
  '<!ATTLIST channel id CDATA #REQUIRED type (input|output) #REQUIRED name CDATA #IMPLIED label CDATA #IMPLIED>',
  '<!ATTLIST scan-element index CDATA #REQUIRED format CDATA #REQUIRED scale CDATA #IMPLIED>',
  '<!ATTLIST attribute name CDATA #REQUIRED filename CDATA #IMPLIED value CDATA #IMPLIED>',
  '<!ATTLIST debug-attribute name CDATA #REQUIRED value CDATA #IMPLIED>',
  '<!ATTLIST buffer-attribute name CDATA #REQUIRED value CDATA #IMPLIED>',
  '<!ATTLIST event-attribute name CDATA #REQUIRED filename CDATA #IMPLIED value CDATA #IMPLIED>',
  '<!ATTLIST buffer index CDATA #REQUIRED direction (in|out) #REQUIRED>',
].join('');

export interface XmlContext {
  name: string;
  description: string;
  version: { major: number; minor: number; git: string };
  attrs: ReadonlyMap<string, Attr>;
  devices: readonly Device[];
}

/** Attribute values to include (libiio's IIO_CTX_XML_INCLUDE_VALUES); absent ones are left out. */
export type XmlValues = ReadonlyMap<Attr, string>;

/** Escapes text for a double-quoted XML attribute value (issue #519: values may hold `<`). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** libiio's format: `le:s12/16>>4`, upper-case S/U when bits == storagebits ("fully defined"). */
export function xmlScanFormat(format: ScanType): string {
  return formatScanType({ ...format, fullyDefined: format.realBits === format.storageBits });
}

function element(name: string, attributes: Array<[string, string | number | undefined]>, children?: string): string {
  const attrs = attributes.filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`).join('');
  return children === undefined ? `<${name}${attrs} />` : `<${name}${attrs}>${children}</${name}>`;
}

function attrElement(tag: string, attr: Attr, values: XmlValues | undefined, withFilename: boolean): string {
  return element(tag, [['name', attr.name], ['filename', withFilename ? attr.filename : undefined], ['value', values?.get(attr)]]);
}

function channelXml(channel: Channel, values: XmlValues | undefined): string {
  let body = '';
  const scan = channel.scanElement;
  if (scan !== undefined) {
    body += element('scan-element', [['index', scan.index], ['format', xmlScanFormat(scan.type)], ['scale', scan.scale]]);
  }
  for (const attr of channel.attrs.values()) body += attrElement('attribute', attr, values, true);
  for (const attr of channel.eventAttrs.values()) body += attrElement('event-attribute', attr, values, true);
  return element('channel', [['id', channel.id], ['type', channel.output ? 'output' : 'input'], ['name', channel.name], ['label', channel.label]], body);
}

function deviceXml(device: Device, values: XmlValues | undefined): string {
  let body = device.channels.map((c) => channelXml(c, values)).join('');
  for (const attr of device.attrs.values()) body += attrElement('attribute', attr, values, false);
  for (const attr of device.debugAttrs.values()) body += attrElement('debug-attribute', attr, values, false);
  for (const buffer of device.buffers) {
    const inner = [...buffer.attrs.values()].map((a) => attrElement('attribute', a, values, false)).join('') +
      buffer.channels.map((c) => element('channel', [['id', c.id], ['type', c.output ? 'output' : 'input']])).join('');
    body += element('buffer', [['index', buffer.index], ['direction', buffer.direction]], inner);
  }
  // After the <buffer>s: libiio v1 (xml.c at 4e3cfe61) skips `buffer-attribute`s only once it
  // has seen a <buffer>; before one, they make it a second buffer 0 with no channels.
  if (device.buffers.length === 1) {
    for (const attr of device.buffers[0]!.attrs.values()) body += attrElement('buffer-attribute', attr, values, false);
  }
  for (const attr of device.eventAttrs.values()) body += attrElement('event-attribute', attr, values, false);
  return element('device', [['id', device.id], ['name', device.name], ['label', device.label]], body);
}

export function contextXml(ctx: XmlContext, values?: XmlValues): string {
  const attrs = [...ctx.attrs.values()].map((a) => element('context-attribute', [['name', a.name], ['value', a.staticValue ?? '']])).join('');
  const body = attrs + ctx.devices.map((d) => deviceXml(d, values)).join('');
  const root = element('context', [
    ['name', ctx.name], ['version-major', ctx.version.major], ['version-minor', ctx.version.minor],
    ['version-git', ctx.version.git], ['description', ctx.description],
  ], body);
  return `<?xml version="1.0" encoding="utf-8"?><!DOCTYPE context [${CONTEXT_DTD}]>${root}`;
}
