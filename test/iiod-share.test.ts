// One input buffer served to many readers at once (iiod-protocol.md §4a, READBUF framing and
// "Legacy internals"): libiio 0.24's iio_readdev and our ip: client mixed, with different masks
// and block sizes, each checked sample by sample on adc4's voltage2 ramp; readers that stop
// reading stall nobody but themselves and get an explicit error or a disconnect, never a gap.
// The sim runs in fast time mode, where the device waits for its blocks: in realtime mode it
// keeps its clock, and what it samples while the server holds every block is lost (docs/sim.md).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { openContext } from '../src/open.js';
import { LAG_DEADLINE_MS } from '../src/server/iiod/capture-share.js';
import { assertSettled, RawClient, serveSim, type Served } from './support/iiod.js';

const ADC = 'iio:device0';
const SAMPLES = 1_000_000;
const RAMP_START = -32000;
const RAMP_LAST = -32000 + 16 * 3999;
const FAST = { timeMode: 'fast' } as const;

/** Follows the voltage2 ramp across calls: every value must be the one after the last. */
class RampCheck {
  count = 0;
  #last: number | undefined;
  constructor(readonly what: string) {}

  push(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (this.#last !== undefined) {
        const expected = this.#last === RAMP_LAST ? RAMP_START : this.#last + 16;
        if (v !== expected) assert.fail(`${this.what}: sample ${this.count} is ${v}, expected ${expected} after ${this.#last}: a gap`);
      }
      this.#last = v;
      this.count++;
    }
  }
}

/** The server's error log, and a wait for a line that matches. */
class LogWatch {
  readonly lines: string[] = [];
  readonly #waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  readonly log = { info: (): void => undefined, error: (line: string): void => this.#push(line) };

  /** Resolves once a line matches `pattern` (or one already did); rejects after `ms`. */
  async waitFor(pattern: RegExp, ms: number): Promise<void> {
    if (this.lines.some((l) => pattern.test(l))) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiters.push({ pattern, resolve });
        timer = setTimeout(() => reject(new Error(`no log line ${pattern} within ${ms} ms; the log:\n${this.lines.join('\n')}`)), ms);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  #push(line: string): void {
    this.lines.push(line);
    for (const w of this.#waiters) if (w.pattern.test(line)) w.resolve();
  }
}

interface Readdev {
  /** Resolves with the first bytes of output: the reader is streaming. */
  started: Promise<void>;
  done: Promise<{ status: number | null; stdout: Buffer; stderr: string }>;
}

/**
 * libiio's iio_readdev on adc4 with `-b block` and the channels given, for SAMPLES scans. Data
 * with more channels than its own goes through libiio's demux, where iio_readdev counts `-s` in
 * values of any channel rather than in scans: `demuxed` says to ask for that many more.
 */
function readdev(served: Served, block: number, channels: string[], demuxed: boolean): Readdev {
  const count = demuxed ? SAMPLES * channels.length : SAMPLES;
  const child = spawn('iio_readdev', ['-u', `ip:127.0.0.1:${served.server.port}`, '-b', String(block), '-s', String(count), 'iiojs-adc4', ...channels]);
  const out: Buffer[] = [];
  let err = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (status) => reject(new Error(`iio_readdev exited (${status}) before any output: ${err}`)));
  });
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ status: number | null; stdout: Buffer; stderr: string }>((resolve) => {
    child.once('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
  started.catch(() => undefined);
  return { started, done };
}

/** Checks an iio_readdev capture: every sample, voltage2 at `column` of `width` int16 channels. */
async function checkReaddev(r: Readdev, width: number, column: number, what: string): Promise<void> {
  const { status, stdout, stderr } = await r.done;
  assert.equal(status, 0, `${what}: ${stderr}`);
  assert.doesNotMatch(stderr, /refill|Broken pipe/, what);
  assert.equal(stdout.length, SAMPLES * width * 2, `${what}: every sample`);
  const values = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2).filter((_, i) => i % width === column);
  const check = new RampCheck(what);
  check.push(values);
}

/** Our ip: client on adc4 with `channels` and `blockSize`, until SAMPLES voltage2 values came. */
async function ipReader(served: Served, channels: string[], blockSize: number, onProgress?: (n: number) => void): Promise<number> {
  await using ctx = await openContext(`ip:127.0.0.1:${served.server.port}`);
  await using stream = await ctx.device('iiojs-adc4').buffer(0).open({ channels, blockSize });
  const check = new RampCheck(`ip: ${channels.join('+')} in blocks of ${blockSize}`);
  for await (const block of stream) {
    check.push(block.samples('voltage2') as Int16Array);
    onProgress?.(check.count);
    if (check.count >= SAMPLES) break;
  }
  return check.count;
}

describe('a shared input buffer', () => {
  test('six readers (three iio_readdev, three ip: clients) with their own masks and block sizes each get 10^6 contiguous samples', async () => {
    await using served = await serveSim({ sim: FAST });
    // The widest reader first: the others' channels are within its run, so it is never re-opened.
    const wide = readdev(served, 4096, ['voltage0', 'voltage1', 'voltage2', 'voltage3'], false);
    await wide.started;
    const narrow = readdev(served, 1024, ['voltage2'], true);
    const pair = readdev(served, 16384, ['voltage2', 'voltage3'], true);
    const ours = [
      ipReader(served, ['voltage2'], 3000),
      ipReader(served, ['voltage1', 'voltage2'], 777),
      ipReader(served, ['voltage2', 'voltage3'], 65536),
    ];
    await checkReaddev(wide, 4, 2, 'iio_readdev voltage0-3 -b 4096');
    await checkReaddev(narrow, 1, 0, 'iio_readdev voltage2 -b 1024');
    await checkReaddev(pair, 2, 0, 'iio_readdev voltage2 voltage3 -b 16384');
    for (const n of await Promise.all(ours)) assert.ok(n >= SAMPLES);
    await assertSettled(served);
  });

  test('a reader that stops reading stalls nobody: a stuck socket is disconnected, an idle reader gets -EPIPE (32) and goes on; OPEN/CLOSE answer within 1 s', async () => {
    const watch = new LogWatch();
    await using served = await serveSim({ sim: FAST, serve: { log: watch.log } });
    // The idle reader, the first (and widest: voltage2 and 3): one READBUF, then nothing until
    // the others are far ahead.
    const idle = await RawClient.connect(served.server.port);
    assert.equal(await idle.command(`OPEN ${ADC} 4096 0000000c`), 0);
    assert.equal(await idle.command(`READBUF ${ADC} 2048`), 2048);
    assert.equal(await idle.line(), '0000000c');
    await idle.bytes(2048);
    // The stuck reader: a READBUF far larger than the socket buffers, and a socket it never reads.
    const stuck = await RawClient.connect(served.server.port);
    assert.equal(await stuck.command(`OPEN ${ADC} ${8 << 20} 00000004`), 0);
    stuck.socket.pause();
    stuck.send(`READBUF ${ADC} ${16 << 20}\r\n`);

    let progress = 0;
    let reachedFar: () => void = () => undefined;
    const far = new Promise<void>((resolve) => (reachedFar = resolve));
    const started = performance.now();
    const reader = ipReader(served, ['voltage2'], 4096, (n) => {
      progress = n;
      if (n >= 200_000) reachedFar();
    });
    const other = readdev(served, 2048, ['voltage2', 'voltage3'], false);
    await other.started;

    // A third client opens and closes the same device while the stuck one holds its data.
    const third = await RawClient.connect(served.server.port);
    let t = performance.now();
    assert.equal(await third.command(`OPEN ${ADC} 4096 00000004`), 0);
    assert.ok(performance.now() - t < 1000, `OPEN took ${performance.now() - t} ms`);
    t = performance.now();
    assert.equal(await third.command(`CLOSE ${ADC}`), 0);
    assert.ok(performance.now() - t < 1000, `CLOSE took ${performance.now() - t} ms`);
    third.destroy();

    await watch.waitFor(/disconnected: it took no data for \d+ ms/, 10_000);
    stuck.socket.resume();
    await stuck.closedByServer();

    // The others went far beyond the four blocks the hardware has: the idle reader lost its place.
    await far;
    assert.equal(await idle.command(`READBUF ${ADC} 2048`), -32);
    await watch.waitFor(/READBUF iio:device0 2048: .*samples were dropped: the reader fell \d+ blocks behind/, 1000);
    const n = await idle.command(`READBUF ${ADC} 2048`);
    assert.ok(n > 0, `after the error the idle reader goes on (${n})`);
    assert.equal(await idle.line(), '0000000c');
    const check = new RampCheck('the idle reader, resumed');
    const data = await idle.bytes(n);
    check.push(new Int16Array(data.buffer, data.byteOffset, data.length / 2).filter((_, i) => i % 2 === 0));
    idle.destroy();

    assert.ok(await reader >= SAMPLES && progress >= SAMPLES);
    await checkReaddev(other, 2, 0, 'iio_readdev voltage2 voltage3 beside a stuck reader');
    // The 1 s that 10^6 samples stand for at 1 MS/s (fast mode takes less), LAG_DEADLINE_MS for
    // each of the stuck and idle readers, and generous room for a loaded machine.
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 1000 + 2 * LAG_DEADLINE_MS + 6000, `the others took ${elapsed} ms`);
    await assertSettled(served);
  });
});
