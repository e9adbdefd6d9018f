// The context as the page's tree (devices, their channels and buffers, triggers), and its
// attribute panel: every attribute of one node with its value and, where there is an
// `_available` sibling, the list or range the editor offers. A write is read back; a refused
// one answers the kernel's reason (code and message) as the library reports it.
import type { Attr } from '../core/attr.js';
import type { Context } from '../core/context.js';
import type { Device } from '../core/device.js';
import type { Available } from '../format/available.js';
import { formatScanType } from '../format/index.js';

/** Which node's attributes: a device's, its debug ones, a channel's or a buffer's. */
export type AttrTarget =
  | { kind: 'context' }
  | { kind: 'device' | 'debug'; device: string }
  | { kind: 'channel'; device: string; channel: string; output: boolean }
  | { kind: 'buffer'; device: string; buffer: number };

export interface AttrEntry {
  name: string;
  value?: string;
  error?: { code: string | undefined; message: string };
  writable: boolean;
  available?: Available;
}

export interface TreeDevice {
  id: string;
  name: string | undefined;
  label: string | undefined;
  trigger: boolean;
  hasDebug: boolean;
  /** The trigger it uses now (its id), when it takes one. */
  currentTrigger?: string | null;
  channels: Array<{ id: string; name: string | undefined; label: string | undefined; output: boolean; type: string; scan: { index: number; format: string } | null }>;
  buffers: Array<{ index: number; direction: 'in' | 'out'; channels: string[] }>;
}

export async function contextTree(ctx: Context): Promise<{ uri: string; description: string; devices: TreeDevice[] }> {
  const devices = await Promise.all(ctx.allDevices.map(async (d): Promise<TreeDevice> => {
    const current = d.triggerSupport === false || d.isTrigger ? undefined : await d.getTrigger().then((t) => t?.id ?? null).catch(() => undefined);
    return {
      id: d.id, name: d.name, label: d.label, trigger: d.isTrigger, hasDebug: d.debugAttrs.size > 0,
      ...(current === undefined ? {} : { currentTrigger: current }),
      channels: d.channels.map((c) => ({
        id: c.id, name: c.name, label: c.label, output: c.output, type: c.type,
        scan: c.scanElement === undefined ? null : { index: c.scanElement.index, format: formatScanType(c.scanElement.type) },
      })),
      buffers: d.buffers.map((b) => ({ index: b.index, direction: b.direction, channels: b.channels.map((c) => c.id) })),
    };
  }));
  return { uri: ctx.uri, description: ctx.description, devices };
}

function deviceOf(ctx: Context, target: Exclude<AttrTarget, { kind: 'context' }>): Device {
  return ctx.device(target.device);
}

export function attrsOf(ctx: Context, target: AttrTarget): ReadonlyMap<string, Attr> {
  switch (target.kind) {
    case 'context': return ctx.attrs;
    case 'device': return deviceOf(ctx, target).attrs;
    case 'debug': return deviceOf(ctx, target).debugAttrs;
    case 'channel': return deviceOf(ctx, target).channel(target.channel, target.output ? 'out' : 'in').attrs;
    case 'buffer': return deviceOf(ctx, target).buffer(target.buffer).attrs;
  }
}

export function errorInfo(e: unknown): { code: string | undefined; message: string } {
  const error = e as { code?: unknown; message?: unknown };
  return { code: typeof error.code === 'string' ? error.code : undefined, message: typeof error.message === 'string' ? error.message : String(e) };
}

async function entry(attr: Attr, all: ReadonlyMap<string, Attr>): Promise<AttrEntry> {
  const out: AttrEntry = { name: attr.name, writable: attr.writable !== false && attr.staticValue === undefined };
  if (attr.staticValue !== undefined) out.value = attr.staticValue;
  else await attr.read().then((v) => { out.value = v; }, (e: unknown) => { out.error = errorInfo(e); });
  const available = all.get(`${attr.name}_available`);
  if (available !== undefined) await attr.available().then((a) => { out.available = a; }, () => undefined);
  return out;
}

export async function readAttrs(ctx: Context, target: AttrTarget): Promise<AttrEntry[]> {
  const all = attrsOf(ctx, target);
  return Promise.all([...all.values()].map((a) => entry(a, all)));
}

/** Writes `value` and reads it back (the driver may round it). */
export async function writeAttr(ctx: Context, target: AttrTarget, name: string, value: string): Promise<AttrEntry> {
  const all = attrsOf(ctx, target);
  const attr = all.get(name);
  if (attr === undefined) throw Object.assign(new Error(`no attribute ${JSON.stringify(name)} here (there are: ${[...all.keys()].join(', ')})`), { code: 'ENOENT' });
  await attr.write(value);
  return entry(attr, all);
}
