// Names and value formats of IIO sysfs attributes (kernel-abi §6.2): how a channel's info
// attribute is named for each level of sharing, the event attribute names, the enum numbers
// behind type and modifier names, and how the core prints values.
import { IIO_MODIFIER_NAMES } from '../../../abi/iio-sysfs.js';
import type { ChannelSpec } from '../scenario-types.js';
import { CHANNEL_TYPES, channelPrefix } from '../scenario.js';

/** enum iio_chan_type value of a sysfs type name (e.g. voltage → 0). */
export function chanTypeNumber(type: string): number {
  const n = CHANNEL_TYPES.indexOf(type);
  return n < 0 ? 0 : n;
}

/** enum iio_modifier value of a modifier name (0 = none). */
export function modifierNumber(modifier: string | undefined): number {
  if (modifier === undefined) return 0;
  const n = IIO_MODIFIER_NAMES.indexOf(modifier);
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
