// Library test helpers: a context over the kernel under test (the sim, or the real-kernel lab),
// libiio's XML parsed back into a comparable summary, and the recorded sysfs listing by device.
import { DOMParser, type Element } from '@xmldom/xmldom';
import { LocalBackend } from '../../src/backends/local/backend.js';
import { Context } from '../../src/core/context.js';
import type { SimKernelOptions } from '../../src/kernel/sim/index.js';
import { bootUnderTest, type Lab } from './kernel-under-test.js';

/** A freshly booted kernel under test and a context over it. */
export async function openUnderTest(options: SimKernelOptions = {}): Promise<{ ctx: Context; lab: Lab }> {
  const lab = bootUnderTest(options);
  return { ctx: await Context.open(new LocalBackend(lab.kernel)), lab };
}

/** Parses XML strictly: any warning or error of the parser fails. */
export function parseXml(text: string): Element {
  const doc = new DOMParser({
    onError: (level, message) => {
      throw new Error(`XML ${level}: ${message}`);
    },
  }).parseFromString(text, 'text/xml');
  return doc.documentElement!;
}

export function childElements(el: Element, tag?: string): Element[] {
  const out: Element[] = [];
  for (let i = 0; i < el.children.length; i++) {
    const child = el.children.item(i)!;
    if (tag === undefined || child.tagName === tag) out.push(child);
  }
  return out;
}

export interface XmlChannel {
  id: string;
  type: string;
  name: string | null;
  scan: { index: number; format: string; scale: number | null } | null;
  /** name → filename */
  attrs: Record<string, string | null>;
}

export interface XmlDevice {
  id: string;
  name: string | null;
  channels: XmlChannel[];
  attrs: string[];
  debugAttrs: string[];
  bufferAttrs: string[];
}

/** The parts of libiio's XML both libiio 0.24 and v1 have, per device. */
export function summarizeXml(xml: string): { context: Element; devices: XmlDevice[] } {
  const context = parseXml(xml);
  const names = (el: Element, tag: string): string[] => childElements(el, tag).map((a) => a.getAttribute('name')!);
  const devices = childElements(context, 'device').map((d) => ({
    id: d.getAttribute('id')!,
    name: d.getAttribute('name'),
    channels: childElements(d, 'channel').map((c) => {
      const scan = childElements(c, 'scan-element')[0];
      return {
        id: c.getAttribute('id')!,
        type: c.getAttribute('type')!,
        name: c.getAttribute('name'),
        scan: scan === undefined ? null : {
          index: Number(scan.getAttribute('index')),
          format: scan.getAttribute('format')!,
          scale: scan.hasAttribute('scale') ? Number(scan.getAttribute('scale')) : null,
        },
        attrs: Object.fromEntries(childElements(c, 'attribute').map((a) => [a.getAttribute('name')!, a.getAttribute('filename')])),
      };
    }),
    attrs: names(d, 'attribute'),
    debugAttrs: names(d, 'debug-attribute'),
    bufferAttrs: names(d, 'buffer-attribute'),
  }));
  return { context, devices };
}

export interface ListedFile {
  /** Relative to the device directory: `in_voltage0_raw`, `buffer0/length`. */
  path: string;
  mode: string;
  content: string;
}

/**
 * ../shared/fixtures/linux-6.12-iio-sysfs.txt by device name: the regular files of each
 * iio:deviceN directory and the subdirectories the dump followed.
 */
export function listingByDevice(text: string): Map<string, ListedFile[]> {
  const byId = new Map<string, ListedFile[]>();
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const parts = line.split(' | ');
    if (parts.length !== 3) continue;
    const [path, mode, content] = parts as [string, string, string];
    const link = /^\/sys\/bus\/iio\/devices\/(iio:device\d+)$/.exec(path);
    if (link !== null) {
      names.set(link[1]!, /name=(.*)$/.exec(content)![1]!);
      continue;
    }
    const file = /^\/sys\/bus\/iio\/devices\/(iio:device\d+)\/(.+)$/.exec(path);
    if (file === null || !mode.startsWith('-')) continue;
    const list = byId.get(file[1]!) ?? [];
    list.push({ path: file[2]!, mode, content });
    byId.set(file[1]!, list);
  }
  return new Map([...byId].map(([id, files]) => [names.get(id)!, files]));
}
