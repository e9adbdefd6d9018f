// Reading the kernel's attribute file names back (kernel-abi §6.2, `__iio_device_attr_init`):
//   separate        <in|out>_<type>[<index>][-<type><index2>][_<modifier>][_<extend>]_<postfix>
//   shared by type  <in|out>_<type>_<postfix>, <in|out>_<type>-<type>_<postfix> (differential)
//   by direction    <in|out>_<postfix>
//   by all          <postfix> (in the device directory)
// Type names are lower-case letters only, so the type is the longest run of letters; whether a
// name without index or modifier is an unindexed channel's own attribute or shared by type is
// decided by the caller, who sees every file. Shared by the local backend (sysfs discovery) and
// the ip: backend (channel ids in iiod's XML), so it lives with the other kernel string grammars.
import { IIO_CHAN_INFO_POSTFIXES, IIO_CHAN_TYPE_NAMES, IIO_MODIFIER_NAMES } from '../abi/iio-sysfs.js';

export type ParsedName =
  /** `in_sampling_frequency`: shared by every channel of a direction. */
  | { level: 'direction'; output: boolean; rest: string }
  /** `in_voltage_scale`, `in_voltage-voltage_scale`, `in_temp_raw`: type only (no index, no modifier). */
  | { level: 'type'; output: boolean; type: string; differential: boolean; rest: string }
  /** `in_voltage0_raw`, `in_voltage1-voltage2_raw`, `in_accel_x_raw`: one channel. */
  | { level: 'channel'; output: boolean; type: string; index?: number; channel2?: number; modifier?: string; rest: string };

export type ChannelParts = Extract<ParsedName, { level: 'channel' }> | Extract<ParsedName, { level: 'type' }>;

const TYPES = new Set(IIO_CHAN_TYPE_NAMES);
// Longest first, so `from_north_magnetic_tilt_comp` wins over `from_north_magnetic`.
const MODIFIERS = IIO_MODIFIER_NAMES.filter((m) => m !== '').sort((a, b) => b.length - a.length);
const INFO = new Set(IIO_CHAN_INFO_POSTFIXES);

/** Parses a channel-style attribute file name; undefined for anything else (`name`, `ensm_mode`). */
export function parseChannelName(file: string): ParsedName | undefined {
  const head = /^(in|out)_([a-z]+)/.exec(file);
  if (head === null) return undefined;
  const output = head[1] === 'out';
  const type = head[2]!;
  const afterDirection = file.slice(head[1]!.length + 1);
  let pos = head[0].length;
  let index: number | undefined;
  const digits = /^\d+/.exec(file.slice(pos));
  if (digits !== null) {
    index = Number(digits[0]);
    pos += digits[0].length;
  } else if (!TYPES.has(type) || pos === file.length) {
    // Not a type the kernel knows and no channel number: the postfix of a direction-shared attribute.
    return { level: 'direction', output, rest: afterDirection };
  }
  let differential = false;
  let channel2: number | undefined;
  if (file[pos] === '-') {
    const second = new RegExp(`^-${type}(\\d*)`).exec(file.slice(pos));
    if (second === null || (second[1] === '') !== (index === undefined)) return undefined;
    differential = true;
    if (second[1] !== '') channel2 = Number(second[1]);
    pos += second[0].length;
  }
  if (file[pos] !== '_' || pos + 1 >= file.length) return undefined;
  let rest = file.slice(pos + 1);
  let modifier: string | undefined;
  if (!differential) {
    // The kernel: "Differential can not have modifier".
    modifier = MODIFIERS.find((m) => rest.startsWith(`${m}_`) && rest.length > m.length + 1);
    if (modifier !== undefined) rest = rest.slice(modifier.length + 1);
  }
  if (index === undefined && modifier === undefined) return { level: 'type', output, type, differential, rest };
  const parsed: ParsedName = { level: 'channel', output, type, rest };
  if (index !== undefined) parsed.index = index;
  if (channel2 !== undefined) parsed.channel2 = channel2;
  if (modifier !== undefined) parsed.modifier = modifier;
  return parsed;
}

/** libiio's channel id: `voltage0`, `voltage1-voltage2`, `accel_x`, `timestamp`. */
export function channelId(parts: { type: string; index?: number; channel2?: number; modifier?: string }): string {
  let id = parts.type;
  if (parts.index !== undefined) id += String(parts.index);
  if (parts.channel2 !== undefined) id += `-${parts.type}${parts.channel2}`;
  if (parts.modifier !== undefined) id += `_${parts.modifier}`;
  return id;
}

/** The channel a separate attribute belongs to, before extend names: direction, type, numbers, modifier. */
export function channelKey(parts: { output: boolean; type: string; index?: number; channel2?: number; modifier?: string }): string {
  return `${parts.output ? 'out' : 'in'}_${channelId(parts)}`;
}

/** One of the core's info postfixes (`scale`, `sampling_frequency`, ...) or its `_available` list. */
export function isInfoPostfix(name: string): boolean {
  return INFO.has(name) || (name.endsWith('_available') && INFO.has(name.slice(0, -'_available'.length)));
}

/** Postfixes whose presence means the channel itself exists (not a shared value). */
export function definesChannel(rest: string): boolean {
  return rest === 'raw' || rest === 'input' || rest === 'label';
}

const SCAN_SUFFIXES = ['en', 'index', 'type'] as const;
export type ScanSuffix = (typeof SCAN_SUFFIXES)[number];

/** Splits a scan element's remainder (`en`, `RX_index`) into its extend name and suffix. */
export function splitScanSuffix(rest: string): { extend: string; suffix: ScanSuffix } | undefined {
  for (const suffix of SCAN_SUFFIXES) {
    if (rest === suffix) return { extend: '', suffix };
    if (rest.endsWith(`_${suffix}`) && rest.length > suffix.length + 1) return { extend: rest.slice(0, -(suffix.length + 1)), suffix };
  }
  return undefined;
}

/**
 * The extend name shared by a channel's attribute remainders (`RX_LO` from `RX_LO_raw`,
 * `RX_LO_frequency`), as libiio infers it: the longest `_`-delimited common prefix of two or
 * more remainders. Checked against the info postfixes so that `sampling_frequency` and
 * `sampling_frequency_available` do not make a channel named "sampling", nor `rf_bandwidth`
 * and `rf_port_select` one named "rf": what is left after the prefix must include a postfix
 * the core knows, and no remainder may be one already.
 */
export function inferExtendName(rests: readonly string[]): string | undefined {
  if (rests.length < 2) return undefined;
  if (rests.some((r) => isInfoPostfix(r) || r === 'label')) return undefined;
  const first = rests[0]!;
  const candidates: string[] = [];
  for (let i = first.indexOf('_'); i > 0; i = first.indexOf('_', i + 1)) {
    const prefix = first.slice(0, i + 1);
    if (!rests.every((r) => r.startsWith(prefix) && r.length > prefix.length)) break;
    candidates.push(first.slice(0, i));
  }
  for (const extend of candidates.reverse()) {
    const stripped = rests.map((r) => r.slice(extend.length + 1));
    if (stripped.some((s) => isInfoPostfix(s) || s === 'label')) return extend;
  }
  return undefined;
}
