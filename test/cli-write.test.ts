// `iio write`: delivery checked end to end through sim loopbacks (an input that hears what an
// output played): `iio write` and `iio read` run through the iio dispatcher in one child process
// on one sim (test/support/cli-session-child.ts), because every run of the binary boots its own
// simulated kernel. The binary itself: exit statuses, bad input, Ctrl-C.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { DeviceSpec } from '../src/kernel/sim/scenario-types.js';
import { exited, iio, oneLineError, ScenarioFiles, session, spawnIio } from './support/cli.js';

const files = new ScenarioFiles();
after(() => files.cleanup());

// A DAC wired to an ADC whose driver can force more channels on (alsoEnable), beside the built-in
// transceiver's TX and RX devices.
const s16 = 'le:s16/16>>0';
const dac: DeviceSpec = {
  name: 'loop-dac', samplingFrequency: 1_000_000, buffers: [{ direction: 'out', kind: 'dma' }],
  channels: [0, 1].map((i) => ({ type: 'voltage', direction: 'out' as const, index: i, scanIndex: i, format: s16 })),
};
const adc: DeviceSpec = {
  name: 'loop-adc', samplingFrequency: 1_000_000, buffers: [{ direction: 'in', kind: 'dma' }],
  channels: [0, 1].map((i) => ({ type: 'voltage', index: i, scanIndex: i, format: s16, waveform: { kind: 'loopback' as const, device: 'loop-dac', channel: i } })),
};
const WIRED = files.uri('wired', { devices: [dac, adc] });

/** I/Q scans (le s16 i, le s16 q) with i = f(k), q = g(k). */
function iq(count: number, i: (k: number) => number, q: (k: number) => number): Buffer {
  const b = Buffer.alloc(count * 4);
  for (let k = 0; k < count; k++) {
    b.writeInt16LE(i(k), 4 * k);
    b.writeInt16LE(q(k), 4 * k + 2);
  }
  return b;
}

/**
 * `iio write <options> <dac>` with `input` on stdin, and `iio read -s 4096 <adc>` on the same
 * sim: while the write plays (cyclic: then interrupted) or after it. The read takes one block:
 * the ADC keeps its clock, and a reader slower than it would see gaps between blocks.
 */
function loopback(mode: 'cyclic' | 'after', [uri, dacName, adcName]: [string, string, string], writeOptions: string[], input: Buffer,
  more: { dacChannels?: string[]; alsoEnable?: number } = {}): { write: number; read: number; stderr: string; captured: Buffer } {
  const write = { argv: ['write', '-u', uri, ...writeOptions, dacName, ...more.dacChannels ?? []], stdin: input.toString('base64') };
  const read = { argv: ['read', '-u', uri, '-s', '4096', '-b', '4096', adcName] };
  const extra = more.alsoEnable === undefined ? {} : { alsoEnable: more.alsoEnable };
  const run = mode === 'cyclic' ? session({ uri, background: { ...write, device: dacName }, steps: [read], ...extra }) : session({ uri, steps: [write, read], ...extra });
  const [reading] = run.steps.slice(-1);
  const writing = run.background ?? run.steps[0]!;
  return { write: writing.status, read: reading!.status, stderr: writing.stderr + reading!.stderr, captured: reading!.stdout };
}

/** The captured scans are `table` played round and round, from some starting scan. */
function assertRepeats(captured: Buffer, table: Buffer): void {
  const scans = table.length / 4;
  assert.equal(captured.length, 4096 * 4);
  const first = captured.readUInt32LE(0);
  let start = -1;
  for (let k = 0; k < scans; k++) if (table.readUInt32LE(4 * k) === first) start = k;
  assert.ok(start >= 0, `the first captured scan ${first.toString(16)} is not one that was played`);
  for (let n = 0; n < 4096; n++) {
    assert.equal(captured.readUInt32LE(4 * n), table.readUInt32LE(4 * ((start + n) % scans)), `captured scan ${n}`);
  }
}

test('write -c: a wired ADC hears the cyclic block, round and round, until Ctrl-C (exit 130)', () => {
  const tone = iq(1000, (k) => 7 * k - 3500, (k) => -5 * k);
  const run = loopback('cyclic', [WIRED, 'loop-dac', 'loop-adc'], ['-c', '-b', '1000'], tone);
  assert.equal(run.stderr, '');
  assert.equal(run.read, 0);
  assert.equal(run.write, 130);
  assertRepeats(run.captured, tone);
});

test('write -c on the built-in transceiver: its RX device hears the TX device\'s cyclic block while it plays', () => {
  const tone = iq(1000, (k) => Math.round(8000 * Math.cos((2 * Math.PI * k) / 50)), (k) => Math.round(8000 * Math.sin((2 * Math.PI * k) / 50)));
  const run = loopback('cyclic', ['sim:', 'tx', 'rx'], ['-c', '-b', '1000'], tone);
  assert.equal(run.stderr, '');
  assert.equal(run.read, 0);
  assert.equal(run.write, 130);
  assertRepeats(run.captured, tone);
});

test('write: stdin cut into blocks of -b samples, all played; the receiver then hears the last block', () => {
  const blocks = iq(1500, (k) => k, (k) => 20000 - k);
  const run = loopback('after', ['sim:', 'tx', 'rx'], ['-b', '500'], blocks);
  assert.equal(run.stderr, '');
  assert.equal(run.write, 0);
  assert.equal(run.read, 0);
  assertRepeats(run.captured, blocks.subarray(1000 * 4));
});

test('write: stdin ending inside a scan plays every whole scan, then names the bytes left over (exit 1)', () => {
  const blocks = iq(1500, (k) => 2 * k, (k) => -2 * k);
  const run = loopback('after', ['sim:', 'tx', 'rx'], ['-b', '500'], Buffer.concat([blocks, Buffer.from([1, 2, 3])]));
  assert.equal(run.write, 1);
  assert.equal(run.stderr, 'iio: stdin ended inside a scan: its last 3 bytes are not a whole 4-byte scan of voltage0_i, voltage0_q and were not played\n');
  assert.equal(run.read, 0);
  assertRepeats(run.captured, blocks.subarray(1000 * 4));
});

test('write -s: stops after that many samples; the last block holds what was left of them', () => {
  const blocks = iq(1500, (k) => k, (k) => -k);
  const run = loopback('after', ['sim:', 'tx', 'rx'], ['-b', '500', '-s', '1200'], blocks);
  assert.equal(run.stderr, '');
  assert.equal(run.write, 0);
  assertRepeats(run.captured, blocks.subarray(1000 * 4, 1200 * 4));
});

test('when the kernel enables more channels than asked, stdin carries the asked ones; the others play zeros', () => {
  // stdin: loop-dac's voltage1 alone; the "driver" forces voltage0 (position 0) on too.
  const ramp = Buffer.alloc(2 * 1000);
  for (let k = 0; k < 1000; k++) ramp.writeInt16LE(3 * k - 1500, 2 * k);
  const run = loopback('cyclic', [WIRED, 'loop-dac', 'loop-adc'], ['-c', '-b', '1000'], ramp, { dacChannels: ['voltage1'], alsoEnable: 0 });
  assert.equal(run.stderr, '');
  assert.equal(run.write, 130);
  assertRepeats(run.captured, iq(1000, () => 0, (k) => 3 * k - 1500));
});

test('the binary: playback of whole blocks and a partial last one exits 0, nothing on stdout', () => {
  const run = iio(['write', '-u', 'sim:', '-b', '256', 'tx', 'voltage0_i', 'voltage0_q'], iq(1000, (k) => k, (k) => k));
  assert.equal(run.stderr, '');
  assert.equal(run.status, 0);
  assert.equal(run.stdout.length, 0);
});

const bad: Array<[string, string[], Buffer, number, RegExp]> = [
  ['stdin ending inside a scan', ['tx'], Buffer.alloc(4 * 300 + 3), 1,
    /^iio: stdin ended inside a scan: its last 3 bytes are not a whole 4-byte scan of voltage0_i, voltage0_q and were not played$/],
  ['an empty stdin', ['tx'], Buffer.alloc(0), 1, /^iio: nothing to play on buffer0 of iio:device4 \(iiojs-trx-tx\): stdin was empty$/],
  ['a device without an output buffer', ['adc4'], Buffer.alloc(16), 1, /^iio: iio:device0 \(iiojs-adc4\) has no output buffer \(it has only buffer0 \(in\)\)$/],
  ['an unknown channel', ['tx', 'voltage9'], Buffer.alloc(16), 1, /^iio: ENOENT: .*has no output channel "voltage9"/],
  ['a cyclic block larger than -b', ['-c', '-b', '4', 'tx'], Buffer.alloc(4 * 5), 1,
    /^iio: stdin holds more than one cyclic block of 4 samples \(16 bytes\): give -b with the number of samples to repeat$/],
  ['a cyclic block of part of a scan', ['-c', 'tx'], Buffer.alloc(6), 1, /^iio: a cyclic block is a whole, non-zero number of 4-byte scans of voltage0_i, voltage0_q; stdin held 6 bytes$/],
  ['cyclic in file I/O mode', ['-c', '--mode', 'fileio', 'tx'], Buffer.alloc(16), 1, /^iio: .*cyclic blocks need DMABUF mode/],
  ['-c with -s', ['-c', '-s', '5', 'tx'], Buffer.alloc(16), 2, /^iio: -s\/--samples and -c\/--cyclic exclude each other/],
  ['an unknown option', ['--loop', 'tx'], Buffer.alloc(16), 2, /^iio: unknown option '--loop' \(see 'iio write --help'\)$/],
];
for (const [what, args, input, status, message] of bad) {
  test(`bad input, ${what}: exit ${status} with one line on stderr`, () => {
    oneLineError(iio(['write', '-u', 'sim:', ...args], input), status, message);
  });
}

test('the binary: Ctrl-C stops a cyclic playback, exit 130 on its own', async () => {
  const child = spawnIio(['write', '-v', '-u', 'sim:', '-c', '-b', '64', 'tx']);
  let stderr = '';
  // -v says when the buffer is open.
  const open = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.includes('\n')) resolve();
  }));
  child.stdin.end(iq(64, (k) => k, (k) => k));
  await open;
  // A cyclic playback does not end by itself: still going a while later.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(child.exitCode, null, `still playing: ${stderr}`);
  child.kill('SIGINT');
  const { status } = await exited(child);
  assert.equal(status, 130);
  assert.match(stderr, /^iio: buffer0 of iio:device4 \(iiojs-trx-tx\): voltage0_i, voltage0_q \(4 bytes per sample\), 1 blocks of 64 samples, mode dmabuf\n$/);
});
