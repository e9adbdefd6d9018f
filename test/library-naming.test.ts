// How the local backend reads sysfs names (kernel-abi §6.1, §6.2), on file trees made in a
// temporary directory and read through the Linux port (plain files, so it runs anywhere): the
// name grammar, extend names, the sharing levels and their precedence, old kernels' layout
// (buffer/ + scan_elements/, a shared _type), events, debugfs registers, triggers. Also the
// attribute value codecs.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { inferExtendName, parseChannelName } from '../src/format/attr-names.js';
import { decodeBigInt, decodeBoolean, decodeNumber, encodeAttrValue } from '../src/core/attr-value.js';
import { parseAvailable } from '../src/core/available.js';
import { Context } from '../src/core/context.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';

describe('file names (kernel-abi §6.2)', () => {
  test('separate, shared by type, by direction, differential, modifiers', () => {
    assert.deepEqual(parseChannelName('in_voltage0_raw'), { level: 'channel', output: false, type: 'voltage', index: 0, rest: 'raw' });
    assert.deepEqual(parseChannelName('out_altvoltage1_TX_LO_frequency'), { level: 'channel', output: true, type: 'altvoltage', index: 1, rest: 'TX_LO_frequency' });
    assert.deepEqual(parseChannelName('in_voltage1-voltage2_raw'), { level: 'channel', output: false, type: 'voltage', index: 1, channel2: 2, rest: 'raw' });
    assert.deepEqual(parseChannelName('in_voltage-voltage_scale'), { level: 'type', output: false, type: 'voltage', differential: true, rest: 'scale' });
    assert.deepEqual(parseChannelName('in_accel_x_raw'), { level: 'channel', output: false, type: 'accel', modifier: 'x', rest: 'raw' });
    assert.deepEqual(parseChannelName('in_accel_x&y&z_mag_rising_value'), { level: 'channel', output: false, type: 'accel', modifier: 'x&y&z', rest: 'mag_rising_value' });
    assert.deepEqual(parseChannelName('in_rot_from_north_magnetic_tilt_comp_raw'), { level: 'channel', output: false, type: 'rot', modifier: 'from_north_magnetic_tilt_comp', rest: 'raw' });
    assert.deepEqual(parseChannelName('in_anglvel_z_raw'), { level: 'channel', output: false, type: 'anglvel', modifier: 'z', rest: 'raw' });
    assert.deepEqual(parseChannelName('in_voltage0_i_raw'), { level: 'channel', output: false, type: 'voltage', index: 0, modifier: 'i', rest: 'raw' });
    assert.deepEqual(parseChannelName('in_voltage0_input'), { level: 'channel', output: false, type: 'voltage', index: 0, rest: 'input' });
    assert.deepEqual(parseChannelName('in_accel_scale'), { level: 'type', output: false, type: 'accel', differential: false, rest: 'scale' });
    assert.deepEqual(parseChannelName('in_temp_raw'), { level: 'type', output: false, type: 'temp', differential: false, rest: 'raw' });
    assert.deepEqual(parseChannelName('in_sampling_frequency'), { level: 'direction', output: false, rest: 'sampling_frequency' });
    assert.deepEqual(parseChannelName('out_scale'), { level: 'direction', output: true, rest: 'scale' });
    // A type the table does not know yet, with a channel number: still a channel.
    assert.deepEqual(parseChannelName('in_newtype3_raw'), { level: 'channel', output: false, type: 'newtype', index: 3, rest: 'raw' });
    for (const other of ['name', 'sampling_frequency', 'ensm_mode', 'in_', 'in_voltage0', 'in_voltage0-current1_raw', 'inx_voltage0_raw']) {
      assert.equal(parseChannelName(other), undefined, other);
    }
  });

  test('extend names from two or more remainders, never a postfix the core knows', () => {
    assert.equal(inferExtendName(['RX_LO_raw', 'RX_LO_frequency', 'RX_LO_powerdown']), 'RX_LO');
    assert.equal(inferExtendName(['vccint_raw', 'vccint_scale']), 'vccint');
    assert.equal(inferExtendName(['sampling_frequency', 'sampling_frequency_available']), undefined);
    assert.equal(inferExtendName(['rf_bandwidth', 'rf_bandwidth_available', 'rf_port_select']), undefined);
    assert.equal(inferExtendName(['raw', 'scale']), undefined);
    assert.equal(inferExtendName(['RX_LO_frequency']), undefined);
    assert.equal(inferExtendName(['x_raw', 'label']), undefined);
  });
});

describe('attribute values', () => {
  test('writes in the kernel\'s text forms', () => {
    assert.deepEqual(
      [42, -7, 0.5, -0.25, 1e-7, 1.5e-9, 2.4e9, 1e21, -0, 12n, -3n, true, false, ' as is\n'].map(encodeAttrValue),
      ['42', '-7', '0.5', '-0.25', '0.0000001', '0.0000000015', '2400000000', '1000000000000000000000', '0', '12', '-3', '1', '0', ' as is\n'],
    );
  });

  test('reads: numbers with units, hex, big integers, booleans; errors name the attribute', () => {
    assert.equal(decodeNumber('71.000000 dB', 'a'), 71);
    assert.equal(decodeNumber('-0.000001344', 'a'), -0.000001344);
    assert.equal(decodeNumber('0x1F', 'a'), 31);
    assert.equal(decodeNumber('-0x10', 'a'), -16);
    assert.equal(decodeNumber('1e3', 'a'), 1000);
    assert.throws(() => decodeNumber('1 2 3', 'attribute "x"'), { code: 'ERR_IIOJS_ATTR_FORMAT', message: /attribute "x": expected a number, read "1 2 3"/ });
    assert.throws(() => decodeNumber('', 'a'), { code: 'ERR_IIOJS_ATTR_FORMAT' });
    assert.equal(decodeBigInt('18446744073709551615', 'a'), 18446744073709551615n);
    assert.equal(decodeBigInt('-0x10', 'a'), -16n);
    assert.throws(() => decodeBigInt('1.5', 'a'), { code: 'ERR_IIOJS_ATTR_FORMAT' });
    assert.deepEqual(['1', '0', '2', 'Y', 'n', 'on', 'off', 'true', 'False'].map((t) => decodeBoolean(t, 'a')), [true, false, true, true, false, true, false, true, false]);
    assert.throws(() => decodeBoolean('maybe', 'a'), { code: 'ERR_IIOJS_ATTR_FORMAT' });
  });

  test('_available: lists and [min step max] ranges', () => {
    assert.deepEqual(parseAvailable('12.500000 25 50', 'a'), { kind: 'list', values: ['12.500000', '25', '50'] });
    assert.deepEqual(parseAvailable('', 'a'), { kind: 'list', values: [] });
    assert.deepEqual(parseAvailable('[0 0.000001 0.5]', 'a'), { kind: 'range', min: 0, step: 0.000001, max: 0.5 });
    assert.deepEqual(parseAvailable('[ -10 2 10 ]\n', 'a'), { kind: 'range', min: -10, step: 2, max: 10 });
    assert.throws(() => parseAvailable('[1 2]', 'a'), { code: 'ERR_IIOJS_ATTR_FORMAT', message: /\[min step max\]/ });
    assert.throws(() => parseAvailable('[a b c]', 'a'), { code: 'ERR_IIOJS_ATTR_FORMAT' });
  });
});

// ---- trees in a temporary directory ----

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Makes `files` (path → content, or [content, mode]) under a fresh root; returns a context over it. */
async function treeContext(files: Record<string, string | [string, number]>): Promise<{ ctx: Context; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'iiojs-sysfs-'));
  roots.push(root);
  for (const [path, spec] of Object.entries(files)) {
    const [content, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    chmodSync(full, mode);
  }
  const ctx = await Context.open(new LocalBackend(new LinuxKernel(), { sysfs: join(root, 'sys'), procfs: join(root, 'proc'), uri: 'local:' }));
  return { ctx, root };
}

const D = 'sys/bus/iio/devices/iio:device0';

describe('a device on a kernel before 5.11: buffer/ and scan_elements/ only', () => {
  test('buffer 0 from the legacy groups, a shared _type, direction from the channels', async () => {
    const { ctx } = await treeContext({
      [`${D}/name`]: 'old-adc\n',
      [`${D}/in_voltage0_raw`]: '1\n',
      [`${D}/in_voltage1_raw`]: '2\n',
      [`${D}/in_voltage_scale`]: '0.5\n',
      [`${D}/buffer/length`]: '128\n',
      [`${D}/buffer/enable`]: '0\n',
      [`${D}/scan_elements/in_voltage0_en`]: '0\n',
      [`${D}/scan_elements/in_voltage0_index`]: ['0\n', 0o444],
      [`${D}/scan_elements/in_voltage1_en`]: '0\n',
      [`${D}/scan_elements/in_voltage1_index`]: ['1\n', 0o444],
      [`${D}/scan_elements/in_voltage_type`]: ['be:u12/16>>4\n', 0o444],
      [`${D}/scan_elements/in_timestamp_en`]: '0\n',
      [`${D}/scan_elements/in_timestamp_index`]: ['2\n', 0o444],
      [`${D}/scan_elements/in_timestamp_type`]: ['le:s64/64>>0\n', 0o444],
      'proc/sys/kernel/osrelease': '5.4.0\n',
    });
    const dev = ctx.device('old-adc');
    assert.deepEqual(dev.channels.map((c) => [c.id, c.scanElement?.index, c.scanElement?.type.endianness, c.scanElement?.type.realBits]), [
      ['voltage0', 0, 'be', 12], ['voltage1', 1, 'be', 12], ['timestamp', 2, 'le', 64],
    ]);
    assert.deepEqual(dev.buffers.map((b) => [b.index, b.direction, [...b.attrs.keys()], b.channels.length]), [[0, 'in', ['enable', 'length'], 3]]);
    assert.equal(dev.channel('voltage1').scanElement?.scale, 0.5);
    assert.equal(ctx.attr('local,kernel').staticValue, '5.4.0');
    await ctx.close();
  });
});

describe('names the kernel makes for real drivers', () => {
  test('extend names, sharing levels and their precedence, unindexed channels, events', async () => {
    const { ctx } = await treeContext({
      [`${D}/name`]: 'mixed\n',
      [`${D}/label`]: 'board-adc\n',
      [`${D}/dev`]: ['253:0\n', 0o444],
      [`${D}/uevent`]: 'MAJOR=253\n',
      [`${D}/sampling_frequency`]: '1000\n',
      [`${D}/sampling_frequency_available`]: ['500 1000\n', 0o444],
      [`${D}/in_scale`]: '0.25\n',
      [`${D}/in_out_voltage_filter_fir_en`]: '0\n',
      [`${D}/in_voltage0_vccint_raw`]: '10\n',
      [`${D}/in_voltage0_vccint_scale`]: '0.75\n',
      [`${D}/in_voltage1_RX_raw`]: '11\n',
      [`${D}/in_voltage1_RX_hardwaregain`]: '71.000000 dB\n',
      [`${D}/buffer0/in_voltage1_RX_en`]: '0\n',
      [`${D}/buffer0/in_voltage1_RX_index`]: ['0\n', 0o444],
      [`${D}/buffer0/in_voltage1_RX_type`]: ['le:s16/16>>0\n', 0o444],
      [`${D}/buffer0/length`]: '64\n',
      [`${D}/buffer0/direction`]: ['in\n', 0o444],
      [`${D}/in_voltage2_rf_bandwidth`]: '18000000\n',
      [`${D}/in_voltage2_rf_bandwidth_available`]: ['[200000 1 56000000]\n', 0o444],
      [`${D}/in_voltage2_rf_port_select`]: 'A_BALANCED\n',
      [`${D}/in_voltage_sampling_frequency`]: '2000\n',
      [`${D}/in_temp_input`]: '23000\n',
      [`${D}/in_temp_offset`]: '-5\n',
      [`${D}/in_temp_object_raw`]: '100\n',
      [`${D}/in_rot_from_north_magnetic_tilt_comp_raw`]: '90\n',
      [`${D}/out_altvoltage0_frequency`]: '1000000\n',
      [`${D}/out_altvoltage0_phase`]: '0\n',
      [`${D}/events/in_voltage0_vccint_thresh_rising_value`]: '5\n',
      [`${D}/events/in_accel_x&y&z_mag_rising_en`]: '0\n',
      [`${D}/events/in_temp_thresh_rising_value`]: '30000\n',
      [`${D}/events/sampling_frequency`]: '10\n',
      [`${D}/power/runtime_status`]: ['unsupported\n', 0o444],
    });
    const dev = ctx.device('board-adc');
    assert.equal(dev.name, 'mixed');
    assert.equal(dev.label, 'board-adc');
    const line = (id: string, dir: 'in' | 'out' = 'in'): string[] => {
      const c = dev.channel(id, dir);
      return [...c.attrs.values()].map((a) => `${a.name}=${a.filename}:${a.shared}`);
    };
    // Scan elements first; then inputs, then outputs, by id.
    assert.deepEqual(dev.channels.map((c) => `${c.direction} ${c.id}${c.name === undefined ? '' : `/${c.name}`}`), [
      'in voltage1/RX', 'in accel_x&y&z', 'in rot_from_north_magnetic_tilt_comp', 'in temp', 'in temp_object', 'in voltage0/vccint',
      'in voltage2', 'out altvoltage0',
    ]);
    assert.deepEqual(line('voltage0'), [
      'raw=in_voltage0_vccint_raw:separate', 'sampling_frequency=in_voltage_sampling_frequency:type',
      'sampling_frequency_available=sampling_frequency_available:all', 'scale=in_voltage0_vccint_scale:separate',
    ]);
    assert.deepEqual(line('RX'), [
      'hardwaregain=in_voltage1_RX_hardwaregain:separate', 'raw=in_voltage1_RX_raw:separate',
      'sampling_frequency=in_voltage_sampling_frequency:type', 'sampling_frequency_available=sampling_frequency_available:all', 'scale=in_scale:direction',
    ]);
    assert.equal(await dev.channel('RX').attr('hardwaregain').readNumber(), 71);
    assert.deepEqual(line('voltage2').slice(0, 3), [
      'rf_bandwidth=in_voltage2_rf_bandwidth:separate', 'rf_bandwidth_available=in_voltage2_rf_bandwidth_available:separate',
      'rf_port_select=in_voltage2_rf_port_select:separate',
    ]);
    assert.deepEqual(await dev.channel('voltage2').attr('rf_bandwidth').available(), { kind: 'range', min: 200000, step: 1, max: 56000000 });
    // in_temp_offset is the unindexed temp channel's own; temp_object gets the direction's scale only.
    assert.deepEqual(line('temp'), [
      'input=in_temp_input:separate', 'offset=in_temp_offset:separate', 'sampling_frequency=sampling_frequency:all',
      'sampling_frequency_available=sampling_frequency_available:all', 'scale=in_scale:direction',
    ]);
    assert.equal(dev.channel('temp_object').attrs.has('offset'), false);
    assert.deepEqual([dev.channel('rot_from_north_magnetic_tilt_comp').modifier, dev.channel('temp_object').modifier], ['from_north_magnetic_tilt_comp', 'object']);
    assert.deepEqual(line('altvoltage0', 'out'), [
      'frequency=out_altvoltage0_frequency:separate', 'phase=out_altvoltage0_phase:separate',
      'sampling_frequency=sampling_frequency:all', 'sampling_frequency_available=sampling_frequency_available:all',
    ]);
    // Device attributes: the device-wide ones stay; unknown in_ names are the device's; identity files are not attributes.
    assert.deepEqual([...dev.attrs.keys()], ['in_out_voltage_filter_fir_en', 'sampling_frequency', 'sampling_frequency_available']);
    // Events: by channel (with the extend name taken off), shared by nobody, device-level.
    assert.deepEqual([...dev.channel('vccint').eventAttrs.keys()], ['thresh_rising_value']);
    assert.deepEqual([...dev.channel('accel_x&y&z').eventAttrs.keys()], ['mag_rising_en']);
    assert.deepEqual([...dev.channel('temp').eventAttrs.keys()], ['thresh_rising_value']);
    assert.deepEqual([...dev.eventAttrs.keys()], ['sampling_frequency']);
    assert.deepEqual([...dev.channel('accel_x&y&z').attrs.values()].filter((a) => a.shared === 'separate'), []);
    await ctx.close();
  });

  test('triggers, write-only files, debugfs registers, symlinks', async () => {
    const { ctx, root } = await treeContext({
      [`${D}/name`]: 'regs\n',
      [`${D}/in_voltage0_raw`]: '1\n',
      [`${D}/trigger/current_trigger`]: '\n',
      'sys/bus/iio/devices/trigger0/name': ['tick\n', 0o444],
      'sys/bus/iio/devices/trigger0/trigger_now': ['', 0o200],
      'sys/kernel/debug/iio/iio:device0/direct_reg_access': '0x0\n',
    });
    symlinkSync('../../bus/iio', join(root, D, 'subsystem'));
    const dev = ctx.device('regs');
    const tick = ctx.device('tick');
    assert.deepEqual([tick.isTrigger, tick.attr('trigger_now').readable, tick.attr('trigger_now').writable], [true, false, true]);
    assert.equal(await dev.getTrigger(), null);
    await dev.setTrigger(tick);
    assert.equal(readFileSync(join(root, D, 'trigger/current_trigger'), 'utf8'), 'tick');
    assert.equal(await dev.getTrigger(), tick);
    // A plain file echoes what the backend writes: the select-then-read protocol of direct_reg_access.
    assert.equal(await dev.registers.read(0x10), 0x10);
    await dev.registers.write(0x10, 0xabc);
    assert.equal(readFileSync(join(root, 'sys/kernel/debug/iio/iio:device0/direct_reg_access'), 'utf8'), '0x10 0xabc');
    await ctx.close();
  });
});
