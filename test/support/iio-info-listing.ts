// `iio info`'s listing (ours) and `iio_info`'s (libiio 0.24's) parsed into the same shape, and
// the comparison of the two: the same devices, channels (direction, scan index, format),
// attributes and values. Where 0.24 differs it is accounted for: it reads a write-only attribute
// as an error, and splits an attribute shared by direction (dummy0's in_sampling_frequency) into
// a channel "sampling" of unknown type with an attribute "frequency" (its local backend does;
// over iiod the served XML decides).
import assert from 'node:assert/strict';
import { parseTree } from './cli.js';

export interface Listing {
  name: string;
  /** `voltage0 input` → scan index and format (libiio's notation) when a scan element. */
  channels: Map<string, { scan: string | undefined; attrs: Map<string, string> }>;
  attrs: Map<string, string>;
  bufferAttrs: Map<string, string>;
  debugAttrs: Map<string, string>;
  /** `t0 (trigger0)`, `none`, or undefined when the device takes none. */
  trigger: string | undefined;
  /** libiio 0.24: channels of a type it does not know (`sampling input` for in_sampling_frequency). */
  unknown: Map<string, Map<string, string>>;
}

const CHANNEL = /^(\S+?)(?:: (\S*))? \((input|output)(?:, (index: \d+, format: \S+))?\)$/;

/** iio_info 0.24's output by device id. */
export function parseIioInfo(text: string): Map<string, Listing> {
  const devices = new Map<string, Listing>();
  let device: Listing | undefined;
  let section: Map<string, string> | undefined;
  let listingDevices = false;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if (/^IIO context has \d+ devices:$/.test(line)) listingDevices = true;
    else if (!listingDevices) continue;
    else if ((m = /^\t(\S+):(?: (\S+))?/.exec(line)) !== null) {
      device = { name: m[2] ?? '', channels: new Map(), attrs: new Map(), bufferAttrs: new Map(), debugAttrs: new Map(), trigger: undefined, unknown: new Map() };
      devices.set(m[1]!, device);
    } else if (device === undefined) continue;
    else if ((m = /^\t\t\t(\S+): \S* ?\((input|output), WARN:iio_channel_get_type\(\)=UNKNOWN\)$/.exec(line)) !== null) {
      section = new Map();
      device.unknown.set(`${m[1]} ${m[2]}`, section);
    } else if ((m = /^\t\t\t(.+)$/.exec(line)) !== null && !line.startsWith('\t\t\t\t') && (m = CHANNEL.exec(m[1]!.replace(/^(\S+): {2}\(/, '$1 ('))) !== null) {
      section = new Map();
      device.channels.set(`${m[1]} ${m[3]}`, { scan: m[4], attrs: section });
    } else if (/^\t\t\d+ device-specific attributes found:$/.test(line)) section = device.attrs;
    else if (/^\t\t\d+ buffer-specific attributes found:$/.test(line)) section = device.bufferAttrs;
    else if (/^\t\t\d+ debug attributes found:$/.test(line)) section = device.debugAttrs;
    else if ((m = /^\t\t\t\t(?:debug )?attr +\d+: (\S+) (?:value: (.*)|ERROR: .*)$/.exec(line)) !== null) section!.set(m[1]!, m[2] ?? 'ERROR');
    else if ((m = /^\t\tCurrent trigger: (\S+)\((.*)\)$/.exec(line)) !== null) device.trigger = `${m[2]} (${m[1]})`;
    else if (/^\t\tNo trigger assigned to device$/.test(line)) device.trigger = 'none';
  }
  return devices;
}

/** `iio info`'s output by device id, in the same shape. */
export function parseOurs(text: string): Map<string, Listing> {
  const devices = new Map<string, Listing>();
  const sections = parseTree(text).filter((n) => /^(IIO devices|Triggers) \(\d+\):$/.test(n.line));
  const values = (lines: Array<{ line: string }>): Map<string, string> =>
    new Map(lines.filter((l) => !l.line.startsWith('channels: ') && !l.line.startsWith('event attributes')).map((l) => {
      const i = l.line.indexOf(': ');
      return [l.line.slice(0, i), l.line.slice(i + 2)];
    }));
  for (const node of sections.flatMap((s) => s.children)) {
    const [, id, name] = /^(\S+): (\S+)/.exec(node.line)!;
    const listing: Listing = { name: name!, channels: new Map(), attrs: new Map(), bufferAttrs: new Map(), debugAttrs: new Map(), trigger: undefined, unknown: new Map() };
    for (const part of node.children) {
      if (part.line.startsWith('channels (')) {
        for (const c of part.children) {
          const m = CHANNEL.exec(c.line)!;
          listing.channels.set(`${m[1]} ${m[3]}`, { scan: m[4], attrs: values(c.children) });
        }
      } else if (part.line.startsWith('attributes (')) listing.attrs = values(part.children);
      else if (part.line.startsWith('debug attributes (')) listing.debugAttrs = values(part.children);
      else if (part.line.startsWith('buffer0 (')) listing.bufferAttrs = values(part.children);
      else if (part.line.startsWith('trigger: ')) listing.trigger = part.line.slice('trigger: '.length);
    }
    devices.set(id!, listing);
  }
  return devices;
}

/** The values both read (nothing moves while nothing streams); libiio reads write-only ones as errors. */
function assertSameValues(ours: Map<string, string>, theirs: Map<string, string>, where: string): void {
  for (const [name, value] of theirs) {
    if (!ours.has(name)) continue;
    if (value === 'ERROR') assert.equal(ours.get(name), '(write-only)', `${where}: ${name}`);
    else assert.equal(ours.get(name), value, `${where}: ${name}`);
  }
}

/** Our attribute names, less the direction-shared ones 0.24 shows as an unknown channel instead. */
function namesAs024(attrs: Map<string, string>, lib: Listing, direction: string): string[] {
  const shared = [...lib.unknown.keys()].filter((k) => k.endsWith(` ${direction}`)).flatMap((k) => [...lib.unknown.get(k)!.keys()].map((a) => `${k.split(' ')[0]}_${a}`));
  return [...attrs.keys()].filter((n) => !shared.includes(n)).sort();
}

/**
 * Asserts that `ours` (parseOurs) and `theirs` (parseIioInfo, less what 0.24 alone lists) hold
 * the same devices, channels, attribute names and values.
 */
export function assertSameListing(ours: Map<string, Listing>, theirs: Map<string, Listing>): void {
  assert.deepEqual(new Map([...ours].map(([id, d]) => [id, d.name])), new Map([...theirs].map(([id, d]) => [id, d.name])));
  for (const [id, mine] of ours) {
    const lib = theirs.get(id)!;
    const where = `${id} (${mine.name})`;
    assert.deepEqual(new Map([...mine.channels].map(([k, c]) => [k, c.scan])), new Map([...lib.channels].map(([k, c]) => [k, c.scan])), `${where}: channels`);
    for (const [key, c] of mine.channels) {
      const direction = key.split(' ')[1]!;
      assert.deepEqual(namesAs024(c.attrs, lib, direction), [...lib.channels.get(key)!.attrs.keys()].sort(), `${where} ${key}: attribute names`);
      assertSameValues(c.attrs, lib.channels.get(key)!.attrs, `${where} ${key}`);
      // What 0.24 shows as channel "sampling" attribute "frequency" is our sampling_frequency.
      for (const [k, attrs] of lib.unknown) {
        if (!k.endsWith(` ${direction}`)) continue;
        for (const [a, value] of attrs) if (c.attrs.has(`${k.split(' ')[0]}_${a}`)) assert.equal(c.attrs.get(`${k.split(' ')[0]}_${a}`), value, `${where} ${key}: ${k} ${a}`);
      }
    }
    assert.deepEqual([...mine.attrs.keys()].sort(), [...lib.attrs.keys()].sort(), `${where}: device attribute names`);
    assertSameValues(mine.attrs, lib.attrs, where);
    assert.deepEqual([...mine.debugAttrs.keys()].sort(), [...lib.debugAttrs.keys()].sort(), `${where}: debug attribute names`);
    assertSameValues(mine.debugAttrs, lib.debugAttrs, `${where} debug`);
    // libiio 0.24 shows a buffer's data_available and direction only.
    for (const name of lib.bufferAttrs.keys()) assert.ok(mine.bufferAttrs.has(name), `${where}: buffer attribute ${name}`);
    assertSameValues(mine.bufferAttrs, lib.bufferAttrs, `${where} buffer0`);
    if (mine.trigger !== undefined && lib.trigger !== undefined) assert.equal(mine.trigger, lib.trigger, `${where}: trigger`);
  }
}
