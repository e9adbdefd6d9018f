// The local context's description, read from sysfs and debugfs through the Kernel port
// (kernel-abi §6.1): `iio:deviceN` and `triggerN` under <sysfs>/bus/iio/devices, each device's
// attributes, channels, buffers (bufferY/, or buffer/ + scan_elements/ on kernels before 5.11),
// events/, trigger/current_trigger, and <debugfs>/iio/iio:deviceN/. Alongside it, the file
// behind every attribute, so the backend can answer by name.
import { parseScanType, type ScanType } from '../../format/scan-type.js';
import { compareScanOrder } from '../../format/scan-layout.js';
import type { KernelPort } from '../../kernel/port.js';
import { IIOJS_VERSION } from '../../version.js';
import type {
  AttrDescription, AttrRef, BufferDescription, ChannelDescription, ContextDescription, DeviceDescription,
} from '../backend.js';
import { attrLabel, withContext } from '../errors.js';
import { planDevice, type AttrPlan, type BufferFiles, type ChannelPlan } from './channels.js';
import { listDir, naturalCompare, readOptional } from './sysfs.js';

export interface LocalRoots {
  /** Where sysfs is mounted (default `/sys`). */
  sysfs: string;
  /** Where debugfs is mounted (default `<sysfs>/kernel/debug`). */
  debugfs: string;
  /** Where procfs is mounted (default `/proc`), for the kernel's release. */
  procfs: string;
}

export interface AttrFile {
  path: string;
  readable: boolean;
  writable: boolean;
}

/** What the backend needs about a device beyond its description. */
export interface LocalDevice {
  id: string;
  name?: string;
  /** The device's directory under <sysfs>/bus/iio/devices. */
  dir: string;
  /** <debugfs>/iio/<id>/direct_reg_access, when present. */
  registers?: string;
  /** Per buffer index: the `_en` file of each scan element, by channel position (for channel masks). */
  scanEnable: Map<number, Map<number, string>>;
}

export interface LocalDescription {
  description: ContextDescription;
  files: Map<string, AttrFile>;
  devices: Map<string, LocalDevice>;
}

/** The key of an attribute in `LocalDescription.files`. */
export function refKey(ref: AttrRef): string {
  switch (ref.kind) {
    case 'context':
      return `context|${ref.name}`;
    case 'device':
    case 'debug':
      return `${ref.kind}|${ref.device}|${ref.name}`;
    case 'channel':
      return `channel|${ref.device}|${ref.output ? 'out' : 'in'}|${ref.channel}|${ref.name}`;
    case 'buffer':
      return `buffer|${ref.device}|${ref.buffer}|${ref.name}`;
    case 'event':
      return `event|${ref.device}|${ref.channel === undefined ? '' : `${ref.channel.output ? 'out' : 'in'}|${ref.channel.id}`}|${ref.name}`;
  }
}

// Device directory files that are the device's identity, not attributes (libiio leaves them out too).
const IDENTITY = new Set(['name', 'label', 'dev', 'uevent']);

function modeOf(mode: number): { readable: boolean; writable: boolean } {
  return { readable: (mode & 0o444) !== 0, writable: (mode & 0o222) !== 0 };
}

class Collector {
  readonly files = new Map<string, AttrFile>();

  attr(ref: AttrRef, plan: AttrPlan): AttrDescription {
    const access = modeOf(plan.file.mode);
    if (!this.files.has(refKey(ref))) this.files.set(refKey(ref), { path: plan.file.path, ...access });
    const out: AttrDescription = { name: ref.name, filename: plan.file.name, ...access };
    if (plan.shared !== undefined) out.shared = plan.shared;
    return out;
  }
}

export async function describeLocal(port: KernelPort, roots: LocalRoots, uri: string): Promise<LocalDescription> {
  const busDir = `${roots.sysfs}/bus/iio/devices`;
  let entries: string[];
  try {
    entries = (await port.readdir(busDir)).map((e) => e.name);
  } catch (e) {
    throw withContext(e, 'listing IIO devices');
  }
  const iio = entries.filter((n) => /^iio:device\d+$/.test(n)).sort(naturalCompare);
  const triggers = entries.filter((n) => /^trigger\d+$/.test(n)).sort(naturalCompare);
  const collector = new Collector();
  const devices = new Map<string, LocalDevice>();
  const described = await Promise.all([
    ...iio.map((id) => describeDevice(port, collector, devices, id, `${busDir}/${id}`, `${roots.debugfs}/iio/${id}`)),
    ...triggers.map((id) => describeTrigger(port, collector, devices, id, `${busDir}/${id}`)),
  ]);
  const attributes: ContextDescription['attributes'] = [];
  const release = await readOptional(port, `${roots.procfs}/sys/kernel/osrelease`);
  if (release !== undefined) attributes.push({ name: 'local,kernel', value: release });
  attributes.push({ name: 'uri', value: uri });
  return {
    description: {
      name: 'local',
      description: await unameText(port, roots.procfs),
      version: { major: IIOJS_VERSION.major, minor: IIOJS_VERSION.minor, git: IIOJS_VERSION.git },
      attributes,
      devices: described,
    },
    files: collector.files,
    devices,
  };
}

/** `Linux <hostname> <release> <version>`, as uname(2) would give it (libiio's description). */
async function unameText(port: KernelPort, procfs: string): Promise<string> {
  const parts = await Promise.all(['ostype', 'hostname', 'osrelease', 'version'].map((f) => readOptional(port, `${procfs}/sys/kernel/${f}`)));
  const known = parts.filter((p): p is string => p !== undefined && p !== '');
  return known.length === 0 ? 'Linux' : known.join(' ');
}

async function describeTrigger(port: KernelPort, collector: Collector, devices: Map<string, LocalDevice>, id: string, dir: string): Promise<DeviceDescription> {
  const [listing, name] = await Promise.all([listDir(port, dir), readOptional(port, `${dir}/name`)]);
  const device: DeviceDescription = {
    id, trigger: true, channels: [], attributes: [], debugAttributes: [], eventAttributes: [], buffers: [], triggerSupport: false,
  };
  if (name !== undefined) device.name = name;
  for (const file of listing.files) {
    if (IDENTITY.has(file.name)) continue;
    device.attributes.push(collector.attr({ kind: 'device', device: id, name: file.name }, { name: file.name, file }));
  }
  devices.set(id, name === undefined ? { id, dir, scanEnable: new Map() } : { id, name, dir, scanEnable: new Map() });
  return device;
}

async function describeDevice(
  port: KernelPort, collector: Collector, devices: Map<string, LocalDevice>, id: string, dir: string, debugDir: string,
): Promise<DeviceDescription> {
  const [listing, name, label, debug] = await Promise.all([
    listDir(port, dir), readOptional(port, `${dir}/name`), readOptional(port, `${dir}/label`), listDir(port, debugDir),
  ]);
  const has = (d: string): boolean => listing.dirs.includes(d);

  // Buffers: bufferY/ since 5.11; before, buffer 0 only, as buffer/ + scan_elements/.
  const buffers: BufferFiles[] = await Promise.all(listing.dirs.filter((d) => /^buffer\d+$/.test(d)).map(async (d) => ({
    index: Number(d.slice('buffer'.length)),
    files: (await listDir(port, `${dir}/${d}`)).files,
  })));
  if (buffers.length === 0 && (has('buffer') || has('scan_elements'))) {
    const [own, scan] = await Promise.all([listDir(port, `${dir}/buffer`), listDir(port, `${dir}/scan_elements`)]);
    buffers.push({ index: 0, files: [...own.files, ...scan.files] });
  }
  buffers.sort((a, b) => a.index - b.index);
  const events = has('events') ? (await listDir(port, `${dir}/events`)).files : [];
  const triggerSupport = has('trigger') && (await listDir(port, `${dir}/trigger`)).files.some((f) => f.name === 'current_trigger');

  const plan = planDevice({ root: listing.files.filter((f) => !IDENTITY.has(f.name)), buffers, events });
  const ordered = await orderChannels(port, plan.channels, id);

  const device: DeviceDescription = {
    id, trigger: false, channels: [], attributes: [], debugAttributes: [], eventAttributes: [], buffers: [], triggerSupport,
  };
  if (name !== undefined) device.name = name;
  if (label !== undefined) device.label = label;
  device.channels = await Promise.all(ordered.map(({ plan: channel, scan }) => describeChannel(port, collector, id, channel, scan)));
  device.attributes = sortByName(plan.attrs).map((a) => collector.attr({ kind: 'device', device: id, name: a.name }, a));
  device.eventAttributes = sortByName(plan.events).map((a) => collector.attr({ kind: 'event', device: id, name: a.name }, a));
  device.debugAttributes = debug.files.map((file) => collector.attr({ kind: 'debug', device: id, name: file.name }, { name: file.name, file }));
  device.buffers = await Promise.all(plan.buffers.map((b) => describeBuffer(port, collector, id, b, ordered.map((o) => o.plan))));

  const scanEnable = new Map(plan.buffers.map((b) => [b.index, new Map(ordered.flatMap(({ plan: c }, position) => {
    const en = c.scan.get(b.index)?.en;
    return en === undefined ? [] : [[position, en.path] as const];
  }))]));
  const local: LocalDevice = { id, dir, scanEnable };
  if (name !== undefined) local.name = name;
  const registers = debug.files.find((f) => f.name === 'direct_reg_access');
  if (registers !== undefined) local.registers = registers.path;
  devices.set(id, local);
  return device;
}

interface Ordered {
  plan: ChannelPlan;
  scan?: { index: number; type: ScanType };
}

/** Scan elements by scan index (ties by shift), then the rest by direction, id and extend name (iiod-protocol §4a). */
async function orderChannels(port: KernelPort, channels: ChannelPlan[], device: string): Promise<Ordered[]> {
  const withScan = await Promise.all(channels.map(async (plan): Promise<Ordered> => {
    const first = [...plan.scan.keys()].sort((a, b) => a - b)[0];
    const files = first === undefined ? undefined : plan.scan.get(first);
    if (files?.index === undefined || files.type === undefined) return { plan };
    const [indexText, typeText] = await Promise.all([port.readText(files.index.path), port.readText(files.type.path)]).catch((e: unknown) => {
      throw withContext(e, `scan element of ${plan.output ? 'output' : 'input'} channel ${plan.id} of ${device}`);
    });
    const index = Number(indexText.trim());
    if (!Number.isSafeInteger(index)) throw new RangeError(`${files.index.path}: scan index ${JSON.stringify(indexText.trim())} is not an integer`);
    return { plan, scan: { index, type: parseScanType(typeText, files.type.path) } };
  }));
  return withScan.sort((a, b) => {
    if (a.scan !== undefined && b.scan !== undefined) return compareScanOrder(a.scan, b.scan);
    if (a.scan !== undefined) return -1;
    if (b.scan !== undefined) return 1;
    return Number(a.plan.output) - Number(b.plan.output) || naturalCompare(a.plan.id, b.plan.id) || naturalCompare(a.plan.extend, b.plan.extend);
  });
}

async function describeChannel(
  port: KernelPort, collector: Collector, device: string, plan: ChannelPlan, scan: Ordered['scan'],
): Promise<ChannelDescription> {
  const ref = { device, channel: plan.id, output: plan.output };
  const channel: ChannelDescription = {
    id: plan.id, output: plan.output, type: plan.type, attributes: [], eventAttributes: [],
  };
  if (plan.extend !== '') channel.name = plan.extend;
  if (plan.modifier !== undefined) channel.modifier = plan.modifier;
  if (plan.index !== undefined) channel.index = plan.index;
  if (plan.channel2 !== undefined) channel.channel2 = plan.channel2;
  const attrs = sortByName([...plan.attrs.values()]);
  channel.attributes = attrs.map((a) => collector.attr({ kind: 'channel', ...ref, name: a.name }, a));
  channel.eventAttributes = sortByName([...plan.events.values()]).map((a) =>
    collector.attr({ kind: 'event', device, channel: { id: plan.id, output: plan.output }, name: a.name }, a));
  const value = async (name: string): Promise<string | undefined> => {
    const file = plan.attrs.get(name)?.file;
    return file === undefined ? undefined : readOptional(port, file.path);
  };
  const label = await value('label');
  if (label !== undefined) channel.label = label;
  if (scan !== undefined) {
    channel.scan = { index: scan.index, type: scan.type };
    const [scale, offset] = await Promise.all([value('scale'), value('offset')]);
    if (scale !== undefined && Number.isFinite(Number(scale)) && scale.trim() !== '') channel.scan.scale = Number(scale);
    if (offset !== undefined && Number.isFinite(Number(offset)) && offset.trim() !== '') channel.scan.offset = Number(offset);
  }
  return channel;
}

async function describeBuffer(
  port: KernelPort, collector: Collector, device: string, plan: { index: number; attrs: AttrPlan[] }, channels: ChannelPlan[],
): Promise<BufferDescription> {
  const carried = channels.flatMap((c, position) => (c.scan.has(plan.index) ? [position] : []));
  const directionFile = plan.attrs.find((a) => a.name === 'direction')?.file;
  const text = directionFile === undefined ? undefined : await readOptional(port, directionFile.path);
  // Kernels before 5.17 have no `direction`: a buffer of output channels only is an output buffer.
  const direction = text === 'out' || (text === undefined && carried.length > 0 && carried.every((p) => channels[p]!.output)) ? 'out' : 'in';
  return {
    index: plan.index,
    direction,
    attributes: sortByName(plan.attrs).map((a) => collector.attr({ kind: 'buffer', device, buffer: plan.index, name: a.name }, a)),
    channels: carried,
  };
}

function sortByName<T extends { name: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names the attribute `ref` for messages. */
export function describeRef(ref: AttrRef, devices: Map<string, LocalDevice>): string {
  return attrLabel(ref, 'device' in ref ? devices.get(ref.device)?.name : undefined);
}
