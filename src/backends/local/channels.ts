// Which file is which: a device's attribute files (device directory, bufferY/ or the legacy
// scan_elements/, events/) sorted into device attributes, channels with their attributes and
// scan elements, buffer attributes and event attributes (kernel-abi §6.1, §6.2). Shared
// attributes are attached to every channel they apply to; a channel's own file wins over a
// type-shared one, which wins over a direction-shared one, which wins over a device-wide one.
//
// Ambiguities the kernel's naming leaves, and how they are settled:
//  - `in_temp_scale` is the unindexed channel `temp`'s own attribute when that channel exists
//    (it has a scan element or a raw/input/label file), and shared by every temp input otherwise;
//  - extend names are read off scan elements when there are some (`in_voltage0_RX_en`), and
//    otherwise inferred from the remainders of two or more files (see inferExtendName);
//  - a direction-shared or device-wide file is shared only if its postfix is one of the core's
//    info postfixes (`in_sampling_frequency`, `sampling_frequency`); other `in_...` names of
//    unknown types (ad9361's `in_out_voltage_filter_fir_en`) stay device attributes;
//  - shared attributes are not attached to the timestamp channel, which has none in the kernel.
import type { AttrSharing } from '../backend.js';
import {
  channelId, channelKey, definesChannel, inferExtendName, isInfoPostfix, parseChannelName, splitScanSuffix,
  type ChannelParts, type ScanSuffix,
} from '../../format/attr-names.js';
import type { SysfsFile } from './sysfs.js';

export interface AttrPlan {
  name: string;
  file: SysfsFile;
  shared?: AttrSharing;
}

export interface ChannelPlan {
  id: string;
  output: boolean;
  type: string;
  index?: number;
  channel2?: number;
  modifier?: string;
  /** The extend name ('' for none). */
  extend: string;
  /** Scan element files per buffer index. */
  scan: Map<number, Partial<Record<ScanSuffix, SysfsFile>>>;
  attrs: Map<string, AttrPlan>;
  events: Map<string, AttrPlan>;
}

export interface BufferFiles {
  index: number;
  /** Its attributes and scan elements together (bufferY/), or buffer/ plus scan_elements/. */
  files: SysfsFile[];
}

export interface DeviceFiles {
  /** The device directory's attribute files (name, label, dev and uevent already left out). */
  root: SysfsFile[];
  buffers: BufferFiles[];
  events: SysfsFile[];
}

export interface DevicePlan {
  channels: ChannelPlan[];
  attrs: AttrPlan[];
  events: AttrPlan[];
  buffers: Array<{ index: number; attrs: AttrPlan[] }>;
}

interface Placed {
  parts: ChannelParts;
  rest: string;
  file: SysfsFile;
}

class ChannelSet {
  readonly #byKey = new Map<string, ChannelPlan[]>();

  get(parts: ChannelParts): ChannelPlan[] {
    return this.#byKey.get(channelKey(parts)) ?? [];
  }

  obtain(parts: ChannelParts, extend: string): ChannelPlan {
    const key = channelKey(parts);
    const list = this.#byKey.get(key) ?? [];
    let channel = list.find((c) => c.extend === extend);
    if (channel === undefined) {
      channel = { id: channelId(parts), output: parts.output, type: parts.type, extend, scan: new Map(), attrs: new Map(), events: new Map() };
      if (parts.level === 'channel') {
        if (parts.index !== undefined) channel.index = parts.index;
        if (parts.channel2 !== undefined) channel.channel2 = parts.channel2;
        if (parts.modifier !== undefined) channel.modifier = parts.modifier;
      }
      list.push(channel);
      this.#byKey.set(key, list);
    }
    return channel;
  }

  all(): ChannelPlan[] {
    return [...this.#byKey.values()].flat();
  }
}

/** The channel of `list` whose extend name `rest` starts with (longest first), and the name left. */
function pickByExtend(list: ChannelPlan[], rest: string): { channel: ChannelPlan; name: string } | undefined {
  const named = list.filter((c) => c.extend !== '' && rest.startsWith(`${c.extend}_`)).sort((a, b) => b.extend.length - a.extend.length)[0];
  if (named !== undefined) return { channel: named, name: rest.slice(named.extend.length + 1) };
  const plain = list.find((c) => c.extend === '') ?? list[0];
  return plain === undefined ? undefined : { channel: plain, name: rest };
}

function add(map: Map<string, AttrPlan>, plan: AttrPlan): void {
  if (!map.has(plan.name)) map.set(plan.name, plan);
}

export function planDevice(files: DeviceFiles): DevicePlan {
  const channels = new ChannelSet();
  const buffers: DevicePlan['buffers'] = [];
  const deviceAttrs: AttrPlan[] = [];

  // 1. Scan elements define channels (and their extend names).
  const sharedTypes = new Map<string, SysfsFile>();
  for (const buffer of files.buffers) {
    const attrs: AttrPlan[] = [];
    const groups = new Map<string, { parts: ChannelParts; extend: string; files: Partial<Record<ScanSuffix, SysfsFile>> }>();
    for (const file of buffer.files) {
      const parsed = parseChannelName(file.name);
      const split = parsed === undefined || parsed.level === 'direction' ? undefined : splitScanSuffix(parsed.rest);
      if (parsed === undefined || parsed.level === 'direction' || split === undefined) {
        attrs.push({ name: file.name, file });
        continue;
      }
      const key = `${channelKey(parsed)}|${split.extend}|${parsed.level === 'type' && parsed.differential ? '-' : ''}`;
      const group = groups.get(key) ?? { parts: parsed, extend: split.extend, files: {} };
      group.files[split.suffix] = file;
      groups.set(key, group);
    }
    for (const group of groups.values()) {
      if (group.files.en === undefined && group.files.index === undefined) {
        // Older kernels: one `in_voltage_type` shared by every voltage scan element.
        if (group.parts.level === 'type' && group.files.type !== undefined) {
          sharedTypes.set(channelKey(group.parts), group.files.type);
        } else {
          for (const file of Object.values(group.files)) attrs.push({ name: file.name, file });
        }
        continue;
      }
      channels.obtain(group.parts, group.extend).scan.set(buffer.index, group.files);
    }
    buffers.push({ index: buffer.index, attrs });
  }
  for (const channel of channels.all()) {
    const shared = sharedTypes.get(channelKey({ output: channel.output, type: channel.type }));
    if (shared === undefined) continue;
    for (const scan of channel.scan.values()) scan.type ??= shared;
  }

  // 2. Device directory files, by what their names say.
  const separate = new Map<string, Placed[]>();
  const typeLevel: Placed[] = [];
  const byDirection: Array<{ output: boolean; rest: string; file: SysfsFile }> = [];
  for (const file of files.root) {
    const parsed = parseChannelName(file.name);
    if (parsed === undefined) deviceAttrs.push({ name: file.name, file });
    else if (parsed.level === 'direction') byDirection.push({ output: parsed.output, rest: parsed.rest, file });
    else if (parsed.level === 'type') typeLevel.push({ parts: parsed, rest: parsed.rest, file });
    else pushTo(separate, channelKey(parsed), { parts: parsed, rest: parsed.rest, file });
  }

  // 3. A type-only name is an unindexed channel's own when that channel exists.
  const unindexed = new Set<string>();
  for (const { parts, rest } of typeLevel) {
    if (parts.level !== 'type' || parts.differential) continue;
    if (definesChannel(rest) || (/_(raw|input)$/.test(rest) && !isInfoPostfix(rest))) unindexed.add(channelKey(parts));
  }
  for (const channel of channels.all()) if (channel.index === undefined && channel.modifier === undefined) unindexed.add(channelKey(channel));
  const typeShared: Placed[] = [];
  for (const placed of typeLevel) {
    const key = channelKey(placed.parts);
    if (placed.parts.level === 'type' && !placed.parts.differential && unindexed.has(key)) pushTo(separate, key, placed);
    else typeShared.push(placed);
  }

  // 4. Separate attributes, with extend names.
  for (const placedList of separate.values()) {
    const parts = placedList[0]!.parts;
    let list = channels.get(parts);
    if (list.length === 0) {
      const extend = inferExtendName(placedList.map((p) => p.rest)) ?? '';
      list = [channels.obtain(parts, extend)];
    }
    for (const { rest, file } of placedList) {
      const target = pickByExtend(list, rest)!;
      add(target.channel.attrs, { name: target.name, file, shared: 'separate' });
    }
  }

  // 5. Event attributes of channels (events/ directory).
  const deviceEvents: AttrPlan[] = [];
  const eventShared: Placed[] = [];
  for (const file of files.events) {
    const parsed = parseChannelName(file.name);
    if (parsed === undefined || parsed.level === 'direction') {
      deviceEvents.push({ name: file.name, file });
      continue;
    }
    const own = parsed.level === 'channel' || (!parsed.differential && unindexed.has(channelKey(parsed)));
    if (!own) {
      eventShared.push({ parts: parsed, rest: parsed.rest, file });
      continue;
    }
    const list = channels.get(parsed);
    const target = pickByExtend(list.length > 0 ? list : [channels.obtain(parsed, '')], parsed.rest)!;
    add(target.channel.events, { name: target.name, file, shared: 'separate' });
  }

  // 6. Shared attributes, least shared first wins (the maps keep the first entry for a name).
  const all = channels.all();
  const ofType = (parts: ChannelParts): ChannelPlan[] => all.filter((c) => c.output === parts.output && c.type === parts.type &&
    (parts.level === 'type' && parts.differential ? c.channel2 !== undefined : c.channel2 === undefined));
  const sharable = (output: boolean): ChannelPlan[] => all.filter((c) => c.output === output && c.type !== 'timestamp');
  for (const { parts, rest, file } of typeShared) {
    const targets = ofType(parts);
    if (targets.length === 0) deviceAttrs.push({ name: file.name, file });
    for (const channel of targets) add(channel.attrs, { name: rest, file, shared: 'type' });
  }
  for (const { parts, rest, file } of eventShared) {
    const targets = ofType(parts);
    if (targets.length === 0) deviceEvents.push({ name: file.name, file });
    for (const channel of targets) add(channel.events, { name: rest, file, shared: 'type' });
  }
  for (const { output, rest, file } of byDirection) {
    const targets = isInfoPostfix(rest) ? sharable(output) : [];
    if (targets.length === 0) deviceAttrs.push({ name: file.name, file });
    for (const channel of targets) add(channel.attrs, { name: rest, file, shared: 'direction' });
  }
  for (const attr of deviceAttrs) {
    if (!isInfoPostfix(attr.name)) continue;
    for (const channel of all) if (channel.type !== 'timestamp') add(channel.attrs, { name: attr.name, file: attr.file, shared: 'all' });
  }

  return { channels: all, attrs: deviceAttrs, events: deviceEvents, buffers };
}

function pushTo<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
