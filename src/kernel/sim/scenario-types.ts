// The scenario file: the virtual hardware a simulated kernel boots with (JSON). Validation and
// the built-in default live in scenario.ts; these are the shapes.

export interface Scenario {
  /** Free text for humans (JSON has no comments); ignored by the kernel. */
  description?: string;
  /**
   * IIO devices, numbered iio:device0, 1, ... in this order unless `id` is given. With some ids
   * given, the others take the lowest free numbers in order (the kernel's ida): see
   * `deviceIds()` in scenario.ts. Names are unique (loopback waveforms refer to them).
   */
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
  /** Unique. A `sysfs` trigger is named `sysfstrig<N>`, as iio-trig-sysfs names them. */
  name: string;
  /**
   * `hrtimer` fires at `frequency` Hz (sampling_frequency attribute, default 100 like the
   * kernel's iio-trig-hrtimer); `sysfs` fires on trigger_now (needs `sysfsTrigger`).
   */
  kind: 'hrtimer' | 'sysfs';
  frequency?: number;
}

export interface DeviceSpec {
  name: string;
  label?: string;
  /** Where the device sits under /sys/devices (e.g. "platform/iio-vadc-dma"); default: at the top. */
  parent?: string;
  id?: number;
  /**
   * Samples per second per channel (device attribute sampling_frequency). Required when a
   * channel has a sine or square waveform (their frequencies are relative to it).
   */
  samplingFrequency?: number;
  /** sampling_frequency_available: a list, or a [min step max] range; samplingFrequency is in it. */
  samplingFrequencyAvailable?: number[] | { min: number; step: number; max: number };
  channels: ChannelSpec[];
  /** Buffers, bufferY in this order. A device with no buffers has no scan elements. */
  buffers?: BufferSpec[];
  /** Supports triggered buffer mode: has trigger/current_trigger. */
  triggered?: boolean;
  /** Initial current_trigger (a trigger name from `triggers`; needs `triggered`). */
  trigger?: string;
  /** Registers behind debugfs direct_reg_access: address ("16" or "0x10") → value, both u32. */
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
  /** Second channel of a differential pair: in_voltage0-voltage1 (needs `index`, no `modifier`). */
  differential?: number;
  /** Modifier: x, y, z, i, q, ... (in_accel_x). */
  modifier?: string;
  extendName?: string;
  label?: string;
  /**
   * Has a `_raw` attribute. Default: every channel but the timestamp and processed channels
   * (those with an `input` attribute). High-speed converters often have none. A number: `_raw`
   * reads that fixed value while the buffer carries the waveform, as drivers whose direct reads
   * and buffered data differ (iio_dummy reads 73 for voltage0 but buffers 7).
   */
  raw?: boolean | number;
  /**
   * Position in the scan; omitted = not a scan element (no _en/_index/_type). Unique within the
   * device across both directions (the kernel's iio_check_unique_scan_index).
   */
  scanIndex?: number;
  /**
   * Scan element type, e.g. "le:s16/16>>0". Required with scanIndex, not allowed without it.
   * A `timestamp` channel's is 64/64 bits with no shift (normally "le:s64/64>>0").
   */
  format?: string;
  /** Which buffers carry it (indices into the device's buffers; default: every buffer of its direction). */
  buffers?: number[];
  /** _scale and _offset values; `shared` "type" makes in_voltage_scale shared by all voltage channels. */
  scale?: number;
  offset?: number;
  shared?: 'separate' | 'type';
  /**
   * The signal the channel produces (inputs, not the timestamp), in raw sample units. Default: a
   * ramp. See signal.ts for the exact semantics.
   */
  waveform?: WaveformSpec;
  /** Extra channel attributes: postfix → value (in_voltage0_<postfix>). */
  attributes?: Record<string, string | number>;
}

/**
 * Raw-unit signals. Defaults from the channel's format, whose range spans 2^realbits values:
 * `offset` = the range's centre (0 signed, 2^(realbits-1) unsigned); sine/square `amplitude` =
 * span/4 (the signal covers half the range); noise `amplitude` = span/32. Sine/square
 * frequencies are in Hz, below half the device's samplingFrequency; `phase` is in radians;
 * `duty` is the high fraction, 0 < duty < 1 (default 0.5). offset ± amplitude stays within
 * the range (values are clamped to it anyway). A ramp starts at `start` (default: the range's minimum) and adds `step` (default 1) per
 * sample, wrapping within the format's range, or restarting every `period` samples if given.
 * Noise is uniform in offset ± amplitude, from `seed`, repeating every `period` samples (4096).
 */
export type WaveformSpec =
  | { kind: 'sine'; frequency: number; amplitude?: number; offset?: number; phase?: number }
  | { kind: 'square'; frequency: number; amplitude?: number; offset?: number; duty?: number }
  | { kind: 'ramp'; start?: number; step?: number; period?: number }
  | { kind: 'noise'; amplitude?: number; offset?: number; seed?: number; period?: number }
  | { kind: 'constant'; value: number }
  /**
   * Replays raw sample values from a file: one decimal integer per line, repeated. loadScenario
   * resolves a relative path against the scenario file's directory.
   */
  | { kind: 'file'; path: string }
  /**
   * What an output channel played (DAC → ADC loopback): `device` is a device name (possibly this
   * one), `channel` an index into its channels, which must be an output channel.
   */
  | { kind: 'loopback'; device: string; channel: number };

export interface BufferSpec {
  direction: 'in' | 'out';
  /**
   * `dma`: the kernel's DMA buffer (hardware mode, DMABUF-capable, fixed watermark);
   * `kfifo`: a triggered kfifo buffer (DMABUF ioctls return EPERM); needs `triggered`.
   */
  kind: 'dma' | 'kfifo';
  /** dmaengine buffers expose length_align_bytes (a power of two; `dma` only); omitted = absent. */
  lengthAlignBytes?: number;
  /**
   * Scan masks the hardware supports (lists of scan indices of channels this buffer carries,
   * never the timestamp, which is outside the mask); enable needs an exact match.
   */
  availableScanMasks?: number[][];
}

export interface EventSpec {
  /** The channel (index into the device's channels, an input, not the timestamp) whose raw value is watched; one event per channel and direction. */
  channel: number;
  type: 'thresh';
  direction: 'rising' | 'falling' | 'either';
  /** Threshold in raw units (events/<chan>_thresh_<dir>_value). */
  value: number;
  enabled?: boolean;
}
