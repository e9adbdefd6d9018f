// SIM-ONLY. The library on the simulated kernel's built-in scenario (`sim:`, defaultScenario())
// and on scenarios made for a case: every device, channel and attribute kind, shared
// attributes, `_available` lists and ranges, events, triggers, registers, the URIs and options
// of openContext, close() and Symbol.asyncDispose. The devices exist only in the sim.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import type { Device } from '../src/core/device.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import { openContext } from '../src/open.js';

let ctx: Context;
before(async () => {
  ctx = await openContext('sim:');
});
after(() => ctx.close());

const names = (map: ReadonlyMap<string, unknown>): string[] => [...map.keys()];

describe('the built-in scenario', () => {
  test('context: name, description, attributes, devices and triggers in order', () => {
    assert.equal(ctx.name, 'local');
    assert.equal(ctx.uri, 'sim:');
    assert.match(ctx.description, /^Linux iiojs-sim 6\.12\.0-iiojs-sim /);
    assert.deepEqual([...ctx.attrs.values()].map((a) => [a.name, a.staticValue]), [['local,kernel', '6.12.0-iiojs-sim'], ['uri', 'sim:']]);
    assert.deepEqual(ctx.devices.map((d) => [d.id, d.name, d.label, d.isTrigger]), [
      ['iio:device0', 'iiojs-adc4', 'adc4', false],
      ['iio:device1', 'iiojs-trx', 'trx', false],
      ['iio:device2', 'iiojs-sensor', 'sensor', false],
      ['iio:device3', 'iiojs-trx-rx', 'rx', false],
      ['iio:device4', 'iiojs-trx-tx', 'tx', false],
    ]);
    assert.deepEqual(ctx.triggers.map((t) => [t.id, t.name, t.isTrigger]), [['trigger0', 'iiojs-timer0', true], ['trigger1', 'sysfstrig0', true]]);
    assert.equal(ctx.find('adc4'), ctx.devices[0]);
    assert.equal(ctx.find('iiojs-trx'), ctx.devices[1]);
    assert.equal(ctx.find('iio:device2'), ctx.devices[2]);
    assert.equal(ctx.find('sysfstrig0'), ctx.triggers[1]);
  });

  test('adc4: labelled scan elements, type-shared scale and offset, device-wide sampling frequency', async () => {
    const adc = ctx.device('adc4');
    assert.deepEqual(adc.channels.map((c) => [c.id, c.label, c.scanElement?.index, c.position]), [
      ['voltage0', 'sine 1 kHz', 0, 0], ['voltage1', 'square 250 Hz', 1, 1], ['voltage2', 'ramp 250 Hz', 2, 2],
      ['voltage3', 'noise', 3, 3], ['timestamp', undefined, 4, 4],
    ]);
    const v1 = adc.channel('voltage1');
    assert.deepEqual(names(v1.attrs), ['label', 'offset', 'raw', 'sampling_frequency', 'sampling_frequency_available', 'scale']);
    assert.deepEqual(['scale', 'offset', 'raw', 'sampling_frequency'].map((n) => [v1.attr(n).filename, v1.attr(n).shared]), [
      ['in_voltage_scale', 'type'], ['in_voltage_offset', 'type'], ['in_voltage1_raw', 'separate'], ['sampling_frequency', 'all'],
    ]);
    assert.equal(v1.scanElement?.scale, 0.030517578);
    assert.equal(v1.scanElement?.offset, 0);
    assert.deepEqual({ ...v1.scanElement!.type }, { endianness: 'le', signed: true, fullyDefined: false, realBits: 16, storageBits: 16, repeat: 1, shift: 0 });
    assert.equal(adc.findChannel('ramp 250 Hz'), adc.channel('voltage2'));
    assert.deepEqual(names(adc.channel('timestamp').attrs), []);
    assert.deepEqual(names(adc.attrs), ['current_timestamp_clock', 'sampling_frequency', 'sampling_frequency_available']);
    assert.deepEqual(await v1.attr('sampling_frequency').available(), { kind: 'list', values: ['125000', '250000', '500000', '1000000'] });
    assert.equal(adc.triggerSupport, false);
    assert.deepEqual(adc.buffers.map((b) => [b.index, b.direction, b.channels.length]), [[0, 'in', 5]]);
  });

  test('the transceiver: a PHY with extend-named LOs, device attributes with lists and registers; I/Q on an RX and a TX device with a buffer each', async () => {
    const trx = ctx.device('trx');
    assert.deepEqual(trx.channels.map((c) => `${c.direction} ${c.id}${c.name === undefined ? '' : ` ${c.name}`}`), ['out altvoltage0 RX_LO', 'out altvoltage1 TX_LO']);
    assert.deepEqual(trx.buffers, []);
    const rx = ctx.device('rx');
    const tx = ctx.device('tx');
    assert.equal(rx.channel('voltage0_i').output, false);
    assert.equal(tx.channel('voltage0_i', 'out').scanElement?.index, 0);
    const lo = trx.channel('RX_LO');
    assert.deepEqual([lo.id, lo.type, lo.index, lo.output], ['altvoltage0', 'altvoltage', 0, true]);
    assert.deepEqual(names(lo.attrs).filter((n) => !n.startsWith('sampling')), ['frequency', 'powerdown', 'raw']);
    assert.equal(lo.attr('frequency').filename, 'out_altvoltage0_RX_LO_frequency');
    assert.equal(await lo.attr('frequency').readBigInt(), 2_400_000_000n);
    await lo.attr('frequency').write(2_450_000_000);
    assert.equal(await lo.attr('frequency').readNumber(), 2_450_000_000);
    assert.deepEqual([rx, tx].map((d) => d.buffers.map((b) => [b.index, b.direction, b.channels.map((c) => `${c.direction} ${c.id}`)])), [
      [[0, 'in', ['in voltage0_i', 'in voltage0_q']]], [[0, 'out', ['out voltage0_i', 'out voltage0_q']]],
    ]);
    assert.equal(await tx.buffer(0).attr('length_align_bytes').readNumber(), 4);
    const ensm = trx.attr('ensm_mode');
    assert.deepEqual(await ensm.available(), { kind: 'list', values: ['sleep', 'wait', 'alert', 'fdd', 'pinctrl'] });
    await ensm.write('alert');
    assert.equal(await ensm.read(), 'alert');
    assert.equal(trx.attr('ensm_mode_available').writable, false);
    // Registers (debugfs direct_reg_access).
    assert.deepEqual(names(trx.debugAttrs), ['direct_reg_access']);
    assert.equal(trx.registers.supported, true);
    assert.equal(await trx.registers.read(0x37), 0x0a);
    await trx.registers.write(0x37, 0xdeadbeef);
    assert.equal(await trx.registers.read(0x37), 0xdeadbeef);
    assert.deepEqual(await Promise.all([trx.registers.read(0x0), trx.registers.read(0x3f), trx.registers.read(0x37)]), [0, 0x88, 0xdeadbeef]);
    await assert.rejects(trx.registers.read(0x1234), { code: 'EINVAL', message: /direct_reg_access'.*registers of iio:device1 \(iiojs-trx\), register 0x1234/ });
    await assert.rejects(trx.registers.read(-1), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(trx.registers.write(0, 2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('sensor: an unindexed channel with its own scale, a type-shared accel scale, events, its trigger', async () => {
    const sensor = ctx.device('sensor');
    const temp = sensor.channel('temp');
    assert.deepEqual([temp.index, temp.modifier, temp.attr('scale').filename, temp.attr('scale').shared], [undefined, undefined, 'in_temp_scale', 'separate']);
    assert.deepEqual(['x', 'y', 'z'].map((a) => sensor.channel(`accel_${a}`).attr('scale').filename), ['in_accel_scale', 'in_accel_scale', 'in_accel_scale']);
    assert.deepEqual(sensor.channel('accel_z').scanElement?.type.shift, 4);
    assert.deepEqual(names(temp.eventAttrs), ['thresh_rising_en', 'thresh_rising_value']);
    assert.equal(temp.eventAttr('thresh_rising_value').filename, 'in_temp_thresh_rising_value');
    assert.equal(temp.eventAttr('thresh_rising_value').kind, 'event');
    await temp.eventAttr('thresh_rising_value').write(2500);
    assert.equal(await temp.eventAttr('thresh_rising_value').readNumber(), 2500);
    await temp.eventAttr('thresh_rising_en').write(true);
    assert.equal(await temp.eventAttr('thresh_rising_en').readBoolean(), true);
    assert.deepEqual(names(sensor.eventAttrs), []);
    assert.equal(sensor.triggerSupport, true);
    assert.equal(await sensor.getTrigger(), ctx.triggers[0]);
    // Fractions are written in plain decimal notation and come back as the kernel prints them.
    const rate = sensor.attr('sampling_frequency');
    await rate.write(12.5);
    assert.equal(await rate.read(), '12.500000');
    await assert.rejects(rate.write(13), { code: 'EINVAL', message: /13 Hz is not available/ });
    await rate.write(100);
  });
});

describe('scenarios made for a case', () => {
  const scenario = (devices: Scenario['devices']): Scenario => ({ devices, triggers: [{ name: 'tick', kind: 'hrtimer' }] });

  test('a [min step max] range', async () => {
    await using c = await Context.open(new LocalBackend(new SimKernel({ scenario: scenario([{
      name: 'ranged', samplingFrequency: 2000, samplingFrequencyAvailable: { min: 1000, step: 500, max: 8000 },
      channels: [{ type: 'voltage', index: 0 }],
    }]) })));
    const rate = c.device('ranged').attr('sampling_frequency');
    assert.deepEqual(await rate.available(), { kind: 'range', min: 1000, step: 500, max: 8000 });
    assert.equal(await rate.availableAttr!.read(), '[1000 500 8000]');
    await rate.write(1500);
    await assert.rejects(rate.write(1700), { code: 'EINVAL' });
  });

  test('attribute values are text: what is written is read back, whatever it holds', async () => {
    await using c = await Context.open(new LocalBackend(new SimKernel({ scenario: scenario([{
      name: 'odd', channels: [{ type: 'voltage', index: 0 }], attributes: { note: 'a <b> & "c"' },
    }]) })));
    assert.equal(await c.device('odd').attr('note').read(), 'a <b> & "c"');
  });

  test('a device with no trigger support refuses setTrigger with a typed error', async () => {
    await assert.rejects(ctx.device('adc4').setTrigger('iiojs-timer0'), { code: 'ERR_IIOJS_UNSUPPORTED', feature: 'trigger' });
    await assert.rejects(ctx.device('adc4').getTrigger(), { code: 'ERR_IIOJS_UNSUPPORTED', feature: 'trigger' });
    assert.equal(ctx.device('adc4').registers.supported, false);
  });

  test('a trigger added after the context was opened is not in it: ENODEV says so', async () => {
    const kernel = new SimKernel();
    await using c = await Context.open(new LocalBackend(kernel));
    await kernel.writeText('/sys/bus/iio/devices/iio_sysfs_trigger/add_trigger', '7');
    const sensor = c.device('sensor');
    await sensor.setTrigger('sysfstrig7'); // not in the context: passed on, resolved by the kernel
    assert.equal(await kernel.readText('/sys/bus/iio/devices/iio:device2/trigger/current_trigger'), 'sysfstrig7\n');
    await assert.rejects(sensor.getTrigger(), { code: 'ENODEV', message: /"sysfstrig7" \(trigger2\), which is not in this context/ });
  });
});

describe('openContext and the context\'s life', () => {
  test('sim:<scenario.json> and the sim time mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-lib-'));
    try {
      const file = join(dir, 'scenario.json');
      writeFileSync(file, JSON.stringify({ devices: [{ name: 'from-file', channels: [{ type: 'temp' }] }] }));
      await using c = await openContext(`sim:${file}`, { sim: { timeMode: 'fast' }, timeoutMs: 500 });
      assert.equal(c.uri, `sim:${file}`);
      assert.equal(c.attr('uri').staticValue, `sim:${file}`);
      assert.deepEqual(c.devices.map((d) => d.name), ['from-file']);
      assert.deepEqual(c.device('from-file').channels.map((ch) => ch.id), ['temp']);
      c.setTimeout(1000);
      assert.throws(() => c.setTimeout(-1), RangeError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad URIs and scenario files', async () => {
    await assert.rejects(openContext('usb:'), { code: 'ERR_INVALID_URI' });
    await assert.rejects(openContext('sim:/nonexistent/scenario.json'), { name: 'ScenarioError', code: 'ENOENT' });
  });

  test('close() ends every operation; it is idempotent; await using closes', async () => {
    const c = await openContext('sim:');
    const raw = c.device('adc4').channel('voltage0').attr('raw');
    await raw.read();
    await c.close();
    await c.close();
    assert.equal(c.closed, true);
    await assert.rejects(raw.read(), { code: 'ERR_IIOJS_CLOSED', message: /the context sim: is closed/ });
    await assert.rejects(c.device('trx').registers.read(0), { code: 'ERR_IIOJS_CLOSED' });
    await assert.rejects(c.device('sensor').getTrigger(), { code: 'ERR_IIOJS_CLOSED' });
    assert.throws(() => c.setTimeout(10), { code: 'ERR_IIOJS_CLOSED' });
    assert.ok(c.toXml().startsWith('<?xml')); // the description stays

    let kept: Device | undefined;
    {
      await using d = await openContext('sim:');
      kept = d.device('adc4');
    }
    await assert.rejects(kept.attr('sampling_frequency').read(), { code: 'ERR_IIOJS_CLOSED' });
  });

  test('an aborted signal cancels an operation with an AbortError', async () => {
    const signal = AbortSignal.abort();
    await assert.rejects(ctx.device('adc4').attr('sampling_frequency').read({ signal }), { name: 'AbortError', code: 'ABORT_ERR' });
    await assert.rejects(openContext('sim:', { signal }), { name: 'AbortError' });
  });
});
