// `iio attr`: read and write attributes of one kind per invocation, with libiio's iio_attr
// selection: -d device, -c channel, -B buffer, -D debug, -C context, -E/-e device/channel event
// attributes; operands left out list what
// there is; `*` wildcards (and `.` for anything) match ids, labels and names.
import type { Attr } from '../core/attr.js';
import type { Channel } from '../core/channel.js';
import type { Context } from '../core/context.js';
import type { Device } from '../core/device.js';
import { CONTEXT_HELP, CONTEXT_OPTIONS, integerArg, openFromArgs, operands, parseCommand, UsageError } from './args.js';
import { errorLine, type CliEnv } from './env.js';
import { channelLine } from './info.js';

export const attrHelp = `Usage: iio attr [options] -d [<device> [<attr> [<value>]]]
                        -c [<device> [<channel> [<attr> [<value>]]]]
                        -B [-b <index>] [<device> [<attr> [<value>]]]
                        -D [<device> [<attr> [<value>]]]
                        -C [<attr>]
                        -E [<device> [<attr> [<value>]]]
                        -e [<device> [<channel> [<attr> [<value>]]]]

Reads an attribute, or writes <value> to it and reads it back, as libiio's iio_attr. One kind of
attribute per invocation; leave operands out to list what there is. Devices match by id
(iio:device0), label or name, channels by id (voltage0), name or label; a * in a name is a
wildcard (volt*), and . matches anything. A write must match exactly one attribute.

Attribute kinds:
  -d, --device-attr       device attributes (sampling_frequency, ...)
  -c, --channel-attr      channel attributes (raw, scale, ...)
  -B, --buffer-attr       buffer attributes (length, enable, ...) of buffer -b (default 0)
  -D, --debug-attr        debugfs attributes (direct_reg_access, ...)
  -C, --context-attr      context attributes (read-only)
  -E, --device-event-attr   event attributes of the device (events/, no channel)
  -e, --channel-event-attr  event attributes of channels (thresh_rising_en, ..._value, ...)

Options:
${CONTEXT_HELP}
  -b, --buffer <index>    with -B: which buffer (default 0)
  -i, --input-channel     with -c: input channels only
  -o, --output-channel    with -c: output channels only
  -s, --scan-channel      with -c: scan elements (channels that can be streamed) only
  -I, --ignore-case       match names ignoring case
  -w, --write-only        write without reading back
  -q, --quiet             print values only

Examples:
  iio attr -u sim: -d                             # the devices and their attribute counts
  iio attr -u sim: -d adc4                        # every device attribute of adc4, with values
  iio attr -u sim: -q -c adc4 voltage0 scale      # one value
  iio attr -u sim: -c -o trx altvoltage0 frequency 2450000000
  iio attr -u sim: -B adc4 length
  iio attr -u sim: -C
  iio attr -u sim: -e sensor temp thresh_rising_value 2500
`;

type Kind = 'device' | 'channel' | 'buffer' | 'debug' | 'context' | 'device-event' | 'channel-event';

/** What one attribute line shows: the attribute and the words before its value. */
interface Target {
  attr: Attr;
  prefix: string;
}

export async function attr(args: string[], env: CliEnv): Promise<number> {
  const { values, positionals } = parseCommand(args, {
    ...CONTEXT_OPTIONS,
    'device-attr': { type: 'boolean', short: 'd' },
    'channel-attr': { type: 'boolean', short: 'c' },
    'buffer-attr': { type: 'boolean', short: 'B' },
    'debug-attr': { type: 'boolean', short: 'D' },
    'context-attr': { type: 'boolean', short: 'C' },
    'device-event-attr': { type: 'boolean', short: 'E' },
    'channel-event-attr': { type: 'boolean', short: 'e' },
    buffer: { type: 'string', short: 'b' },
    'input-channel': { type: 'boolean', short: 'i' },
    'output-channel': { type: 'boolean', short: 'o' },
    'scan-channel': { type: 'boolean', short: 's' },
    'ignore-case': { type: 'boolean', short: 'I' },
    'write-only': { type: 'boolean', short: 'w' },
    quiet: { type: 'boolean', short: 'q' },
  });
  const kinds = (['device', 'channel', 'buffer', 'debug', 'context', 'device-event', 'channel-event'] as const).filter((k) => values[`${k}-attr`] === true);
  if (kinds.length !== 1) throw new UsageError(kinds.length === 0 ? 'give one of -d, -c, -B, -D, -C, -E or -e' : 'the options -d, -c, -B, -D, -C, -E and -e exclude each other');
  const kind: Kind = kinds[0]!;
  const ofChannels = kind === 'channel' || kind === 'channel-event';
  const channelFilter = values['input-channel'] === true || values['output-channel'] === true || values['scan-channel'] === true;
  if (channelFilter && !ofChannels) throw new UsageError('-i, -o and -s filter channels: use them with -c or -e');
  if (values.buffer !== undefined && kind !== 'buffer') throw new UsageError('-b picks the buffer of -B');
  const depth = ofChannels ? 2 : kind === 'context' ? 0 : 1;
  // Context attributes are static: no value operand.
  const given = operands(positionals, 0, kind === 'context' ? 1 : depth + 2, '');
  const [deviceKey, channelKey] = kind === 'context' ? [] : given;
  const attrKey = given[depth];
  const value = given[depth + 1];
  const patterns = [deviceKey, channelKey, attrKey].filter((p) => p !== undefined);
  if (value !== undefined && patterns.some(isPattern)) throw new UsageError('cannot write a value with a wildcard match');

  await using ctx = await openFromArgs(values, env);
  const match = matcher(values['ignore-case'] === true);
  const out: string[] = [];
  const print = (line: string): void => void out.push(line);
  let targets: Target[];
  if (kind === 'context') {
    targets = [...ctx.attrs.values()].map((a) => ({ attr: a, prefix: `${a.name}: ` }));
  } else if (deviceKey === undefined) {
    listDevices(ctx, kind, print);
    targets = [];
  } else {
    const devices = find(ctx.allDevices, deviceKey, match, (d) => [d.id, d.label, d.name], () => 'no device', () => ctx.allDevices.map((d) => d.toString()));
    if (ofChannels) {
      const attrsOf = (c: Channel): ReadonlyMap<string, Attr> => kind === 'channel' ? c.attrs : c.eventAttrs;
      const channels = devices.flatMap((d) => d.channels.filter((c) =>
        !(values['input-channel'] && c.output) && !(values['output-channel'] && !c.output) && !(values['scan-channel'] && c.scanElement === undefined)));
      if (channelKey === undefined) {
        for (const c of channels) print(`dev '${deviceName(c.device)}', channel ${channelLine(c)}: ${attrsOf(c).size} ${kind === 'channel' ? '' : 'event '}attributes`);
        targets = [];
      } else {
        const matched = find(channels, channelKey, match, (c) => [c.id, c.name, c.label], () => `no channel of ${devices.map((d) => d.toString()).join(', ')}`,
          () => channels.map((c) => `${c.id} (${c.direction})`));
        const label = kind === 'channel' ? 'attr' : 'event attr';
        targets = matched.flatMap((c) => [...attrsOf(c).values()].map((a) => ({ attr: a, prefix: `${channelPrefix(c)}, ${label} '${a.name}', value ` })));
      }
    } else {
      targets = devices.flatMap((d) => deviceTargets(d, kind, values.buffer));
      if (kind === 'buffer' && targets.length === 0) throw new Error(`${devices.map((d) => d.toString()).join(', ')} has no buffer ${values.buffer ?? 0}`);
    }
  }
  if (attrKey !== undefined) {
    const all = targets;
    targets = find(all, attrKey, match, (t) => [t.attr.name], () => `no ${kind} attribute`, () => [...new Set(all.map((t) => t.attr.name))]);
  }

  let failed = 0;
  const report = (e: unknown): void => {
    failed++;
    env.stderr.write(`${errorLine(e)}\n`);
  };
  const quiet = values.quiet === true;
  const show = async (t: Target): Promise<void> => {
    if (t.attr.readable === false) {
      if (!quiet) print(`${t.prefix}(write-only)`);
      return;
    }
    const text = await t.attr.read();
    print(quiet ? text : kind === 'context' ? `${t.prefix}${text}` : `${t.prefix}'${text}'`);
  };
  if (value !== undefined) {
    if (targets.length > 1) throw new Error(`${targets.length} attributes match, a write needs exactly one: ${targets.map((t) => t.attr.toString()).join('; ')} (narrow it with -i/-o or the device id)`);
    const target = targets[0]!;
    await target.attr.write(value);
    if (values['write-only'] !== true) await show(target).catch(report);
  } else {
    for (const t of targets) await show(t).catch(report);
  }
  if (out.length > 0) env.stdout.write(`${out.join('\n')}\n`);
  if (failed > 0) throw new Error(`${failed} of ${targets.length} attributes could not be read`);
  return 0;
}

function deviceName(d: Device): string {
  return d.name ?? d.id;
}

function channelPrefix(c: Channel): string {
  return `dev '${deviceName(c.device)}', channel '${c.id}' (${c.output ? 'output' : 'input'})${c.name === undefined ? '' : `, id '${c.name}'`}`;
}

function deviceTargets(d: Device, kind: 'device' | 'buffer' | 'debug' | 'device-event', bufferIndex: string | undefined): Target[] {
  const dev = `dev '${deviceName(d)}'`;
  if (kind === 'device') return [...d.attrs.values()].map((a) => ({ attr: a, prefix: `${dev}, attr '${a.name}', value ` }));
  if (kind === 'device-event') return [...d.eventAttrs.values()].map((a) => ({ attr: a, prefix: `${dev}, event attr '${a.name}', value ` }));
  if (kind === 'debug') return [...d.debugAttrs.values()].map((a) => ({ attr: a, prefix: `${dev}, debug attr '${a.name}', value ` }));
  const index = bufferIndex === undefined ? 0 : integerArg(bufferIndex, '-b/--buffer');
  const buffer = d.buffers.find((b) => b.index === index);
  return buffer === undefined ? [] : [...buffer.attrs.values()].map((a) => ({ attr: a, prefix: `${dev}, buffer ${index}, attr '${a.name}', value ` }));
}

function listDevices(ctx: Context, kind: Exclude<Kind, 'context'>, print: (line: string) => void): void {
  for (const d of ctx.allDevices) {
    const count = kind === 'channel' || kind === 'channel-event' ? `${d.channels.length} channels`
      : kind === 'device' ? `${d.attrs.size} device attributes`
        : kind === 'device-event' ? `${d.eventAttrs.size} event attributes`
        : kind === 'debug' ? `${d.debugAttrs.size} debug attributes`
          : `${d.buffers.length} buffers, ${d.buffers[0]?.attrs.size ?? 0} buffer attributes`;
    print(`${d.id}${d.name === undefined ? '' : `: ${d.name}`}, ${count}`);
  }
}

function isPattern(text: string): boolean {
  return text === '.' || text.includes('*');
}

/** libiio's matching: `.` and `*` match anything, `*` within a name is a wildcard. */
function matcher(ignoreCase: boolean): (pattern: string, name: string | undefined) => boolean {
  return (pattern, name) => {
    if (name === undefined) return false;
    if (pattern === '.' || pattern === '*') return true;
    const source = `^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`;
    return new RegExp(source, ignoreCase ? 'i' : '').test(name);
  };
}

/** The items one of whose names matches; none is an error listing what there is. */
function find<T>(items: readonly T[], pattern: string, match: (p: string, n: string | undefined) => boolean,
  names: (item: T) => Array<string | undefined>, what: () => string, candidates: () => string[]): T[] {
  const found = items.filter((item) => names(item).some((n) => match(pattern, n)));
  if (found.length === 0) {
    const list = candidates();
    throw new Error(`${what()} matches ${JSON.stringify(pattern)} (there are: ${list.length === 0 ? 'none' : list.join(', ')})`);
  }
  return found;
}
