// `iio read`, the real binary as a subprocess on the sim: raw bytes decoded and checked against
// the devices' deterministic signals (vadc-dma's u16 counter, dummy0's constants),
// CSV and JSON Lines checked exactly (physical units too), the options, bad input, Ctrl-C,
// a broken pipe on stdout, overruns, and progress on a terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collect, exited, iio, IIO_BIN, oneLineError, probeUri, ScenarioFiles, session, spawnIio, u16le } from './support/cli.js';

const files = new ScenarioFiles();
after(() => files.cleanup());
const PROBE = probeUri(files);

/** vadc-dma's counter: word k of everything it produced is k mod 65536, channel 0 even. */
function assertCounter(words: number[], step: number, what: string): void {
  assert.ok(words.length > 0, `${what}: no samples`);
  for (let k = 1; k < words.length; k++) assert.equal(words[k], (words[k - 1]! + step) & 0xffff, `${what}: word ${k}`);
}

describe('raw capture', () => {
  for (const mode of ['dmabuf', 'fileio'] as const) {
    test(`vadc-dma in ${mode} mode: -s samples exactly (not a whole number of -b blocks), the counter across blocks`, () => {
      const run = iio(['read', '-u', PROBE, '--mode', mode, '-b', '1024', '-s', '3000', 'vadc-dma']);
      assert.equal(run.stderr, '');
      assert.equal(run.status, 0);
      assert.equal(run.stdout.length, 3000 * 4);
      const words = u16le(run.stdout);
      assert.equal(words[0]! % 2, 0, 'voltage0 holds the even words');
      assertCounter(words, 1, mode);
    });
  }

  test('a channel subset: voltage1 alone is every odd word', () => {
    const run = iio(['read', '-u', PROBE, '-s', '2500', 'vadc-dma', 'voltage1']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.length, 2500 * 2);
    const words = u16le(run.stdout);
    assert.equal(words[0]! % 2, 1);
    assertCounter(words, 2, 'voltage1');
  });

  test('when the kernel enables more channels than asked, only the asked ones are written (raw and csv)', () => {
    const run = session({
      uri: PROBE, alsoEnable: 0,
      steps: [{ argv: ['read', '-u', PROBE, '-s', '1500', 'vadc-dma', 'voltage1'] }, { argv: ['read', '-u', PROBE, '-s', '2', '-f', 'csv', 'vadc-dma', 'voltage1'] }],
    });
    const [raw, csv] = run.steps;
    assert.equal(raw!.status, 0, raw!.stderr);
    assert.equal(raw!.stdout.length, 1500 * 2);
    const words = u16le(raw!.stdout);
    assert.equal(words[0]! % 2, 1);
    assertCounter(words, 2, 'voltage1 of a stream that also carries voltage0');
    assert.match(csv!.stdout.toString(), /^voltage1\n\d*[13579]\n\d*[13579]\n$/);
  });

  test('a triggered kfifo device (-t attaches the trigger): dummy0\'s buffered constants, in its scan layout', () => {
    const run = iio(['read', '-u', PROBE, '-t', 't0', '-s', '3', 'dummy0', 'voltage0', 'accel_x']);
    assert.equal(run.status, 0, run.stderr);
    // u13 voltage0 = 7 and s16 accel_x = 344, 2 bytes each: 4-byte scans.
    assert.deepEqual([...run.stdout], [7, 0, 88, 1, 7, 0, 88, 1, 7, 0, 88, 1]);
  });
});

describe('text formats', () => {
  test('csv: a header of channel ids, then one row per scan', () => {
    const run = iio(['read', '-u', PROBE, '-s', '5', '-f', 'csv', 'vadc-dma']);
    assert.equal(run.status, 0, run.stderr);
    const first = Number(run.stdout.toString().split('\n')[1]!.split(',')[0]);
    const rows = [0, 1, 2, 3, 4].map((n) => `${(first + 2 * n) & 0xffff},${(first + 2 * n + 1) & 0xffff}`);
    assert.equal(run.stdout.toString(), `voltage0,voltage1\n${rows.join('\n')}\n`);
  });

  test('csv -p: (raw + offset) x scale for channels with a scale, raw integers for the others', () => {
    const run = iio(['read', '-u', PROBE, '-t', 't0', '-s', '4', '-f', 'csv', '-p', 'dummy0']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '', 'no overrun reported: the timestamps are one period of t0 apart');
    const [header, ...rows] = run.stdout.toString().trimEnd().split('\n');
    assert.equal(header, 'voltage0,voltage1-voltage2,voltage3-voltage4,accel_x,timestamp');
    assert.equal(rows.length, 4);
    // dummy0 buffers 7 (offset 7, scale 0.001333), -33 and -2 (scale 0.000001344), 344 (no scale):
    // the exact products, not the doubles' 0.018661999999999998.
    const physical = '0.018662,-0.000044352,-0.000002688,344';
    let previous = 0n;
    for (const row of rows) {
      const timestamp = /^(.*),(\d+)$/.exec(row)!;
      assert.equal(timestamp[1], physical);
      assert.ok(BigInt(timestamp[2]!) > previous, 'timestamps are exact integers that increase');
      previous = BigInt(timestamp[2]!);
    }
  });

  test('json: JSON Lines keyed by channel id, raw by default, physical with -p', () => {
    const raw = iio(['read', '-u', PROBE, '-t', 't0', '-s', '2', '-f', 'json', 'dummy0', 'voltage0', 'voltage1-voltage2', 'accel_x']);
    assert.equal(raw.status, 0, raw.stderr);
    assert.equal(raw.stdout.toString(), '{"voltage0":7,"voltage1-voltage2":-33,"accel_x":344}\n'.repeat(2));
    const phys = iio(['read', '-u', PROBE, '-t', 't0', '-s', '2', '-f', 'json', '-p', 'dummy0', 'voltage0', 'accel_x', 'timestamp']);
    assert.equal(phys.status, 0, phys.stderr);
    const lines = phys.stdout.toString().trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.match(line, /^\{"voltage0":0\.018662,"accel_x":344,"timestamp":\d{19}\}$/);
    }
  });

  /** `text`, a decimal of at most `places` places, in units of 10^-places: ("-9.5", 3) → -9500n. */
  function scaled(text: string, places: number): bigint {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    assert.ok(m !== null && (m[3] ?? '').length <= places, `${text}: a decimal of at most ${places} places`);
    const units = BigInt(m[2]! + (m[3] ?? '').padEnd(places, '0'));
    return m[1] === '-' ? -units : units;
  }

  /** `units` × 10^-places in its shortest text: (-9500n, 3) → "-9.5". */
  function decimalText(units: bigint, places: number): string {
    const digits = (units < 0n ? -units : units).toString().padStart(places + 1, '0');
    const fraction = digits.slice(-places).replace(/0+$/, '');
    return `${units < 0n ? '-' : ''}${digits.slice(0, -places)}${fraction === '' ? '' : `.${fraction}`}`;
  }

  test('-p prints the exact product, no float noise: adc4\'s ramp x 0.030517578 in csv and json', () => {
    const scale = 30_517_578n; // 0.030517578 in units of 10^-9
    for (const format of ['csv', 'json']) {
      // one block: adc4 keeps its clock, so a gap between blocks would break the ramp
      const run = iio(['read', '-u', 'sim:', '-s', '4000', '-b', '4000', '-f', format, '-p', 'adc4', 'voltage2']);
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout.toString().trimEnd().split('\n');
      const texts = format === 'csv' ? lines.slice(1) : lines.map((l) => /^\{"voltage2":([^}]+)\}$/.exec(l)?.[1] ?? l);
      assert.equal(texts.length, 4000);
      const raws = texts.map((text) => {
        const units = scaled(text, 9);
        assert.equal(units % scale, 0n, `${text} is raw x 0.030517578`);
        assert.equal(text, decimalText(units, 9), 'the shortest text');
        return units / scale;
      });
      // The ramp: steps of 16 from -32000, once round its 4000 samples.
      for (let k = 1; k < raws.length; k++) assert.ok(raws[k]! - raws[k - 1]! === 16n || raws[k] === -32000n, `${format} sample ${k}: ${texts[k - 1]}, ${texts[k]}`);
    }
  });

  test('-p: the offset\'s decimals count too, (3 + 0.5) x 0.1 is 0.35 and (100 - 0.5) x 0.07 is 6.965', () => {
    const uri = files.uri('therm', {
      devices: [{
        name: 'therm', samplingFrequency: 1000, buffers: [{ direction: 'in', kind: 'dma' }],
        channels: [
          { type: 'temp', index: 0, scanIndex: 0, format: 'le:s16/16>>0', offset: 0.5, scale: 0.1, waveform: { kind: 'constant', value: 3 } },
          { type: 'temp', index: 1, scanIndex: 1, format: 'le:s16/16>>0', offset: -0.5, scale: 0.07, waveform: { kind: 'constant', value: 100 } },
        ],
      }],
    });
    const csv = iio(['read', '-u', uri, '-s', '2', '-f', 'csv', '-p', 'therm']);
    assert.equal(csv.status, 0, csv.stderr);
    assert.equal(csv.stdout.toString(), 'temp0,temp1\n0.35,6.965\n0.35,6.965\n');
    const json = iio(['read', '-u', uri, '-s', '1', '-f', 'json', '-p', 'therm']);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(json.stdout.toString(), '{"temp0":0.35,"temp1":6.965}\n');
  });
});

describe('bad input', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['an unknown device', ['read', '-u', 'sim:', 'nope'], 1, /^iio: ENODEV: .*has no device "nope" \(there are: iio:device0 \(iiojs-adc4\), /],
    ['an unknown channel', ['read', '-u', 'sim:', 'adc4', 'voltage9'], 1, /^iio: ENOENT: .*has no input channel "voltage9" \(there are: voltage0 \(in\), /],
    ['an output buffer', ['read', '-u', 'sim:', '--buffer', '0', 'tx'], 1, /^iio: buffer0 of iio:device4 \(iiojs-trx-tx\) is an output buffer, not an input buffer$/],
    ['an unknown trigger', ['read', '-u', PROBE, '-t', 'nope', 'dummy0'], 1, /^iio: ENODEV: .*no trigger nope/],
    ['DMABUF forced on a kfifo buffer', ['read', '-u', PROBE, '-t', 't0', '--mode', 'dmabuf', 'dummy0'], 1, /^iio: .*does not support DMABUF blocks/],
    ['a triggered device without a trigger', ['read', '-u', PROBE, '-s', '1', 'dummy0'], 1,
      /^iio: EINVAL: .*buffer0\/enable': buffer not started: no trigger \(enabling iio:device0\/buffer0\); the device has no trigger: pass -t <trigger>, one of t0, sysfstrig0$/],
    ['a bad sample count', ['read', '-u', 'sim:', '-s', '12x', 'adc4'], 2, /^iio: -s\/--samples must be an integer >= 0, got "12x" \(see 'iio read --help'\)$/],
    ['a bad block size', ['read', '-u', 'sim:', '-b', '0', 'adc4'], 2, /^iio: -b\/--block-size must be an integer >= 1, got "0"/],
    ['a bad format', ['read', '-u', 'sim:', '-f', 'xml', 'adc4'], 2, /^iio: --format must be raw, csv, json or sigmf, got "xml"/],
    ['a bad mode', ['read', '-u', 'sim:', '--mode', 'mmap', 'adc4'], 2, /^iio: --mode must be auto, dmabuf or fileio, got "mmap"/],
    ['-p without a text format', ['read', '-u', 'sim:', '-p', 'adc4'], 2, /^iio: -p\/--physical needs --format csv or json/],
    ['an unknown option', ['read', '-u', 'sim:', '--frobnicate', 'adc4'], 2, /^iio: unknown option '--frobnicate' \(see 'iio read --help'\)$/],
    ['no device', ['read', '-u', 'sim:'], 2, /^iio: missing <device>/],
    ['a bad URI', ['read', '-u', 'usb:', 'adc4'], 2, /^iio: unsupported URI "usb:": use local:, sim:, sim:<scenario.json> or ip:<host>\[:port\] \(see 'iio read --help'\)$/],
  ];
  for (const [what, args, status, message] of cases) {
    test(`${what}: exit ${status}, one line on stderr, nothing on stdout`, () => {
      oneLineError(iio(args), status, message);
    });
  }

  test('a triggered device without a trigger: -t is named with the triggers there are, for bench too, and when there are none', () => {
    const advice = /; the device has no trigger: pass -t <trigger>, one of t0, sysfstrig0$/;
    oneLineError(iio(['bench', '-u', PROBE, '-s', '10', 'dummy0']), 1, advice);
    oneLineError(iio(['read', '-u', PROBE, '-B', '-s', '10', 'dummy0']), 1, advice);
    const untriggered = files.uri('no-triggers', {
      devices: [{ name: 'trig-only', triggered: true, buffers: [{ direction: 'in', kind: 'kfifo' }], channels: [{ type: 'voltage', index: 0, scanIndex: 0, format: 'le:s16/16>>0' }] }],
    });
    oneLineError(iio(['read', '-u', untriggered, '-s', '1', 'trig-only']), 1, /^iio: EINVAL: .*; the device has no trigger, and the context has none to pass with -t$/);
  });

  test('-T: no block within the timeout is ETIMEDOUT (a sysfs trigger that nobody fires)', () => {
    const run = iio(['read', '-u', PROBE, '-t', 'sysfstrig0', '-T', '300', 'dummy0']);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^iio: ETIMEDOUT: .*no data within \d+ ms\n$/);
    assert.equal(run.stdout.length, 0);
  });
});

test('every error names its subject once, whatever layer adds to it (read, write, attr, reg)', () => {
  const noAllocator = files.uri('no-allocator', {
    devices: [{ name: 'adc', samplingFrequency: 1000, buffers: [{ direction: 'in', kind: 'dma' }], channels: [{ type: 'voltage', index: 0, scanIndex: 0, format: 'le:s16/16>>0' }] }],
    dmaHeaps: [], udmabuf: false,
  });
  const buffer = 'iio:device0/buffer0';
  const device = 'iio:device0 (dummy0)';
  const cases: Array<[string, string[], string]> = [
    ['DMABUF forced on a kfifo buffer', ['read', '-u', PROBE, '-t', 't0', '--mode', 'dmabuf', 'dummy0'], buffer],
    ['DMABUF forced without an allocator', ['read', '-u', noAllocator, '--mode', 'dmabuf', 'adc'], buffer],
    ['a buffer enabled without its trigger', ['read', '-u', PROBE, '-s', '1', 'dummy0'], buffer],
    ['no block within -T', ['read', '-u', PROBE, '-t', 'sysfstrig0', '-T', '300', 'dummy0'], buffer],
    ['an unknown trigger', ['read', '-u', PROBE, '-t', 'nope', 'dummy0'], device],
    ['an unknown channel', ['read', '-u', PROBE, 'dummy0', 'voltage9'], device],
    ['no output buffer', ['write', '-u', PROBE, 'dummy0'], device],
    ['a value the driver refuses', ['attr', '-u', PROBE, '-c', 'dummy0', 'voltage0', 'scale', 'abc'], device],
    ['no register access', ['reg', '-u', PROBE, 'dummy0', '0x1'], device],
  ];
  for (const [what, args, subject] of cases) {
    const run = iio(args, Buffer.alloc(4));
    oneLineError(run, 1, /^iio: /);
    // The subject as a word of its own: a sysfs path (/sys/.../iio:device0/buffer0/enable) does not name it.
    const word = new RegExp(`(?<![\\w/])${subject.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/])`, 'g');
    assert.equal(run.stderr.match(word)?.length, 1, `${what}: ${subject} once in ${run.stderr}`);
  }
});

// vadc-dma has no sample clock: it waits for its blocks, so nothing is lost however late the
// reader (adc4 keeps its clock: a reader slowed by the test would see gaps, see 'overruns').
describe('stopping', () => {
  test('Ctrl-C mid-capture: what was captured is flushed, the buffer released, exit 130 on its own', async () => {
    const child = spawnIio(['read', '-u', PROBE, 'vadc-dma', 'voltage0']);
    const chunks: Buffer[] = [];
    let received = 0;
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (!interrupted && received >= 256 << 10) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // The process must end by itself: nothing (a buffer, a wait, a timer) may keep it alive.
    const { status, signal } = await exited(child);
    assert.equal(signal, null);
    assert.equal(status, 130);
    assert.equal(stderr, '');
    assertCounter(u16le(Buffer.concat(chunks)), 2, 'voltage0 up to Ctrl-C');
  });

  test('Ctrl-C while waiting for a block that never comes (a sysfs trigger nobody fires): exit 130 at once', async () => {
    const child = spawnIio(['read', '-v', '-u', PROBE, '-t', 'sysfstrig0', '-f', 'csv', 'dummy0']);
    let output = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // -v says when the buffer is open: from then on the read waits for a block.
    const open = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('\n')) resolve();
    }));
    await open;
    assert.equal(child.exitCode, null, `still waiting: ${output}${stderr}`);
    child.kill('SIGINT');
    const { status } = await exited(child);
    assert.equal(status, 130);
    assert.equal(output, 'voltage0,voltage1-voltage2,voltage3-voltage4,accel_x,timestamp\n', 'the CSV header alone: no scan came');
    assert.match(stderr, /^iio: buffer0 of iio:device0 \(dummy0\): .*mode fileio\n$/);
  });

  // The built-in sensor: 100 Hz, kfifo; its temp is a slow sine (23.5 ± 1.5 °C in centi-degrees),
  // so consecutive samples differ by at most 1: a lost or torn sample shows.
  function assertTemps(temps: number[], what: string): void {
    assert.ok(temps.length >= 1, `${what}: no sample`);
    for (const [i, t] of temps.entries()) {
      assert.ok(Number.isInteger(t) && t >= 2200 && t <= 2500, `${what}: sample ${i} is ${t}`);
      if (i > 0) assert.ok(Math.abs(t - temps[i - 1]!) <= 1, `${what}: samples ${i - 1} and ${i} are ${temps[i - 1]} and ${t}`);
    }
  }

  /** The temps in `iio read … sensor temp`'s output, every line or scan complete. */
  function temps(format: 'csv' | 'json' | 'raw', out: Buffer): number[] {
    if (format === 'raw') {
      assert.equal(out.length % 2, 0, 'whole scans only');
      return Array.from({ length: out.length / 2 }, (_, i) => out.readInt16LE(2 * i));
    }
    const text = out.toString();
    assert.ok(text.endsWith('\n'), `the last line is complete: ${JSON.stringify(text.slice(-40))}`);
    const lines = text.slice(0, -1).split('\n');
    if (format === 'csv') {
      assert.equal(lines.shift(), 'temp', 'the header first');
      return lines.map((line) => (assert.match(line, /^\d+$/), Number(line)));
    }
    return lines.map((line) => (assert.match(line, /^\{"temp":\d+\}$/), (JSON.parse(line) as { temp: number }).temp));
  }

  test('Ctrl-C at 100 Hz (blocks of 100 ms): the lines seen before it, and those captured since, all complete; exit 130', { timeout: 30_000 }, async (t) => {
    const child = spawnIio(['read', '-u', 'sim:', '-f', 'csv', 'sensor', 'temp']);
    t.after(() => child.kill('SIGKILL')); // a test that fails leaves no process behind
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    await out.until((b) => /^temp\n\d+\n/.test(b.toString()));
    const seen = out.bytes().toString();
    child.kill('SIGINT');
    const { status, signal } = await exited(child);
    assert.deepEqual({ status, signal, stderr: err.bytes().toString() }, { status: 130, signal: null, stderr: '' });
    const all = out.bytes().toString();
    assert.ok(all.startsWith(seen), 'what was out stays out');
    assertTemps(temps('csv', out.bytes()), 'csv');
  });

  // Blocks of 100000 samples take 1000 s at 100 Hz: nothing can come out before Ctrl-C but the CSV
  // header; what comes out after it is what the block being filled held (the disabled kfifo drained).
  for (const format of ['csv', 'json', 'raw'] as const) {
    test(`Ctrl-C at 100 Hz in a block of 1000 s (${format}): the header at once, then every sample captured, exit 130`, { timeout: 30_000 }, async (t) => {
      const child = spawnIio(['read', '-u', 'sim:', '-v', '-b', '100000', '-f', format, 'sensor', 'temp']);
      t.after(() => child.kill('SIGKILL'));
      const out = collect(child.stdout);
      const err = collect(child.stderr);
      await err.until((b) => b.includes('\n')); // -v: the buffer is open
      if (format === 'csv') await out.until((b) => b.toString() === 'temp\n');
      // Not a wait for readiness (the line above is that): time for the sensor to capture ~50 samples.
      await sleep(500);
      assert.equal(out.bytes().length, format === 'csv' ? 5 : 0, 'no block completed');
      child.kill('SIGINT');
      const { status, signal } = await exited(child);
      assert.deepEqual({ status, signal }, { status: 130, signal: null });
      assert.match(err.bytes().toString(), /^iio: buffer0 of iio:device2 \(iiojs-sensor\): temp \(2 bytes per sample\), 4 blocks of 100000 samples, mode fileio\n$/);
      assertTemps(temps(format, out.bytes()), format);
    });
  }

  test('a broken pipe on stdout (iio read | head -c 100): exit 141 like SIGPIPE, quietly', () => {
    const pipeline = `"${process.execPath}" "${IIO_BIN}" read -u sim: adc4 voltage2 | head -c 100 | wc -c; echo "\${PIPESTATUS[0]}"`;
    const run = spawnSync('bash', ['-c', pipeline], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.stderr, '');
    assert.deepEqual(run.stdout.trim().split(/\s+/), ['100', '141']);
  });

  test('a broken pipe on stdout: the reader closes after 100 bytes, iio exits 141 with nothing on stderr', async () => {
    const child = spawnIio(['read', '-u', PROBE, 'vadc-dma', 'voltage0']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const head = await new Promise<Buffer>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk)));
    child.stdout.destroy();
    const { status } = await exited(child);
    assert.ok(head.length > 0);
    assertCounter(u16le(head), 2, 'the first chunk');
    assert.equal(status, 141);
    assert.equal(stderr, '');
  });
});

describe('overruns', () => {
  test('a reader that stops reading: adc4 keeps sampling, the output has gaps, and one line on stderr at the end counts them', async () => {
    // All of adc4's channels: 4 × s16 and the timestamp (at byte 8), 16-byte scans at 1 MS/s.
    const samples = 200_000;
    const child = spawnIio(['read', '-v', '-u', 'sim:', '-b', '1000', '-s', String(samples), 'adc4']);
    let stderr = '';
    const open = new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('\n')) resolve();
    }));
    await open; // -v: the buffer is open, the capture under way
    // Nobody reads stdout for 100 ms: the pipe fills, iio waits to write, adc4 goes on sampling.
    await sleep(100);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ended = new Promise((resolve) => child.stdout.once('end', resolve));
    const { status } = await exited(child);
    await ended;
    assert.equal(status, 0, stderr);
    const out = Buffer.concat(chunks);
    assert.equal(out.length, samples * 16, 'every sample asked for');
    // The gaps, as the timestamps show them (1 µs apart where nothing was lost).
    let overruns = 0;
    let lost = 0;
    for (let s = 1; s < samples; s++) {
      const step = Number(out.readBigInt64LE(16 * s + 8) - out.readBigInt64LE(16 * s - 8));
      if (step === 1000) continue;
      assert.equal(step % 1000, 0, `timestamp step ${step} ns before scan ${s}`);
      overruns++;
      lost += step / 1000 - 1;
    }
    assert.ok(lost >= 50_000, `100 ms without reading lost only ${lost} samples`);
    const lines = stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, `the -v line and one warning: ${stderr}`);
    assert.match(lines[0]!, /^iio: buffer0 of iio:device0 \(iiojs-adc4\): .*, mode dmabuf$/);
    assert.equal(lines[1], `iio: buffer0 of iio:device0 (iiojs-adc4) (dmabuf): ${overruns} overrun${overruns === 1 ? '' : 's'}, ${lost} samples lost (the output has gaps; a larger -b or --blocks gives more time)`);
  });
});

test('on a terminal, stderr shows progress and a summary; stdout still carries only the data', () => {
  const out = join(files.dir, 'tty.bin');
  // script(1) gives the command a pseudo-terminal; stdout is redirected to a file inside it.
  const command = `"${process.execPath}" "${IIO_BIN}" read -u ${PROBE} -s 200000 vadc-dma > "${out}"`;
  const run = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.error, undefined, 'script(1) (bsdutils) is needed for this test');
  assert.equal(run.status, 0, run.stdout);
  assert.match(run.stdout, /buffer0 of iio:device1 \(vadc-dma\) \(dmabuf\): 200 ksamples, 800 kB in [\d.]+ s \([\d.]+ [kMG]?B\/s, [\d.]+ [kMG]?samples\/s\)\r?\n/);
  const words = u16le(readFileSync(out));
  assert.equal(words.length, 400000);
  assertCounter(words, 1, 'on a terminal');
});

test('raw samples are not written to a terminal (exit 2); text is', () => {
  const raw = spawnSync('script', ['-qec', `"${process.execPath}" "${IIO_BIN}" read -u sim: -s 10 adc4`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(raw.status, 2);
  assert.equal(raw.stdout, "iio: binary samples are not written to a terminal: redirect stdout to a file or a program, or use -f csv (see 'iio read --help')\r\n");
  const csv = spawnSync('script', ['-qec', `"${process.execPath}" "${IIO_BIN}" read -u sim: -s 2 -f csv adc4 voltage1`, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(csv.status, 0);
  assert.match(csv.stdout, /^voltage1\r\n-?\d+\r\n-?\d+\r\n/);
});

test('-B measures instead of writing samples', () => {
  const run = iio(['read', '-u', PROBE, '-B', '-s', '20000', '-b', '4096', 'vadc-dma']);
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.toString().trimEnd().split('\n');
  assert.equal(lines[0], 'buffer0 of iio:device1 (vadc-dma): voltage0, voltage1 (4 bytes per sample), 4 blocks of 4096 samples, mode dmabuf');
  assert.match(lines[1]!, /^untouched +[\d.]+ [kMG]?B\/s +[\d.]+ [kMG]?samples\/s +\(20480 samples in [\d.]+ s\)$/);
  assert.match(lines[2]!, /^touched +[\d.]+ [kMG]?B\/s +[\d.]+ [kMG]?samples\/s +\(20480 samples in [\d.]+ s\)$/);
});
