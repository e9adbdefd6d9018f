// The iiod server over a raw socket (iiod-protocol.md §4a): every command of the text protocol,
// errors and limits, buffers shared between readers, the single writer, clean-up after clients
// that vanish, many clients at once, read-only mode and the default listen address. The server
// serves the default sim scenario: iio:device0 iiojs-adc4 (voltage0..3, timestamp),
// iio:device1 iiojs-trx (the transceiver's PHY: two LOs, registers), iio:device2 iiojs-sensor,
// iio:device3 iiojs-trx-rx (RX i/q), iio:device4 iiojs-trx-tx (TX i/q), trigger0/1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { IIOD_LIMITS, IIOD_PORT, serve } from '../src/index.js';
import { RawClient, assertSettled, serveSim, type Served } from './support/iiod.js';
import { fnv1a } from './support/checksum.js';
import { assertRamp, column } from './support/ramp.js';

const ADC = 'iio:device0';
const TRX = 'iio:device1';
const RX = 'iio:device3';
const TX = 'iio:device4';
const SENSOR = 'iio:device2';

/** A "read all" payload, decoded by the protocol's rule: BE int32 length (or -errno), value padded to 4. */
function decodeReadAll(payload: Buffer): Array<string | number> {
  const out: Array<string | number> = [];
  for (let at = 0; at < payload.length;) {
    const n = payload.readInt32BE(at);
    at += 4;
    if (n < 0) {
      out.push(n);
      continue;
    }
    assert.equal(payload[at + n - 1], 0, 'each value is NUL-terminated');
    out.push(payload.toString('utf8', at, at + n - 1));
    at += Math.ceil(n / 4) * 4;
  }
  return out;
}

/** A "write all" payload: BE int32 length of value+NUL, then the bytes padded to 4; null → length 0. */
function encodeWriteAll(values: Array<string | null>): Buffer {
  return Buffer.concat(values.map((v) => {
    const head = Buffer.alloc(4);
    if (v === null) return head;
    const bytes = Buffer.from(`${v}\0`);
    head.writeInt32BE(bytes.length);
    return Buffer.concat([head, bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
  }));
}

/** READBUF's reply when it fits one chunk: the mask line and the data (and the early-end `0`, if any). */
async function readBuffer(c: RawClient, device: string, bytes: number): Promise<{ mask: string; data: Buffer; ended: boolean }> {
  const n = await c.command(`READBUF ${device} ${bytes}`);
  assert.ok(n > 0, `READBUF answered ${n}`);
  const mask = await c.line();
  const data = await c.bytes(n);
  let ended = false;
  if (n < bytes) {
    assert.equal(await c.integer(), 0, 'a short READBUF ends with 0');
    ended = true;
  }
  return { mask, data, ended };
}

async function withClient<T>(served: Served, body: (c: RawClient) => Promise<T>): Promise<T> {
  const c = await RawClient.connect(served.server.port);
  try {
    return await body(c);
  } finally {
    c.destroy();
  }
}

describe('listening', () => {
  test('listens on 127.0.0.1 unless told otherwise; the default port is libiio\'s 30431', async () => {
    assert.equal(IIOD_PORT, 30431);
    await using served = await serveSim();
    assert.equal(served.server.address().address, '127.0.0.1');
    assert.equal(served.server.address().family, 'IPv4');
    assert.ok(served.server.port > 0);
  });

  test('a busy port is a Node-style EADDRINUSE naming the address', async () => {
    await using served = await serveSim();
    await assert.rejects(serve(served.ctx, { port: served.server.port }), { code: 'EADDRINUSE', syscall: 'listen', port: served.server.port });
  });

  test('an aborted signal closes the server; close() and asyncDispose are idempotent', async () => {
    const kernel = new SimKernel();
    await using ctx = await Context.open(new LocalBackend(kernel));
    const abort = new AbortController();
    const server = await serve(ctx, { port: 0, signal: abort.signal });
    const c = await RawClient.connect(server.port);
    assert.equal(await c.command('TIMEOUT 100'), 0);
    abort.abort();
    await c.closedByServer();
    await server.close();
    await server[Symbol.asyncDispose]();
    await assert.rejects(RawClient.connect(server.port), { code: 'ECONNREFUSED' });
  });
});

describe('context commands', () => {
  test('VERSION, PRINT, ZPRINT, BINARY, HELP, TIMEOUT, empty lines, EXIT and QUIT', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      c.send('VERSION\r\n');
      assert.match(await c.line(), /^0\.24\.[ -~]{7}$/);
      c.send('print\r\n');
      const xml = Buffer.from(served.ctx.toXml());
      assert.equal(await c.integer(), xml.length);
      assert.deepEqual(await c.bytes(xml.length), xml);
      assert.equal(await c.line(), '');
      assert.equal(await c.command('ZPRINT'), -22, 'no zstd: 0.2x clients fall back to PRINT');
      assert.equal(await c.command('BINARY'), -22, 'a 0.2x server keeps v1 clients in the text protocol');
      c.send('HELP\r\n');
      const help: string[] = [];
      for (let line = await c.line(); !line.includes('BUFFERS_COUNT'); line = await c.line()) help.push(line);
      assert.ok(help.some((l) => l.includes('READBUF')));
      assert.equal(await c.command('TIMEOUT 2500'), 0);
      assert.equal(await c.command('timeout 0'), 0);
      c.send('\r\n\r\n  \t\r\n');
      assert.ok(await c.silent(), 'empty lines get no reply');
      c.send('EXIT\r\n');
      await c.closedByServer();
    });
    await withClient(served, async (c) => {
      c.send('quit\r\n');
      await c.closedByServer();
    });
    await assertSettled(served);
  });
});

describe('attributes', () => {
  test('READ of device, channel, buffer and debug attributes, found by id, label or name', async () => {
    await using served = await serveSim();
    const adc = served.ctx.device('iiojs-adc4');
    const trx = served.ctx.device('iiojs-trx');
    await withClient(served, async (c) => {
      assert.equal(await c.value(`READ ${ADC} sampling_frequency`), await adc.attr('sampling_frequency').read());
      assert.equal(await c.value('read adc4 sampling_frequency_available'), await adc.attr('sampling_frequency_available').read());
      assert.equal(await c.value('READ iiojs-trx ensm_mode'), 'fdd');
      assert.equal(await c.value(`READ ${ADC} INPUT voltage1 label`), 'square 250 Hz');
      assert.equal(await c.value(`READ ${ADC} input voltage0 scale`), await adc.channel('voltage0').attr('scale').read());
      assert.equal(await c.value(`READ ${TRX} OUTPUT altvoltage0 frequency`), '2400000000');
      assert.equal(await c.value(`READ ${TRX} OUTPUT RX_LO frequency`), '2400000000', 'a channel by its name');
      assert.equal(await c.value(`READ ${ADC} BUFFER length`), await adc.buffer(0).attr('length').read());
      assert.equal(await c.value(`READ ${TRX} DEBUG direct_reg_access`), await trx.debugAttr('direct_reg_access').read());
      assert.equal(await c.value('READ trigger0 sampling_frequency'), await served.ctx.device('trigger0').attr('sampling_frequency').read());
    });
  });

  test('READ errors: unknown device -19, unknown channel or attribute -2, unreadable -13, a second buffer\'s attributes -2', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      assert.equal(await c.value('READ iio:device9 name'), -19);
      assert.equal(await c.value(`READ ${ADC} nonexistent`), -2);
      assert.equal(await c.value(`READ ${ADC} INPUT voltage9 raw`), -2);
      assert.equal(await c.value(`READ ${ADC} OUTPUT voltage0 raw`), -2, 'channels are looked up within their direction');
      assert.equal(await c.value('READ trigger1 trigger_now'), -13, 'a write-only attribute');
      assert.equal(await c.value(`READ ${TRX} BUFFER length`), -2, 'the PHY has no buffer');
    });
  });

  test('"read all" of each target: every attribute in XML order, big-endian lengths, values padded to 4', async () => {
    await using served = await serveSim();
    const adc = served.ctx.device('iiojs-adc4');
    const trx = served.ctx.device('iiojs-trx');
    const trigger = served.ctx.device('trigger1');
    const expected = async (attrs: Iterable<{ read(): Promise<string> }>): Promise<Array<string | number>> =>
      Promise.all([...attrs].map((a) => a.read().catch((e: { errno: number }) => e.errno)));
    await withClient(served, async (c) => {
      const readAll = async (line: string): Promise<Array<string | number>> => {
        const n = await c.command(line);
        assert.ok(n >= 0, `${line} answered ${n}`);
        const payload = await c.bytes(n);
        assert.equal(await c.line(), '');
        return decodeReadAll(payload);
      };
      assert.deepEqual(await readAll(`READ ${ADC}`), await expected(adc.attrs.values()));
      assert.deepEqual(await readAll(`READ ${ADC} BUFFER`), await expected(adc.buffer(0).attrs.values()));
      assert.deepEqual(await readAll(`READ ${TRX} DEBUG`), await expected(trx.debugAttrs.values()));
      assert.deepEqual(await readAll(`READ ${TRX} OUTPUT altvoltage1`), await expected(trx.channel('altvoltage1', 'out').attrs.values()));
      assert.deepEqual(await readAll('READ trigger1'), [-13], 'an unreadable attribute is its -errno');
      assert.equal((await expected(trigger.attrs.values())).length, 1);
    });
  });

  test('WRITE of each kind (strlen+1 bytes, as 0.2x clients send): the byte count, and the value written', async () => {
    await using served = await serveSim();
    const adc = served.ctx.device('iiojs-adc4');
    const trx = served.ctx.device('iiojs-trx');
    await withClient(served, async (c) => {
      const write = (line: string, value: string): Promise<number> => {
        c.send(`${line} ${value.length + 1}\r\n${value}\0`);
        return c.integer();
      };
      assert.equal(await write(`WRITE ${ADC} sampling_frequency`, '500000'), 7);
      assert.equal(await adc.attr('sampling_frequency').read(), '500000');
      assert.equal(await write(`WRITE ${TRX} OUTPUT altvoltage0 frequency`, '2450000000'), 11);
      assert.equal(await trx.channel('altvoltage0', 'out').attr('frequency').read(), '2450000000');
      assert.equal(await write(`WRITE ${ADC} BUFFER length`, '2048'), 5);
      assert.equal(await adc.buffer(0).attr('length').read(), '2048');
      assert.equal(await write(`WRITE ${TRX} DEBUG direct_reg_access`, '0x37 0x55'), 10);
      assert.equal(await trx.registers.read(0x37), 0x55);
      // The payload is always consumed, so errors keep the stream in step.
      assert.equal(await write('WRITE iio:device9 sampling_frequency', '1'), -19);
      assert.equal(await write(`WRITE ${ADC} nonexistent`, 'abc'), -2);
      assert.equal(await write(`WRITE ${ADC} sampling_frequency`, 'fast'), -22, 'the kernel\'s EINVAL');
      assert.equal(await c.value(`READ ${ADC} sampling_frequency`), '500000');
    });
  });

  test('"write all": one payload for every attribute of the target, entries of length 0 skipped', async () => {
    await using served = await serveSim();
    const trx = served.ctx.device('iiojs-trx');
    const names = [...trx.attrs.keys()];
    const values = names.map((n) => (n === 'calib_mode' ? 'manual' : n === 'ensm_mode' ? 'alert' : null));
    assert.ok(values.filter((v) => v !== null).length === 2);
    const payload = encodeWriteAll(values);
    await withClient(served, async (c) => {
      c.send(`WRITE ${TRX} ${payload.length}\r\n`);
      c.send(payload);
      assert.equal(await c.integer(), payload.length);
      assert.equal(await trx.attr('calib_mode').read(), 'manual');
      assert.equal(await trx.attr('ensm_mode').read(), 'alert');
      assert.equal(await trx.attr('sampling_frequency').read(), '2000000');
      // A payload that does not hold one entry per attribute is refused whole.
      const short = encodeWriteAll(['x']);
      c.send(`WRITE ${TRX} ${short.length}\r\n`);
      c.send(short);
      assert.equal(await c.integer(), -22);
      assert.equal(await trx.attr('calib_mode').read(), 'manual');
    });
  });
});

describe('triggers and buffer counts', () => {
  test('GETTRIG gives the trigger\'s name, SETTRIG takes its id or detaches; -2 for a device without trigger support', async () => {
    await using served = await serveSim();
    const sensor = served.ctx.device('iiojs-sensor');
    await withClient(served, async (c) => {
      const gettrig = async (device: string): Promise<string | number> => {
        const n = await c.command(`GETTRIG ${device}`);
        if (n <= 0) return n;
        const text = (await c.bytes(n + 1)).toString();
        assert.ok(text.endsWith('\n'));
        return text.slice(0, -1);
      };
      assert.equal(await gettrig(SENSOR), 'iiojs-timer0');
      assert.equal(await c.command(`SETTRIG ${SENSOR} trigger1`), 0);
      assert.equal(await gettrig(SENSOR), 'sysfstrig0');
      assert.equal((await sensor.getTrigger())?.id, 'trigger1');
      assert.equal(await c.command(`SETTRIG ${SENSOR}`), 0);
      assert.equal(await gettrig(SENSOR), 0);
      assert.equal(await sensor.getTrigger(), null);
      assert.equal(await gettrig(ADC), -2);
      assert.equal(await c.command(`SETTRIG ${ADC} trigger0`), -2);
      assert.equal(await c.command(`SETTRIG ${SENSOR} trigger7`), -19, 'no such trigger');
      assert.equal(await gettrig('iio:device7'), -19);
    });
  });

  test('SET BUFFERS_COUNT takes 1..8; the next OPEN uses it', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      assert.equal(await c.command(`SET ${ADC} BUFFERS_COUNT 0`), -22);
      assert.equal(await c.command(`SET ${ADC} BUFFERS_COUNT ${IIOD_LIMITS.blocks + 1}`), -22);
      // Blocks stay with the (stalled) hardware, where the sim counts them.
      const dma = served.kernel.iio.device('iiojs-adc4').buffer(0);
      dma.stall();
      assert.equal(await c.command(`set ${ADC} buffers_count 2`), 0);
      assert.equal(await c.command(`OPEN ${ADC} 64 00000004`), 0);
      assert.equal(dma.stats.queued + dma.stats.active, 2);
      assert.equal(await c.command(`CLOSE ${ADC}`), 0);
      await withClient(served, async (d) => {
        assert.equal(await d.command(`OPEN ${ADC} 64 00000004`), 0);
        assert.equal(dma.stats.queued + dma.stats.active, 4, 'libiio\'s default on a connection that set none');
        assert.equal(await d.command(`CLOSE ${ADC}`), 0);
      });
    });
    await assertSettled(served);
  });
});

describe('malformed input', () => {
  test('lines that do not parse get -22 and the session goes on', async () => {
    await using served = await serveSim();
    const bad = [
      'FOO', 'Read iio:device0 raw', 'READ', 'READ iio:device0 INPUT', 'READ iio:device0 raw extra words here',
      'OPEN iio:device0', 'OPEN iio:device0 x 00000001', 'OPEN iio:device0 1 00000001 LOOPED', 'READBUF iio:device0',
      'READBUF iio:device0 -5', 'TIMEOUT', 'TIMEOUT -1', 'SET iio:device0 BUFFER_COUNT 2', 'SETTRIG a b c',
      ' VERSION', 'VERSION now', 'READ iio:device0 in\x01valid', 'READ iio:dev<ice0 raw', 'WRITE iio:device0 raw',
      'GETTRIG', 'CLOSE', '\x00\x00\x00', 'READ iio:device0 1234567890123456789 2', 'READBUF iio:device0 99999999999999999999',
    ];
    await withClient(served, async (c) => {
      for (const line of bad) assert.equal(await c.command(line), -22, JSON.stringify(line));
      c.send('VERSION\r\n');
      assert.match(await c.line(), /^0\.24\./);
    });
    await assertSettled(served);
  });

  test('a 10 MB line is dropped as it arrives, answered -22 once, and the next line is served', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      const chunk = Buffer.alloc(1 << 20, 'A');
      for (let i = 0; i < 10; i++) c.send(chunk);
      c.send('\r\nVERSION\r\n');
      assert.equal(await c.integer(10_000), -22);
      assert.match(await c.line(10_000), /^0\.24\./);
      assert.ok(await c.silent());
    });
  });

  test('a line just under the limit is parsed; one just over it is -22', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      const name = 'x'.repeat(IIOD_LIMITS.line - `READ ${ADC} `.length);
      assert.equal(await c.value(`READ ${ADC} ${name}`), -2);
      assert.equal(await c.value(`READ ${ADC} ${name}y`), -22);
      assert.equal(await c.command('TIMEOUT 1'), 0);
    });
  });

  test('absurd sizes are refused without allocating: WRITE of 2^40 bytes hangs up, OPEN and READBUF of 2^40 are -22', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      assert.equal(await c.command(`OPEN ${ADC} ${2 ** 40} 00000004`), -22);
      assert.equal(await c.command(`OPEN ${ADC} ${IIOD_LIMITS.blockBytes / 2 + 1} 00000004`), -22, 'one sample past the block limit');
      assert.equal(await c.command(`OPEN ${ADC} 0 00000004`), -22);
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      assert.equal(await c.command(`READBUF ${ADC} ${2 ** 40}`), -22);
      assert.equal(await c.command(`READBUF ${ADC} 514`), -22, 'more than the 256 samples opened');
      assert.equal(await c.command(`READBUF ${ADC} 0`), -22);
      assert.equal(await c.command(`WRITE ${ADC} sampling_frequency ${2 ** 40}`), -22);
      await c.closedByServer();
    });
    await withClient(served, async (c) => {
      assert.equal(await c.command(`OPEN ${TX} 256 00000003`), 0);
      assert.equal(await c.command(`WRITEBUF ${TX} ${2 ** 40}`), -22);
      assert.equal(await c.command(`WRITEBUF ${TX} 1026`), -22, 'not a whole number of samples');
      assert.equal(await c.command(`CLOSE ${TX}`), 0);
    });
    await assertSettled(served);
  });
});

describe('buffers', () => {
  test('OPEN errors: unknown device, wrong mask length or bits, channels of no single buffer, twice', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      assert.equal(await c.command('OPEN iio:device9 256 00000001'), -19);
      assert.equal(await c.command(`OPEN ${ADC} 256 0001`), -22, '5 channels: one 8-digit word');
      assert.equal(await c.command(`OPEN ${ADC} 256 0000000000000001`), -22);
      assert.equal(await c.command(`OPEN ${ADC} 256 0000000g`), -22);
      assert.equal(await c.command(`OPEN ${ADC} 256 00000020`), -22, 'bit 5: adc4 has 5 channels');
      assert.equal(await c.command(`OPEN ${ADC} 256 00000000`), -22, 'no channel');
      assert.equal(await c.command(`OPEN ${TX} 256 00000004`), -22, 'a channel the device does not have');
      assert.equal(await c.command(`OPEN ${TRX} 256 00000001`), -22, 'an LO: not a scan element');
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004 CYCLIC`), -22, 'cyclic capture');
      assert.equal(await c.command('OPEN trigger0 256 00000000'), -22, 'a trigger has no channels');
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), -16);
      assert.equal(await c.command(`CLOSE ${ADC}`), 0);
      assert.equal(await c.command(`CLOSE ${ADC}`), -6, 'not open on this connection');
      assert.equal(await c.command('CLOSE iio:device9'), -19);
    });
    await assertSettled(served);
  });

  test('READBUF without OPEN on this connection is -9; a capture gives the ramp behind its mask line', async () => {
    await using served = await serveSim();
    await withClient(served, async (other) => {
      assert.equal(await other.command(`OPEN ${ADC} 256 00000004`), 0);
      await withClient(served, async (c) => {
        assert.equal(await c.command(`READBUF ${ADC} 512`), -9);
        assert.equal(await c.command(`WRITEBUF ${ADC} 512`), -9);
      });
      const all: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { mask, data, ended } = await readBuffer(other, ADC, 512);
        assert.equal(mask, '00000004');
        assert.equal(data.length, 512);
        assert.equal(ended, false);
        const values = column(data, 1, 0);
        assertRamp(values, `READBUF ${i}`);
        all.push(...values);
      }
      assert.equal(all.length, 768);
      assert.equal(await other.command(`CLOSE ${ADC}`), 0);
    });
    await assertSettled(served);
  });

  test('two readers share a device: the union mask, the largest samples count, the same data to both; one leaving leaves the other stream whole', async () => {
    await using served = await serveSim();
    const dma = served.kernel.iio.device('iiojs-adc4').buffer(0);
    const a = await RawClient.connect(served.server.port);
    const b = await RawClient.connect(served.server.port);
    try {
      dma.stall(); // before OPEN, which starts the DMA
      assert.equal(await a.command(`OPEN ${ADC} 256 0000000c`), 0); // voltage2, voltage3: 4 bytes a sample
      assert.equal(await b.command(`OPEN ${ADC} 128 00000005`), 0); // voltage0, voltage2: 4 bytes a sample
      // The buffer runs with voltage0, 2 and 3 (6 bytes a sample) and 256 samples.
      a.send(`READBUF ${ADC} 1024\r\n`);
      b.send(`READBUF ${ADC} 512\r\n`);
      assert.ok(await a.silent(100));
      dma.resume();
      // 1024 bytes are 170 samples of 6 and 4 left over: 1020 bytes, then 0 ends the READBUF.
      assert.equal(await a.integer(), 1020);
      assert.equal(await a.line(), '0000000d');
      const dataA = await a.bytes(1020);
      assert.equal(await a.integer(), 0);
      assert.equal(await b.integer(), 510);
      assert.equal(await b.line(), '0000000d');
      const dataB = await b.bytes(510);
      assert.equal(await b.integer(), 0);
      assert.deepEqual(dataB, dataA.subarray(0, 510), 'both got the same block');
      assertRamp(column(dataA, 3, 1), 'voltage2 (union)');
      // a leaves: the buffer goes on as it is, and b's samples go on where they stopped.
      assert.equal(await a.command(`CLOSE ${ADC}`), 0);
      const { mask, data, ended } = await readBuffer(b, ADC, 512);
      assert.equal(mask, '0000000d');
      assert.equal(data.length, 510);
      assert.equal(ended, true);
      assertRamp(column(Buffer.concat([dataB, data]), 3, 1), 'voltage2 (b, across a leaving)');
    } finally {
      a.destroy();
      b.destroy();
    }
    await assertSettled(served);
  });

  test('an output buffer has one writer: a second OPEN is -16 until the first CLOSEs', async () => {
    await using served = await serveSim();
    const a = await RawClient.connect(served.server.port);
    const b = await RawClient.connect(served.server.port);
    try {
      assert.equal(await a.command(`OPEN ${TX} 256 00000003`), 0);
      assert.equal(await b.command(`OPEN ${TX} 256 00000003`), -16);
      assert.equal(await b.command(`OPEN ${RX} 256 00000003`), 0, 'the RX device streams beside it');
      assert.equal(await a.command(`READBUF ${TX} 1024`), -9, 'a writer does not read');
      assert.equal(await a.command(`CLOSE ${TX}`), 0);
      assert.equal(await b.command(`CLOSE ${RX}`), 0);
      assert.equal(await b.command(`OPEN ${TX} 256 00000003`), 0);
    } finally {
      a.destroy();
      b.destroy();
    }
    await assertSettled(served);
  });

  test('WRITEBUF: 0 (go ahead), the samples, their count; CLOSE plays what is queued; cyclic repeats one block', async () => {
    await using served = await serveSim();
    const tx = served.kernel.iio.device('iiojs-trx-tx').buffer(0);
    const blocks = [0, 1, 2].map((k) => Buffer.from(Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + k * 13) & 0xff)));
    await withClient(served, async (c) => {
      assert.equal(await c.command(`OPEN ${TX} 256 00000003`), 0);
      for (const block of blocks) {
        assert.equal(await c.command(`WRITEBUF ${TX} 1024`), 0);
        c.send(block);
        assert.equal(await c.integer(), 1024);
      }
      assert.equal(await c.command(`CLOSE ${TX}`), 0);
    });
    assert.equal(tx.stats.bytes, 3072);
    assert.equal(tx.stats.checksum, fnv1a(Buffer.concat(blocks)));
    await withClient(served, async (c) => {
      assert.equal(await c.command(`OPEN ${TX} 256 00000003 CYCLIC`), 0);
      assert.equal(await c.command(`WRITEBUF ${TX} 1024`), 0);
      c.send(blocks[1]!);
      assert.equal(await c.integer(), 1024);
      assert.equal(await c.command(`WRITEBUF ${TX} 1024`), -16, 'the cyclic block is playing');
      const start = tx.stats.bytes;
      const deadline = Date.now() + 5000;
      while (tx.stats.bytes < start + 4 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.ok(tx.stats.bytes >= start + 4 * 1024, 'the block is played again and again');
      assert.deepEqual(Buffer.from(tx.stats.last!), blocks[1]);
      assert.equal(await c.command(`CLOSE ${TX}`), 0);
    });
    await assertSettled(served);
  });
});


describe('clients that vanish', () => {
  test('a client disconnecting while its READBUF waits for data frees the buffer', async () => {
    await using served = await serveSim();
    const c = await RawClient.connect(served.server.port);
    served.kernel.iio.device('iiojs-adc4').buffer(0).stall(); // before OPEN, which starts the DMA
    assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
    assert.ok(served.kernel.context.fds.size > served.baseline);
    c.send(`READBUF ${ADC} 512\r\n`);
    assert.ok(await c.silent(50));
    c.destroy();
    await assertSettled(served);
  });

  test('… also on a file I/O buffer (the sensor on the sysfs trigger, which nobody fires)', async () => {
    await using served = await serveSim();
    const c = await RawClient.connect(served.server.port);
    assert.equal(await c.command(`SETTRIG ${SENSOR}`), 0);
    assert.equal(await c.command(`OPEN ${SENSOR} 4 00000001`), -22, 'a triggered buffer without a trigger: the kernel refuses to enable it');
    assert.equal(await c.command(`SETTRIG ${SENSOR} trigger1`), 0);
    assert.equal(await c.command(`OPEN ${SENSOR} 4 00000001`), 0);
    c.send(`READBUF ${SENSOR} 8\r\n`);
    assert.ok(await c.silent(100));
    c.destroy();
    await assertSettled(served);
  });

  test('TIMEOUT bounds a READBUF waiting for data (-110); the session goes on', async () => {
    await using served = await serveSim();
    const dma = served.kernel.iio.device('iiojs-adc4').buffer(0);
    await withClient(served, async (c) => {
      assert.equal(await c.command('TIMEOUT 100'), 0);
      dma.stall(); // before OPEN, which starts the DMA
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      const t0 = Date.now();
      assert.equal(await c.command(`READBUF ${ADC} 512`), -110);
      assert.ok(Date.now() - t0 >= 90);
      dma.resume();
      assertRamp(column((await readBuffer(c, ADC, 512)).data, 1, 0), 'after the timeout');
      assert.equal(await c.command(`CLOSE ${ADC}`), 0);
    });
    await assertSettled(served);
  });

  test('a device removed under a READBUF: the reader gets -19 (ENODEV) and everything is freed', async () => {
    await using served = await serveSim();
    await withClient(served, async (c) => {
      const dma = served.kernel.iio.device('iiojs-adc4');
      dma.buffer(0).stall(); // before OPEN, which starts the DMA
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      c.send(`READBUF ${ADC} 512\r\n`);
      assert.ok(await c.silent(50));
      dma.unplug();
      assert.equal(await c.integer(), -19);
      // The next READBUF cannot re-open the buffer: its sysfs files are gone.
      assert.equal(await c.command(`READBUF ${ADC} 512`), -2);
      assert.equal(await c.command(`CLOSE ${ADC}`), 0);
    });
    await assertSettled(served);
  });

  test('a client disconnecting in the middle of a large block being sent frees the buffer', async () => {
    await using served = await serveSim();
    const c = await RawClient.connect(served.server.port);
    const samples = 1 << 20; // 4 MiB blocks of voltage0 and voltage1
    const sending = new Promise((r) => c.socket.once('data', r));
    c.send(`OPEN ${ADC} ${samples} 00000003\r\nREADBUF ${ADC} ${samples * 4}\r\n`);
    await sending; // the first bytes of the reply, far from the block's 4 MiB
    c.destroy();
    await assertSettled(served);
  });

  test('a client disconnecting in the middle of a WRITEBUF payload frees the buffer', async () => {
    await using served = await serveSim();
    const c = await RawClient.connect(served.server.port);
    assert.equal(await c.command(`OPEN ${TX} 256 00000003`), 0);
    assert.equal(await c.command(`WRITEBUF ${TX} 1024`), 0);
    // The server said go ahead and waits for 1024 bytes: it is mid-payload whether these 100
    // reach it before the disconnect or not.
    c.send(Buffer.alloc(100));
    c.destroy();
    await assertSettled(served);
    // The writer's place is free again.
    await withClient(served, async (d) => {
      assert.equal(await d.command(`OPEN ${TX} 256 00000003`), 0);
    });
    await assertSettled(served);
  });

  test('closing the server ends every session and frees every buffer', async () => {
    const served = await serveSim();
    const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(served.server.port)));
    assert.equal(await clients[0]!.command(`OPEN ${ADC} 256 00000004`), 0);
    assert.equal(await clients[1]!.command(`OPEN ${ADC} 512 00000001`), 0);
    assert.equal(await clients[2]!.command(`OPEN ${TX} 256 00000003`), 0);
    clients[0]!.send(`READBUF ${ADC} 512\r\n`);
    await served.server.close();
    for (const c of clients) await c.closedByServer();
    assert.equal(served.server.sessions, 0);
    assert.equal(served.kernel.context.fds.size, served.baseline);
    await served.ctx.close();
  });
});

describe('load', () => {
  test('many clients at once, each reading attributes and capturing', async () => {
    // 40 clients, all from 127.0.0.1: more than one address gets by default.
    await using served = await serveSim({ serve: { maxClientsPerAddress: 64 } });
    const frequency = await served.ctx.device('iiojs-adc4').attr('sampling_frequency').read();
    await Promise.all(Array.from({ length: 40 }, (_, k) => withClient(served, async (c) => {
      assert.equal(await c.value(`READ ${ADC} sampling_frequency`), frequency);
      const mask = k % 2 === 0 ? '00000004' : '00000006';
      const channels = k % 2 === 0 ? 1 : 2;
      assert.equal(await c.command(`OPEN ${ADC} 128 ${mask}`), 0);
      for (let i = 0; i < 3; i++) {
        const n = await c.command(`READBUF ${ADC} ${128 * 2 * channels}`);
        assert.ok(n > 0);
        const present = await c.line();
        const width = present === '00000004' ? 1 : present === '00000006' ? 2 : 0;
        assert.ok(width > 0, `mask ${present}`);
        const data = await c.bytes(n);
        if (n < 128 * 2 * channels) assert.equal(await c.integer(), 0);
        assertRamp(column(data, width, width - 1), `client ${k} block ${i}`);
      }
      assert.equal(await c.command(`CLOSE ${ADC}`), 0);
    })));
    await assertSettled(served);
  });

  test('a client that does not read its replies stops being served (backpressure), then catches up', async () => {
    await using served = await serveSim();
    const adc = served.ctx.device('iiojs-adc4');
    const xmlBytes = Buffer.byteLength(served.ctx.toXml());
    // Far more reply bytes than the kernel's socket buffers hold, then one write.
    const prints = Math.ceil((64 << 20) / xmlBytes);
    const c = await RawClient.connect(served.server.port);
    c.socket.pause();
    c.send('PRINT\r\n'.repeat(prints) + `WRITE ${ADC} sampling_frequency 7\r\n250000\0`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await adc.attr('sampling_frequency').read(), '1000000', 'the write after the PRINTs waits for the client to read');
    c.socket.resume();
    for (let i = 0; i < prints; i++) {
      assert.equal(await c.integer(), xmlBytes);
      await c.bytes(xmlBytes + 1);
    }
    assert.equal(await c.integer(), 7);
    assert.equal(await adc.attr('sampling_frequency').read(), '250000');
    c.destroy();
    await assertSettled(served);
  });
});

describe('read-only mode', () => {
  test('attribute writes, SETTRIG and output buffers are -13 (EACCES); reads and captures work', async () => {
    await using served = await serveSim({ serve: { readOnly: true } });
    const adc = served.ctx.device('iiojs-adc4');
    await withClient(served, async (c) => {
      c.send(`WRITE ${ADC} sampling_frequency 7\r\n500000\0`);
      assert.equal(await c.integer(), -13);
      const all = encodeWriteAll([...adc.attrs.keys()].map(() => '1'));
      c.send(`WRITE ${ADC} ${all.length}\r\n`);
      c.send(all);
      assert.equal(await c.integer(), -13);
      assert.equal(await adc.attr('sampling_frequency').read(), '1000000');
      assert.equal(await c.command(`SETTRIG ${SENSOR}`), -13);
      assert.equal((await served.ctx.device('iiojs-sensor').getTrigger())?.name, 'iiojs-timer0');
      assert.equal(await c.command(`OPEN ${TX} 256 00000003`), -13);
      assert.equal(await c.value(`READ ${ADC} sampling_frequency`), '1000000');
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      assertRamp(column((await readBuffer(c, ADC, 512)).data, 1, 0), 'read-only capture');
    });
    await assertSettled(served);
  });
});
