// Names and value formats of IIO sysfs attributes (kernel-abi §6.2): how a channel's info
// attribute is named for each level of sharing, the event attribute names, the enum numbers
// behind type and modifier names, and how the core prints values.
import type { ChannelSpec } from '../scenario-types.js';
import { CHANNEL_TYPES, channelPrefix } from '../scenario.js';

/** iio_modifier_names, in enum iio_modifier order (index = enum value). */
const MODIFIER_NAMES: readonly string[] = [
  '', 'x', 'y', 'z', 'x&y', 'x&z', 'y&z', 'x&y&z', 'x|y', 'x|z', 'y|z', 'x|y|z', 'both', 'ir',
  'sqrt(x^2+y^2)', 'x^2+y^2+z^2', 'clear', 'red', 'green', 'blue', 'quaternion', 'ambient', 'object',
  'from_north_magnetic', 'from_north_true', 'from_north_magnetic_tilt_comp', 'from_north_true_tilt_comp',
  'running', 'jogging', 'walking', 'still', 'sqrt(x^2+y^2+z^2)', 'i', 'q', 'co2', 'voc', 'uv', 'duv',
  'pm1', 'pm2p5', 'pm4', 'pm10', 'ethanol', 'h2', 'o2', 'linear_x', 'linear_y', 'linear_z', 'pitch',
  'yaw', 'roll', 'uva', 'uvb',
];

/** enum iio_chan_type value of a sysfs type name (e.g. voltage → 0). */
export function chanTypeNumber(type: string): number {
  const n = CHANNEL_TYPES.indexOf(type);
  return n < 0 ? 0 : n;
}

/** enum iio_modifier value of a modifier name (0 = none). */
export function modifierNumber(modifier: string | undefined): number {
  if (modifier === undefined) return 0;
  const n = MODIFIER_NAMES.indexOf(modifier);
  return n < 0 ? 0 : n;
}

export { channelPrefix };

/** The directory-relative name of a separate info attribute: in_voltage0_raw. */
export function separateName(ch: ChannelSpec, postfix: string): string {
  return `${channelPrefix(ch)}_${postfix}`;
}

/** Shared by type: in_voltage_scale, or in_voltage-voltage_scale for differential channels. */
export function sharedByTypeName(ch: ChannelSpec, postfix: string): string {
  const dir = ch.direction ?? 'in';
  return ch.differential !== undefined ? `${dir}_${ch.type}-${ch.type}_${postfix}` : `${dir}_${ch.type}_${postfix}`;
}

/**
 * How the core prints a value: integers as %d (IIO_VAL_INT); fractions with six decimals
 * (IIO_VAL_INT_PLUS_MICRO) when the value is a whole number of micro-units, else nine
 * (IIO_VAL_INT_PLUS_NANO).
 */
export function formatIioValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const micro = value * 1e6;
  if (Math.abs(micro - Math.round(micro)) < 1e-6) return value.toFixed(6);
  return value.toFixed(9);
}

/** An attribute value from a scenario: text verbatim, numbers as the core prints them. */
export function formatAttrValue(value: string | number): string {
  return typeof value === 'number' ? formatIioValue(value) : value;
}
