// `iio attr`, the real binary on the sim: listings and values as the library reads them, each
// kind of attribute (-d -c -B -D -C), filters, wildcards, writes read back by the kernel, and
// bad input.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openContext } from '../src/open.js';
import { iio, oneLineError, probeUri, ScenarioFiles } from './support/cli.js';

const files = new ScenarioFiles();
after(() => files.cleanup());
const PROBE = probeUri(files);

const attr = (...args: string[]) => iio(['attr', ...args]);
const lines = (run: { stdout: Buffer }): string[] => run.stdout.toString().trimEnd().split('\n');

function ok(run: ReturnType<typeof attr>): string[] {
  assert.equal(run.stderr, '');
  assert.equal(run.status, 0);
  return lines(run);
}

test('-d without a device lists the devices and their attribute counts', async () => {
  await using ctx = await openContext('sim:');
  assert.deepEqual(ok(attr('-u', 'sim:', '-d')), ctx.allDevices.map((d) => `${d.id}: ${d.name}, ${d.attrs.size} device attributes`));
});

test('-d <device>: every device attribute and its value, as the library reads them', async () => {
  await using ctx = await openContext('sim:');
  const trx = ctx.device('trx');
  const expected = await Promise.all([...trx.attrs.values()].map(async (a) => `dev 'iiojs-trx', attr '${a.name}', value '${await a.read()}'`));
  assert.deepEqual(ok(attr('-u', 'sim:', '-d', 'trx')), expected);
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-d', 'iio:device1', 'ensm_mode')), ['fdd']);
});

test('-c: channels of a device, then one channel\'s attributes; -i/-o/-s filter, -I ignores case', () => {
  assert.deepEqual(ok(attr('-u', 'sim:', '-c', '-s', '-o', 'tx')), [
    "dev 'iiojs-trx-tx', channel voltage0_i (output, index: 0, format: le:S16/16>>0): 3 attributes",
    "dev 'iiojs-trx-tx', channel voltage0_q (output, index: 1, format: le:S16/16>>0): 3 attributes",
  ]);
  assert.deepEqual(ok(attr('-u', 'sim:', '-c', '-o', 'trx', 'RX_LO')), [
    "dev 'iiojs-trx', channel 'altvoltage0' (output), id 'RX_LO', attr 'frequency', value '2400000000'",
    "dev 'iiojs-trx', channel 'altvoltage0' (output), id 'RX_LO', attr 'powerdown', value '0'",
    "dev 'iiojs-trx', channel 'altvoltage0' (output), id 'RX_LO', attr 'raw', value '0'",
    "dev 'iiojs-trx', channel 'altvoltage0' (output), id 'RX_LO', attr 'sampling_frequency', value '2000000'",
    "dev 'iiojs-trx', channel 'altvoltage0' (output), id 'RX_LO', attr 'sampling_frequency_available', value '500000 1000000 2000000 4000000'",
  ]);
  assert.deepEqual(ok(attr('-u', PROBE, '-q', '-c', 'DUMMY0', 'VOLTAGE0', 'RAW', '-I')), ['73', '0']);
  assert.deepEqual(ok(attr('-u', PROBE, '-q', '-i', '-c', 'dummy0', 'voltage0', 'raw')), ['73']);
});

test('wildcards: * within a name, . for anything', () => {
  assert.deepEqual(ok(attr('-u', PROBE, '-q', '-c', 'dummy0', 'voltage*', 'raw')), ['73', '33', '-34', '0']);
  const frequencies = ok(attr('-u', PROBE, '-c', 'dummy0', '.', '*_frequency'));
  assert.equal(frequencies.length, 7, 'every input channel of dummy0 (the output has none)');
  for (const line of frequencies) assert.match(line, /^dev 'dummy0', channel '[\w-]+' \(input\), attr 'sampling_frequency', value '3.000000033'$/);
  assert.deepEqual(ok(attr('-u', PROBE, '-q', '-B', '*', 'length')), ['2', '4096']);
});

test('a write is read back from the kernel; negative values are operands; -w skips the read back', () => {
  assert.deepEqual(ok(attr('-u', PROBE, '-c', 'dummy0', 'accel_x', 'calibbias', '-3')), ["dev 'dummy0', channel 'accel_x' (input), attr 'calibbias', value '-3'"]);
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-d', 'adc4', 'sampling_frequency', '250000')), ['250000']);
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-d', 'trx', 'ensm_mode', 'alert')), ['alert'], 'one of ensm_mode_available');
  const writeOnly = attr('-u', 'sim:', '-w', '-d', 'adc4', 'sampling_frequency', '250000');
  assert.equal(writeOnly.status, 0, writeOnly.stderr);
  assert.equal(writeOnly.stdout.length, 0);
});

test('-B (with -b), -D and -C', async () => {
  await using ctx = await openContext('sim:');
  const tx = ctx.device('tx').buffer(0);
  assert.deepEqual(ok(attr('-u', 'sim:', '-B', '-b', '0', 'tx')), await Promise.all([...tx.attrs.values()].map(async (a) => `dev 'iiojs-trx-tx', buffer 0, attr '${a.name}', value '${await a.read()}'`)));
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-B', 'rx', 'direction')), ['in']);
  assert.deepEqual(ok(attr('-u', 'sim:', '-D', 'trx')), ["dev 'iiojs-trx', debug attr 'direct_reg_access', value '0x0'"]);
  assert.deepEqual(ok(attr('-u', 'sim:', '-C')), ['local,kernel: 6.12.0-iiojs-sim', 'uri: sim:']);
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-C', 'uri')), ['sim:']);
  assert.deepEqual(ok(attr('-u', PROBE, '-d', 'sysfstrig0')), ["dev 'sysfstrig0', attr 'trigger_now', value (write-only)"]);
});

const bad: Array<[string, string[], number, RegExp]> = [
  ['a value the driver refuses', ['-u', 'sim:', '-d', 'adc4', 'sampling_frequency', '3'], 1,
    /^iio: EINVAL: invalid argument, write '.*\/sampling_frequency': 3 Hz is not available \(attribute "sampling_frequency" of iio:device0 \(iiojs-adc4\), value "3"\)$/],
  ['an unknown attribute', ['-u', 'sim:', '-d', 'adc4', 'nope'], 1,
    /^iio: no device attribute matches "nope" \(there are: current_timestamp_clock, sampling_frequency, sampling_frequency_available\)$/],
  ['an unknown device', ['-u', 'sim:', '-d', 'nope'], 1, /^iio: no device matches "nope" \(there are: iio:device0 \(iiojs-adc4\), /],
  ['an unknown channel', ['-u', 'sim:', '-c', 'adc4', 'voltage9'], 1, /^iio: no channel of iio:device0 \(iiojs-adc4\) matches "voltage9" \(there are: voltage0 \(in\), /],
  ['a missing buffer', ['-u', 'sim:', '-B', '-b', '3', 'adc4'], 1, /^iio: iio:device0 \(iiojs-adc4\) has no buffer 3$/],
  ['an ambiguous write', ['-u', PROBE, '-c', 'dummy0', 'voltage0', 'raw', '5'], 1, /^iio: 2 attributes match, a write needs exactly one: .*\(narrow it with -i\/-o or the device id\)$/],
  ['a read-only attribute', ['-u', 'sim:', '-d', 'trx', 'ensm_mode_available', 'x'], 1, /^iio: EACCES: /],
  ['a value its _available does not list', ['-u', 'sim:', '-d', 'trx', 'ensm_mode', 'bogus'], 1,
    /^iio: EINVAL: invalid argument, write '.*\/iio:device1\/ensm_mode': "bogus" is not in ensm_mode_available: sleep wait alert fdd pinctrl \(attribute "ensm_mode" of iio:device1 \(iiojs-trx\), value "bogus"\)$/],
  ['a context attribute write', ['-u', 'sim:', '-C', 'uri', 'x'], 2, /^iio: unexpected argument "x"/],
  ['a wildcard write', ['-u', 'sim:', '-d', 'adc*', 'sampling_frequency', '250000'], 2, /^iio: cannot write a value with a wildcard match/],
  ['no attribute kind', ['-u', 'sim:', 'adc4'], 2, /^iio: give one of -d, -c, -B, -D, -C, -E or -e \(see 'iio attr --help'\)$/],
  ['two attribute kinds', ['-u', 'sim:', '-d', '-c'], 2, /^iio: the options -d, -c, -B, -D, -C, -E and -e exclude each other/],
  ['a channel filter without -c', ['-u', 'sim:', '-d', '-i', 'adc4'], 2, /^iio: -i, -o and -s filter channels: use them with -c/],
  ['too many operands', ['-u', 'sim:', '-d', 'adc4', 'a', 'b', 'c'], 2, /^iio: unexpected argument "c"/],
  ['an unknown option', ['-u', 'sim:', '-d', '-z'], 2, /^iio: unknown option '-z'/],
];
for (const [what, args, status, message] of bad) {
  test(`bad input, ${what}: exit ${status} with one line on stderr`, () => {
    oneLineError(attr(...args), status, message);
  });
}

test('-e: channel event attributes (listing, values, a write read back); -E: the device\'s own', async () => {
  assert.deepEqual(ok(attr('-u', 'sim:', '-e', '-s', 'sensor')), [
    "dev 'iiojs-sensor', channel temp (input, index: 0, format: le:S16/16>>0): 2 event attributes",
    "dev 'iiojs-sensor', channel accel_x (input, index: 1, format: be:s12/16>>4): 0 event attributes",
    "dev 'iiojs-sensor', channel accel_y (input, index: 2, format: be:s12/16>>4): 0 event attributes",
    "dev 'iiojs-sensor', channel accel_z (input, index: 3, format: be:s12/16>>4): 0 event attributes",
    "dev 'iiojs-sensor', channel timestamp (input, index: 4, format: le:S64/64>>0): 0 event attributes",
  ]);
  await using ctx = await openContext('sim:');
  const temp = ctx.device('sensor').channel('temp');
  const expected = await Promise.all([...temp.eventAttrs.values()].map(async (a) => `dev 'iiojs-sensor', channel 'temp' (input), event attr '${a.name}', value '${await a.read()}'`));
  assert.deepEqual(ok(attr('-u', 'sim:', '-e', 'sensor', 'temp')), expected);
  assert.deepEqual(ok(attr('-u', 'sim:', '-q', '-e', 'sensor', 'temp', 'thresh_rising_value', '2500')), ['2500']);
  const bad = attr('-u', 'sim:', '-e', 'sensor', 'temp', 'thresh_rising_en', 'maybe');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr.toString(), /^iio: .*thresh_rising_en.*\n$/);
  assert.deepEqual(ok(attr('-u', 'sim:', '-E')), ctx.allDevices.map((d) => `${d.id}: ${d.name}, ${d.eventAttrs.size} event attributes`));
  const misuse = attr('-u', 'sim:', '-E', '-i', 'sensor');
  assert.equal(misuse.status, 2);
  assert.match(misuse.stderr.toString(), /-i, -o and -s filter channels: use them with -c or -e/);
});
