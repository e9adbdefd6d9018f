/**
 * The IIO character-device ABI: the device-fd ioctls of kernel-abi.md §1.1–§1.2
 * (`IIO_GET_EVENT_FD_IOCTL`, `IIO_BUFFER_GET_FD_IOCTL`), the buffer-fd DMABUF
 * ioctls and `struct iio_dmabuf` of §2.1–§2.2, and `struct iio_event_data` (§1.1)
 * with its packed event id (include/uapi/linux/iio/events.h). The enum tables
 * are the kernel's `include/uapi/linux/iio/types.h` names in enum order, so a
 * value indexes its name.
 */

import { CURRENT_IOC_LAYOUT, SIZEOF_INT, ior, iow, iowr, type IocLayout } from './ioc.js';
import { defineStruct, s64, u32, u64, type DecodedStruct } from './struct.js';

/** `struct iio_dmabuf` (§2.2): 16 bytes on every ABI, no padding. */
export const iioDmabufStruct = defineStruct('iio_dmabuf', 16, {
  fd: u32(0),
  flags: u32(4),
  bytesUsed: u64(8),
});
export type IioDmabuf = DecodedStruct<typeof iioDmabufStruct>;

export const IIO_BUFFER_DMABUF_CYCLIC = 1 << 0;
export const IIO_BUFFER_DMABUF_SUPPORTED_FLAGS = 0x00000001;

/** `struct iio_event_data` (§1.1): what read() on an event fd returns, 16 bytes per event. */
export const iioEventDataStruct = defineStruct('iio_event_data', 16, {
  id: u64(0),
  timestamp: s64(8),
});
export type IioEventData = DecodedStruct<typeof iioEventDataStruct>;

/** The IIO request numbers for one `_IOC` layout, keyed by kernel name. */
export function iioIoctls(layout: IocLayout = CURRENT_IOC_LAYOUT) {
  return {
    IIO_GET_EVENT_FD_IOCTL: ior('i', 0x90, SIZEOF_INT, layout),
    IIO_BUFFER_GET_FD_IOCTL: iowr('i', 0x91, SIZEOF_INT, layout),
    IIO_BUFFER_DMABUF_ATTACH_IOCTL: iow('i', 0x92, SIZEOF_INT, layout),
    IIO_BUFFER_DMABUF_DETACH_IOCTL: iow('i', 0x93, SIZEOF_INT, layout),
    IIO_BUFFER_DMABUF_ENQUEUE_IOCTL: iow('i', 0x94, iioDmabufStruct, layout),
  } as const;
}

const ioctls = iioIoctls();
/** Device fd; the int it points to receives an O_RDONLY|O_CLOEXEC event fd. */
export const IIO_GET_EVENT_FD_IOCTL = ioctls.IIO_GET_EVENT_FD_IOCTL;
/** Device fd; the int holds the buffer index in and the new buffer fd out. */
export const IIO_BUFFER_GET_FD_IOCTL = ioctls.IIO_BUFFER_GET_FD_IOCTL;
/** Buffer fd; argument is a pointer to an int holding the DMABUF fd, not the fd itself. */
export const IIO_BUFFER_DMABUF_ATTACH_IOCTL = ioctls.IIO_BUFFER_DMABUF_ATTACH_IOCTL;
export const IIO_BUFFER_DMABUF_DETACH_IOCTL = ioctls.IIO_BUFFER_DMABUF_DETACH_IOCTL;
export const IIO_BUFFER_DMABUF_ENQUEUE_IOCTL = ioctls.IIO_BUFFER_DMABUF_ENQUEUE_IOCTL;

/** `enum iio_chan_type`. */
export const IIO_CHAN_TYPES = [
  'IIO_VOLTAGE', 'IIO_CURRENT', 'IIO_POWER', 'IIO_ACCEL', 'IIO_ANGL_VEL', 'IIO_MAGN', 'IIO_LIGHT',
  'IIO_INTENSITY', 'IIO_PROXIMITY', 'IIO_TEMP', 'IIO_INCLI', 'IIO_ROT', 'IIO_ANGL', 'IIO_TIMESTAMP',
  'IIO_CAPACITANCE', 'IIO_ALTVOLTAGE', 'IIO_CCT', 'IIO_PRESSURE', 'IIO_HUMIDITYRELATIVE', 'IIO_ACTIVITY',
  'IIO_STEPS', 'IIO_ENERGY', 'IIO_DISTANCE', 'IIO_VELOCITY', 'IIO_CONCENTRATION', 'IIO_RESISTANCE', 'IIO_PH',
  'IIO_UVINDEX', 'IIO_ELECTRICALCONDUCTIVITY', 'IIO_COUNT', 'IIO_INDEX', 'IIO_GRAVITY',
  'IIO_POSITIONRELATIVE', 'IIO_PHASE', 'IIO_MASSCONCENTRATION', 'IIO_DELTA_ANGL', 'IIO_DELTA_VELOCITY',
  'IIO_COLORTEMP', 'IIO_CHROMATICITY', 'IIO_ATTENTION',
] as const;

/** `enum iio_modifier`. */
export const IIO_MODIFIERS = [
  'IIO_NO_MOD', 'IIO_MOD_X', 'IIO_MOD_Y', 'IIO_MOD_Z', 'IIO_MOD_X_AND_Y', 'IIO_MOD_X_AND_Z',
  'IIO_MOD_Y_AND_Z', 'IIO_MOD_X_AND_Y_AND_Z', 'IIO_MOD_X_OR_Y', 'IIO_MOD_X_OR_Z', 'IIO_MOD_Y_OR_Z',
  'IIO_MOD_X_OR_Y_OR_Z', 'IIO_MOD_LIGHT_BOTH', 'IIO_MOD_LIGHT_IR', 'IIO_MOD_ROOT_SUM_SQUARED_X_Y',
  'IIO_MOD_SUM_SQUARED_X_Y_Z', 'IIO_MOD_LIGHT_CLEAR', 'IIO_MOD_LIGHT_RED', 'IIO_MOD_LIGHT_GREEN',
  'IIO_MOD_LIGHT_BLUE', 'IIO_MOD_QUATERNION', 'IIO_MOD_TEMP_AMBIENT', 'IIO_MOD_TEMP_OBJECT',
  'IIO_MOD_NORTH_MAGN', 'IIO_MOD_NORTH_TRUE', 'IIO_MOD_NORTH_MAGN_TILT_COMP', 'IIO_MOD_NORTH_TRUE_TILT_COMP',
  'IIO_MOD_RUNNING', 'IIO_MOD_JOGGING', 'IIO_MOD_WALKING', 'IIO_MOD_STILL', 'IIO_MOD_ROOT_SUM_SQUARED_X_Y_Z',
  'IIO_MOD_I', 'IIO_MOD_Q', 'IIO_MOD_CO2', 'IIO_MOD_VOC', 'IIO_MOD_LIGHT_UV', 'IIO_MOD_LIGHT_DUV',
  'IIO_MOD_PM1', 'IIO_MOD_PM2P5', 'IIO_MOD_PM4', 'IIO_MOD_PM10', 'IIO_MOD_ETHANOL', 'IIO_MOD_H2',
  'IIO_MOD_O2', 'IIO_MOD_LINEAR_X', 'IIO_MOD_LINEAR_Y', 'IIO_MOD_LINEAR_Z', 'IIO_MOD_PITCH', 'IIO_MOD_YAW',
  'IIO_MOD_ROLL', 'IIO_MOD_LIGHT_UVA', 'IIO_MOD_LIGHT_UVB',
] as const;

/** `enum iio_event_type`. */
export const IIO_EVENT_TYPES = [
  'IIO_EV_TYPE_THRESH', 'IIO_EV_TYPE_MAG', 'IIO_EV_TYPE_ROC', 'IIO_EV_TYPE_THRESH_ADAPTIVE',
  'IIO_EV_TYPE_MAG_ADAPTIVE', 'IIO_EV_TYPE_CHANGE', 'IIO_EV_TYPE_MAG_REFERENCED', 'IIO_EV_TYPE_GESTURE',
  'IIO_EV_TYPE_FAULT',
] as const;

/** `enum iio_event_direction`. */
export const IIO_EVENT_DIRECTIONS = [
  'IIO_EV_DIR_EITHER', 'IIO_EV_DIR_RISING', 'IIO_EV_DIR_FALLING', 'IIO_EV_DIR_NONE',
  'IIO_EV_DIR_SINGLETAP', 'IIO_EV_DIR_DOUBLETAP', 'IIO_EV_DIR_FAULT_OPENWIRE',
] as const;

export type IioChanTypeName = (typeof IIO_CHAN_TYPES)[number];
export type IioModifierName = (typeof IIO_MODIFIERS)[number];
export type IioEventTypeName = (typeof IIO_EVENT_TYPES)[number];
export type IioEventDirectionName = (typeof IIO_EVENT_DIRECTIONS)[number];

/** The fields packed into an event id. Names are undefined for values newer than the tables. */
export interface IioEventId {
  readonly chanType: number;
  /** `IIO_EVENT_CODE_EXTRACT_CHAN`: signed 16 bits. */
  readonly channel: number;
  /** `IIO_EVENT_CODE_EXTRACT_CHAN2`: signed 16 bits; the second channel of a differential event. */
  readonly channel2: number;
  readonly modifier: number;
  readonly direction: number;
  readonly type: number;
  readonly differential: boolean;
  readonly chanTypeName: IioChanTypeName | undefined;
  readonly modifierName: IioModifierName | undefined;
  readonly directionName: IioEventDirectionName | undefined;
  readonly typeName: IioEventTypeName | undefined;
}

// Bit positions from include/uapi/linux/iio/events.h.
const CHAN_SHIFT = 0n;
const CHAN2_SHIFT = 16n;
const CHAN_TYPE_SHIFT = 32n;
const MODIFIER_SHIFT = 40n;
const DIRECTION_SHIFT = 48n;
const DIFF_SHIFT = 55n;
const TYPE_SHIFT = 56n;
const U64_MAX = 2n ** 64n - 1n;

function bits(id: bigint, shift: bigint, mask: bigint): number {
  return Number((id >> shift) & mask);
}

function s16(v: number): number {
  return v >= 0x8000 ? v - 0x10000 : v;
}

function nameOf<T extends readonly string[]>(table: T, value: number): T[number] | undefined {
  return table[value];
}

/** Split an `iio_event_data.id` into its fields. */
export function decodeIioEventId(id: bigint): IioEventId {
  if (id < 0n || id > U64_MAX) throw new RangeError(`IIO event id ${id} is not a u64`);
  const chanType = bits(id, CHAN_TYPE_SHIFT, 0xffn);
  const modifier = bits(id, MODIFIER_SHIFT, 0xffn);
  const direction = bits(id, DIRECTION_SHIFT, 0x7fn);
  const type = bits(id, TYPE_SHIFT, 0xffn);
  return {
    chanType,
    channel: s16(bits(id, CHAN_SHIFT, 0xffffn)),
    channel2: s16(bits(id, CHAN2_SHIFT, 0xffffn)),
    modifier,
    direction,
    type,
    differential: bits(id, DIFF_SHIFT, 1n) === 1,
    chanTypeName: nameOf(IIO_CHAN_TYPES, chanType),
    modifierName: nameOf(IIO_MODIFIERS, modifier),
    directionName: nameOf(IIO_EVENT_DIRECTIONS, direction),
    typeName: nameOf(IIO_EVENT_TYPES, type),
  };
}

export interface IioEventIdFields {
  readonly chanType: number;
  readonly channel: number;
  readonly channel2?: number;
  readonly modifier?: number;
  readonly direction: number;
  readonly type: number;
  readonly differential?: boolean;
}

function field(name: string, value: number, min: number, max: number): bigint {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`IIO event id field ${name} = ${value} is out of range (${min}..${max})`);
  }
  return BigInt(value);
}

/** Build an event id the way the kernel's `IIO_EVENT_CODE` does (used by the simulated kernel). */
export function encodeIioEventId(f: IioEventIdFields): bigint {
  const chan = field('channel', f.channel, -0x8000, 0x7fff) & 0xffffn;
  const chan2 = field('channel2', f.channel2 ?? 0, -0x8000, 0x7fff) & 0xffffn;
  return (
    (field('type', f.type, 0, 0xff) << TYPE_SHIFT) |
    ((f.differential === true ? 1n : 0n) << DIFF_SHIFT) |
    (field('direction', f.direction, 0, 0x7f) << DIRECTION_SHIFT) |
    (field('modifier', f.modifier ?? 0, 0, 0xff) << MODIFIER_SHIFT) |
    (field('chanType', f.chanType, 0, 0xff) << CHAN_TYPE_SHIFT) |
    (chan2 << CHAN2_SHIFT) |
    (chan << CHAN_SHIFT)
  );
}
