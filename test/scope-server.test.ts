// The scope's server through the public API (`scope(ctx)`), with WebSocket clients of our own:
// a client that does not keep up gets frames dropped while the capture runs on; several clients
// share one capture; bad requests are answered, not fatal; uploads are checked; close() frees
// the device.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import WebSocket from 'ws';
import { openContext, scope, type ScopeServer } from '../src/index.js';

interface Client {
  ws: WebSocket;
  frames: Array<Record<string, any>>;
  request(op: string, body?: Record<string, unknown>): Promise<Record<string, any>>;
  /** Resolves with the first status message that satisfies `ok`. */
  status(ok: (m: Record<string, any>) => boolean): Promise<Record<string, any>>;
  messages: Array<Record<string, any>>;
}

async function connect(server: ScopeServer, ack: boolean): Promise<Client> {
  const url = new URL(server.url);
  const ws = new WebSocket(`ws://${url.host}/ws?token=${server.token}`, { origin: url.origin });
  await once(ws, 'open');
  const frames: Array<Record<string, any>> = [];
  const messages: Array<Record<string, any>> = [];
  const waiting = new Map<number, (m: Record<string, any>) => void>();
  const statusWaiters = new Set<{ ok: (m: Record<string, any>) => boolean; resolve: (m: Record<string, any>) => void }>();
  let next = 1;
  ws.on('message', (data: Buffer, binary) => {
    if (binary) {
      const length = data.readUInt32LE(0);
      const header = JSON.parse(data.subarray(4, 4 + length).toString()) as Record<string, any>;
      frames.push(header);
      if (ack) ws.send(JSON.stringify({ op: 'ack', seq: header.seq }));
      return;
    }
    const m = JSON.parse(data.toString()) as Record<string, any>;
    messages.push(m);
    if (m.type === 'reply') waiting.get(m.id)?.(m);
    if (m.type === 'status') for (const w of statusWaiters) if (w.ok(m)) { statusWaiters.delete(w); w.resolve(m); }
  });
  return {
    ws, frames, messages,
    request: (op, body = {}) => new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, op, ...body }));
    }),
    status: (ok) => new Promise((resolve) => statusWaiters.add({ ok, resolve })),
  };
}

const view = (channels: string[], extra: Record<string, unknown> = {}) => ({
  view: {
    view: 'time', device: 'adc4', channels, samples: 4096, columns: 800, units: 'raw', run: 'run', rolling: false, trigger: null,
    fft: { size: 4096, window: 'hann', average: 1, peakHold: false, markers: 3, complex: false }, ...extra,
  },
});

test('a client that does not acknowledge gets no more frames than the window allows; the capture runs on', async () => {
  await using ctx = await openContext('sim:');
  await using server = await scope(ctx);
  const slow = await connect(server, false);
  assert.equal((await slow.request('view', view(['voltage0']))).ok, true);
  const first = await slow.status((m) => m.captures[0]?.blocks > 0);
  const later = await slow.status((m) => m.captures[0]?.blocks > first.captures[0].blocks + 20 && m.frames.dropped > 5);
  assert.equal(slow.frames.length, 2, 'two frames unacknowledged, then drops');
  assert.equal(later.frames.sent, 2);
  assert.ok(later.captures[0].running);
  slow.ws.close();
});

test('several clients watch one capture: the union of their channels, frames for each', async () => {
  await using ctx = await openContext('sim:');
  await using server = await scope(ctx);
  const a = await connect(server, true);
  const b = await connect(server, true);
  await a.request('view', view(['voltage0']));
  await b.request('view', view(['voltage2'], { view: 'spectrum' }));
  const status = await a.status((m) => m.captures[0]?.channels.length === 2 && m.captures[0].running);
  assert.equal(status.captures.length, 1, 'one capture of adc4');
  assert.deepEqual(status.captures[0].channels, ['voltage0', 'voltage2']);
  await a.status(() => a.frames.length > 3 && b.frames.length > 3);
  assert.ok(a.frames.every((f) => f.type === 'time'));
  assert.ok(b.frames.every((f) => f.type === 'spectrum'));
  assert.ok(b.frames.at(-1)!.peaks.length > 0);
  // b leaves: the capture follows a's channel alone.
  b.ws.close();
  const after = await a.status((m) => m.captures[0]?.channels.length === 1 && m.captures[0].running);
  assert.deepEqual(after.captures[0].channels, ['voltage0']);
  a.ws.close();
});

test('a channel the driver will not enable alone is captured with its buffer\'s others (the I of an I/Q pair)', async () => {
  await using ctx = await openContext('sim:');
  await using server = await scope(ctx);
  const c = await connect(server, true);
  assert.equal((await c.request('view', view(['voltage0_i'], { device: 'rx' }))).ok, true);
  const status = await c.status((m) => m.captures[0]?.running === true && c.frames.length > 0);
  assert.deepEqual(status.captures[0].channels, ['voltage0_i', 'voltage0_q']);
  assert.equal(status.captures[0].error, undefined);
  assert.deepEqual(c.frames.at(-1)!.channels.map((x: { id: string }) => x.id), ['voltage0_i'], 'the frames carry the channel asked for');
  c.ws.close();
});

test('bad requests are answered with their reason; the session goes on', async () => {
  await using ctx = await openContext('sim:');
  await using server = await scope(ctx);
  const c = await connect(server, true);
  c.ws.send('{not json');
  const unknown = await c.request('frobnicate');
  assert.equal(unknown.ok, false);
  assert.match(unknown.error.message, /unknown op "frobnicate"/);
  assert.ok(c.messages.some((m) => m.type === 'error' && /bad request/.test(m.message)));
  const big = await c.request('view', view(['voltage0'], { samples: 1 << 30 }));
  assert.match(big.error.message, /samples must be 2…262144/);
  const fft = await c.request('view', view(['voltage0'], { view: 'spectrum', fft: { size: 1000 } }));
  assert.match(fft.error.message, /FFT size must be one of 32, 64/);
  const nodev = await c.request('view', view(['voltage0'], { device: 'nosuch' }));
  assert.equal(nodev.error.code, 'ENODEV');
  const attr = await c.request('attr.write', { target: { kind: 'device', device: 'adc4' }, name: 'sampling_frequency', value: '123' });
  assert.equal(attr.error.code, 'EINVAL');
  assert.match(attr.error.message, /123 Hz is not available/, "the driver's reason, as the sim's kernel gives it");
  const ok = await c.request('attrs', { target: { kind: 'channel', device: 'adc4', channel: 'voltage0', output: false } });
  assert.deepEqual(ok.attrs.find((a: any) => a.name === 'sampling_frequency').available, { kind: 'list', values: ['125000', '250000', '500000', '1000000'] });
  c.ws.close();
});

test('generator uploads: CSV columns per channel, errors with their line, a size bound', async () => {
  await using ctx = await openContext('sim:');
  await using server = await scope(ctx);
  const post = (query: string, body: string | Uint8Array<ArrayBuffer>) => fetch(`${new URL(server.url).origin}/api/generate?token=${server.token}&${query}`, { method: 'POST', body });
  const csv = Array.from({ length: 1000 }, (_, i) => `${Math.round(1000 * Math.sin(i / 10))},0`).join('\n');
  const played = await post('device=tx&format=csv&mode=cyclic', csv);
  assert.equal(played.status, 200);
  const reply = await played.json() as any;
  assert.deepEqual([reply.generator.channels, reply.generator.samples, reply.generator.mode], [['voltage0_i', 'voltage0_q'], 1000, 'cyclic']);
  const bad = await post('device=tx&format=csv', '1,2\n3\n');
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as any).error.message, /CSV line 2 has 1 values/);
  const raw = await post('device=tx&format=raw&mode=streamed', new Uint8Array(4 * 100 + 1));
  assert.match(((await raw.json()) as any).error.message, /401 bytes, not a whole number of 4-byte scans/);
  const noToken = await fetch(`${new URL(server.url).origin}/api/generate?device=tx&format=csv`, { method: 'POST', body: csv });
  assert.equal(noToken.status, 403);
});

test('--read-only: the upload is refused with EACCES; close() ends the sessions and frees every buffer', async () => {
  await using ctx = await openContext('sim:');
  const server = await scope(ctx, { readOnly: true });
  const c = await connect(server, true);
  await c.request('view', view(['voltage0']));
  await c.status((m) => m.captures[0]?.running === true);
  const post = await fetch(`${new URL(server.url).origin}/api/generate?token=${server.token}&device=tx&format=csv`, { method: 'POST', body: '1,2\n' });
  assert.equal(post.status, 403);
  assert.equal(((await post.json()) as any).error.code, 'EACCES');
  const closed = once(c.ws, 'close');
  await server.close();
  await closed;
  // The capture is gone: the buffer opens again.
  const stream = await ctx.device('adc4').buffer(0).open({ channels: ['voltage0'], blockSize: 64 });
  await stream.close();
});
