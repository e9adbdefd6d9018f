// Scenario files: validation (every error names the file and the JSON path), loading, and the
// built-in demo scenario. The shapes are in scenario-types.ts; signal semantics in signal.ts.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { IIO_CHAN_TYPE_NAMES } from '../../abi/iio-sysfs.js';
import { inRange, isAvailable, parseAvailableText } from '../../format/available.js';
import { ScanTypeError, parseScanType, type ScanType } from '../../format/scan-type.js';
import type {
  BufferSpec,
  ChannelSpec,
  DeviceSpec,
  EventSpec,
  Scenario,
  TriggerSpec,
  WaveformSpec,
} from './scenario-types.js';

/**
 * A scenario (or a waveform file) is wrong. `code` is 'EINVAL' for content errors and the
 * errno code (e.g. 'ENOENT') when a file cannot be read.
 */
export class ScenarioError extends Error {
  readonly code: string;
  /** The file (or label) the scenario came from, if known. */
  readonly source: string | undefined;
  /** JSON path of the offending value, e.g. `devices[1].channels[3].format`; '' for the document. */
  readonly path: string;
  /** 1-based line in `source`, for line-oriented files (waveform files, JSON syntax errors). */
  readonly line: number | undefined;
  /** What is wrong, without the location. */
  readonly reason: string;

  constructor(reason: string, where: { source?: string; path?: string; line?: number; code?: string; cause?: unknown } = {}) {
    const at = (where.source ?? '') + (where.line === undefined ? '' : `:${where.line}`);
    const path = where.path ?? '';
    const location = [at, path].filter((s) => s !== '').join(': ');
    super(location === '' ? reason : `${location}: ${reason}`, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'ScenarioError';
    this.code = where.code ?? 'EINVAL';
    this.source = where.source;
    this.path = path;
    this.line = where.line;
    this.reason = reason;
  }
}

/** Channel type names the kernel knows (iio_chan_type_name_spec up to 6.13), in enum iio_chan_type order. */
export const CHANNEL_TYPES: readonly string[] = IIO_CHAN_TYPE_NAMES;

/** Default hrtimer trigger rate (iio-trig-hrtimer's HRTIMER_DEFAULT_SAMPLING_FREQUENCY). */
export const DEFAULT_HRTIMER_FREQUENCY = 100;
/** Longest noise table a scenario may ask for (samples). */
export const MAX_NOISE_PERIOD = 1 << 24;

const U32_MAX = 0xffffffff;
const MAX_DEVICE_ID = 0x7fffffff;

// Device directory entries the model creates itself; an extra attribute must not shadow them.
const RESERVED_DEVICE_ATTRIBUTES = new Set([
  'name', 'label', 'dev', 'uevent', 'subsystem', 'power', 'of_node', 'sampling_frequency',
  'sampling_frequency_available', 'current_timestamp_clock', 'buffer', 'scan_elements', 'trigger',
  'events',
]);
// Channel attribute postfixes the model generates from the channel spec.
const RESERVED_CHANNEL_POSTFIXES = new Set(['raw', 'scale', 'offset', 'label']);
// A scan element's own files; other channels may have these as attributes (iio_dummy's in_steps_en).
const SCAN_ELEMENT_POSTFIXES = new Set(['en', 'index', 'type']);

/**
 * The fields each kind of scenario object may have: what the validator accepts, and what the
 * reference in docs/sim.md must describe (a test holds it to that).
 */
export const SCENARIO_FIELDS = {
  scenario: ['description', 'devices', 'triggers', 'sysfsTrigger', 'dmaHeaps', 'udmabuf'],
  trigger: ['name', 'kind', 'frequency'],
  device: [
    'name', 'label', 'parent', 'id', 'samplingFrequency', 'samplingFrequencyAvailable', 'channels', 'buffers',
    'triggered', 'trigger', 'registers', 'attributes', 'events',
  ],
  /** samplingFrequencyAvailable given as a range. */
  range: ['min', 'step', 'max'],
  /** A device attribute given as an object rather than a bare value. */
  attribute: ['value', 'readOnly'],
  channel: [
    'type', 'direction', 'index', 'differential', 'modifier', 'extendName', 'label', 'raw', 'scanIndex', 'format',
    'buffers', 'scale', 'offset', 'shared', 'waveform', 'attributes',
  ],
  buffer: ['direction', 'kind', 'lengthAlignBytes', 'availableScanMasks'],
  event: ['channel', 'type', 'direction', 'value', 'enabled'],
} as const satisfies Record<string, readonly string[]>;
/** The fields of a waveform, per kind (`kind` included). */
export const WAVEFORM_FIELDS: Readonly<Record<WaveformSpec['kind'], readonly string[]>> = {
  sine: ['kind', 'frequency', 'amplitude', 'offset', 'phase'],
  square: ['kind', 'frequency', 'amplitude', 'offset', 'duty'],
  ramp: ['kind', 'start', 'step', 'period'],
  noise: ['kind', 'amplitude', 'offset', 'seed', 'period'],
  constant: ['kind', 'value'],
  file: ['kind', 'path'],
  loopback: ['kind', 'device', 'channel'],
};

/** The raw range of a format, for waveform and threshold checks (numbers; exact up to 2^53). */
export function formatRange(type: ScanType): { min: number; max: number; centre: number; span: number } {
  const span = 2 ** type.realBits;
  const min = type.signed ? -span / 2 : 0;
  return { min, max: min + span - 1, centre: type.signed ? 0 : span / 2, span };
}

/**
 * The sysfs name prefix of a channel's attributes (kernel-abi §6.2), e.g. `in_voltage0`,
 * `in_voltage1-voltage2`, `in_accel_x`, `out_altvoltage0_RX_LO`.
 */
export function channelPrefix(ch: ChannelSpec): string {
  let name = `${ch.direction ?? 'in'}_${ch.type}`;
  if (ch.index !== undefined) name += String(ch.index);
  if (ch.differential !== undefined) name += `-${ch.type}${ch.differential}`;
  if (ch.modifier !== undefined) name += `_${ch.modifier}`;
  if (ch.extendName !== undefined) name += `_${ch.extendName}`;
  return name;
}

/**
 * The iio:deviceN number of each device: its `id` if given, else the lowest number not yet
 * taken, in device order (like the kernel's ida). Explicit ids are reserved first, so
 * `[{}, {id: 0}]` numbers the first device 1.
 */
export function deviceIds(scenario: Scenario): number[] {
  const taken = new Set<number>();
  for (const d of scenario.devices) if (d.id !== undefined) taken.add(d.id);
  let next = 0;
  return scenario.devices.map((d) => {
    if (d.id !== undefined) return d.id;
    while (taken.has(next)) next++;
    taken.add(next);
    return next;
  });
}

/**
 * Validates `json` (a parsed JSON document) as a Scenario and returns a deep copy of it.
 * Unknown fields, wrong types, out-of-range values and dangling references are all errors;
 * `source` (a file name) prefixes every message.
 */
export function parseScenario(json: unknown, source?: string): Scenario {
  return new Validator(source).scenario(json);
}

/**
 * Reads and validates a scenario file (synchronously: the simulated kernel boots from it).
 * Relative waveform `file` paths are resolved against the scenario's directory.
 */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new ScenarioError(`cannot read scenario: ${(e as Error).message}`, { source: path, code, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const position = /at position (\d+)/.exec(message);
    let line: number | undefined;
    if (position !== null) {
      const before = text.slice(0, Number(position[1]));
      line = before.split('\n').length;
    }
    throw new ScenarioError(`invalid JSON: ${message}`, line === undefined ? { source: path, cause: e } : { source: path, line, cause: e });
  }
  const scenario = parseScenario(json, path);
  const base = dirname(path);
  for (const device of scenario.devices) {
    for (const channel of device.channels) {
      const w = channel.waveform;
      if (w?.kind === 'file' && !isAbsolute(w.path)) channel.waveform = { kind: 'file', path: resolve(base, w.path) };
    }
  }
  return scenario;
}

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return 'an object';
  return typeof value === 'undefined' ? 'nothing' : `${typeof value} ${String(value)}`;
}

function key(path: string, k: string): string {
  const part = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : JSON.stringify(k);
  if (part === k) return path === '' ? k : `${path}.${k}`;
  return `${path}[${part}]`;
}

const at = (path: string, i: number): string => `${path}[${i}]`;

/** A close spelling of `k` among `allowed` (case, `_` and `-` ignored), for "did you mean". */
function suggestion(k: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  return allowed.find((a) => norm(a) === norm(k));
}

class Validator {
  constructor(private readonly source: string | undefined) {}

  fail(path: string, reason: string): never {
    throw new ScenarioError(reason, { source: this.source ?? 'scenario', path });
  }

  // ---- primitives ----

  object(value: unknown, path: string, allowed: readonly string[], required: readonly string[] = []): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    const obj = value as Json;
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) {
        const near = suggestion(k, allowed);
        this.fail(path, `unknown field ${JSON.stringify(k)}` +
          (near === undefined ? ` (expected ${allowed.map((a) => JSON.stringify(a)).join(', ')})` : ` (did you mean ${JSON.stringify(near)}?)`));
      }
    }
    for (const k of required) if (obj[k] === undefined) this.fail(path, `missing required field ${JSON.stringify(k)}`);
    return obj;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected an array, got ${describe(value)}`);
    return value;
  }

  string(value: unknown, path: string, what = 'a string'): string {
    if (typeof value !== 'string') this.fail(path, `expected ${what}, got ${describe(value)}`);
    return value;
  }

  /** A sysfs-friendly name: non-empty, no whitespace, control characters or '/'. */
  name(value: unknown, path: string): string {
    const s = this.string(value, path, 'a non-empty string');
    if (s === '') this.fail(path, 'must not be empty');
    if (/[\s/\u0000-\u001f\u007f]/.test(s)) this.fail(path, `${JSON.stringify(s)} must not contain whitespace, control characters or "/"`);
    return s;
  }

  /** Text that is one sysfs line: no newline or other control characters. */
  text(value: unknown, path: string): string {
    const s = this.string(value, path);
    if (/[\u0000-\u001f\u007f]/.test(s)) this.fail(path, `${JSON.stringify(s)} must not contain a newline or control characters`);
    return s;
  }

  boolean(value: unknown, path: string): boolean {
    if (typeof value !== 'boolean') this.fail(path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  number(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(path, `expected a finite number, got ${describe(value)}`);
    return value;
  }

  positive(value: unknown, path: string): number {
    const n = this.number(value, path);
    if (!(n > 0)) this.fail(path, `must be greater than 0, got ${n}`);
    return n;
  }

  integer(value: unknown, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(path, `expected an integer, got ${describe(value)}`);
    if (value < min || value > max) this.fail(path, `${value} is out of range [${min}, ${max}]`);
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
      this.fail(path, `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(value)}`);
    }
    return value as T;
  }

  // ---- the document ----

  scenario(json: unknown): Scenario {
    const o = this.object(json, '', SCENARIO_FIELDS.scenario, ['devices']);
    const out: Scenario = { devices: [] };
    if (o.description !== undefined) out.description = this.string(o.description, 'description');

    if (o.sysfsTrigger !== undefined) out.sysfsTrigger = this.boolean(o.sysfsTrigger, 'sysfsTrigger');
    if (o.udmabuf !== undefined) out.udmabuf = this.boolean(o.udmabuf, 'udmabuf');
    if (o.dmaHeaps !== undefined) {
      const seen = new Set<string>();
      out.dmaHeaps = this.array(o.dmaHeaps, 'dmaHeaps').map((h, i) => {
        const path = at('dmaHeaps', i);
        const name = this.name(h, path);
        if (name === '.' || name === '..') this.fail(path, `${JSON.stringify(name)} is not a file name`);
        if (seen.has(name)) this.fail(path, `duplicate DMA heap ${JSON.stringify(name)}`);
        seen.add(name);
        return name;
      });
    }
    if (o.triggers !== undefined) {
      const names = new Map<string, number>();
      out.triggers = this.array(o.triggers, 'triggers').map((t, i) => {
        const trigger = this.trigger(t, at('triggers', i), out.sysfsTrigger !== false);
        const first = names.get(trigger.name);
        if (first !== undefined) this.fail(key(at('triggers', i), 'name'), `duplicate trigger name ${JSON.stringify(trigger.name)} (also triggers[${first}])`);
        names.set(trigger.name, i);
        return trigger;
      });
    }

    const devices = this.array(o.devices, 'devices');
    const names = new Map<string, number>();
    const ids = new Map<number, number>();
    out.devices = devices.map((d, i) => {
      const path = at('devices', i);
      const device = this.device(d, path, out.triggers ?? []);
      const sameName = names.get(device.name);
      if (sameName !== undefined) this.fail(key(path, 'name'), `duplicate device name ${JSON.stringify(device.name)} (also devices[${sameName}])`);
      names.set(device.name, i);
      if (device.id !== undefined) {
        const sameId = ids.get(device.id);
        if (sameId !== undefined) this.fail(key(path, 'id'), `duplicate device id ${device.id} (also devices[${sameId}])`);
        ids.set(device.id, i);
      }
      return device;
    });

    // Loopback targets can be any device, so they are checked once all are known.
    for (const [i, device] of out.devices.entries()) {
      for (const [c, channel] of device.channels.entries()) {
        const w = channel.waveform;
        if (w?.kind !== 'loopback') continue;
        const path = key(at(key(at('devices', i), 'channels'), c), 'waveform');
        const target = names.get(w.device);
        if (target === undefined) this.fail(key(path, 'device'), `no device named ${JSON.stringify(w.device)}`);
        const channels = out.devices[target]!.channels;
        if (w.channel >= channels.length) {
          this.fail(key(path, 'channel'), `device ${JSON.stringify(w.device)} has no channel ${w.channel} (it has ${channels.length})`);
        }
        const source = channels[w.channel]!;
        if ((source.direction ?? 'in') !== 'out') {
          this.fail(key(path, 'channel'), `loopback source ${channelPrefix(source)} (device ${JSON.stringify(w.device)} channel ${w.channel}) is not an output channel`);
        }
      }
    }
    return out;
  }

  trigger(value: unknown, path: string, sysfsTrigger: boolean): TriggerSpec {
    const o = this.object(value, path, SCENARIO_FIELDS.trigger, ['name', 'kind']);
    const name = this.name(o.name, key(path, 'name'));
    const kind = this.oneOf(o.kind, key(path, 'kind'), ['hrtimer', 'sysfs'] as const);
    const out: TriggerSpec = { name, kind };
    if (kind === 'sysfs') {
      if (!/^sysfstrig(0|[1-9][0-9]{0,9})$/.test(name)) {
        this.fail(key(path, 'name'), `a sysfs trigger is named "sysfstrig<N>" (as iio-trig-sysfs names them), got ${JSON.stringify(name)}`);
      }
      if (!sysfsTrigger) this.fail(path, 'a sysfs trigger needs sysfsTrigger (the iio_sysfs_trigger device)');
      if (o.frequency !== undefined) this.fail(key(path, 'frequency'), 'sysfs triggers fire on trigger_now and have no frequency');
    } else if (o.frequency !== undefined) {
      out.frequency = this.positive(o.frequency, key(path, 'frequency'));
    }
    return out;
  }

  device(value: unknown, path: string, triggers: readonly TriggerSpec[]): DeviceSpec {
    const o = this.object(value, path, SCENARIO_FIELDS.device, ['name', 'channels']);
    const out: DeviceSpec = { name: this.name(o.name, key(path, 'name')), channels: [] };
    if (o.label !== undefined) out.label = this.text(o.label, key(path, 'label'));
    if (o.parent !== undefined) {
      out.parent = this.string(o.parent, key(path, 'parent'));
      if (!/^[A-Za-z0-9_.:-]+(\/[A-Za-z0-9_.:-]+)*$/.test(out.parent)) this.fail(key(path, 'parent'), 'must be a relative path of plain names, e.g. "platform/my-adc"');
    }
    if (o.id !== undefined) out.id = this.integer(o.id, key(path, 'id'), 0, MAX_DEVICE_ID);
    if (o.samplingFrequency !== undefined) out.samplingFrequency = this.positive(o.samplingFrequency, key(path, 'samplingFrequency'));
    if (o.samplingFrequencyAvailable !== undefined) {
      out.samplingFrequencyAvailable = this.available(o.samplingFrequencyAvailable, key(path, 'samplingFrequencyAvailable'), out.samplingFrequency);
    }
    if (o.triggered !== undefined) out.triggered = this.boolean(o.triggered, key(path, 'triggered'));
    if (o.trigger !== undefined) {
      const name = this.string(o.trigger, key(path, 'trigger'));
      if (!triggers.some((t) => t.name === name)) this.fail(key(path, 'trigger'), `no trigger named ${JSON.stringify(name)}`);
      if (out.triggered !== true) this.fail(key(path, 'trigger'), 'a current trigger needs triggered: true');
      out.trigger = name;
    }
    if (o.buffers !== undefined) {
      out.buffers = this.array(o.buffers, key(path, 'buffers')).map((b, i) => this.buffer(b, at(key(path, 'buffers'), i), out.triggered === true));
    }
    if (o.registers !== undefined) out.registers = this.registers(o.registers, key(path, 'registers'));
    if (o.attributes !== undefined) out.attributes = this.deviceAttributes(o.attributes, key(path, 'attributes'));

    const channelsPath = key(path, 'channels');
    out.channels = this.array(o.channels, channelsPath).map((c, i) => this.channel(c, at(channelsPath, i), out));
    this.channelSet(out, channelsPath);
    this.scanMasks(out, key(path, 'buffers'));
    if (o.events !== undefined) {
      const seen = new Map<string, number>();
      out.events = this.array(o.events, key(path, 'events')).map((e, i) => {
        const epath = at(key(path, 'events'), i);
        const event = this.event(e, epath, out);
        const id = `${event.channel}/${event.type}/${event.direction}`;
        const first = seen.get(id);
        if (first !== undefined) this.fail(epath, `duplicate ${event.type} ${event.direction} event on channel ${event.channel} (also events[${first}])`);
        seen.set(id, i);
        return event;
      });
    }
    return out;
  }

  available(value: unknown, path: string, current: number | undefined): DeviceSpec['samplingFrequencyAvailable'] {
    if (current === undefined) this.fail(path, 'samplingFrequencyAvailable needs samplingFrequency');
    if (Array.isArray(value)) {
      if (value.length === 0) this.fail(path, 'must not be empty');
      const list = value.map((v, i) => this.positive(v, at(path, i)));
      if (new Set(list).size !== list.length) this.fail(path, 'has duplicate values');
      if (!list.includes(current)) this.fail(path, `does not include samplingFrequency ${current}`);
      return list;
    }
    const o = this.object(value, path, SCENARIO_FIELDS.range, SCENARIO_FIELDS.range);
    const min = this.positive(o.min, key(path, 'min'));
    const step = this.positive(o.step, key(path, 'step'));
    const max = this.positive(o.max, key(path, 'max'));
    if (max < min) this.fail(key(path, 'max'), `${max} is below min ${min}`);
    if (!inRange(current, { min, step, max })) this.fail(path, `samplingFrequency ${current} is not in [${min} ${step} ${max}]`);
    return { min, step, max };
  }

  buffer(value: unknown, path: string, triggered: boolean): BufferSpec {
    const o = this.object(value, path, SCENARIO_FIELDS.buffer, ['direction', 'kind']);
    const out: BufferSpec = {
      direction: this.oneOf(o.direction, key(path, 'direction'), ['in', 'out'] as const),
      kind: this.oneOf(o.kind, key(path, 'kind'), ['dma', 'kfifo'] as const),
    };
    if (out.kind === 'kfifo' && !triggered) this.fail(key(path, 'kind'), 'a kfifo buffer is filled by a trigger: the device needs triggered: true');
    if (o.lengthAlignBytes !== undefined) {
      const p = key(path, 'lengthAlignBytes');
      if (out.kind !== 'dma') this.fail(p, 'only dma buffers have length_align_bytes');
      const n = this.integer(o.lengthAlignBytes, p, 1, 1 << 20);
      if ((n & (n - 1)) !== 0) this.fail(p, `${n} is not a power of two (a DMA address width)`);
      out.lengthAlignBytes = n;
    }
    if (o.availableScanMasks !== undefined) {
      // Shape only here; the indices are checked against the channels in scanMasks().
      const p = key(path, 'availableScanMasks');
      out.availableScanMasks = this.array(o.availableScanMasks, p).map((m, i) =>
        this.array(m, at(p, i)).map((x, j) => this.integer(x, at(at(p, i), j), 0)));
    }
    return out;
  }

  /** An object used as a map: any keys. */
  record(value: unknown, path: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    return value as Json;
  }

  registers(value: unknown, path: string): Record<string, number> {
    const o = this.record(value, path);
    const out: Record<string, number> = {};
    const seen = new Map<number, string>();
    for (const [k, v] of Object.entries(o)) {
      const p = key(path, k);
      if (!/^(0x[0-9a-fA-F]{1,8}|0|[1-9][0-9]{0,9})$/.test(k)) this.fail(p, `register address ${JSON.stringify(k)} is not a decimal or 0x-hex number`);
      const address = Number(k);
      if (address > U32_MAX) this.fail(p, `register address ${k} exceeds 0xffffffff`);
      const first = seen.get(address);
      if (first !== undefined) this.fail(p, `register ${k} is the same address as ${JSON.stringify(first)}`);
      seen.set(address, k);
      out[k] = this.integer(v, p, 0, U32_MAX);
    }
    return out;
  }

  deviceAttributes(value: unknown, path: string): NonNullable<DeviceSpec['attributes']> {
    const o = this.record(value, path);
    const out: NonNullable<DeviceSpec['attributes']> = {};
    for (const [k, v] of Object.entries(o)) {
      const p = key(path, k);
      this.attributeName(k, p);
      if (RESERVED_DEVICE_ATTRIBUTES.has(k) || /^buffer[0-9]+$/.test(k)) this.fail(p, `${JSON.stringify(k)} is created by the kernel model and cannot be set here`);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const a = this.object(v, p, SCENARIO_FIELDS.attribute, ['value']);
        const entry: { value: string | number; readOnly?: boolean } = { value: this.attributeValue(a.value, key(p, 'value')) };
        if (a.readOnly !== undefined) entry.readOnly = this.boolean(a.readOnly, key(p, 'readOnly'));
        out[k] = entry;
      } else {
        out[k] = this.attributeValue(v, p);
      }
    }
    this.availableValues(Object.entries(out).map(([name, v]) => typeof v === 'object'
      ? { name, value: v.value, path: key(key(path, name), 'value') }
      : { name, value: v, path: key(path, name) }));
    return out;
  }

  /**
   * Every `<name>_available` value is a list or a `[min step max]` range, and `<name>`, given
   * beside it, starts at a value it admits: the driver refuses to set any other (device-sysfs.ts).
   */
  availableValues(entries: ReadonlyArray<{ name: string; value: string | number; path: string }>): void {
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const listed of entries) {
      if (!listed.name.endsWith('_available')) continue;
      const text = String(listed.value).trim();
      const available = parseAvailableText(text);
      if (available === undefined) this.fail(listed.path, `${JSON.stringify(text)} is not a "[min step max]" range`);
      if (available.kind === 'range' && !(available.step > 0 && available.min <= available.max)) {
        this.fail(listed.path, `the range ${text} needs a step above 0 and min <= max`);
      }
      const owner = byName.get(listed.name.slice(0, -'_available'.length));
      if (owner !== undefined && !isAvailable(available, owner.value)) this.fail(owner.path, `${JSON.stringify(owner.value)} is not in ${listed.name}: ${text}`);
    }
  }

  attributeName(k: string, path: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(k)) this.fail(path, `attribute name ${JSON.stringify(k)} may only contain letters, digits and "_"`);
    // Assigning it to a plain object would set the prototype instead of adding a key.
    if (k === '__proto__') this.fail(path, 'attribute name "__proto__" is not allowed');
  }

  attributeValue(value: unknown, path: string): string | number {
    if (typeof value === 'number') return this.number(value, path);
    if (typeof value === 'string') return value;
    this.fail(path, `expected a string or a number, got ${describe(value)}`);
  }

  channel(value: unknown, path: string, device: DeviceSpec): ChannelSpec {
    const o = this.object(value, path, SCENARIO_FIELDS.channel, ['type']);
    const type = this.string(o.type, key(path, 'type'));
    if (!CHANNEL_TYPES.includes(type)) this.fail(key(path, 'type'), `unknown channel type ${JSON.stringify(type)} (the kernel's names: ${CHANNEL_TYPES.join(', ')})`);
    const out: ChannelSpec = { type };
    if (o.direction !== undefined) out.direction = this.oneOf(o.direction, key(path, 'direction'), ['in', 'out'] as const);
    const direction = out.direction ?? 'in';
    if (o.index !== undefined) out.index = this.integer(o.index, key(path, 'index'), 0, 0x7fffffff);
    if (o.differential !== undefined) {
      out.differential = this.integer(o.differential, key(path, 'differential'), 0, 0x7fffffff);
      if (out.index === undefined) this.fail(key(path, 'differential'), 'a differential channel needs index (in_voltage0-voltage1)');
    }
    if (o.modifier !== undefined) {
      out.modifier = this.name(o.modifier, key(path, 'modifier'));
      if (out.differential !== undefined) this.fail(key(path, 'modifier'), 'a differential channel cannot have a modifier (the kernel keeps both in channel2)');
    }
    if (o.extendName !== undefined) out.extendName = this.name(o.extendName, key(path, 'extendName'));
    if (o.label !== undefined) out.label = this.text(o.label, key(path, 'label'));
    if (o.raw !== undefined) out.raw = typeof o.raw === 'number' ? this.integer(o.raw, key(path, 'raw'), -(2 ** 53) + 1, 2 ** 53 - 1) : this.boolean(o.raw, key(path, 'raw'));
    if (type === 'timestamp' && direction !== 'in') this.fail(key(path, 'direction'), 'a timestamp channel is an input');

    let scanType: ScanType | undefined;
    if (o.scanIndex !== undefined) {
      out.scanIndex = this.integer(o.scanIndex, key(path, 'scanIndex'), 0, 0x7fffffff);
      if (o.format === undefined) this.fail(path, 'missing required field "format" (a scan element needs its type)');
      if ((device.buffers ?? []).length === 0) this.fail(key(path, 'scanIndex'), 'the device has no buffers, so it has no scan elements');
    }
    if (o.format !== undefined) {
      const p = key(path, 'format');
      if (out.scanIndex === undefined) this.fail(p, 'format is the type of a scan element and needs scanIndex');
      const text = this.string(o.format, p);
      try {
        scanType = parseScanType(text);
      } catch (e) {
        if (e instanceof ScanTypeError) this.fail(p, e.message);
        throw e;
      }
      if (type === 'timestamp' && (scanType.storageBits !== 64 || scanType.realBits !== 64 || scanType.shift !== 0 || scanType.repeat !== 1)) {
        this.fail(p, `a timestamp is a 64-bit nanosecond count ("le:s64/64>>0"), got ${JSON.stringify(text)}`);
      }
      out.format = text;
    }
    if (o.buffers !== undefined) {
      const p = key(path, 'buffers');
      if (out.scanIndex === undefined) this.fail(p, 'only scan elements (with scanIndex) are carried by buffers');
      const buffers = device.buffers ?? [];
      const list = this.array(o.buffers, p).map((b, i) => {
        const n = this.integer(b, at(p, i), 0);
        const buffer = buffers[n];
        if (buffer === undefined) this.fail(at(p, i), `buffer ${n} does not exist (the device has ${buffers.length})`);
        if (buffer.direction !== direction) this.fail(at(p, i), `buffer ${n} is an ${buffer.direction === 'in' ? 'input' : 'output'} buffer but the channel is an ${direction === 'in' ? 'input' : 'output'}`);
        return n;
      });
      if (new Set(list).size !== list.length) this.fail(p, 'lists a buffer twice');
      if (list.length === 0) this.fail(p, 'must not be empty (omit scanIndex for a channel that is no scan element)');
      out.buffers = list;
    } else if (out.scanIndex !== undefined && !(device.buffers ?? []).some((b) => b.direction === direction)) {
      this.fail(key(path, 'scanIndex'), `the device has no ${direction === 'in' ? 'input' : 'output'} buffer to carry this scan element`);
    }
    if (o.scale !== undefined) out.scale = this.number(o.scale, key(path, 'scale'));
    if (o.offset !== undefined) out.offset = this.number(o.offset, key(path, 'offset'));
    if (o.shared !== undefined) out.shared = this.oneOf(o.shared, key(path, 'shared'), ['separate', 'type'] as const);
    if (o.waveform !== undefined) {
      const p = key(path, 'waveform');
      if (direction === 'out') this.fail(p, 'output channels play what userspace writes; only inputs have a waveform');
      if (type === 'timestamp') this.fail(p, 'the timestamp channel carries the sample time, not a waveform');
      out.waveform = this.waveform(o.waveform, p, scanType, device.samplingFrequency);
    }
    if (o.attributes !== undefined) {
      const p = key(path, 'attributes');
      const a = this.record(o.attributes, p);
      out.attributes = {};
      for (const [k, v] of Object.entries(a)) {
        this.attributeName(k, key(p, k));
        if (RESERVED_CHANNEL_POSTFIXES.has(k) || (out.scanIndex !== undefined && SCAN_ELEMENT_POSTFIXES.has(k))) this.fail(key(p, k), `${JSON.stringify(k)} is generated from the channel spec`);
        out.attributes[k] = this.attributeValue(v, key(p, k));
      }
    }
    // A separate scale/offset file sits beside the channel's own attributes (scale_available).
    const values = Object.entries(out.attributes ?? {}).map(([name, value]) => ({ name, value, path: key(key(path, 'attributes'), name) }));
    if (out.shared !== 'type') {
      for (const k of ['scale', 'offset'] as const) if (out[k] !== undefined) values.push({ name: k, value: out[k], path: key(path, k) });
    }
    this.availableValues(values);
    return out;
  }

  /** Checks across a device's channels: unique names and scan indices, shared attributes agree. */
  channelSet(device: DeviceSpec, path: string): void {
    const names = new Map<string, number>();
    const scan = new Map<number, number>();
    const shared = new Map<string, number>();
    let timestamp: number | undefined;
    for (const [i, ch] of device.channels.entries()) {
      const name = channelPrefix(ch);
      const first = names.get(name);
      if (first !== undefined) this.fail(at(path, i), `duplicate channel ${name} (also channels[${first}])`);
      names.set(name, i);
      if (ch.scanIndex !== undefined) {
        const same = scan.get(ch.scanIndex);
        if (same !== undefined) this.fail(key(at(path, i), 'scanIndex'), `duplicate scan index ${ch.scanIndex} (also channels[${same}]); scan indices are unique within a device`);
        scan.set(ch.scanIndex, i);
        if (ch.type === 'timestamp') {
          if (timestamp !== undefined) this.fail(at(path, i), `a second timestamp scan element (also channels[${timestamp}])`);
          timestamp = i;
        }
      }
      if (ch.shared === 'type') {
        const group = `${ch.direction ?? 'in'}_${ch.type}`;
        const other = shared.get(group);
        if (other === undefined) shared.set(group, i);
        else {
          const o = device.channels[other]!;
          if (o.scale !== ch.scale || o.offset !== ch.offset) {
            this.fail(at(path, i), `${group}_scale/${group}_offset are shared by type, but scale/offset differ from channels[${other}]`);
          }
        }
      }
    }
  }

  /** availableScanMasks name scan indices of channels the buffer carries, never the timestamp. */
  scanMasks(device: DeviceSpec, path: string): void {
    for (const [b, buffer] of (device.buffers ?? []).entries()) {
      if (buffer.availableScanMasks === undefined) continue;
      const p = key(at(path, b), 'availableScanMasks');
      const carried = new Map<number, ChannelSpec>();
      for (const ch of device.channels) {
        if (ch.scanIndex === undefined) continue;
        const on = ch.buffers !== undefined ? ch.buffers.includes(b) : (ch.direction ?? 'in') === buffer.direction;
        if (on) carried.set(ch.scanIndex, ch);
      }
      const seen = new Set<string>();
      for (const [m, mask] of buffer.availableScanMasks.entries()) {
        if (mask.length === 0) this.fail(at(p, m), 'an empty scan mask can never be enabled');
        for (const [j, index] of mask.entries()) {
          const ch = carried.get(index);
          if (ch === undefined) this.fail(at(at(p, m), j), `scan index ${index} is not a scan element of buffer ${b}`);
          if (ch.type === 'timestamp') this.fail(at(at(p, m), j), `scan index ${index} is the timestamp, which is not part of scan masks`);
        }
        const sorted = [...mask].sort((x, y) => x - y);
        if (new Set(sorted).size !== sorted.length) this.fail(at(p, m), 'lists a scan index twice');
        const id = sorted.join(',');
        if (seen.has(id)) this.fail(at(p, m), 'duplicate scan mask');
        seen.add(id);
      }
    }
  }

  waveform(value: unknown, path: string, type: ScanType | undefined, rate: number | undefined): WaveformSpec {
    const kinds = Object.keys(WAVEFORM_FIELDS) as WaveformSpec['kind'][];
    const peek = this.object(value, path, [...new Set(Object.values(WAVEFORM_FIELDS).flat())], ['kind']);
    const kind = this.oneOf(peek.kind, key(path, 'kind'), kinds);
    const o = this.object(value, path, WAVEFORM_FIELDS[kind]);
    const range = type === undefined ? undefined : formatRange(type);
    const opt = (k: string, read: (v: unknown, p: string) => number): number | undefined =>
      o[k] === undefined ? undefined : read(o[k], key(path, k));
    const inRange = (p: string, what: string, lo: number, hi: number): void => {
      if (range !== undefined && (lo < range.min || hi > range.max)) {
        this.fail(p, `${what} ${lo === hi ? lo : `[${lo}, ${hi}]`} does not fit the format's range [${range.min}, ${range.max}]`);
      }
    };
    const frequency = (): number => {
      const p = key(path, 'frequency');
      const f = this.positive(o.frequency, p);
      if (rate === undefined) this.fail(p, 'a periodic waveform needs the device\'s samplingFrequency');
      if (!(f < rate / 2)) this.fail(p, `${f} Hz is not below the Nyquist frequency ${rate / 2} Hz (half of samplingFrequency ${rate})`);
      return f;
    };
    const level = (defaultAmplitude: (span: number) => number): { amplitude?: number; offset?: number } => {
      const amplitude = opt('amplitude', (v, p) => {
        const a = this.number(v, p);
        if (a < 0) this.fail(p, `must not be negative, got ${a}`);
        return a;
      });
      const offset = opt('offset', (v, p) => this.number(v, p));
      if (range !== undefined) {
        const a = amplitude ?? defaultAmplitude(range.span);
        const c = offset ?? range.centre;
        inRange(key(path, amplitude === undefined ? 'offset' : 'amplitude'), 'offset ± amplitude', c - a, c + a);
      }
      const out: { amplitude?: number; offset?: number } = {};
      if (amplitude !== undefined) out.amplitude = amplitude;
      if (offset !== undefined) out.offset = offset;
      return out;
    };

    switch (kind) {
      case 'sine': {
        const out: WaveformSpec = { kind, frequency: frequency(), ...level((s) => s / 4) };
        const phase = opt('phase', (v, p) => this.number(v, p));
        if (phase !== undefined) out.phase = phase;
        return out;
      }
      case 'square': {
        const out: WaveformSpec = { kind, frequency: frequency(), ...level((s) => s / 4) };
        const duty = opt('duty', (v, p) => {
          const d = this.number(v, p);
          if (!(d > 0 && d < 1)) this.fail(p, `duty must be between 0 and 1 (exclusive), got ${d}`);
          return d;
        });
        if (duty !== undefined) out.duty = duty;
        return out;
      }
      case 'ramp': {
        const out: WaveformSpec = { kind };
        const start = opt('start', (v, p) => this.integer(v, p));
        const step = opt('step', (v, p) => this.integer(v, p));
        const period = opt('period', (v, p) => this.integer(v, p, 1));
        if (start !== undefined) {
          out.start = start;
          inRange(key(path, 'start'), 'start', start, start);
        }
        if (step !== undefined) out.step = step;
        if (period !== undefined) {
          out.period = period;
          if (range !== undefined) {
            const first = start ?? range.min;
            const last = first + (step ?? 1) * (period - 1);
            inRange(key(path, 'period'), 'the ramp', Math.min(first, last), Math.max(first, last));
          }
        }
        return out;
      }
      case 'noise': {
        const out: WaveformSpec = { kind, ...level((s) => s / 32) };
        const seed = opt('seed', (v, p) => this.integer(v, p, 0, U32_MAX));
        const period = opt('period', (v, p) => this.integer(v, p, 1, MAX_NOISE_PERIOD));
        if (seed !== undefined) out.seed = seed;
        if (period !== undefined) out.period = period;
        return out;
      }
      case 'constant': {
        const v = this.integer(o.value, key(path, 'value'));
        inRange(key(path, 'value'), 'value', v, v);
        return { kind, value: v };
      }
      case 'file': {
        const file = this.string(o.path, key(path, 'path'), 'a file path');
        if (file === '') this.fail(key(path, 'path'), 'must not be empty');
        return { kind, path: file };
      }
      case 'loopback':
        return {
          kind,
          device: this.string(o.device, key(path, 'device'), 'a device name'),
          channel: this.integer(o.channel, key(path, 'channel'), 0),
        };
    }
  }

  event(value: unknown, path: string, device: DeviceSpec): EventSpec {
    const o = this.object(value, path, SCENARIO_FIELDS.event, ['channel', 'type', 'direction', 'value']);
    const channel = this.integer(o.channel, key(path, 'channel'), 0);
    const ch = device.channels[channel];
    if (ch === undefined) this.fail(key(path, 'channel'), `channel ${channel} does not exist (the device has ${device.channels.length})`);
    if ((ch.direction ?? 'in') !== 'in' || ch.type === 'timestamp') {
      this.fail(key(path, 'channel'), `threshold events watch an input's raw value; ${channelPrefix(ch)} is not one`);
    }
    const out: EventSpec = {
      channel,
      type: this.oneOf(o.type, key(path, 'type'), ['thresh'] as const),
      direction: this.oneOf(o.direction, key(path, 'direction'), ['rising', 'falling', 'either'] as const),
      value: this.integer(o.value, key(path, 'value')),
    };
    if (ch.format !== undefined) {
      const r = formatRange(parseScanType(ch.format));
      if (out.value < r.min || out.value > r.max) this.fail(key(path, 'value'), `threshold ${out.value} is outside the channel's range [${r.min}, ${r.max}]`);
    }
    if (o.enabled !== undefined) out.enabled = this.boolean(o.enabled, key(path, 'enabled'));
    return out;
  }
}

/**
 * The built-in demo (`sim:` with no file): a fast 4-channel DMA ADC with a timestamp, an I/Q
 * transceiver (a PHY, an RX and a TX device, as an AD9361) whose receiver hears what its
 * transmitter plays, and a slow triggered sensor.
 * A fresh, validated copy on every call.
 */
export function defaultScenario(): Scenario {
  return parseScenario(DEFAULT_SCENARIO, '<default scenario>');
}

// Chosen so each device's channel periods have a small common multiple (the capture pattern
// then repeats exactly): adc4 at 1 MS/s has periods 1000, 4000, 4000 and 2000 samples.
/** The rates the transceiver's PHY, RX and TX devices each offer (each set on its own: the sim does not tie them). */
const TRX_CLOCK = { samplingFrequency: 2_000_000, samplingFrequencyAvailable: [500_000, 1_000_000, 2_000_000, 4_000_000] };

const DEFAULT_SCENARIO: Scenario = {
  description: 'iiojs demo: a 4-channel DMA ADC, an I/Q transceiver (PHY, RX, TX) in loopback and a triggered sensor',
  devices: [
    {
      name: 'iiojs-adc4',
      label: 'adc4',
      samplingFrequency: 1_000_000,
      samplingFrequencyAvailable: [125_000, 250_000, 500_000, 1_000_000],
      buffers: [{ direction: 'in', kind: 'dma' }],
      channels: [
        // ±1000 mV full scale over 16 bits, shared as in_voltage_scale.
        { type: 'voltage', index: 0, scanIndex: 0, format: 'le:s16/16>>0', scale: 0.030517578, offset: 0, shared: 'type', label: 'sine 1 kHz', waveform: { kind: 'sine', frequency: 1000, amplitude: 24000 } },
        { type: 'voltage', index: 1, scanIndex: 1, format: 'le:s16/16>>0', scale: 0.030517578, offset: 0, shared: 'type', label: 'square 250 Hz', waveform: { kind: 'square', frequency: 250, amplitude: 16000, duty: 0.25 } },
        { type: 'voltage', index: 2, scanIndex: 2, format: 'le:s16/16>>0', scale: 0.030517578, offset: 0, shared: 'type', label: 'ramp 250 Hz', waveform: { kind: 'ramp', start: -32000, step: 16, period: 4000 } },
        { type: 'voltage', index: 3, scanIndex: 3, format: 'le:s16/16>>0', scale: 0.030517578, offset: 0, shared: 'type', label: 'noise', waveform: { kind: 'noise', amplitude: 3000, seed: 0x1105, period: 2000 } },
        { type: 'timestamp', scanIndex: 4, format: 'le:s64/64>>0' },
      ],
    },
    {
      // An AD9361-like transceiver is three devices: the PHY (ad9361-phy: LOs, state machine,
      // registers), the RX data path (cf-ad9361-lpc) and the TX data path
      // (cf-ad9361-dds-core-lpc), each data path with a buffer of its own, so RX and TX stream
      // at once.
      name: 'iiojs-trx',
      label: 'trx',
      ...TRX_CLOCK,
      channels: [
        { type: 'altvoltage', direction: 'out', index: 0, extendName: 'RX_LO', attributes: { frequency: 2_400_000_000, powerdown: 0 } },
        { type: 'altvoltage', direction: 'out', index: 1, extendName: 'TX_LO', attributes: { frequency: 2_400_000_000, powerdown: 0 } },
      ],
      attributes: {
        ensm_mode: 'fdd',
        ensm_mode_available: { value: 'sleep wait alert fdd pinctrl', readOnly: true },
        calib_mode: 'auto',
      },
      registers: { '0x0': 0x00, '0x37': 0x0a, '0x3f': 0x88 },
    },
    {
      name: 'iiojs-sensor',
      label: 'sensor',
      samplingFrequency: 100,
      samplingFrequencyAvailable: [12.5, 25, 50, 100, 200],
      triggered: true,
      trigger: 'iiojs-timer0',
      buffers: [{ direction: 'in', kind: 'kfifo' }],
      channels: [
        // Centi-degrees Celsius; scale 10 gives the ABI's milli-degrees. 23.5 °C ± 1.5 °C.
        { type: 'temp', scanIndex: 0, format: 'le:s16/16>>0', scale: 10, offset: 0, waveform: { kind: 'sine', frequency: 0.05, amplitude: 150, offset: 2350 } },
        // Left-justified 12-bit big-endian words, 1 mg per LSB (scale in m/s²): lying flat.
        { type: 'accel', modifier: 'x', scanIndex: 1, format: 'be:s12/16>>4', scale: 0.009806650, shared: 'type', waveform: { kind: 'noise', amplitude: 12, offset: 0, seed: 1, period: 2000 } },
        { type: 'accel', modifier: 'y', scanIndex: 2, format: 'be:s12/16>>4', scale: 0.009806650, shared: 'type', waveform: { kind: 'noise', amplitude: 12, offset: 0, seed: 2, period: 2000 } },
        { type: 'accel', modifier: 'z', scanIndex: 3, format: 'be:s12/16>>4', scale: 0.009806650, shared: 'type', waveform: { kind: 'noise', amplitude: 12, offset: 1000, seed: 3, period: 2000 } },
        { type: 'timestamp', scanIndex: 4, format: 'le:s64/64>>0' },
      ],
      events: [{ channel: 0, type: 'thresh', direction: 'rising', value: 2450, enabled: false }],
    },
    {
      name: 'iiojs-trx-rx',
      label: 'rx',
      ...TRX_CLOCK,
      buffers: [{ direction: 'in', kind: 'dma', lengthAlignBytes: 4, availableScanMasks: [[0, 1]] }],
      channels: [
        // The receiver hears the transmitter through a loopback.
        { type: 'voltage', index: 0, modifier: 'i', scanIndex: 0, format: 'le:s16/16>>0', waveform: { kind: 'loopback', device: 'iiojs-trx-tx', channel: 0 } },
        { type: 'voltage', index: 0, modifier: 'q', scanIndex: 1, format: 'le:s16/16>>0', waveform: { kind: 'loopback', device: 'iiojs-trx-tx', channel: 1 } },
      ],
    },
    {
      name: 'iiojs-trx-tx',
      label: 'tx',
      ...TRX_CLOCK,
      buffers: [{ direction: 'out', kind: 'dma', lengthAlignBytes: 4, availableScanMasks: [[0, 1]] }],
      channels: [
        { type: 'voltage', direction: 'out', index: 0, modifier: 'i', scanIndex: 0, format: 'le:s16/16>>0' },
        { type: 'voltage', direction: 'out', index: 0, modifier: 'q', scanIndex: 1, format: 'le:s16/16>>0' },
      ],
    },
  ],
  triggers: [
    { name: 'iiojs-timer0', kind: 'hrtimer', frequency: 100 },
    { name: 'sysfstrig0', kind: 'sysfs' },
  ],
  sysfsTrigger: true,
  dmaHeaps: ['system'],
  udmabuf: true,
};
