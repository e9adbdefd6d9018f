// SigMF in the CLI: `iio read -f sigmf -o NAME` writes a pair that SigMF's own schema accepts,
// with the samples, rate, LO, hardware and IIO formats; formats SigMF lacks are converted and the
// conversion recorded; `iio write -f sigmf -i NAME` plays a recording (heard by the receiver).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { iio, oneLineError, spawnIio } from './support/cli.js';
import { startIio } from './support/scope.js';
import { checkRamp, sigmfSchemaErrors } from './support/sigmf-schema.js';

const dir = mkdtempSync(join(tmpdir(), 'iiojs-sigmf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function recording(name: string): { meta: any; data: Buffer } {
  return { meta: JSON.parse(readFileSync(join(dir, `${name}.sigmf-meta`), 'utf8')), data: readFileSync(join(dir, `${name}.sigmf-data`)) };
}

test('iio read -f sigmf: the ramp as ri16_le, valid against the SigMF schema, holding the ramp', () => {
  const run = iio(['read', '-u', 'sim:', '-s', '12000', '-f', 'sigmf', '-o', 'ramp', 'adc4', 'voltage2'], '', dir);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.length, 0, 'the recording goes to its files, not stdout');
  const { meta, data } = recording('ramp');
  assert.deepEqual(sigmfSchemaErrors(meta), []);
  const g = meta.global;
  assert.equal(g['core:datatype'], 'ri16_le');
  assert.equal(g['core:version'], '1.2.5');
  assert.equal(g['core:sample_rate'], 1_000_000);
  assert.equal(g['core:num_channels'], 1);
  assert.match(g['core:hw'], /^iiojs-adc4 \(adc4\), iio:device0 of /);
  assert.deepEqual(g['core:extensions'], [{ name: 'iiojs', version: '0.1.0', optional: true }]);
  assert.deepEqual(g['iiojs:channels'], [{ id: 'voltage2', format: 'le:s16/16>>0', scale: 0.030517578, offset: 0 }]);
  assert.equal(g['iiojs:conversions'], undefined, 'le:s16/16>>0 is ri16_le as it is');
  assert.equal(meta.captures[0]['core:sample_start'], 0);
  assert.match(meta.captures[0]['core:datetime'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(meta.captures[0]['core:frequency'], undefined, 'adc4 has no LO');
  assert.equal(data.length, 12000 * 2);
  const samples = new Int16Array(data.buffer, data.byteOffset, data.length / 2);
  const starts = [...meta.captures.map((c: any) => c['core:sample_start']), samples.length];
  for (let i = 0; i + 1 < starts.length; i++) checkRamp(samples.subarray(starts[i], starts[i + 1]));
});

test('iio read -f sigmf: I/Q pairs are complex (ci16_le) with the RX LO as core:frequency', () => {
  const run = iio(['read', '-u', 'sim:', '-s', '4000', '-f', 'sigmf', '-o', 'iq', 'rx', 'voltage0_i', 'voltage0_q'], '', dir);
  assert.equal(run.status, 0, run.stderr);
  const { meta, data } = recording('iq');
  assert.deepEqual(sigmfSchemaErrors(meta), []);
  assert.equal(meta.global['core:datatype'], 'ci16_le');
  assert.equal(meta.global['core:num_channels'], 1);
  assert.equal(meta.global['core:sample_rate'], 2_000_000);
  assert.equal(meta.captures[0]['core:frequency'], 2_400_000_000, "the PHY's RX_LO (altvoltage0 of trx)");
  assert.equal(data.length, 4000 * 4, 'ci16_le: 4 bytes a complex sample');
});

test('iio read -f sigmf: be:s12/16>>4 becomes ri16_le, sign-extended and shifted, and the conversion is recorded', () => {
  const run = iio(['read', '-u', 'sim:', '-s', '5', '-f', 'sigmf', '-o', 'accel', 'sensor', 'accel_x', 'accel_y', 'accel_z'], '', dir);
  assert.equal(run.status, 0, run.stderr);
  const { meta, data } = recording('accel');
  assert.deepEqual(sigmfSchemaErrors(meta), []);
  assert.equal(meta.global['core:datatype'], 'ri16_le');
  assert.equal(meta.global['core:num_channels'], 3);
  assert.equal(meta.global['core:sample_rate'], 100);
  assert.deepEqual(meta.global['iiojs:conversions'], ['accel_x', 'accel_y', 'accel_z'].map((c) =>
    `${c}: be:s12/16>>4 -> ri16_le (shifted right by 4, sign-extended from 12 to 16 bits, byte-swapped to little-endian)`));
  assert.equal(meta.global['iiojs:channels'][0].format, 'be:s12/16>>4');
  const values = new Int16Array(data.buffer, data.byteOffset, data.length / 2);
  assert.equal(values.length, 15);
  for (const v of values) assert.ok(v >= -2048 && v <= 2047, `${v} is a 12-bit value`);
  // accel_z is about 1 g: 1002 raw in the scenario (scale 0.00980665 m/s² per count).
  assert.ok(Math.abs(values[2]! - 1000) < 50, `accel_z ${values[2]}`);
});

test('iio read -f sigmf: usage errors', () => {
  oneLineError(iio(['read', '-u', 'sim:', '-f', 'sigmf', 'adc4'], '', dir), 2, /-f sigmf needs -o <name>/);
  oneLineError(iio(['read', '-u', 'sim:', '-o', 'x', 'adc4'], '', dir), 2, /-o\/--output is for -f sigmf/);
  oneLineError(iio(['read', '-u', 'sim:', '-s', '4', '-f', 'sigmf', '-o', 'ts', 'adc4', 'timestamp'], '', dir), 1, /SigMF has no integer type wider than 32 bits for timestamp \(le:s64\/64>>0\)/);
});

test('iio write -f sigmf plays a recording: the receiver hears it', async () => {
  // One block: the ramp has no gap.
  const made = iio(['read', '-u', 'sim:', '-s', '4000', '-b', '4000', '-f', 'sigmf', '-o', 'two', 'adc4', 'voltage1', 'voltage2'], '', dir);
  assert.equal(made.status, 0, made.stderr);
  const wrong = iio(['write', '-u', 'sim:', '-f', 'sigmf', '-i', join(dir, 'ramp'), 'tx'], '', dir);
  oneLineError(wrong, 1, /ramp\.sigmf-meta holds 1 channel\(s\); buffer0 of iio:device4 \(iiojs-trx-tx\) plays 2/);
  oneLineError(iio(['write', '-u', 'sim:', '-f', 'sigmf', 'tx'], '', dir), 2, /-f sigmf needs -i <name>/);
  // One context for the transmitter and the receiver: iio serve; the recording plays cyclic.
  const server = await startIio(['serve', '-u', 'sim:', '-p', '0']);
  const uri = `ip:${/127\.0\.0\.1:\d+/.exec(server.line)![0]}`;
  try {
    const child = spawnIio(['write', '-u', uri, '-c', '-b', '4000', '-f', 'sigmf', '-i', join(dir, 'two'), 'tx']);
    try {
      // The receiver hears the transmitter once it plays: until then its I/Q are 0.
      let q: Int16Array | undefined;
      for (let attempt = 0; attempt < 50 && q === undefined; attempt++) {
        const rx = iio(['read', '-u', uri, '-s', '8000', '-b', '8000', 'rx', 'voltage0_i', 'voltage0_q']);
        assert.equal(rx.status, 0, rx.stderr);
        const all = new Int16Array(rx.stdout.buffer, rx.stdout.byteOffset, rx.stdout.length / 2);
        const heard = all.filter((_, i) => i % 2 === 1);
        if (heard.some((v) => v !== 0)) q = heard;
      }
      assert.ok(q !== undefined, 'the receiver heard the recording');
      // Q played voltage2 of the recording: the ramp, from wherever the receiver's block began.
      checkRamp(q);
    } finally {
      child.kill('SIGINT');
    }
  } finally {
    await server.stop();
  }
});

test('iio write -f sigmf: a recording that is not one is refused with its reason', () => {
  writeFileSync(join(dir, 'bad.sigmf-meta'), JSON.stringify({ global: { 'core:datatype': 'ri12_le', 'core:version': '1.2.5' }, captures: [], annotations: [] }));
  writeFileSync(join(dir, 'bad.sigmf-data'), Buffer.alloc(8));
  oneLineError(iio(['write', '-u', 'sim:', '-f', 'sigmf', '-i', 'bad', 'tx'], '', dir), 1, /EINVAL: .*bad\.sigmf-meta is not a SigMF recording iio can play: "ri12_le" is no SigMF datatype/);
  writeFileSync(join(dir, 'odd.sigmf-meta'), JSON.stringify({ global: { 'core:datatype': 'ci16_le', 'core:version': '1.2.5' }, captures: [], annotations: [] }));
  writeFileSync(join(dir, 'odd.sigmf-data'), Buffer.alloc(4 * 10 + 3));
  oneLineError(iio(['write', '-u', 'sim:', '-f', 'sigmf', '-i', 'odd', 'tx'], '', dir), 1, /odd\.sigmf-data ends inside a sample: its last 3 bytes/);
});
