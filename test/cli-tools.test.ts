// `iio reg`, `iio genxml` and `iio bench`, the real binary on the sim (a register write is read
// back by a second command in the same process: test/support/cli-session-child.ts).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { openContext } from '../src/open.js';
import { iio, oneLineError, probeUri, ScenarioFiles, session } from './support/cli.js';

const files = new ScenarioFiles();
after(() => files.cleanup());
const PROBE = probeUri(files);

test('reg: a register in hex, as the library reads it', async () => {
  await using ctx = await openContext('sim:');
  const run = iio(['reg', '-u', 'sim:', 'trx', '0x37']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.toString(), `0x${(await ctx.device('trx').registers.read(0x37)).toString(16)}\n`);
  assert.equal(run.stdout.toString(), '0xa\n');
});

test('reg: a write (silent) is what the next read finds', () => {
  const run = session({ uri: 'sim:', steps: [{ argv: ['reg', '-u', 'sim:', 'trx', '55', '0x1F'] }, { argv: ['reg', '-u', 'sim:', 'iio:device1', '0x37'] }] });
  assert.deepEqual(run.steps.map((s) => [s.status, s.stdout.toString(), s.stderr]), [[0, '', ''], [0, '0x1f\n', '']]);
});

const badReg: Array<[string, string[], number, RegExp]> = [
  ['a device without register access', ['adc4', '0'], 1, /^iio: iio:device0 \(iiojs-adc4\): no register access \(no direct_reg_access debug attribute\)$/],
  ['an unknown device', ['nope', '0'], 1, /^iio: ENODEV: .*has no device "nope"/],
  ['a bad address', ['trx', '0xg'], 2, /^iio: <address> must be a 32-bit unsigned number \(decimal or 0x hex\), got "0xg" \(see 'iio reg --help'\)$/],
  ['a value beyond 32 bits', ['trx', '1', '0x100000000'], 2, /^iio: <value> must be a 32-bit unsigned number/],
  ['a negative value', ['trx', '1', '-1'], 2, /^iio: <value> must be a 32-bit unsigned number/],
  ['no address', ['trx'], 2, /^iio: missing <device> and <address>/],
  ['too many operands', ['trx', '1', '2', '3'], 2, /^iio: unexpected argument "3"/],
];
for (const [what, args, status, message] of badReg) {
  test(`reg, bad input, ${what}: exit ${status}`, () => oneLineError(iio(['reg', '-u', 'sim:', ...args]), status, message));
}

test('genxml: the library\'s XML, with values under -e', async () => {
  await using ctx = await openContext(PROBE);
  const plain = iio(['genxml', '-u', PROBE]);
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.stdout.toString(), `${ctx.toXml()}\n`);
  const values = iio(['genxml', '-u', PROBE, '-e']);
  assert.equal(values.status, 0, values.stderr);
  assert.equal(values.stdout.toString(), `${await ctx.toXmlWithValues()}\n`);
  assert.match(values.stdout.toString(), /<attribute name="raw" filename="in_voltage0_raw" value="73" \/>/);
  oneLineError(iio(['genxml', '-u', PROBE, 'dummy0']), 2, /^iio: unexpected argument "dummy0"/);
});

interface BenchResult {
  device: string; name: string; buffer: number; direction: string; mode: string; channels: string[];
  scanBytes: number; blockSize: number; blocks: number;
  passes: Array<{ name: string; samples: number; bytes: number; seconds: number; bytesPerSecond: number; samplesPerSecond: number }>;
}

function benchJson(args: string[]): BenchResult {
  const run = iio(['bench', '--json', ...args]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  return JSON.parse(run.stdout.toString()) as BenchResult;
}

function assertPasses(result: BenchResult, samples: number): void {
  assert.deepEqual(result.passes.map((p) => p.name), ['untouched', 'touched']);
  for (const p of result.passes) {
    assert.equal(p.samples, samples, p.name);
    assert.equal(p.bytes, samples * result.scanBytes);
    assert.ok(p.seconds > 0);
    assert.equal(p.bytesPerSecond, p.bytes / p.seconds);
    assert.equal(p.samplesPerSecond, p.samples / p.seconds);
  }
}

test('bench: capture in DMABUF and file I/O mode, whole blocks after the first until -s', () => {
  for (const mode of ['dmabuf', 'fileio']) {
    const result = benchJson(['-u', PROBE, '--mode', mode, '-s', '20000', '-b', '4096', 'vadc-dma']);
    assert.deepEqual({ ...result, passes: [] }, {
      device: 'iio:device1', name: 'vadc-dma', buffer: 0, direction: 'in', mode, channels: ['voltage0', 'voltage1'],
      scanBytes: 4, blockSize: 4096, blocks: 4, passes: [],
    });
    assertPasses(result, 5 * 4096);
  }
});

test('bench: playback (an output buffer), and write -B', () => {
  const result = benchJson(['-u', 'sim:', '-s', '8192', '-b', '2048', 'tx']);
  assert.equal(result.direction, 'out');
  assert.equal(result.mode, 'dmabuf');
  assertPasses(result, 8192);
  const viaWrite = iio(['write', '-u', 'sim:', '-B', '-s', '4096', '-b', '2048', 'tx']);
  assert.equal(viaWrite.status, 0, viaWrite.stderr);
  assert.match(viaWrite.stdout.toString(), /^buffer0 of iio:device4 \(iiojs-trx-tx\): voltage0_i, voltage0_q \(4 bytes per sample\), 4 blocks of 2048 samples, mode dmabuf\nuntouched .*\(4096 samples in [\d.]+ s\)\ntouched .*\(4096 samples in [\d.]+ s\)\n$/);
});

// A pass of 0.5 s at 100 Hz (the built-in sensor; for playback, a DAC of the same pace).
const slowDac = files.uri('slow-dac', {
  devices: [{
    name: 'slow-dac', samplingFrequency: 100, buffers: [{ direction: 'out', kind: 'dma' }],
    channels: [{ type: 'voltage', direction: 'out', index: 0, scanIndex: 0, format: 'le:s16/16>>0' }],
  }],
  dmaHeaps: ['system'],
});
const slowDevices = [['capture', 'sim:', 'sensor', 'iiojs-sensor', 'temp'], ['playback', slowDac, 'slow-dac', 'slow-dac', 'voltage0']] as const;

for (const [what, uri, device, name, channel] of slowDevices) {
  test(`bench at 100 Hz (${what}): blocks of 50 ms from the rate, each pass within --duration, about 100 samples/s`, () => {
    const result = benchJson(['-u', uri, '--duration', '0.5', device, channel]);
    assert.equal(result.blockSize, 5, 'a tenth of the pass at 100 Hz');
    for (const p of result.passes) {
      assert.ok(p.samples >= 5 && p.samples % 5 === 0, `${p.name}: whole blocks, ${p.samples} samples`);
      assert.ok(p.seconds > 0 && p.seconds < 0.5, `${p.name}: measured within the pass, ${p.seconds} s`);
      // The device's pace, within what a loaded machine's timing skews over a few blocks.
      assert.ok(p.samplesPerSecond > 25 && p.samplesPerSecond < 400, `${p.name}: ${p.samplesPerSecond} samples/s`);
    }
  });

  test(`bench at 100 Hz (${what}) with blocks of 16384 (164 s each): too slow to measure, said within the duration`, () => {
    const t0 = performance.now();
    for (const json of [[], ['--json']]) {
      const run = iio(['bench', '-u', uri, ...json, '--duration', '0.5', '-b', '16384', device, channel]);
      const done = what === 'capture' ? 'fewer than two blocks of 16384 samples completed in the 0.5 s untouched pass \\(its clock starts at the first\\)'
        : 'no block of 16384 samples was played in the 0.5 s untouched pass';
      oneLineError(run, 1, new RegExp(`^iio: buffer0 of iio:device\\d \\(${name}\\): too slow to measure: ${done}; use a longer --duration or a smaller -b$`));
    }
    // Two runs of one 0.5 s pass each, the boot of each process included: generous for a loaded machine.
    assert.ok(performance.now() - t0 < 20_000, `took ${performance.now() - t0} ms`);
  });
}

test('bench, bad input', () => {
  oneLineError(iio(['bench', '-u', 'sim:', '--duration', '0', 'adc4']), 2, /^iio: --duration must be a positive number of seconds, got "0"/);
  oneLineError(iio(['bench', '-u', 'sim:', 'nope']), 1, /^iio: ENODEV: .*has no device "nope"/);
  oneLineError(iio(['bench', '-u', 'sim:', '--buffer', '2', 'tx']), 1, /^iio: ENOENT: .*has no buffer "2"/);
  oneLineError(iio(['bench', '-u', 'sim:']), 2, /^iio: missing <device>/);
});
