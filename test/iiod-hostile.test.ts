// The server against hostile clients, its memory measured: `iio serve` runs in a child process
// whose peak RSS (ru_maxrss) it reports when interrupted. Payloads sent one byte per TCP
// segment must cost about their size (not a Buffer per socket read), and idle or crowding
// clients must not lock others out (the per-address limit, the idle timeout).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { IIOD_LIMITS } from '../src/server/iiod/index.js';
import { RawClient } from './support/iiod.js';
import { spawnMeasured, type Measured } from './support/peak-rss.js';

const ADC = 'iio:device0';
const TX = 'iio:device4';

interface Server {
  port: number;
  measured: Measured;
  /** SIGINT, then the exit status and peak RSS. */
  stop(): Promise<{ status: number | null; peakMiB: number }>;
}

/** `iio serve -u sim: -p 0 <extra>` in a child process, once it says where it listens. */
async function serveChild(...extra: string[]): Promise<Server> {
  const measured = spawnMeasured(['serve', '-u', 'sim:', '-p', '0', ...extra]);
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    measured.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    void measured.exited.then(({ status }) => reject(new Error(`iio serve exited (${status}): ${measured.errors()}`)));
  });
  measured.stdout.resume();
  return {
    port,
    measured,
    stop: async () => {
      measured.child.kill('SIGINT');
      return measured.exited;
    },
  };
}

/**
 * Sends `bytes` bytes one write (one TCP segment, Nagle off) at a time; waits for the socket to
 * drain whenever it queues, so that writes do not pile up into larger segments.
 */
async function trickle(socket: Socket, bytes: number): Promise<void> {
  socket.setNoDelay(true);
  const one = Buffer.from([0x31]);
  for (let i = 0; i < bytes; i++) {
    if (!socket.write(one)) await once(socket, 'drain');
    // Turns for the other clients' trickles.
    else if (i % 4096 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** What the server may take beyond its baseline and the payloads in flight: roomy for a loaded machine. */
const SLACK_MIB = 48;

/** The peak of a server that served one PRINT: what a server costs before any attack. */
async function baselineMiB(): Promise<number> {
  const server = await serveChild();
  const c = await RawClient.connect(server.port);
  const length = await c.command('PRINT');
  await c.bytes(length + 1);
  c.destroy();
  const { status, peakMiB } = await server.stop();
  assert.equal(status, 0, server.measured.errors());
  return peakMiB;
}

describe('server memory per client, whatever the segmentation', () => {
  test('a 1 MiB WRITE and a 1 MiB WRITEBUF, one byte per segment, from 2 clients at once: the server grows by about the payloads', { timeout: 240_000 }, async () => {
    const baseline = await baselineMiB();
    const server = await serveChild();
    const bytes = IIOD_LIMITS.attrPayload; // 1 MiB, the largest WRITE; the block is as large
    const [writer, player] = await Promise.all([0, 1].map(() => RawClient.connect(server.port))) as [RawClient, RawClient];
    try {
      // One block of 4-byte samples to the TX buffer.
      assert.equal(await player.command(`OPEN ${TX} ${bytes / 4} 00000003`), 0);
      assert.equal(await player.command(`WRITEBUF ${TX} ${bytes}`), 0);
      writer.send(`WRITE ${ADC} sampling_frequency ${bytes}\r\n`);
      await Promise.all([trickle(player.socket, bytes), trickle(writer.socket, bytes)]);
      assert.equal(await player.integer(60_000), bytes);
      // A million '1's is no sampling frequency: refused once read in full, and the session goes on.
      assert.equal(await writer.integer(60_000), -22);
      for (const c of [writer, player]) {
        c.send('VERSION\r\n');
        assert.match(await c.line(), /^0\.24\./);
      }
    } finally {
      writer.destroy();
      player.destroy();
    }
    const { status, peakMiB } = await server.stop();
    assert.equal(status, 0);
    // Held at once: the value (and its concatenation), the block (and the buffer's copy of it).
    const bound = baseline + (4 * bytes) / 2 ** 20 + SLACK_MIB;
    assert.ok(peakMiB < bound, `the server peaked at ${peakMiB.toFixed(1)} MiB (baseline ${baseline.toFixed(1)} MiB, bound ${bound.toFixed(1)})`);
  });
});

/** A client from `from` (any 127.x address reaches the loopback server on Linux). */
function connectFrom(port: number, from: string): Promise<RawClient> {
  return RawClient.connect(port, '127.0.0.1', from);
}

describe('idle and crowding clients do not lock others out', () => {
  test('64 idle clients from one address: past 16 (maxClientsPerAddress) they are refused, and a client from another address is served', { timeout: 60_000 }, async () => {
    const baseline = await baselineMiB();
    const server = await serveChild();
    const clients: RawClient[] = [];
    try {
      for (let i = 0; i < 64; i++) clients.push(await connectFrom(server.port, '127.0.0.1'));
      // The first 16 are served; every later one was closed by the server at once.
      for (const c of clients.slice(0, 16)) assert.equal(await c.command('TIMEOUT 0'), 0);
      for (const c of clients.slice(16)) await c.closedByServer();
      const other = await connectFrom(server.port, '127.0.0.2');
      clients.push(other);
      other.send('VERSION\r\n');
      assert.match(await other.line(), /^0\.24\./);
    } finally {
      for (const c of clients) c.destroy();
    }
    const { status, peakMiB } = await server.stop();
    assert.equal(status, 0);
    assert.match(server.measured.errors(), /127\.0\.0\.1:\d+: refused: 16 clients from 127\.0\.0\.1 already \(maxClientsPerAddress\)/);
    assert.ok(peakMiB < baseline + SLACK_MIB, `the server peaked at ${peakMiB.toFixed(1)} MiB (baseline ${baseline.toFixed(1)} MiB)`);
  });

  test('--idle-timeout: 64 idle clients fill the server, then are disconnected; a trickled line does not count as a command, an open buffer keeps its client', { timeout: 60_000 }, async () => {
    const baseline = await baselineMiB();
    const server = await serveChild('--max-per-address', '64', '--idle-timeout', '1000', '-v');
    const clients: RawClient[] = [];
    try {
      // A capture client (something open), then idle ones up to the 64 slots.
      const capture = await RawClient.connect(server.port);
      clients.push(capture);
      assert.equal(await capture.command(`OPEN ${ADC} 256 00000004`), 0);
      for (let i = 1; i < 64; i++) clients.push(await RawClient.connect(server.port));
      const slowloris = clients[1]!;
      slowloris.send('VERS');
      const full = await RawClient.connect(server.port);
      await full.closedByServer(); // the server is full
      // Every idle client is let go once the timeout has passed, the slow line's one too.
      for (const c of clients.slice(1)) await c.closedByServer(10_000);
      const late = await RawClient.connect(server.port);
      clients.push(late);
      late.send('VERSION\r\n');
      assert.match(await late.line(), /^0\.24\./);
      // The capture client is still served.
      const n = await capture.command(`READBUF ${ADC} 512`);
      assert.equal(n, 512);
      assert.equal(await capture.line(), '00000004');
      assert.equal((await capture.bytes(n)).length, 512);
    } finally {
      for (const c of clients) c.destroy();
    }
    const { status, peakMiB } = await server.stop();
    assert.equal(status, 0);
    const idled = server.measured.errors().match(/disconnected: no command for 1000 ms with nothing open/g) ?? [];
    assert.equal(idled.length, 63, server.measured.errors().slice(-2000));
    assert.ok(peakMiB < baseline + SLACK_MIB, `the server peaked at ${peakMiB.toFixed(1)} MiB (baseline ${baseline.toFixed(1)} MiB)`);
  });
});
