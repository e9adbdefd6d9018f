// Scenario files of the simulated kernel (scenario.ts) and the signals their channels produce
// (signal.ts). Channel naming follows kernel-abi §6.2, scan types §6.3, triggers §6.6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeScanLayout, parseScanType, type ScanType } from '../src/format/index.js';
import { ScanPattern } from '../src/kernel/sim/pattern.js';
import {
  CHANNEL_TYPES,
  ScenarioError,
  channelPrefix,
  defaultScenario,
  deviceIds,
  loadScenario,
  parseScenario,
} from '../src/kernel/sim/scenario.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import { channelSignal, isLoopback, roundFrequency, tableSignal, type ChannelSignal } from '../src/kernel/sim/signal.js';

const S16 = parseScanType('le:s16/16>>0');
const U8 = parseScanType('le:u8/8>>0');
const S64 = parseScanType('le:s64/64>>0');

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-scenario-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const samples = (s: ChannelSignal, from: number, count: number): (number | bigint)[] =>
  Array.from({ length: count }, (_v, i) => s.at(from + i));

// ---------------------------------------------------------------------------------------------
// The default scenario

test('the default scenario validates and has the demo devices', () => {
  const s = defaultScenario();
  assert.deepEqual(parseScenario(s, 'copy'), s, 'a parsed scenario parses to itself');
  assert.deepEqual(s.devices.map((d) => d.name), ['iiojs-adc4', 'iiojs-trx', 'iiojs-sensor', 'iiojs-trx-rx', 'iiojs-trx-tx']);
  assert.deepEqual(deviceIds(s), [0, 1, 2, 3, 4]);
  assert.equal(s.sysfsTrigger, true);
  assert.deepEqual(s.triggers?.map((t) => [t.name, t.kind]), [['iiojs-timer0', 'hrtimer'], ['sysfstrig0', 'sysfs']]);

  const [adc, trx, sensor, rx, tx] = s.devices as [Scenario['devices'][0], Scenario['devices'][0], Scenario['devices'][0], Scenario['devices'][0], Scenario['devices'][0]];
  // 4-channel 16-bit ADC plus a timestamp with the highest scan index, on a DMA input buffer.
  assert.deepEqual(adc.buffers, [{ direction: 'in', kind: 'dma' }]);
  assert.deepEqual(adc.channels.map(channelPrefix), ['in_voltage0', 'in_voltage1', 'in_voltage2', 'in_voltage3', 'in_timestamp']);
  assert.deepEqual(adc.channels.slice(0, 4).map((c) => c.format), Array(4).fill('le:s16/16>>0'));
  assert.deepEqual(new Set(adc.channels.slice(0, 4).map((c) => c.waveform?.kind)), new Set(['sine', 'square', 'ramp', 'noise']));
  const ts = adc.channels[4]!;
  assert.equal(ts.format, 'le:s64/64>>0');
  assert.equal(ts.scanIndex, Math.max(...adc.channels.map((c) => c.scanIndex ?? -1)));
  assert.ok(adc.channels.slice(0, 4).every((c) => c.scale !== undefined && c.offset !== undefined));
  assert.ok(Array.isArray(adc.samplingFrequencyAvailable) && adc.samplingFrequencyAvailable.includes(adc.samplingFrequency!));

  // I/Q transceiver as an AD9361: a PHY without buffers (LOs, registers), an RX device with a DMA
  // input and a TX device with a DMA output, the input looping back the output.
  assert.equal(trx.buffers, undefined);
  assert.deepEqual(trx.channels.map(channelPrefix), ['out_altvoltage0_RX_LO', 'out_altvoltage1_TX_LO']);
  assert.deepEqual(rx.buffers?.map((b) => [b.direction, b.kind]), [['in', 'dma']]);
  assert.deepEqual(tx.buffers?.map((b) => [b.direction, b.kind]), [['out', 'dma']]);
  assert.deepEqual(rx.channels.map(channelPrefix), ['in_voltage0_i', 'in_voltage0_q']);
  assert.deepEqual(tx.channels.map(channelPrefix), ['out_voltage0_i', 'out_voltage0_q']);
  for (const c of rx.channels) {
    assert.ok(isLoopback(c.waveform));
    const w = c.waveform;
    if (w?.kind === 'loopback') assert.equal(w.device, 'iiojs-trx-tx');
  }

  // Slow triggered sensor: temp + accel x/y/z on a kfifo, with an hrtimer trigger.
  assert.equal(sensor.triggered, true);
  assert.equal(sensor.trigger, 'iiojs-timer0');
  assert.deepEqual(sensor.buffers, [{ direction: 'in', kind: 'kfifo' }]);
  assert.deepEqual(sensor.channels.map(channelPrefix), ['in_temp', 'in_accel_x', 'in_accel_y', 'in_accel_z', 'in_timestamp']);

  // A fresh copy per call.
  s.devices[0]!.name = 'changed';
  assert.equal(defaultScenario().devices[0]!.name, 'iiojs-adc4');
});

test('the default devices capture with a seamless pattern (their periods have a small LCM)', () => {
  for (const device of defaultScenario().devices) {
    const scan = device.channels.filter((c) => c.scanIndex !== undefined && (c.direction ?? 'in') === 'in');
    if (scan.length === 0) continue; // the transceiver's PHY and TX capture nothing
    const types = scan.map((c) => parseScanType(c.format!));
    const layout = computeScanLayout(scan.map((c, i) => ({ index: c.scanIndex!, type: types[i]!, timestamp: c.type === 'timestamp' })), 'kernel');
    const elements = scan.flatMap((c, i) => {
      if (c.type === 'timestamp' || isLoopback(c.waveform)) return [];
      return [{ type: types[i]!, offset: layout.offsets[i]!, signal: channelSignal(c.waveform, types[i]!, device.samplingFrequency!)! }];
    });
    const pattern = new ScanPattern(elements, layout.scanBytes);
    assert.deepEqual(pattern.seams, [], device.name);
    assert.ok(pattern.data.length <= 1 << 20, `${device.name}: ${pattern.data.length} bytes`);
  }
});

// ---------------------------------------------------------------------------------------------
// Validation: every rule, with its exact message

/** A small valid scenario that each case breaks in one place. */
function base(): Scenario {
  return {
    devices: [
      {
        name: 'adc',
        samplingFrequency: 1000,
        samplingFrequencyAvailable: [500, 1000],
        buffers: [{ direction: 'in', kind: 'dma' }, { direction: 'out', kind: 'dma' }],
        channels: [
          { type: 'voltage', index: 0, scanIndex: 0, format: 'le:s16/16>>0', waveform: { kind: 'sine', frequency: 10 } },
          { type: 'voltage', index: 1, scanIndex: 1, format: 'le:u12/16>>4', scale: 0.5, shared: 'type' },
          { type: 'voltage', direction: 'out', index: 0, scanIndex: 2, format: 'le:s16/16>>0' },
          { type: 'timestamp', scanIndex: 3, format: 'le:s64/64>>0' },
          { type: 'temp' },
        ],
        events: [{ channel: 0, type: 'thresh', direction: 'rising', value: 100 }],
      },
      {
        name: 'sensor',
        triggered: true,
        trigger: 't0',
        buffers: [{ direction: 'in', kind: 'kfifo', availableScanMasks: [[0, 1], [0]] }],
        channels: [
          { type: 'accel', modifier: 'x', scanIndex: 0, format: 'be:s12/16>>4' },
          { type: 'accel', modifier: 'y', scanIndex: 1, format: 'be:s12/16>>4', waveform: { kind: 'loopback', device: 'adc', channel: 2 } },
        ],
      },
    ],
    triggers: [{ name: 't0', kind: 'hrtimer', frequency: 50 }, { name: 'sysfstrig1', kind: 'sysfs' }],
  };
}

type Json = Record<string, unknown>;
const dev = (s: Scenario, i = 0): Json => s.devices[i] as unknown as Json;
const chan = (s: Scenario, c: number, d = 0): Json => s.devices[d]!.channels[c] as unknown as Json;
const wave = (s: Scenario, c: number, d = 0): Json => s.devices[d]!.channels[c]!.waveform as unknown as Json;

function rejects(mutate: (s: Scenario) => void, message: string): void {
  const s = base();
  mutate(s);
  assert.throws(() => parseScenario(s, 'test.json'), (e: unknown) => {
    assert.ok(e instanceof ScenarioError, `expected ScenarioError, got ${String(e)}`);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.source, 'test.json');
    assert.equal(e.message, message);
    assert.equal(e.message, `test.json: ${e.path === '' ? '' : `${e.path}: `}${e.reason}`);
    return true;
  });
}

test('the base scenario of the rule table is valid', () => {
  const s = base();
  assert.deepEqual(parseScenario(s, 'test.json'), s);
});

test('validation: documents, unknown fields, types', () => {
  assert.throws(() => parseScenario([], 'test.json'), { message: 'test.json: expected an object, got an array' });
  assert.throws(() => parseScenario({}, 'test.json'), { message: 'test.json: missing required field "devices"' });
  assert.throws(() => parseScenario({ devices: 5 }), { message: 'scenario: devices: expected an array, got 5' }, 'no source: "scenario"');
  assert.deepEqual(parseScenario({ devices: [] }), { devices: [] });
  rejects((s) => { (s as unknown as Json).device = []; },
    'test.json: unknown field "device" (expected "description", "devices", "triggers", "sysfsTrigger", "dmaHeaps", "udmabuf")');
  rejects((s) => { chan(s, 0).scan_index = 0; }, 'test.json: devices[0].channels[0]: unknown field "scan_index" (did you mean "scanIndex"?)');
  rejects((s) => { dev(s).name = 5; }, 'test.json: devices[0].name: expected a non-empty string, got 5');
  rejects((s) => { dev(s).name = 'my adc'; }, 'test.json: devices[0].name: "my adc" must not contain whitespace, control characters or "/"');
  rejects((s) => { dev(s).name = ''; }, 'test.json: devices[0].name: must not be empty');
  rejects((s) => { dev(s).label = 'a\nb'; }, 'test.json: devices[0].label: "a\\nb" must not contain a newline or control characters');
  rejects((s) => { dev(s).channels = {}; }, 'test.json: devices[0].channels: expected an array, got an object');
  rejects((s) => { dev(s, 1).triggered = 'yes'; }, 'test.json: devices[1].triggered: expected true or false, got the string "yes"');
  rejects((s) => { (s as unknown as Json).udmabuf = 1; }, 'test.json: udmabuf: expected true or false, got 1');
  rejects((s) => { s.dmaHeaps = ['system', 'system']; }, 'test.json: dmaHeaps[1]: duplicate DMA heap "system"');
  rejects((s) => { s.dmaHeaps = ['..']; }, 'test.json: dmaHeaps[0]: ".." is not a file name');
});

test('validation: devices, ids, sampling frequencies, triggers', () => {
  rejects((s) => { dev(s, 1).name = 'adc'; }, 'test.json: devices[1].name: duplicate device name "adc" (also devices[0])');
  rejects((s) => { dev(s).id = 3; dev(s, 1).id = 3; }, 'test.json: devices[1].id: duplicate device id 3 (also devices[0])');
  rejects((s) => { dev(s).id = -1; }, 'test.json: devices[0].id: -1 is out of range [0, 2147483647]');
  rejects((s) => { dev(s).id = 1.5; }, 'test.json: devices[0].id: expected an integer, got 1.5');
  rejects((s) => { dev(s).samplingFrequency = 0; }, 'test.json: devices[0].samplingFrequency: must be greater than 0, got 0');
  rejects((s) => { dev(s).samplingFrequency = 750; }, 'test.json: devices[0].samplingFrequencyAvailable: does not include samplingFrequency 750');
  rejects((s) => { dev(s).samplingFrequencyAvailable = []; }, 'test.json: devices[0].samplingFrequencyAvailable: must not be empty');
  rejects((s) => { dev(s).samplingFrequencyAvailable = { min: 100, step: 400, max: 2000 }; },
    'test.json: devices[0].samplingFrequencyAvailable: samplingFrequency 1000 is not in [100 400 2000]');
  const grid = base();
  dev(grid).samplingFrequencyAvailable = { min: 100, step: 300, max: 2000 };
  assert.deepEqual(parseScenario(grid).devices[0]!.samplingFrequencyAvailable, { min: 100, step: 300, max: 2000 });
  rejects((s) => { dev(s).samplingFrequencyAvailable = { min: 100, step: 300 }; },
    'test.json: devices[0].samplingFrequencyAvailable: missing required field "max"');
  rejects((s) => { dev(s, 1).samplingFrequencyAvailable = [1]; },
    'test.json: devices[1].samplingFrequencyAvailable: samplingFrequencyAvailable needs samplingFrequency');
  rejects((s) => { dev(s, 1).trigger = 'nope'; }, 'test.json: devices[1].trigger: no trigger named "nope"');
  rejects((s) => { dev(s).trigger = 't0'; }, 'test.json: devices[0].trigger: a current trigger needs triggered: true');
  rejects((s) => { s.triggers!.push({ name: 't0', kind: 'hrtimer' }); }, 'test.json: triggers[2].name: duplicate trigger name "t0" (also triggers[0])');
  rejects((s) => { s.triggers![1]!.name = 'mytrig'; },
    'test.json: triggers[1].name: a sysfs trigger is named "sysfstrig<N>" (as iio-trig-sysfs names them), got "mytrig"');
  rejects((s) => { s.sysfsTrigger = false; }, 'test.json: triggers[1]: a sysfs trigger needs sysfsTrigger (the iio_sysfs_trigger device)');
  rejects((s) => { s.triggers![1]!.frequency = 5; }, 'test.json: triggers[1].frequency: sysfs triggers fire on trigger_now and have no frequency');
  rejects((s) => { s.triggers![0]!.frequency = -5; }, 'test.json: triggers[0].frequency: must be greater than 0, got -5');
  rejects((s) => { (s.triggers![0] as unknown as Json).kind = 'timer'; },
    'test.json: triggers[0].kind: expected one of "hrtimer", "sysfs", got the string "timer"');
});

test('validation: buffers and scan masks', () => {
  rejects((s) => { dev(s, 1).triggered = false; delete dev(s, 1).trigger; },
    'test.json: devices[1].buffers[0].kind: a kfifo buffer is filled by a trigger: the device needs triggered: true');
  rejects((s) => { s.devices[0]!.buffers![0]!.lengthAlignBytes = 12; }, 'test.json: devices[0].buffers[0].lengthAlignBytes: 12 is not a power of two (a DMA address width)');
  rejects((s) => { s.devices[1]!.buffers![0]!.lengthAlignBytes = 4; }, 'test.json: devices[1].buffers[0].lengthAlignBytes: only dma buffers have length_align_bytes');
  rejects((s) => { (s.devices[0]!.buffers![0] as unknown as Json).direction = 'input'; },
    'test.json: devices[0].buffers[0].direction: expected one of "in", "out", got the string "input"');
  rejects((s) => { s.devices[1]!.buffers![0]!.availableScanMasks = [[0, 2]]; },
    'test.json: devices[1].buffers[0].availableScanMasks[0][1]: scan index 2 is not a scan element of buffer 0');
  rejects((s) => { s.devices[0]!.buffers![0]!.availableScanMasks = [[0, 3]]; },
    'test.json: devices[0].buffers[0].availableScanMasks[0][1]: scan index 3 is the timestamp, which is not part of scan masks');
  rejects((s) => { s.devices[0]!.buffers![0]!.availableScanMasks = [[0, 2]]; },
    'test.json: devices[0].buffers[0].availableScanMasks[0][1]: scan index 2 is not a scan element of buffer 0');
  rejects((s) => { s.devices[1]!.buffers![0]!.availableScanMasks = [[]]; }, 'test.json: devices[1].buffers[0].availableScanMasks[0]: an empty scan mask can never be enabled');
  rejects((s) => { s.devices[1]!.buffers![0]!.availableScanMasks = [[1, 1]]; }, 'test.json: devices[1].buffers[0].availableScanMasks[0]: lists a scan index twice');
  rejects((s) => { s.devices[1]!.buffers![0]!.availableScanMasks = [[0, 1], [1, 0]]; }, 'test.json: devices[1].buffers[0].availableScanMasks[1]: duplicate scan mask');
  rejects((s) => { s.devices[1]!.buffers![0]!.availableScanMasks = [[-1]]; },
    'test.json: devices[1].buffers[0].availableScanMasks[0][0]: -1 is out of range [0, 9007199254740991]');
});

test('validation: channels and scan elements', () => {
  rejects((s) => { chan(s, 0).type = 'volt'; }, `test.json: devices[0].channels[0].type: unknown channel type "volt" (the kernel's names: ${CHANNEL_TYPES.join(', ')})`);
  rejects((s) => { chan(s, 0).format = 'le:s16/12>>0'; },
    'test.json: devices[0].channels[0].format: invalid scan element type "le:s16/12>>0": storage bits 12 is not a positive multiple of 8');
  rejects((s) => { chan(s, 1).format = 'le:u12/16>>8'; },
    'test.json: devices[0].channels[1].format: invalid scan element type "le:u12/16>>8": storage bits 16 < real bits 12 + shift 8 (the kernel rejects such channels)');
  rejects((s) => { delete chan(s, 1).format; }, 'test.json: devices[0].channels[1]: missing required field "format" (a scan element needs its type)');
  rejects((s) => { chan(s, 4).format = 'le:s16/16>>0'; }, 'test.json: devices[0].channels[4].format: format is the type of a scan element and needs scanIndex');
  rejects((s) => { chan(s, 3).format = 'le:s32/32>>0'; }, 'test.json: devices[0].channels[3].format: a timestamp is a 64-bit nanosecond count ("le:s64/64>>0"), got "le:s32/32>>0"');
  rejects((s) => { chan(s, 3).direction = 'out'; }, 'test.json: devices[0].channels[3].direction: a timestamp channel is an input');
  rejects((s) => { chan(s, 1).scanIndex = 0; }, 'test.json: devices[0].channels[1].scanIndex: duplicate scan index 0 (also channels[0]); scan indices are unique within a device');
  rejects((s) => { chan(s, 2).scanIndex = 1; }, 'test.json: devices[0].channels[2].scanIndex: duplicate scan index 1 (also channels[1]); scan indices are unique within a device');
  rejects((s) => { s.devices[0]!.channels.push({ type: 'timestamp', index: 1, scanIndex: 9, format: 'le:s64/64>>0' }); },
    'test.json: devices[0].channels[5]: a second timestamp scan element (also channels[3])');
  rejects((s) => { chan(s, 1).index = 0; }, 'test.json: devices[0].channels[1]: duplicate channel in_voltage0 (also channels[0])');
  rejects((s) => { chan(s, 0).differential = 1; delete chan(s, 0).index; },
    'test.json: devices[0].channels[0].differential: a differential channel needs index (in_voltage0-voltage1)');
  rejects((s) => { chan(s, 0).differential = 1; chan(s, 0).modifier = 'x'; },
    'test.json: devices[0].channels[0].modifier: a differential channel cannot have a modifier (the kernel keeps both in channel2)');
  rejects((s) => { chan(s, 0).buffers = [5]; }, 'test.json: devices[0].channels[0].buffers[0]: buffer 5 does not exist (the device has 2)');
  rejects((s) => { chan(s, 0).buffers = [1]; }, 'test.json: devices[0].channels[0].buffers[0]: buffer 1 is an output buffer but the channel is an input');
  rejects((s) => { chan(s, 0).buffers = [0, 0]; }, 'test.json: devices[0].channels[0].buffers: lists a buffer twice');
  rejects((s) => { chan(s, 4).buffers = [0]; }, 'test.json: devices[0].channels[4].buffers: only scan elements (with scanIndex) are carried by buffers');
  rejects((s) => { s.devices[0]!.buffers!.pop(); }, 'test.json: devices[0].channels[2].scanIndex: the device has no output buffer to carry this scan element');
  rejects((s) => { delete dev(s).buffers; }, 'test.json: devices[0].channels[0].scanIndex: the device has no buffers, so it has no scan elements');
  rejects((s) => { s.devices[0]!.channels.push({ type: 'voltage', index: 2, scanIndex: 7, format: 'le:s16/16>>0', scale: 0.25, shared: 'type' }); },
    'test.json: devices[0].channels[5]: in_voltage_scale/in_voltage_offset are shared by type, but scale/offset differ from channels[1]');
  rejects((s) => { chan(s, 4).attributes = { raw: 5 }; }, 'test.json: devices[0].channels[4].attributes.raw: "raw" is generated from the channel spec');
  rejects((s) => { chan(s, 0).attributes = { en: 1 }; }, 'test.json: devices[0].channels[0].attributes.en: "en" is generated from the channel spec');
  rejects((s) => { chan(s, 4).attributes = { 'my-attr': 5 }; },
    'test.json: devices[0].channels[4].attributes["my-attr"]: attribute name "my-attr" may only contain letters, digits and "_"');
  rejects((s) => { chan(s, 4).attributes = { thing: [] }; }, 'test.json: devices[0].channels[4].attributes.thing: expected a string or a number, got an array');
  rejects((s) => { chan(s, 0).scale = Number.NaN; }, 'test.json: devices[0].channels[0].scale: expected a finite number, got NaN');
});

test('validation: a channel that is no scan element may have en/index/type attributes (iio_dummy\'s in_steps_en)', () => {
  const s = base();
  chan(s, 4).attributes = { en: 0, index: 3, type: 'x' };
  assert.deepEqual(parseScenario(JSON.parse(JSON.stringify(s)), 'test.json').devices[0]!.channels[4]!.attributes, { en: 0, index: 3, type: 'x' });
});

test('validation: waveforms', () => {
  rejects((s) => { wave(s, 0).kind = 'triangle'; },
    'test.json: devices[0].channels[0].waveform.kind: expected one of "sine", "square", "ramp", "noise", "constant", "file", "loopback", got the string "triangle"');
  rejects((s) => { wave(s, 0).duty = 0.5; },
    'test.json: devices[0].channels[0].waveform: unknown field "duty" (expected "kind", "frequency", "amplitude", "offset", "phase")');
  rejects((s) => { wave(s, 0).frequency = 0; }, 'test.json: devices[0].channels[0].waveform.frequency: must be greater than 0, got 0');
  rejects((s) => { wave(s, 0).frequency = 500; },
    'test.json: devices[0].channels[0].waveform.frequency: 500 Hz is not below the Nyquist frequency 500 Hz (half of samplingFrequency 1000)');
  rejects((s) => { delete dev(s).samplingFrequency; delete dev(s).samplingFrequencyAvailable; },
    'test.json: devices[0].channels[0].waveform.frequency: a periodic waveform needs the device\'s samplingFrequency');
  rejects((s) => { wave(s, 0).amplitude = 40000; },
    'test.json: devices[0].channels[0].waveform.amplitude: offset ± amplitude [-40000, 40000] does not fit the format\'s range [-32768, 32767]');
  rejects((s) => { wave(s, 0).offset = 30000; },
    'test.json: devices[0].channels[0].waveform.offset: offset ± amplitude [13616, 46384] does not fit the format\'s range [-32768, 32767]');
  rejects((s) => { wave(s, 0).amplitude = -1; }, 'test.json: devices[0].channels[0].waveform.amplitude: must not be negative, got -1');
  rejects((s) => { chan(s, 0).waveform = { kind: 'square', frequency: 1, duty: 1 }; },
    'test.json: devices[0].channels[0].waveform.duty: duty must be between 0 and 1 (exclusive), got 1');
  rejects((s) => { chan(s, 1).waveform = { kind: 'ramp', start: -1 }; },
    'test.json: devices[0].channels[1].waveform.start: start -1 does not fit the format\'s range [0, 4095]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'ramp', start: 4000, step: 10, period: 11 }; },
    'test.json: devices[0].channels[1].waveform.period: the ramp [4000, 4100] does not fit the format\'s range [0, 4095]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'ramp', step: 0.5 }; }, 'test.json: devices[0].channels[1].waveform.step: expected an integer, got 0.5');
  rejects((s) => { chan(s, 1).waveform = { kind: 'noise', amplitude: 3000 }; },
    'test.json: devices[0].channels[1].waveform.amplitude: offset ± amplitude [-952, 5048] does not fit the format\'s range [0, 4095]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'noise', seed: 2 ** 32 }; }, 'test.json: devices[0].channels[1].waveform.seed: 4294967296 is out of range [0, 4294967295]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'noise', period: 0 }; }, 'test.json: devices[0].channels[1].waveform.period: 0 is out of range [1, 16777216]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'constant', value: 4096 }; },
    'test.json: devices[0].channels[1].waveform.value: value 4096 does not fit the format\'s range [0, 4095]');
  rejects((s) => { chan(s, 1).waveform = { kind: 'file', path: '' }; }, 'test.json: devices[0].channels[1].waveform.path: must not be empty');
  rejects((s) => { chan(s, 2).waveform = { kind: 'constant', value: 1 }; },
    'test.json: devices[0].channels[2].waveform: output channels play what userspace writes; only inputs have a waveform');
  rejects((s) => { chan(s, 3).waveform = { kind: 'constant', value: 1 }; },
    'test.json: devices[0].channels[3].waveform: the timestamp channel carries the sample time, not a waveform');
  rejects((s) => { wave(s, 1, 1).device = 'dac'; }, 'test.json: devices[1].channels[1].waveform.device: no device named "dac"');
  rejects((s) => { wave(s, 1, 1).channel = 9; }, 'test.json: devices[1].channels[1].waveform.channel: device "adc" has no channel 9 (it has 5)');
  rejects((s) => { wave(s, 1, 1).channel = 1; },
    'test.json: devices[1].channels[1].waveform.channel: loopback source in_voltage1 (device "adc" channel 1) is not an output channel');
});

test('validation: events, registers, attributes', () => {
  rejects((s) => { s.devices[0]!.events![0]!.channel = 7; }, 'test.json: devices[0].events[0].channel: channel 7 does not exist (the device has 5)');
  rejects((s) => { s.devices[0]!.events![0]!.channel = 2; },
    'test.json: devices[0].events[0].channel: threshold events watch an input\'s raw value; out_voltage0 is not one');
  rejects((s) => { s.devices[0]!.events![0]!.value = 40000; },
    'test.json: devices[0].events[0].value: threshold 40000 is outside the channel\'s range [-32768, 32767]');
  rejects((s) => { s.devices[0]!.events!.push({ channel: 0, type: 'thresh', direction: 'rising', value: 5 }); },
    'test.json: devices[0].events[1]: duplicate thresh rising event on channel 0 (also events[0])');
  rejects((s) => { (s.devices[0]!.events![0] as unknown as Json).type = 'mag'; },
    'test.json: devices[0].events[0].type: expected one of "thresh", got the string "mag"');
  rejects((s) => { dev(s).registers = { '0x10': 1, '16': 2 }; }, 'test.json: devices[0].registers["0x10"]: register 0x10 is the same address as "16"');
  rejects((s) => { dev(s).registers = { r1: 1 }; }, 'test.json: devices[0].registers.r1: register address "r1" is not a decimal or 0x-hex number');
  rejects((s) => { dev(s).registers = { '0x1': 2 ** 32 }; }, 'test.json: devices[0].registers["0x1"]: 4294967296 is out of range [0, 4294967295]');
  rejects((s) => { dev(s).attributes = { sampling_frequency: 5 }; },
    'test.json: devices[0].attributes.sampling_frequency: "sampling_frequency" is created by the kernel model and cannot be set here');
  rejects((s) => { dev(s).attributes = { buffer1: 5 }; }, 'test.json: devices[0].attributes.buffer1: "buffer1" is created by the kernel model and cannot be set here');
  rejects((s) => { dev(s).attributes = { mode: { value: 'x', writable: true } }; },
    'test.json: devices[0].attributes.mode: unknown field "writable" (expected "value", "readOnly")');
  rejects((s) => { dev(s).attributes = { mode: true }; }, 'test.json: devices[0].attributes.mode: expected a string or a number, got boolean true');
  const s = base();
  dev(s).registers = { '0x10': 1, '17': 0xffffffff };
  dev(s).attributes = { mode: 'fdd', modes: { value: 'a b', readOnly: true }, gain: 1.5 };
  assert.deepEqual(parseScenario(s).devices[0]!.attributes, { mode: 'fdd', modes: { value: 'a b', readOnly: true }, gain: 1.5 });
});

test('validation: an attribute starts at a value its _available admits (the driver refuses others, §6.6)', () => {
  rejects((s) => { dev(s).attributes = { mode: 'auto', mode_available: { value: 'fdd tdd', readOnly: true } }; },
    'test.json: devices[0].attributes.mode: "auto" is not in mode_available: fdd tdd');
  rejects((s) => { dev(s).attributes = { gain: 7, gain_available: '[0 2 10]' }; }, 'test.json: devices[0].attributes.gain: 7 is not in gain_available: [0 2 10]');
  rejects((s) => { dev(s).attributes = { gain: { value: 'x', readOnly: true }, gain_available: '[0 2 10]' }; },
    'test.json: devices[0].attributes.gain.value: "x" is not in gain_available: [0 2 10]');
  rejects((s) => { dev(s).attributes = { gain_available: '[0 10]' }; }, 'test.json: devices[0].attributes.gain_available: "[0 10]" is not a "[min step max]" range');
  rejects((s) => { dev(s).attributes = { gain_available: '[10 1 0]' }; }, 'test.json: devices[0].attributes.gain_available: the range [10 1 0] needs a step above 0 and min <= max');
  rejects((s) => { chan(s, 4).attributes = { hardwaregain: 31, hardwaregain_available: '[0 0.5 30]' }; },
    'test.json: devices[0].channels[4].attributes.hardwaregain: 31 is not in hardwaregain_available: [0 0.5 30]');
  rejects((s) => { chan(s, 4).scale = 0.3; chan(s, 4).attributes = { scale_available: '0.25 0.5' }; },
    'test.json: devices[0].channels[4].scale: 0.3 is not in scale_available: 0.25 0.5');
  const s = base();
  dev(s).attributes = { mode: 'tdd', mode_available: 'fdd tdd', gain: 4, gain_available: '[0 2 10]', level: 2, level_available: '1 2.0 4' };
  chan(s, 4).attributes = { scale_available: '0.25 0.5' };
  chan(s, 4).scale = 0.5;
  chan(s, 1).attributes = { scale_available: '1 2' }; // in_voltage1_scale_available: no file beside the shared in_voltage_scale
  assert.deepEqual(parseScenario(s), s);
});

test('deviceIds gives explicit ids and fills the rest with the lowest free numbers', () => {
  const s = base();
  dev(s, 1).id = 0;
  assert.deepEqual(deviceIds(parseScenario(s)), [1, 0]);
  dev(s, 1).id = 5;
  assert.deepEqual(deviceIds(parseScenario(s)), [0, 5]);
});

test('channelPrefix follows the kernel attribute naming (§6.2)', () => {
  assert.equal(channelPrefix({ type: 'voltage', index: 0 }), 'in_voltage0');
  assert.equal(channelPrefix({ type: 'voltage', index: 1, differential: 2 }), 'in_voltage1-voltage2');
  assert.equal(channelPrefix({ type: 'accel', modifier: 'x' }), 'in_accel_x');
  assert.equal(channelPrefix({ type: 'voltage', direction: 'out', index: 0, modifier: 'i' }), 'out_voltage0_i');
  assert.equal(channelPrefix({ type: 'altvoltage', direction: 'out', index: 0, extendName: 'RX_LO' }), 'out_altvoltage0_RX_LO');
  assert.equal(channelPrefix({ type: 'timestamp' }), 'in_timestamp');
});

// ---------------------------------------------------------------------------------------------
// loadScenario

test('loadScenario reads a file; errors name the file', (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{\n  "devices": [\n    {,}\n  ]\n}\n');
  assert.throws(() => loadScenario(bad), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.source, bad);
    assert.equal(e.line, 3);
    assert.ok(e.message.startsWith(`${bad}:3: invalid JSON: `), e.message);
    return true;
  });

  const missing = join(dir, 'missing.json');
  assert.throws(() => loadScenario(missing), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.code, 'ENOENT');
    assert.ok(e.message.startsWith(`${missing}: cannot read scenario: ENOENT`), e.message);
    return true;
  });

  const invalid = join(dir, 'invalid.json');
  writeFileSync(invalid, JSON.stringify({ devices: [{ name: 'x', channels: [{ type: 'voltage', index: 'zero' }] }] }));
  assert.throws(() => loadScenario(invalid), { message: `${invalid}: devices[0].channels[0].index: expected an integer, got the string "zero"` });

  // A valid file; relative waveform files resolve against the scenario's directory.
  const good = join(dir, 'good.json');
  const scenario = base();
  scenario.devices[0]!.channels[1]!.waveform = { kind: 'file', path: 'samples.txt' };
  writeFileSync(good, JSON.stringify(scenario));
  const loaded = loadScenario(good);
  assert.deepEqual(loaded.devices[0]!.channels[1]!.waveform, { kind: 'file', path: join(dir, 'samples.txt') });
  assert.equal(loaded.devices[1]!.name, 'sensor');
});

// ---------------------------------------------------------------------------------------------
// Signals

test('sine: the period is a whole number of samples and repeats exactly', () => {
  const s = channelSignal({ kind: 'sine', frequency: 1000, amplitude: 10000 }, S16, 1e6)!;
  assert.equal(s.period, 1000);
  assert.equal(s.frequency, 1000);
  assert.deepEqual(samples(s, 0, 3000), samples(s, 1000 * 777, 3000));
  assert.equal(s.at(0), 0);
  assert.equal(s.at(250), 10000);
  assert.equal(s.at(750), -10000);
  assert.equal(s.at(100), Math.round(10000 * Math.sin(2 * Math.PI * 0.1)));

  // 440 Hz at 44.1 kHz: 22 cycles in 2205 samples, exactly 440 Hz.
  const a = channelSignal({ kind: 'sine', frequency: 440 }, S16, 44100)!;
  assert.equal(a.period, 2205);
  assert.equal(a.frequency, 440);
  assert.deepEqual(roundFrequency(440, 44100), { cycles: 22, period: 2205 });

  // An awkward frequency is rounded within 1 ppm to a whole-sample period.
  const odd = channelSignal({ kind: 'sine', frequency: 1234.5678 }, S16, 1e6)!;
  assert.ok(odd.period !== undefined && Number.isInteger(odd.period) && odd.period <= 1 << 24);
  assert.ok(Math.abs(odd.frequency! - 1234.5678) <= 1234.5678e-6, String(odd.frequency));
  assert.deepEqual(samples(odd, 5, 100), samples(odd, 5 + odd.period!, 100));

  // Too slow for an exact period within 2^24 samples: unrounded, no period.
  const slow = channelSignal({ kind: 'sine', frequency: 0.01 }, S16, 1e6)!;
  assert.equal(slow.period, undefined);
  assert.equal(slow.frequency, 0.01);
  assert.equal(slow.at(25_000_000), 16384, 'a quarter cycle; default amplitude span/4');

  // Phase (radians), unsigned default offset (the centre), and clamping beyond the range.
  const cos = channelSignal({ kind: 'sine', frequency: 1, amplitude: 200, phase: Math.PI / 2 }, U8, 4)!;
  assert.deepEqual(samples(cos, 0, 4), [255, 128, 0, 128]);
  assert.equal(cos.period, 4);
});

test('square: duty cycle, levels, period', () => {
  const s = channelSignal({ kind: 'square', frequency: 250, amplitude: 1000, offset: 10, duty: 0.25 }, S16, 1e6)!;
  assert.equal(s.period, 4000);
  const one = samples(s, 0, 4000);
  assert.equal(one.filter((v) => v === 1010).length, 1000);
  assert.equal(one.filter((v) => v === -990).length, 3000);
  assert.equal(s.at(0), 1010);
  assert.equal(s.at(999), 1010);
  assert.equal(s.at(1000), -990);
  const clipped = channelSignal({ kind: 'square', frequency: 1, amplitude: 1000 }, U8, 10)!;
  assert.deepEqual(samples(clipped, 0, 10), [255, 255, 255, 255, 255, 0, 0, 0, 0, 0]);
});

test('ramp: wraps within the format\'s range, or restarts every period', () => {
  const u8 = channelSignal({ kind: 'ramp' }, U8, 1)!;
  assert.equal(u8.period, 256);
  assert.deepEqual(samples(u8, 254, 4), [254, 255, 0, 1]);
  assert.equal(channelSignal(undefined, U8, 1)!.at(300), 44, 'no waveform: the default ramp');
  assert.equal(channelSignal({ kind: 'ramp', step: 3 }, U8, 1)!.period, 256);
  assert.equal(channelSignal({ kind: 'ramp', step: 4 }, U8, 1)!.period, 64);
  assert.equal(channelSignal({ kind: 'ramp', step: 0, start: 9 }, U8, 1)!.period, 1);
  const down = channelSignal({ kind: 'ramp', start: 1, step: -1 }, U8, 1)!;
  assert.deepEqual(samples(down, 0, 3), [1, 0, 255]);
  const s16 = channelSignal({ kind: 'ramp', step: 16 }, S16, 1)!;
  assert.equal(s16.period, 4096);
  assert.deepEqual(samples(s16, 4095, 2), [32752, -32768]);
  const s12 = channelSignal({ kind: 'ramp', start: 2040, step: 5 }, parseScanType('le:s12/16>>4'), 1)!;
  assert.deepEqual(samples(s12, 0, 3), [2040, 2045, -2046]);

  const periodic = channelSignal({ kind: 'ramp', start: 250, step: 2, period: 5 }, U8, 1)!;
  assert.equal(periodic.period, 5);
  assert.deepEqual(samples(periodic, 0, 7), [250, 252, 254, 255, 255, 250, 252], 'clamped at the top, restarted');

  const wide = channelSignal({ kind: 'ramp', start: 5 }, S64, 1)!;
  assert.equal(wide.wide, true);
  assert.equal(wide.period, undefined, '2^64 samples is beyond 2^53');
  assert.deepEqual(samples(wide, 0, 2), [5n, 6n]);
  assert.equal(channelSignal({ kind: 'ramp', step: 2 ** 40 }, S64, 1)!.period, 2 ** 24);
});

test('noise: deterministic per seed, within offset ± amplitude, period = table length', () => {
  const a = channelSignal({ kind: 'noise', amplitude: 100, offset: 50, seed: 7 }, S16, 1)!;
  const b = channelSignal({ kind: 'noise', amplitude: 100, offset: 50, seed: 7 }, S16, 1)!;
  const c = channelSignal({ kind: 'noise', amplitude: 100, offset: 50, seed: 8 }, S16, 1)!;
  assert.equal(a.period, 4096);
  const va = samples(a, 0, 4096);
  assert.deepEqual(va, samples(b, 0, 4096));
  assert.notDeepEqual(va, samples(c, 0, 4096));
  assert.deepEqual(va, samples(a, 4096 * 1000, 4096));
  assert.ok(va.every((v) => typeof v === 'number' && v >= -50 && v <= 150));
  assert.ok(new Set(va).size > 150, 'spread over the range');
  const mean = (va as number[]).reduce((x, y) => x + y, 0) / va.length;
  assert.ok(Math.abs(mean - 50) < 5, `mean ${mean}`);
  assert.equal(channelSignal({ kind: 'noise', period: 10 }, S16, 1)!.period, 10);
  assert.equal(channelSignal({ kind: 'noise' }, S16, 1, { noisePeriod: 300 })!.period, 300);
  // The option seeds channels whose spec has none.
  assert.deepEqual(samples(channelSignal({ kind: 'noise' }, S16, 1, { seed: 7 })!, 0, 50),
    samples(channelSignal({ kind: 'noise', seed: 7 }, S16, 1)!, 0, 50));
  assert.notDeepEqual(samples(channelSignal({ kind: 'noise' }, S16, 1, { seed: 7 })!, 0, 50),
    samples(channelSignal({ kind: 'noise' }, S16, 1, { seed: 9 })!, 0, 50));
});

test('constant and table signals clamp to the format', () => {
  const k = channelSignal({ kind: 'constant', value: 300 }, U8, 1)!;
  assert.equal(k.period, 1);
  assert.equal(k.at(12345), 255);
  assert.equal(channelSignal({ kind: 'constant', value: -5 }, S64, 1)!.at(0), -5n);
  const tbl = tableSignal([-1, 5, 1e9, 7n, 2.6], U8);
  assert.equal(tbl.kind, 'table');
  assert.deepEqual(samples(tbl, 0, 6), [0, 5, 255, 7, 3, 0]);
  assert.throws(() => tableSignal([], U8), RangeError);
});

test('loopback is wired by the IIO model', () => {
  const spec = { kind: 'loopback', device: 'x', channel: 0 } as const;
  assert.equal(channelSignal(spec, S16, 1000), undefined);
  assert.equal(isLoopback(spec), true);
  assert.equal(isLoopback({ kind: 'ramp' }), false);
  assert.equal(isLoopback(undefined), false);
});

test('file: replays one integer per line; errors name the file and line', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'wave.txt');
  writeFileSync(file, '1\r\n-2\n\n+3\n99999\n  -70000  \n');
  const s = channelSignal({ kind: 'file', path: file }, S16, 1)!;
  assert.equal(s.kind, 'file');
  assert.equal(s.period, 5);
  assert.deepEqual(samples(s, 0, 7), [1, -2, 3, 32767, -32768, 1, -2]);
  assert.equal(channelSignal({ kind: 'file', path: 'wave.txt' }, S16, 1, { baseDir: dir })!.period, 5);
  const wide = channelSignal({ kind: 'file', path: file }, S64, 1)!;
  assert.deepEqual(samples(wide, 0, 5), [1n, -2n, 3n, 99999n, -70000n]);

  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, '1\n2\n3.5\n');
  assert.throws(() => channelSignal({ kind: 'file', path: bad }, S16, 1), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.message, `${bad}:3: expected one decimal integer per line, got "3.5"`);
    assert.equal(e.line, 3);
    assert.equal(e.code, 'EINVAL');
    return true;
  });
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n\n');
  assert.throws(() => channelSignal({ kind: 'file', path: empty }, S16, 1), { message: `${empty}: no samples (expected one decimal integer per line)` });
  const missing = join(dir, 'missing.txt');
  assert.throws(() => channelSignal({ kind: 'file', path: missing }, S16, 1), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.code, 'ENOENT');
    assert.ok(e.message.startsWith(`${missing}: cannot read waveform file: ENOENT`), e.message);
    return true;
  });
});

test('wide formats give bigint samples', () => {
  const s = channelSignal({ kind: 'sine', frequency: 1, amplitude: 1e18 }, S64, 4)!;
  assert.equal(s.wide, true);
  assert.deepEqual(samples(s, 0, 4), [0, 1, 2, 3].map((m) => BigInt(Math.round(1e18 * Math.sin((2 * Math.PI * m) / 4)))));
  assert.equal(s.at(1), 10n ** 18n);
  const clamp = channelSignal({ kind: 'square', frequency: 1, amplitude: 1e30 }, S64, 2)!;
  assert.deepEqual(samples(clamp, 0, 2), [2n ** 63n - 1n, -(2n ** 63n)]);
  assert.throws(() => channelSignal({ kind: 'sine', frequency: 1 }, S16, 0), RangeError);
  const t: ScanType = parseScanType('le:u64/64>>0');
  assert.equal(channelSignal({ kind: 'noise', seed: 3 }, t, 1)!.wide, true);
});
