// Typed attribute I/O, its errors, and triggers, on the probe's dummy0 (iio_dummy) through the
// public API. Every value and errno here is what the real iio_dummy driver does
// (drivers/iio/dummy/iio_simple_dummy.c, Linux 6.12), so the file runs on the sim and,
// unchanged, in the real-kernel lab (IIOJS_KERNEL=linux).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Context } from '../src/core/context.js';
import type { Device } from '../src/core/device.js';
import { openUnderTest } from './support/library.js';
import { DUMMY, probeScenario } from './support/probe-scenario.js';

let ctx: Context;
let dummy: Device;
before(async () => {
  ({ ctx } = await openUnderTest({ scenario: probeScenario }));
  dummy = ctx.device(DUMMY.name);
});
after(() => ctx.close());

describe('typed reads', () => {
  test('text without the newline, numbers, big integers, booleans', async () => {
    const v0 = dummy.channel('voltage0');
    assert.equal(await v0.attr('raw').read(), '73');
    assert.equal(await v0.attr('raw').readNumber(), 73);
    assert.equal(await v0.attr('raw').readBigInt(), 73n);
    assert.equal(await v0.attr('offset').readNumber(), 7);
    assert.equal(await v0.attr('scale').readNumber(), 0.001333);
    assert.equal(await dummy.channel('voltage3-voltage4').attr('raw').readNumber(), -34);
    assert.equal(await dummy.channel('voltage1-voltage2').attr('scale').readNumber(), 0.000001344);
    assert.equal(await dummy.channel('accel_x').attr('calibscale').readNumber(), 0.0001);
    assert.equal(await v0.attr('sampling_frequency').readNumber(), 3.000000033);
    assert.equal(await dummy.channel('steps').attr('en').readBoolean(), false);
    assert.equal(await dummy.attr('current_timestamp_clock').read(), 'realtime');
    assert.equal(await dummy.buffer(0).attr('direction').read(), 'in');
  });

  test('text that is not the type asked for is a typed error naming the attribute', async () => {
    await assert.rejects(dummy.attr('current_timestamp_clock').readNumber(), {
      code: 'ERR_IIOJS_ATTR_FORMAT', message: /attribute "current_timestamp_clock" of iio:device\d+ \(dummy0\): expected a number, read "realtime"/,
    });
    await assert.rejects(dummy.channel('voltage0').attr('scale').readBigInt(), { code: 'ERR_IIOJS_ATTR_FORMAT', message: /expected an integer/ });
    await assert.rejects(dummy.attr('current_timestamp_clock').readBoolean(), { code: 'ERR_IIOJS_ATTR_FORMAT' });
  });
});

describe('typed writes', () => {
  test('numbers, bigints, strings and booleans in the kernel\'s text forms', async () => {
    const bias = dummy.channel('accel_x').attr('calibbias');
    await bias.write(-3);
    assert.equal(await bias.readNumber(), -3);
    await bias.write(12n);
    assert.equal(await bias.readBigInt(), 12n);
    await bias.write('-7');
    assert.equal(await bias.read(), '-7');
    const en = dummy.channel('steps').attr('en');
    await en.write(true);
    assert.equal(await en.readBoolean(), true);
    await en.write(false);
    assert.equal(await en.readBoolean(), false);
    const dac = dummy.channel('voltage0', 'out').attr('raw');
    await dac.write(1234);
    assert.equal(await dac.readNumber(), 1234);
    await dac.write(0);
  });

  test('values that have no text form are refused before any write', async () => {
    const dac = dummy.channel('voltage0', 'out').attr('raw');
    await assert.rejects(dac.write(Number.NaN), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(dac.write(Number.POSITIVE_INFINITY), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(dac.write(null as unknown as string), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  test('the driver\'s EINVAL comes back Node-style, with the file, the channel and the value', async () => {
    // iio_dummy refuses writes to an input's raw value.
    await assert.rejects(dummy.channel('voltage0').attr('raw').write(5), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EINVAL');
      assert.equal(e.errno, -22);
      assert.equal(e.syscall, 'write');
      assert.match(e.path!, /\/iio:device\d+\/in_voltage0_raw$/);
      assert.match(e.message, /^EINVAL: invalid argument, write '.*in_voltage0_raw'.*attribute "raw" of input channel voltage0 of iio:device\d+ \(dummy0\), value "5"/);
      return true;
    });
  });

  test('a read-only attribute is EACCES, without writing', async () => {
    await assert.rejects(dummy.buffer(0).attr('data_available').write(1), (e: NodeJS.ErrnoException) => {
      assert.equal(e.code, 'EACCES');
      assert.match(e.message, /buffer0\/data_available'.*attribute "data_available" of buffer0 of iio:device\d+ \(dummy0\) is read-only/);
      return true;
    });
  });

  test('an unknown attribute, channel, buffer or device is a clear ENOENT/ENODEV', () => {
    assert.throws(() => dummy.attr('nope'), { code: 'ENOENT', message: /iio:device\d+ \(dummy0\) has no attribute "nope" \(there are: current_timestamp_clock\)/ });
    assert.throws(() => dummy.channel('voltage0').attr('nope'), { code: 'ENOENT', message: /input channel voltage0 of iio:device\d+ \(dummy0\) has no attribute "nope" \(there are: offset, raw, sampling_frequency, scale\)/ });
    assert.throws(() => dummy.channel('voltage9'), { code: 'ENOENT', message: /has no channel "voltage9"/ });
    assert.throws(() => dummy.channel('accel_x', 'out'), { code: 'ENOENT', message: /has no output channel "accel_x"/ });
    assert.throws(() => dummy.buffer(1), { code: 'ENOENT', message: /has no buffer "1"/ });
    assert.throws(() => dummy.debugAttr('direct_reg_access'), { code: 'ENOENT' });
  });

  test('an attribute without an _available list says so with a typed error', async () => {
    const scale = dummy.channel('voltage0').attr('scale');
    assert.equal(scale.availableAttr, undefined);
    await assert.rejects(scale.available(), { code: 'ERR_IIOJS_UNSUPPORTED', feature: 'available' });
  });
});

describe('triggers (kernel-abi §6.6)', () => {
  test('set by Trigger, id or name; read back; detached with null', async () => {
    const [t0, sysfs] = ctx.triggers;
    assert.equal(await dummy.getTrigger(), null);
    await dummy.setTrigger(t0!);
    assert.equal(await dummy.getTrigger(), t0);
    assert.equal(await dummy.attr('current_timestamp_clock').read(), 'realtime');
    await dummy.setTrigger('sysfstrig0');
    assert.equal(await dummy.getTrigger(), sysfs);
    await dummy.setTrigger(t0!.id);
    assert.equal((await dummy.getTrigger())?.name, 't0');
    await dummy.setTrigger(null);
    assert.equal(await dummy.getTrigger(), null);
  });

  test('a trigger that does not exist is ENODEV, and the current one stays', async () => {
    await dummy.setTrigger('t0');
    await assert.rejects(dummy.setTrigger('trigger99'), { code: 'ENODEV', message: /no trigger trigger99/ });
    assert.equal((await dummy.getTrigger())?.name, 't0');
    await dummy.setTrigger(null);
  });
});
