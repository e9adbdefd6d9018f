// The server's BINARY mode (iiod-protocol.md §4b, libiio main 4e3cfe61): the traffic libiio v1's
// own tools exchanged with v1's iiod (test/fixtures/libiio-v1-binary.json) replayed against
// our server, frame by frame; each attribute kind, bad indexes and bounds; fuzzed frames with
// the server back to its baseline afterwards; and BINARY refused when not asked for.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeHeader, encodeHeader, HEADER_BYTES, Op, type FrameHeader } from '../src/iiod/binary-protocol.js';
import { BinaryIndex } from '../src/server/iiod/binary-index.js';
import type { Frame } from './support/binary-frames.js';
import { RawClient, assertSettled, serveSim } from './support/iiod.js';
import { prng } from './support/prng.js';

const FIXTURE = JSON.parse(readFileSync(new URL('../../test/fixtures/libiio-v1-binary.json', import.meta.url), 'utf8')) as {
  recordings: Record<string, Frame[]>;
};

/** Responses whose positive code is a payload length. */
const SIZED = new Set<number>([Op.PRINT, Op.READ_ATTR, Op.READ_DBG_ATTR, Op.READ_BUF_ATTR, Op.READ_CHN_ATTR, Op.READ_DEV_EVT_ATTR,
  Op.READ_CHN_EVT_ATTR, Op.REG_READ, Op.REFRESH_FORMAT, Op.READ_EVENT]);

interface Answer {
  header: FrameHeader;
  payload: Buffer;
}

async function binaryClient(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  client.send('BINARY\r\n');
  assert.equal(await client.line(), '0');
  return client;
}

async function ask(client: RawClient, request: Buffer): Promise<Answer> {
  client.send(request);
  const header = decodeHeader(await client.bytes(HEADER_BYTES));
  const op = request.readUInt8(2);
  const payload = SIZED.has(op) && header.code > 0 ? await client.bytes(header.code) : Buffer.alloc(0);
  return { header, payload };
}

function frame(h: Partial<FrameHeader> & { op: number }, payload?: Buffer): Buffer {
  const header = encodeHeader({ clientId: 0, dev: 0, code: 0, ...h });
  return payload === undefined ? header : Buffer.concat([header, payload]);
}

function writePayload(value: string): Buffer {
  const text = Buffer.from(`${value}\0`);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  return Buffer.concat([length, text]);
}

const text = (payload: Buffer): string => payload.toString('utf8').replace(/\0$/, '');

test('libiio v1 traffic (iio_info, iio_attr, iio_reg) replayed against the server: every answer as v1 iiod gave it, or better where its text backend had none', async () => {
  await using served = await serveSim({ serve: { binary: true } });
  const index = new BinaryIndex(served.ctx);
  const ops = new Set<number>();
  for (const [name, frames] of Object.entries(FIXTURE.recordings)) {
    const client = await binaryClient(served.server.port);
    for (let i = 0; i < frames.length; i += 2) {
      const request = Buffer.from(frames[i]!.hex, 'hex');
      const recorded = Buffer.from(frames[i + 1]!.hex, 'hex');
      const want = { header: decodeHeader(recorded), payload: recorded.subarray(HEADER_BYTES) };
      const h = decodeHeader(request);
      ops.add(h.op);
      const got = await ask(client, request);
      const where = `${name} #${i / 2}: ${frames[i]!.what}`;
      assert.equal(got.header.clientId, h.clientId, where);
      assert.equal(got.header.op, Op.RESPONSE, where);
      switch (h.op) {
        case Op.PRINT:
          // v1 iiod sent zstd; ours is the XML itself, within what a v1 client reads uncompressed.
          assert.equal(got.payload.toString('utf8'), served.ctx.toXml(), where);
          assert.ok(got.payload.length <= 65536, where);
          break;
        case Op.REFRESH_FORMAT: {
          // v1 iiod's text backend answered -EOPNOTSUPP; ours is the channel's format.
          assert.equal(want.header.code, -95, where);
          const channel = index.devices[h.dev]!.channels[h.code]!;
          // As v1 iiod prints it (lower-case sign, no NUL).
          assert.match(got.payload.toString('latin1'), /^[bl]e:[su]\d+\/\d+(X\d+)?>>\d+$/, where);
          assert.equal(got.header.code, got.payload.length, where);
          assert.ok(channel.scanElement !== undefined, where);
          break;
        }
        case Op.READ_CHN_EVT_ATTR:
          // Through the text protocol v1 iiod had no event attributes (-ENOSYS); ours reads them.
          assert.equal(want.header.code, -38, where);
          assert.ok(got.header.code > 0, `${where}: ${got.header.code}`);
          break;
        case Op.READ_CHN_ATTR: {
          const { hi, lo } = { hi: h.code >>> 16, lo: h.code & 0xffff };
          const attr = index.devices[h.dev]!.channelAttrs[lo]![hi]!;
          if (attr.name === 'raw') assert.ok(got.header.code > 0 && want.header.code > 0, where); // the sim's signals move
          else assert.deepEqual([got.header.code, text(got.payload)], [want.header.code, text(want.payload)], where);
          break;
        }
        default:
          assert.deepEqual([got.header.code, got.payload.toString('hex')], [want.header.code, want.payload.toString('hex')], where);
      }
    }
    client.destroy();
  }
  // The recordings cover these opcodes (the rest of §4b has no v1 recording here).
  assert.deepEqual([...ops].sort((a, b) => a - b), [Op.PRINT, Op.TIMEOUT, Op.READ_ATTR, Op.READ_DBG_ATTR, Op.READ_BUF_ATTR, Op.READ_CHN_ATTR,
    Op.READ_CHN_EVT_ATTR, Op.WRITE_CHN_ATTR, Op.GETTRIG, Op.CREATE_EVSTREAM, Op.REG_READ, Op.REG_WRITE, Op.REFRESH_FORMAT]);
  await assertSettled(served);
});

test('BINARY: each attribute kind read and written by index in v1 order, triggers by device index, NOP', async () => {
  await using served = await serveSim({ serve: { binary: true } });
  const index = new BinaryIndex(served.ctx);
  const client = await binaryClient(served.server.port);
  const devIndex = (id: string): number => index.indexOf(served.ctx.devices.find((d) => d.label === id || d.name === id)?.id ?? id);

  // Device attributes sorted by name (strcmp): adc4's sampling_frequency, written then read back.
  const adc = devIndex('adc4');
  const sf = index.devices[adc]!.attrs.findIndex((a) => a.name === 'sampling_frequency');
  assert.ok(sf >= 0);
  assert.equal((await ask(client, frame({ op: Op.WRITE_ATTR, dev: adc, code: sf << 16 }, writePayload('250000')))).header.code, 7);
  const read = await ask(client, frame({ op: Op.READ_ATTR, dev: adc, code: sf << 16 }));
  assert.equal(text(read.payload), '250000');
  assert.equal(read.header.code, 7, 'the length counts the NUL, as v1 iiod sends it');

  // Buffer attributes of buffer 0.
  const bufAttrs = [...served.ctx.devices.find((d) => d.label === 'adc4')!.buffers[0]!.attrs.keys()].sort();
  const length = bufAttrs.indexOf('length');
  assert.ok(length >= 0);
  const bufRead = await ask(client, frame({ op: Op.READ_BUF_ATTR, dev: adc, code: (length << 16) | 0 }));
  assert.match(text(bufRead.payload), /^\d+$/);

  // Channel event attributes: the sensor's temp thresh_rising_value.
  const sensor = devIndex('sensor');
  const temp = index.devices[sensor]!.channels.findIndex((c) => c.id === 'temp');
  const thresh = index.devices[sensor]!.channelEventAttrs[temp]!.findIndex((a) => a.name === 'thresh_rising_value');
  assert.ok(temp >= 0 && thresh >= 0);
  const code = (thresh << 16) | temp;
  assert.equal((await ask(client, frame({ op: Op.WRITE_CHN_EVT_ATTR, dev: sensor, code }, writePayload('2300')))).header.code, 5);
  assert.equal(text((await ask(client, frame({ op: Op.READ_CHN_EVT_ATTR, dev: sensor, code }))).payload), '2300');

  // SETTRIG by device index, GETTRIG answers the same index; -1 clears it (then ENODEV).
  const trigger = index.devices.findIndex((d) => d.device.isTrigger && d.device.name === 'iiojs-timer0');
  assert.equal((await ask(client, frame({ op: Op.SETTRIG, dev: sensor, code: trigger }))).header.code, 0);
  assert.equal((await ask(client, frame({ op: Op.GETTRIG, dev: sensor }))).header.code, trigger);
  assert.equal((await ask(client, frame({ op: Op.SETTRIG, dev: sensor, code: -1 }))).header.code, 0);
  assert.equal((await ask(client, frame({ op: Op.GETTRIG, dev: sensor }))).header.code, -19);
  // A device that takes no trigger: ENOENT (iio_info: "No trigger on this device").
  assert.equal((await ask(client, frame({ op: Op.GETTRIG, dev: adc }))).header.code, -2);

  // Answers go on the client id they came on; NOP answers 0.
  const nop = await ask(client, frame({ op: Op.NOP, clientId: 0x1234 }));
  assert.deepEqual([nop.header.clientId, nop.header.code], [0x1234, 0]);
  client.destroy();
  await assertSettled(served);
});

test('BINARY: bad indexes are errors on a session that goes on; unframeable requests end it after their error', async () => {
  await using served = await serveSim({ serve: { binary: true } });
  const client = await binaryClient(served.server.port);
  assert.equal((await ask(client, frame({ op: Op.READ_ATTR, dev: 200 }))).header.code, -19);
  assert.equal((await ask(client, frame({ op: Op.READ_CHN_ATTR, dev: 0, code: (300 << 16) | 0 }))).header.code, -22);
  assert.equal((await ask(client, frame({ op: Op.READ_CHN_ATTR, dev: 0, code: 999 }))).header.code, -22);
  // A write to no attribute still reads its value: the next frame is answered.
  assert.equal((await ask(client, frame({ op: Op.WRITE_ATTR, dev: 0, code: 500 << 16 }, writePayload('1')))).header.code, -22);
  assert.equal((await ask(client, frame({ op: Op.NOP }))).header.code, 0);
  // Streaming opcodes are not served yet.
  assert.equal((await ask(client, frame({ op: Op.CREATE_EVSTREAM, clientId: 0xffff }))).header.code, -38);
  // An opcode no 4e3cfe61 peer sends: its payload's size is unknown, so -EINVAL and the end.
  assert.equal((await ask(client, frame({ op: 77 }))).header.code, -22);
  await client.closedByServer();

  // A value longer than the bound is refused without being read.
  const big = await binaryClient(served.server.port);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(1n << 40n);
  assert.equal((await ask(big, frame({ op: Op.WRITE_ATTR, dev: 0 }, length))).header.code, -22);
  await big.closedByServer();
  await assertSettled(served);
});

test('BINARY: a read-only server refuses writes with EACCES', async () => {
  await using served = await serveSim({ serve: { binary: true, readOnly: true } });
  const client = await binaryClient(served.server.port);
  assert.equal((await ask(client, frame({ op: Op.WRITE_ATTR, dev: 0, code: 0 }, writePayload('1')))).header.code, -13);
  assert.equal((await ask(client, frame({ op: Op.REG_WRITE, dev: 1, code: 0x10 }, Buffer.alloc(4)))).header.code, -13);
  client.destroy();
  await assertSettled(served);
});

test('BINARY is refused (-22, the text protocol goes on) unless the server is asked to speak it', async () => {
  await using served = await serveSim();
  const client = await RawClient.connect(served.server.port);
  assert.equal(await client.command('BINARY'), -22);
  client.send('VERSION\r\n');
  assert.match(await client.line(), /^0\.24\./, 'VERSION after the refusal');
  client.destroy();
  await assertSettled(served);
});

test('fuzzed frames (random and mutated headers, lengths, client ids): no crash, a fresh client served, back to baseline', async () => {
  await using served = await serveSim({ serve: { binary: true } });
  const rand = prng(0xb1a7);
  const valid = Object.values(FIXTURE.recordings).flat().filter((f) => f.from === 'c').map((f) => Buffer.from(f.hex, 'hex'));
  const connections: Array<Promise<void>> = [];
  for (let c = 0; c < 40; c++) {
    connections.push((async () => {
      const client = await binaryClient(served.server.port);
      const parts: Buffer[] = [];
      for (let i = 0; i < 30; i++) {
        const kind = rand();
        if (kind < 0.3) {
          parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 24) }, () => Math.floor(rand() * 256))));
        } else {
          const f = Buffer.from(valid[Math.floor(rand() * valid.length)]!);
          const at = Math.floor(rand() * f.length);
          if (kind < 0.8) f[at] = Math.floor(rand() * 256); // a mutated byte: op, dev, code, id or payload
          else f.writeUInt16LE(Math.floor(rand() * 65536), 0); // another client id
          parts.push(f);
        }
      }
      client.send(Buffer.concat(parts));
      // Whatever it answers, the client leaves; half wait for answers first.
      if (rand() < 0.5) await client.silent(50);
      client.destroy();
    })());
  }
  await Promise.all(connections);
  await assertSettled(served, 15000);
  const fresh = await binaryClient(served.server.port);
  assert.equal((await ask(fresh, frame({ op: Op.NOP }))).header.code, 0);
  fresh.destroy();
  await assertSettled(served);
});

test('BINARY: an idle client is disconnected as in the text protocol (idleTimeoutMs)', async () => {
  await using served = await serveSim({ serve: { binary: true, idleTimeoutMs: 200 } });
  const client = await binaryClient(served.server.port);
  assert.equal((await ask(client, frame({ op: Op.NOP }))).header.code, 0);
  await client.closedByServer(10000);
  await assertSettled(served);
});

test('BINARY addresses by v1 orderings: devices by id as strcmp sorts them (iio:device10 before iio:device2), scanned channels by index, then the rest', async () => {
  const devices = Array.from({ length: 12 }, (_, i) => ({ name: `d${i}`, attributes: { who: `d${i}` }, channels: [{ type: 'voltage', index: 0, raw: true }] }));
  devices[0] = { name: 'mixed', attributes: { zeta: 'z', alpha: 'a', who: 'mixed' }, channels: [
    { type: 'temp', raw: true },
    { type: 'voltage', index: 5, scanIndex: 2, format: 'le:s16/16>>0' },
    { type: 'voltage', index: 1, scanIndex: 0, format: 'le:u12/16>>4' },
    { type: 'voltage', index: 3, scanIndex: 1, format: 'be:s16/16>>0' },
  ], buffers: [{ direction: 'in', kind: 'dma' }] } as never;
  await using served = await serveSim({ sim: { scenario: { devices } as never }, serve: { binary: true } });
  const index = new BinaryIndex(served.ctx);
  assert.deepEqual(index.devices.map((d) => d.device.id), ['iio:device0', 'iio:device1', 'iio:device10', 'iio:device11',
    'iio:device2', 'iio:device3', 'iio:device4', 'iio:device5', 'iio:device6', 'iio:device7', 'iio:device8', 'iio:device9']);
  assert.deepEqual(index.devices[0]!.channels.map((c) => c.id), ['voltage1', 'voltage3', 'voltage5', 'temp']);
  assert.deepEqual(index.devices[0]!.attrs.map((a) => a.name), ['alpha', 'who', 'zeta']);
  const client = await binaryClient(served.server.port);
  // Device 2 on the wire is iio:device10: its only attribute says so.
  assert.equal(text((await ask(client, frame({ op: Op.READ_ATTR, dev: 2, code: 0 }))).payload), 'd10');
  assert.equal(text((await ask(client, frame({ op: Op.READ_ATTR, dev: 0, code: 2 << 16 }))).payload), 'z');
  // REFRESH_FORMAT by channel index: channel 0 is scan index 0 (voltage1), 2 is voltage5.
  assert.equal(text((await ask(client, frame({ op: Op.REFRESH_FORMAT, dev: 0, code: 0 }))).payload), 'le:u12/16>>4');
  assert.equal((await ask(client, frame({ op: Op.REFRESH_FORMAT, dev: 0, code: 1 }))).payload.toString('latin1'), 'be:s16/16>>0', 'lower case and no NUL, as v1 iiod prints it');
  // The unscanned channel has no format.
  assert.equal((await ask(client, frame({ op: Op.REFRESH_FORMAT, dev: 0, code: 3 }))).header.code, -22);
  client.destroy();
  await assertSettled(served);
});
