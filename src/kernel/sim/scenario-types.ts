// The scenario file: the virtual hardware a simulated kernel boots with (JSON). Validation and
// the built-in default live in scenario.ts; these are the shapes.

export interface Scenario {
  /** IIO devices, numbered iio:device0, 1, ... in this order unless `id` is given. */
  devices: DeviceSpec[];
  /** Triggers, numbered trigger0, 1, ... in this order. */
  triggers?: TriggerSpec[];
  /** The kernel's iio_sysfs_trigger (add_trigger/remove_trigger) is present (default true). */
  sysfsTrigger?: boolean;
  /** DMA heaps under /dev/dma_heap (default ["system"]); [] for none. */
  dmaHeaps?: string[];
  /** /dev/udmabuf present (default true). */
  udmabuf?: boolean;
}

export interface TriggerSpec {
  name: string;
  /** `hrtimer` fires at `frequency` Hz (sampling_frequency attribute); `sysfs` fires on trigger_now. */
  kind: 'hrtimer' | 'sysfs';
  frequency?: number;
}

export interface DeviceSpec {
  name: string;
  label?: string;
  id?: number;
  /** Samples per second per channel (device attribute sampling_frequency). */
  samplingFrequency?: number;
  /** sampling_frequency_available: a list, or a [min step max] range. */
  samplingFrequencyAvailable?: number[] | { min: number; step: number; max: number };
  channels: ChannelSpec[];
  /** Buffers, bufferY in this order. A device with no buffers has no scan elements. */
  buffers?: BufferSpec[];
  /** Supports triggered buffer mode: has trigger/current_trigger. */
  triggered?: boolean;
  /** Initial current_trigger (a trigger name). */
  trigger?: string;
  /** Registers behind debugfs direct_reg_access: address → value. */
  registers?: Record<string, number>;
  /** Extra device attributes: name → initial value (read-write unless `readOnly`). */
  attributes?: Record<string, string | number | { value: string | number; readOnly?: boolean }>;
  /** Threshold events (an event fd and events/ attributes exist when non-empty). */
  events?: EventSpec[];
}

export interface ChannelSpec {
  /** IIO channel type name: voltage, current, accel, anglvel, temp, timestamp, altvoltage, ... */
  type: string;
  direction?: 'in' | 'out';
  /** Channel number: in_voltage0; omitted for unindexed channels (in_timestamp). */
  index?: number;
  /** Second channel of a differential pair: in_voltage0-voltage1. */
  differential?: number;
  /** Modifier: x, y, z, i, q, ... (in_accel_x). */
  modifier?: string;
  extendName?: string;
  label?: string;
  /** Position in the scan; omitted = not a scan element (no _en/_index/_type). */
  scanIndex?: number;
  /** Scan element type, e.g. "le:s16/16>>0". Required with scanIndex. */
  format?: string;
  /** Which buffers carry it (indices into the device's buffers; default: every buffer of its direction). */
  buffers?: number[];
  /** _scale and _offset values; `shared` "type" makes in_voltage_scale shared by all voltage channels. */
  scale?: number;
  offset?: number;
  shared?: 'separate' | 'type';
  /** The signal the channel produces (inputs), in raw sample units. Default: a ramp. */
  waveform?: WaveformSpec;
  /** Extra channel attributes: postfix → value (in_voltage0_<postfix>). */
  attributes?: Record<string, string | number>;
}

export type WaveformSpec =
  | { kind: 'sine'; frequency: number; amplitude?: number; offset?: number; phase?: number }
  | { kind: 'square'; frequency: number; amplitude?: number; offset?: number; duty?: number }
  | { kind: 'ramp'; start?: number; step?: number; period?: number }
  | { kind: 'noise'; amplitude?: number; offset?: number; seed?: number }
  | { kind: 'constant'; value: number }
  /** Replays raw sample values from a file: one decimal integer per line, repeated. */
  | { kind: 'file'; path: string }
  /** What an output channel of another device played (DAC → ADC loopback). */
  | { kind: 'loopback'; device: string; channel: number };

export interface BufferSpec {
  direction: 'in' | 'out';
  /**
   * `dma`: the kernel's DMA buffer (hardware mode, DMABUF-capable, fixed watermark);
   * `kfifo`: a triggered kfifo buffer (DMABUF ioctls return EPERM).
   */
  kind: 'dma' | 'kfifo';
  /** dmaengine buffers expose length_align_bytes; omitted = attribute absent. */
  lengthAlignBytes?: number;
  /** Scan masks the hardware supports (lists of scan indices); enable needs an exact match. */
  availableScanMasks?: number[][];
}

export interface EventSpec {
  /** The channel (index into the device's channels) whose raw value is watched. */
  channel: number;
  type: 'thresh';
  direction: 'rising' | 'falling' | 'either';
  /** Threshold in raw units (events/<chan>_thresh_<dir>_value). */
  value: number;
  enabled?: boolean;
}
