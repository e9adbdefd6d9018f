// `iio info`: everything a context holds, with the attributes' values (libiio's iio_info).
import { UnsupportedError } from '../backends/errors.js';
import type { Attr } from '../core/attr.js';
import type { IioBuffer } from '../core/buffer.js';
import type { Channel } from '../core/channel.js';
import type { Device } from '../core/device.js';
import { xmlScanFormat } from '../core/xml.js';
import { IIOJS_VERSION_TEXT } from '../version.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, openFromArgs, parseCommand } from './args.js';
import type { CliEnv } from './env.js';

export const infoHelp = `Usage: iio info [options] [<device>...]

Shows a context: its attributes, then each IIO device and trigger (all, or the ones named by id,
label or name) with its channels (direction, scan index and format as libiio writes it: upper
case S/U when the value fills its storage), attributes and their values, debug attributes,
buffers (their channels, attributes, and whether they take DMABUF zero-copy blocks) and current
trigger. To tell about DMABUF, iio opens each buffer for a moment and attaches (then detaches)
one DMABUF, as \`iio doctor\` tries every feature; nothing else of the buffer changes. -n skips
that, and every read.

Options:
${CONTEXT_HELP}
  -n, --no-read           names only: read no attribute, probe no buffer (libiio's -n)

Examples:
  iio info -u sim:
  iio info -u sim: adc4
  iio info -n
`;

const INDENT = '  ';

export async function info(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, { ...CONTEXT_OPTIONS, 'no-read': { type: 'boolean', short: 'n' } });
  await using ctx = await openFromArgs(values, env);
  const selected = positionals.length === 0 ? ctx.allDevices : positionals.map((key) => ctx.device(key));
  const read = values['no-read'] !== true;
  const out: string[] = [];
  if (positionals.length === 0) {
    out.push(`iiojs ${IIOJS_VERSION_TEXT}`);
    out.push(`Backend: ${ctx.name} ${ctx.version.major}.${ctx.version.minor} (git ${ctx.version.git}): ${ctx.description}`);
    out.push(`URI: ${ctx.uri}`);
    out.push(`Context attributes (${ctx.attrs.size}):`);
    for (const a of ctx.attrs.values()) out.push(`${INDENT}${a.name}: ${a.staticValue ?? ''}`);
  }
  const devices = selected.filter((d) => !d.isTrigger);
  const triggers = selected.filter((d) => d.isTrigger);
  const sections = await Promise.all(selected.map((d) => deviceLines(d, read)));
  const byDevice = new Map(selected.map((d, i) => [d, sections[i]!]));
  if (devices.length > 0 || positionals.length === 0) {
    out.push(`IIO devices (${devices.length}):`);
    for (const d of devices) out.push(...byDevice.get(d)!);
  }
  if (triggers.length > 0 || positionals.length === 0) {
    out.push(`Triggers (${triggers.length}):`);
    for (const t of triggers) out.push(...byDevice.get(t)!);
  }
  env.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

async function deviceLines(device: Device, read: boolean): Promise<string[]> {
  const pad = INDENT.repeat(2);
  const out = [`${INDENT}${device.id}${device.name === undefined ? '' : `: ${device.name}`}${device.label === undefined ? '' : ` (label: ${device.label})`}`];
  if (device.channels.length > 0) {
    out.push(`${pad}channels (${device.channels.length}):`);
    for (const c of device.channels) {
      out.push(`${pad}${INDENT}${channelLine(c)}`);
      out.push(...await attrLines(c.attrs, 4, read));
      if (c.eventAttrs.size > 0) {
        out.push(`${pad}${INDENT.repeat(2)}event attributes (${c.eventAttrs.size}):`);
        out.push(...await attrLines(c.eventAttrs, 5, read));
      }
    }
  }
  const groups: Array<[string, ReadonlyMap<string, Attr>]> = [['attributes', device.attrs], ['debug attributes', device.debugAttrs], ['event attributes', device.eventAttrs]];
  for (const [what, attrs] of groups) {
    if (attrs.size === 0) continue;
    out.push(`${pad}${what} (${attrs.size}):`);
    out.push(...await attrLines(attrs, 3, read));
  }
  for (const b of device.buffers) {
    out.push(`${pad}buffer${b.index} (${b.direction === 'in' ? 'input' : 'output'}${read ? `; DMABUF zero-copy: ${await dmabufSupport(b)}` : ''}):`);
    out.push(`${pad}${INDENT}channels: ${b.channels.map((c) => c.id).join(' ')}`);
    out.push(...await attrLines(b.attrs, 3, read));
  }
  if (device.triggerSupport === true || (device.triggerSupport === undefined && !device.isTrigger)) {
    // A backend that could not tell learns it here: a device that takes no trigger has no line.
    const text = read ? await triggerText(device) : '(not read)';
    if (text !== undefined) out.push(`${pad}trigger: ${text}`);
  }
  return out;
}

/** `voltage0 (input, index: 0, format: le:S16/16>>0)`, `altvoltage0: RX_LO (output)`, as iio_info. */
export function channelLine(c: Channel): string {
  const scan = c.scanElement;
  const details = [c.output ? 'output' : 'input'];
  if (scan !== undefined) details.push(`index: ${scan.index}`, `format: ${xmlScanFormat(scan.type)}`);
  return `${c.id}${c.name === undefined ? '' : `: ${c.name}`} (${details.join(', ')})`;
}

async function attrLines(attrs: ReadonlyMap<string, Attr>, depth: number, read: boolean): Promise<string[]> {
  const pad = INDENT.repeat(depth);
  const texts = await Promise.all([...attrs.values()].map((a) => read ? attrText(a) : Promise.resolve('')));
  return [...attrs.values()].map((a, i) => `${pad}${a.name}${read ? `: ${texts[i]!.replace(/\n/g, `\n${pad}${INDENT}`)}` : ''}`);
}

/** What the backend cannot carry, as a value: the same words whatever the attribute. */
const NOT_CARRIED = '(not carried by this backend)';

async function attrText(attr: Attr): Promise<string> {
  if (attr.readable === false) return '(write-only)';
  try {
    return await attr.read();
  } catch (e) {
    // Reading a write-only sysfs file is EACCES: a backend that does not know the file's mode
    // (iiod's XML has none) learns it so.
    if ((e as { code?: unknown }).code === 'EACCES') return '(write-only)';
    if (e instanceof UnsupportedError) return NOT_CARRIED;
    return `ERROR: ${(e as Error).message}`;
  }
}

/** The trigger line's text; undefined for a device that takes no trigger. */
async function triggerText(device: Device): Promise<string | undefined> {
  try {
    const trigger = await device.getTrigger();
    return trigger === null ? 'none' : `${trigger.name ?? trigger.id} (${trigger.id})`;
  } catch (e) {
    if (e instanceof UnsupportedError && e.feature === 'trigger') return undefined;
    return `ERROR: ${(e as Error).message}`;
  }
}

/** `yes (heap)`, or why not: attaching one DMABUF tells (nothing else of the buffer changes). */
async function dmabufSupport(buffer: IioBuffer): Promise<string> {
  try {
    const support = await buffer.dmabufSupport();
    if (support === undefined) return 'unknown over this backend';
    return support.supported ? `yes (${support.source === 'heap' ? 'DMA heap' : 'udmabuf'})` : `no (${support.reason})`;
  } catch (e) {
    return `unknown (${(e as Error).message})`;
  }
}

