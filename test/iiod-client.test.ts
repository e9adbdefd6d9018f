// The ip: client (src/backends/network). Against our own server over a simulated kernel the test
// holds: the context equals the local one, attributes and registers read and write, triggers,
// capture checked against the sim's waveform, playback checked by the sim's counters, cyclic
// playback, timeouts and cancellation, and a server that dies mid-stream. Against libiio 0.24's
// iiod serving an xml: context: libiio's own XML is understood. Against a tiny raw peer in this
// file, which answers what a broken or hostile server would: the parser's defences (malformed
// numbers, oversized lengths, truncated payloads, floods, lost connections) and the framing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { parseIpUri } from '../src/backends/network/address.js';
import { readPayload, XML_LIMIT } from '../src/backends/network/commands.js';
import { IiodConnection } from '../src/backends/network/connection.js';
import type { Context } from '../src/core/context.js';
import type { Device } from '../src/core/device.js';
import { openContext } from '../src/open.js';
import { fnv1a } from './support/checksum.js';
import { assertSettled, serveSim, type Served } from './support/iiod.js';
import { fakeIiod } from './support/fake-iiod.js';
import { waitForListening } from './support/listening.js';

type Failure = Error & { code?: string; errno?: number; syscall?: string; path?: string };

/** Asserts a Node-style error: code, syscall, and the pieces its message must name. */
function systemFailure(code: string, syscall: string | undefined, ...names: RegExp[]): (e: Failure) => boolean {
  return (e) => {
    assert.equal(e.code, code, e.message);
    if (syscall !== undefined) assert.equal(e.syscall, syscall, e.message);
    for (const name of names) assert.match(e.message, name);
    return true;
  };
}

async function openServed(served: Served, timeoutMs?: number): Promise<Context> {
  return openContext(`ip:127.0.0.1:${served.server.port}`, timeoutMs === undefined ? {} : { timeoutMs });
}

describe('ip: URIs', () => {
  test('host, port, IPv6 literals in brackets; no DNS-SD', () => {
    assert.deepEqual(parseIpUri('ip:192.168.2.1'), { host: '192.168.2.1', port: 30431, label: '192.168.2.1:30431' });
    assert.deepEqual(parseIpUri('ip:pluto.local:1234'), { host: 'pluto.local', port: 1234, label: 'pluto.local:1234' });
    assert.deepEqual(parseIpUri('ip:[::1]:4000'), { host: '::1', port: 4000, label: '[::1]:4000' });
    assert.deepEqual(parseIpUri('ip:[fe80::1]'), { host: 'fe80::1', port: 30431, label: '[fe80::1]:30431' });
    assert.deepEqual(parseIpUri('ip:fe80::2'), { host: 'fe80::2', port: 30431, label: '[fe80::2]:30431' });
    for (const bad of ['ip:', 'ip:host:0', 'ip:host:65536', 'ip:host:x', 'ip:[::1', 'ip:[::1]x', 'ip:a b']) {
      assert.throws(() => parseIpUri(bad), { code: 'ERR_INVALID_URI' }, bad);
    }
  });

  test('an IPv6 literal in brackets reaches a server on ::1', async () => {
    await using served = await serveSim({ serve: { host: '::1' } });
    await using net = await openContext(`ip:[::1]:${served.server.port}`);
    assert.equal(net.attr('ip,ip-addr').staticValue, '::1');
    assert.equal(await net.device('adc4').attr('sampling_frequency').read(), '1000000');
  });

  test('nobody listening: ECONNREFUSED from connect, naming the address', async () => {
    const port = await freePort();
    await assert.rejects(openContext(`ip:127.0.0.1:${port}`), systemFailure('ECONNREFUSED', 'connect', new RegExp(`127\\.0\\.0\\.1:${port}`)));
  });
});

describe('against our server (sim)', () => {
  test('the context equals the local one: devices, channels in mask order, scan elements, attributes, buffers', async () => {
    await using served = await serveSim();
    await using net = await openServed(served);
    const local = served.ctx;
    assert.equal(net.name, 'network');
    assert.equal(net.description, local.description);
    assert.deepEqual(net.version, local.version);
    assert.deepEqual([...net.attrs.values()].map((a) => [a.name, a.staticValue]), [
      ['local,kernel', '6.12.0-iiojs-sim'], ['ip,ip-addr', '127.0.0.1'], ['uri', `ip:127.0.0.1:${served.server.port}`],
    ]);
    const shape = (d: Device) => ({
      id: d.id, name: d.name, label: d.label, trigger: d.isTrigger,
      channels: d.channels.map((c) => ({
        id: c.id, name: c.name, label: c.label, output: c.output, type: c.type, modifier: c.modifier, index: c.index,
        channel2: c.channel2, position: c.position, scan: c.scanElement === undefined ? null : [c.scanElement.index, { ...c.scanElement.type }, c.scanElement.scale],
        attrs: [...c.attrs.values()].map((a) => [a.name, a.filename]), events: [...c.eventAttrs.keys()],
      })),
      attrs: [...d.attrs.keys()], debug: [...d.debugAttrs.keys()], events: [...d.eventAttrs.keys()],
      buffers: d.buffers.map((b) => [b.index, b.direction, b.channels.map((c) => c.position), [...b.attrs.keys()]]),
    });
    assert.deepEqual(net.allDevices.map(shape), local.allDevices.map(shape));
    // And so the same XML, but for the context's own name and attributes.
    const devices = (xml: string) => xml.slice(xml.indexOf('<device '));
    assert.equal(devices(net.toXml()), devices(local.toXml()));
  });

  test('attributes: every kind reads as locally; writes reach the device; refusals are the server\'s errno', async () => {
    await using served = await serveSim();
    await using net = await openServed(served);
    const local = served.ctx;
    let compared = 0;
    for (const theirs of net.allDevices) {
      const ours = local.device(theirs.id);
      const attrs = [
        ...[...theirs.attrs.values()].map((a) => [a, ours.attr(a.name)] as const),
        ...[...theirs.debugAttrs.values()].map((a) => [a, ours.debugAttr(a.name)] as const),
        ...theirs.channels.flatMap((c) => [...c.attrs.values()].filter((a) => a.name !== 'raw').map((a) => [a, ours.channel(c.id, c.direction).attr(a.name)] as const)),
        ...(theirs.buffers.length === 1 ? [...theirs.buffers[0]!.attrs.values()].filter((a) => a.name !== 'data_available').map((a) => [a, ours.buffer(0).attr(a.name)] as const) : []),
      ];
      for (const [t, o] of attrs) {
        const [tv, ov] = await Promise.allSettled([t.read(), o.read()]);
        if (ov.status === 'fulfilled') assert.deepEqual(tv, ov, t.toString());
        else assert.equal(tv.status, 'rejected', t.toString());
        compared++;
      }
    }
    assert.ok(compared > 30, `compared ${compared}`);

    const freq = net.device('adc4').attr('sampling_frequency');
    await freq.write(250000);
    assert.equal(await local.device('adc4').attr('sampling_frequency').readNumber(), 250000);
    await net.device('trx').channel('RX_LO', 'out').attr('frequency').write(915000000n);
    assert.equal(await local.device('trx').channel('RX_LO', 'out').attr('frequency').read(), '915000000');
    await net.device('sensor').buffer(0).attr('length').write(64);
    assert.equal(await local.device('sensor').buffer(0).attr('length').read(), '64');
    await assert.rejects(freq.write('12'), systemFailure('EINVAL', 'WRITE', /127\.0\.0\.1:\d+/, /"sampling_frequency" of iio:device0 \(iiojs-adc4\)/, /value "12"/));
    // The text protocol names no event attribute.
    await assert.rejects(net.device('sensor').channel('temp').eventAttr('thresh_rising_en').read(), { code: 'ERR_IIOJS_UNSUPPORTED' });
    // Context attributes are the description's.
    assert.equal(await net.attr('local,kernel').read(), '6.12.0-iiojs-sim');
  });

  test('registers through direct_reg_access', async () => {
    await using served = await serveSim();
    await using net = await openServed(served);
    const regs = net.device('trx').registers;
    assert.equal(regs.supported, true);
    assert.equal(await regs.read(0x37), 0x0a);
    await regs.write(0x37, 0x5a5);
    assert.equal(await served.ctx.device('trx').registers.read(0x37), 0x5a5);
    assert.equal(await regs.read(0x37), 0x5a5);
    await assert.rejects(net.device('adc4').registers.read(0), { code: 'ERR_IIOJS_UNSUPPORTED' });
  });

  test('triggers: SETTRIG by id, GETTRIG by name, detach; a device without triggers says so', async () => {
    await using served = await serveSim();
    await using net = await openServed(served);
    const sensor = net.device('sensor');
    const [timer, sysfs] = [net.triggers.find((t) => t.name === 'iiojs-timer0')!, net.triggers.find((t) => t.name === 'sysfstrig0')!];
    assert.equal(await sensor.getTrigger(), timer);
    await sensor.setTrigger(sysfs);
    assert.equal((await served.ctx.device('sensor').getTrigger())?.name, 'sysfstrig0');
    assert.equal(await sensor.getTrigger(), sysfs);
    await sensor.setTrigger(null);
    assert.equal(await sensor.getTrigger(), null);
    await sensor.setTrigger('iiojs-timer0');
    assert.equal(await sensor.getTrigger(), timer);
    await assert.rejects(net.device('adc4').getTrigger(), { code: 'ERR_IIOJS_UNSUPPORTED' });
    await assert.rejects(sensor.setTrigger('trigger9'), (e: Failure) => e.code === 'ENODEV' || e.code === 'EINVAL');
  });

  test('capture: the adc4 ramp and square, sample by sample across blocks, through for await, samples() and toReadable()', async () => {
    await using served = await serveSim({ sim: { timeMode: 'fast' } });
    await using net = await openServed(served);
    const buffer = net.device('adc4').buffer(0);
    {
      await using stream = await buffer.open({ channels: ['voltage2', 'voltage1'], blockSize: 1000, blocks: 3 });
      assert.equal(stream.mode, 'fileio');
      let previous: number | undefined;
      let blocks = 0;
      for await (const block of stream) {
        assert.equal(block.scans, 1000);
        const ramp = block.samples('voltage2');
        const square = block.samples('voltage1');
        for (let n = 0; n < ramp.length; n++) {
          const value = Number(ramp[n]);
          if (previous !== undefined) assert.equal(value, previous === -32000 + 16 * 3999 ? -32000 : previous + 16, `block ${blocks}: ramp after ${previous}`);
          previous = value;
          assert.ok(Number(square[n]) === 16000 || Number(square[n]) === -16000, `square ${square[n]}`);
        }
        if (++blocks === 8) break;
      }
    }
    {
      await using stream = await buffer.open({ channels: ['voltage2'], blockSize: 512 });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of stream.toReadable()) {
        chunks.push(chunk as Buffer);
        total += (chunk as Buffer).length;
        if (total >= 4 * 1024) break;
      }
      const all = Buffer.concat(chunks);
      for (let i = 2; i + 2 <= all.length; i += 2) {
        const [a, b] = [all.readInt16LE(i - 2), all.readInt16LE(i)];
        assert.equal(b, a === -32000 + 16 * 3999 ? -32000 : a + 16);
      }
    }
    await net.close();
    await assertSettled(served);
  });

  test('playback: every byte reaches the TX buffer (the sim\'s count and checksum)', async () => {
    await using served = await serveSim({ sim: { timeMode: 'fast' } });
    const net = await openServed(served);
    const tx = net.device('tx').buffer(0);
    const stats = () => served.kernel.iio.device('iiojs-trx-tx').buffer(0).stats;
    const before = stats();
    let checksum = before.checksum;
    let bytes = 0;
    {
      await using stream = await tx.open({ blockSize: 256, blocks: 3 });
      for (let k = 0; k < 7; k++) {
        const data = Uint8Array.from({ length: 256 * 4 }, (_, i) => (i * 13 + k) & 0xff);
        await stream.write(data);
        checksum = fnv1a(data, checksum);
        bytes += data.length;
      }
      await stream.flush();
    }
    assert.equal(stats().bytes - before.bytes, bytes);
    assert.equal(stats().checksum, checksum);
    await net.close();
    await assertSettled(served);
  });

  for (const timeMode of ['real', 'fast'] as const) test(`cyclic playback (${timeMode} time): one block written once, repeated by the server until closed; the server stays responsive`, async () => {
    // In fast time the sim completes blocks at once: the server must still serve other commands.
    await using served = await serveSim(timeMode === 'fast' ? { sim: { timeMode } } : {});
    const net = await openServed(served);
    const tx = net.device('tx').buffer(0);
    const stats = () => served.kernel.iio.device('iiojs-trx-tx').buffer(0).stats;
    const before = stats().bytes;
    {
      await using stream = await tx.open({ blockSize: 128, blocks: 1, cyclic: true });
      await stream.write(new Uint8Array(128 * 4).fill(0x5a));
      const deadline = Date.now() + 5000;
      while (stats().bytes - before < 4 * 128 * 4 && Date.now() < deadline) await sleep(10);
      assert.ok(stats().bytes - before >= 4 * 128 * 4, `the block played ${(stats().bytes - before) / (128 * 4)} times`);
      assert.equal(await net.device('adc4').attr('sampling_frequency').read(), '1000000');
    }
    await net.close();
    await assertSettled(served);
  });

  test('timeouts: the server gives up first (TIMEOUT is half the client\'s limit), with the buffer named', async () => {
    await using served = await serveSim();
    await using net = await openServed(served, 600);
    served.kernel.iio.device('iiojs-adc4').buffer(0).stall();
    await using stream = await net.device('adc4').buffer(0).open({ blockSize: 64, blocks: 2 });
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    // Which side gave up is in the error, not the clock: the client's own limit says "no reply
    // within 600 ms"; the server's -110 does not.
    const error = await stream.blocks[0]!.dequeue().then(() => assert.fail('the dequeue returned'), (e: unknown) => e as Error);
    assert.ok(systemFailure('ETIMEDOUT', 'READBUF', /127\.0\.0\.1:\d+/, /iio:device0\/buffer0/)(error as Failure));
    assert.doesNotMatch(error.message, /no reply within/, 'the server gave up first, not the client');
    // A dequeue's own limit leaves the block queued.
    await assert.rejects(stream.blocks[1]!.dequeue({ timeoutMs: 50 }), systemFailure('ETIMEDOUT', 'dequeue'));
    assert.equal(stream.blocks[1]!.queued, true);
  });

  test('cancellation: an aborted wait returns at once, close() with a READBUF on the wire shuts the socket down and the server frees the buffer', async () => {
    await using served = await serveSim();
    await using net = await openServed(served, 0);
    const control = served.kernel.iio.device('iiojs-adc4').buffer(0);
    control.stall();
    const stream = await net.device('adc4').buffer(0).open({ blockSize: 64, blocks: 2 });
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(stream.blocks[0]!.dequeue({ signal: controller.signal }), { name: 'AbortError' });
    assert.equal(stream.blocks[0]!.queued, true);
    // No limit is set (0), so a close() that waited for the READBUF would never return; a
    // generous bound tells that apart from scheduling delays on a loaded machine.
    const started = performance.now();
    await stream.close();
    assert.ok(performance.now() - started < 5000, `close took ${performance.now() - started} ms`);
    await net.close();
    await assertSettled(served);
    // Attribute commands take a signal too.
    await using again = await openServed(served);
    const aborted = AbortSignal.abort();
    await assert.rejects(again.device('adc4').attr('sampling_frequency').read({ signal: aborted }), { name: 'AbortError' });
    assert.equal(await again.device('adc4').attr('sampling_frequency').read(), '1000000');
  });

  test('the server dies mid-stream: the stream rejects with ECONNRESET naming the server and buffer; later commands cannot connect', async () => {
    const served = await serveSim({ sim: { timeMode: 'fast' } });
    await using net = await openServed(served);
    const stream = await net.device('adc4').buffer(0).open({ channels: ['voltage0'], blockSize: 4096 });
    let blocks = 0;
    let stopped: Promise<void> | undefined;
    await assert.rejects((async () => {
      for await (const block of stream) {
        void block;
        if (++blocks === 2) stopped = served.close();
      }
    })(), systemFailure('ECONNRESET', 'READBUF', /127\.0\.0\.1:\d+/, /iio:device0\/buffer0/));
    await stream.close();
    await stopped;
    // The context socket's end may come with the next command or before it; after that, nobody listens.
    const attr = net.device('adc4').attr('sampling_frequency');
    await assert.rejects(attr.read(), (e: Failure) => e.code === 'ECONNRESET' || e.code === 'ECONNREFUSED');
    await assert.rejects(attr.read(), systemFailure('ECONNREFUSED', 'connect', /127\.0\.0\.1:\d+/));
    await served.ctx.close();
  });
});

describe('against libiio 0.24\'s iiod', () => {
  test('its XML of our sim context: the same devices, channels and scan elements; its errors are Node errors', async (t) => {
    assert.ok(existsSync('/usr/sbin/iiod'), '/usr/sbin/iiod is missing: install Debian\'s iiod package (apt-get install iiod), as .ci/run does');
    await using served = await serveSim();
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-xml-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'context.xml');
    writeFileSync(file, served.ctx.toXml());
    const port = await freePort();
    const iiod = spawn('/usr/sbin/iiod', ['-p', String(port), '-u', `xml:${file}`], { stdio: 'ignore' });
    t.after(async () => {
      // SIGKILL: iiod 0.24 takes its time on SIGTERM (it retries Avahi).
      const exited = new Promise((resolve) => iiod.once('exit', resolve));
      iiod.kill('SIGKILL');
      await exited;
    });
    await waitForListening(port, 10_000, iiod);
    await using net = await openContext(`ip:127.0.0.1:${port}`);
    const shape = (d: Device) => [d.id, d.name, d.label, d.isTrigger, d.channels.map((c) => [c.id, c.output, c.position, c.scanElement?.index, c.scanElement && { ...c.scanElement.type }]),
      [...d.attrs.keys()], d.buffers.map((b) => [b.index, b.direction])];
    // libiio 0.24 knows neither labels of channels nor more than one buffer per device.
    const theirs = net.allDevices.map(shape);
    const ours = served.ctx.allDevices.map(shape);
    assert.deepEqual(theirs, ours);
    // An xml: context cannot read attributes: iiod says ENOSYS.
    await assert.rejects(net.device('adc4').channel('voltage0').attr('raw').read(),
      systemFailure('ENOSYS', 'READ', new RegExp(`127\\.0\\.0\\.1:${port}`), /"raw" of input channel voltage0 of iio:device0 \(iiojs-adc4\)/));
  });
});

// ---- a raw peer: replies scripted per command -------------------------------------------------

describe('against a raw peer: framing', () => {
  test('channels re-sorted into mask order, libiio\'s value framing (NUL counted), WRITE sends the NUL, GETTRIG maps the name', async () => {
    await using fake = await fakeIiod((line) => {
      if (line === 'READ iio:device0 INPUT voltage1 raw') return '5\n1000\0\n';
      if (line === 'READ iio:device0 sampling_frequency') return '4\n250\n\n'; // a server that sends the text as it is
      if (line.startsWith('WRITE iio:device0 INPUT voltage1 raw ')) return '3\n';
      if (line === 'GETTRIG iio:device0') return '2\nt0\n';
      if (line === 'READ iio:device0 BUFFER length') return '4\n512\0\n';
      return undefined;
    });
    await using ctx = await openContext(fake.uri);
    const adc = ctx.device('adc');
    assert.deepEqual(adc.channels.map((c) => [c.id, c.position, c.scanElement?.index]), [['voltage0', 0, 0], ['voltage1', 1, 1], ['temp', 2, undefined]]);
    assert.deepEqual({ ...adc.channel('voltage0').scanElement!.type }, { endianness: 'le', signed: true, fullyDefined: false, realBits: 16, storageBits: 16, repeat: 1, shift: 0 });
    assert.equal(adc.channel('voltage0').scanElement!.scale, 0.5);
    assert.equal(ctx.attr('hw').staticValue, 'a <b>');
    assert.deepEqual(adc.buffers.map((b) => [b.index, b.direction, b.channels.map((c) => c.id), [...b.attrs.keys()]]), [[0, 'in', ['voltage0', 'voltage1'], ['length']]]);
    assert.equal(await adc.channel('voltage1').attr('raw').read(), '1000');
    assert.equal(await adc.attr('sampling_frequency').read(), '250');
    assert.equal(await adc.buffer(0).attr('length').read(), '512');
    await adc.channel('voltage1').attr('raw').write(12);
    assert.ok(fake.lines[0]!.includes('WRITE iio:device0 INPUT voltage1 raw 3'));
    assert.deepEqual(Buffer.concat(fake.payloads), Buffer.from('12\0'));
    assert.equal(await adc.getTrigger(), ctx.triggers[0]);
    // Each new socket tells the server half the client's limit first, libiio's way.
    assert.deepEqual(fake.lines[0]!.slice(0, 2), ['TIMEOUT 2500', 'PRINT']);
  });

  test('a negative reply is a Node error: code from errno, syscall the command, the server, device and attribute named', async () => {
    await using fake = await fakeIiod((line) => (line.startsWith('READ ') ? '-19\n' : undefined));
    await using ctx = await openContext(fake.uri);
    await assert.rejects(ctx.device('adc').channel('voltage1').attr('raw').read(), (e: Failure) => {
      assert.equal(e.code, 'ENODEV');
      assert.equal(e.errno, -19);
      assert.equal(e.syscall, 'READ');
      assert.equal(e.path, fake.uri.slice(3));
      assert.match(e.message, /attribute "raw" of input channel voltage1 of iio:device0 \(adc\)/);
      return true;
    });
    // The reply was complete: the same connection goes on.
    await assert.rejects(ctx.device('adc').debugAttr('direct_reg_access').read(), { code: 'ENODEV', syscall: 'READ' });
    assert.equal(fake.lines.length, 1);
  });

  test('buffers: OPEN with the wire mask and libiio\'s sample count, READBUF chunks and the mask line; nothing else on the buffer socket', async () => {
    const block = Buffer.alloc(8 * 4);
    for (let i = 0; i < 16; i++) block.writeUInt16LE(i, 2 * i);
    await using fake = await fakeIiod((line) => {
      if (line.startsWith('OPEN ')) return '0\n';
      if (line === 'READBUF iio:device0 32') return Buffer.concat([Buffer.from('12\n00000003\n'), block.subarray(0, 12), Buffer.from('20\n'), block.subarray(12)]);
      if (line.startsWith('CLOSE ')) return '0\n';
      return undefined;
    });
    await using ctx = await openContext(fake.uri);
    {
      await using stream = await ctx.device('adc').buffer(0).open({ blockSize: 8, blocks: 2 });
      for await (const b of stream) {
        assert.deepEqual([...b.samples('voltage0')], [0, 2, 4, 6, 8, 10, 12, 14]);
        assert.deepEqual([...b.samples('voltage1')], [1, 3, 5, 7, 9, 11, 13, 15]);
        break;
      }
    }
    const bufferLines = fake.lines[1]!;
    assert.equal(bufferLines[0], 'TIMEOUT 2500');
    assert.equal(bufferLines[1], 'OPEN iio:device0 8 00000003');
    // Closing with a READBUF still on the wire shuts the socket down (libiio's cancel) rather
    // than sending CLOSE and EXIT, so those may or may not follow.
    assert.ok(bufferLines.length > 2, `at least one READBUF: ${bufferLines.join('|')}`);
    assert.ok(bufferLines.slice(2).every((l) => l === 'READBUF iio:device0 32' || l.startsWith('CLOSE') || l === 'EXIT'), bufferLines.join('|'));
  });

  test('READBUF defences: a chunk beyond what was asked, a bad mask line, data without this buffer\'s channels, a refused block', async () => {
    const replies: Record<string, string | Buffer> = {
      big: '64\n00000003\n',
      mask: '32\nzzzzzzzz\n',
      other: Buffer.concat([Buffer.from('32\n00000001\n'), Buffer.alloc(32)]),
      refused: '-16\n',
    };
    for (const [what, answer] of Object.entries(replies)) {
      await using fake = await fakeIiod((line) => (line.startsWith('OPEN ') ? '0\n' : line.startsWith('READBUF') ? answer : undefined));
      await using ctx = await openContext(fake.uri);
      await using stream = await ctx.device('adc').buffer(0).open({ blockSize: 8, blocks: 2 });
      const check = {
        big: systemFailure('EPROTO', 'READBUF', /a chunk of 64 bytes, 32 were left/),
        mask: systemFailure('EPROTO', 'READBUF', /bad mask line/),
        other: systemFailure('EPROTO', 'READBUF', /the server sent channels \[0\] for a buffer of channels \[0, 1\]/),
        refused: systemFailure('EBUSY', 'READBUF', /iio:device0\/buffer0/),
      }[what]!;
      await assert.rejects((async () => {
        for await (const b of stream) void b;
      })(), check, what);
    }
  });
});

describe('against a raw peer: malformed replies and lost connections', () => {
  test('a non-numeric status: EPROTO; the next command connects again', async () => {
    let reads = 0;
    await using fake = await fakeIiod((line) => (line.startsWith('READ') ? (reads++ === 0 ? 'OK\n' : '2\n7\0\n') : undefined));
    await using ctx = await openContext(fake.uri);
    await assert.rejects(ctx.device('adc').attr('sampling_frequency').read(), systemFailure('EPROTO', 'READ', /malformed reply/, /expected a decimal status, got "OK"/, /sampling_frequency/));
    assert.equal(await ctx.device('adc').attr('sampling_frequency').read(), '7');
    assert.equal(fake.lines.length, 2);
  });

  test('lengths beyond the caps are refused before anything is allocated', async () => {
    for (const [reply, pattern] of [['9999999999\n', /outside the 32-bit range/], ['2000000000\n', /exceeds the limit of 16777216/], ['-9999999999\n', /status -9999999999 is no errno/], ['123456789012\n', /expected a decimal status/]] as const) {
      await using fake = await fakeIiod((line) => (line === 'PRINT' ? reply : undefined));
      await assert.rejects(openContext(fake.uri), systemFailure('EPROTO', 'PRINT', pattern));
    }
    await using fake = await fakeIiod((line) => (line.startsWith('READ') ? '65537\n' : undefined));
    await using ctx = await openContext(fake.uri);
    await assert.rejects(ctx.device('adc').attr('sampling_frequency').read(), systemFailure('EPROTO', 'READ', /exceeds the limit of 65536/));
  });

  test('a payload announced just under the limit that never comes: memory follows the bytes that came; the read fails, it does not hang', { timeout: 30_000 }, async () => {
    const announced = XML_LIMIT - 1;
    const cases = [
      ['stalls', (s: Socket) => s.write(`${announced}\n<?xml`), systemFailure('ETIMEDOUT', 'PRINT', /no reply within 500 ms/, /context description/)],
      ['closes', (s: Socket) => s.end(`${announced}\n<?xml`), systemFailure('ECONNRESET', 'PRINT', /iiod closed the connection/, /context description/)],
    ] as const;
    for (const [how, answer, failure] of cases) {
      await using fake = await fakeIiod((line) => (line === 'PRINT' ? answer : undefined));
      // The client's PRINT on its own connection, so the allocation can be seen while the read waits.
      const conn = new IiodConnection(parseIpUri(fake.uri));
      let grew = Infinity;
      const read = conn.run('PRINT', 'the context description', async (wire) => {
        wire.line('PRINT');
        const length = await wire.status();
        const before = process.memoryUsage().arrayBuffers;
        const payload = readPayload(wire, length, XML_LIMIT);
        grew = process.memoryUsage().arrayBuffers - before;
        return payload;
      }, { timeoutMs: 500 });
      await assert.rejects(read, failure, how);
      // Allocating what the server announced would be +64 MiB; the first step is 64 KiB.
      assert.ok(grew < 8 * 1024 * 1024, `${how}: ${(grew / 2 ** 20).toFixed(1)} MiB allocated at once for ${announced} bytes announced, 5 sent`);
      await conn.close();
      // openContext's PRINT fails the same way
      await assert.rejects(openContext(fake.uri, { timeoutMs: 500 }), failure, how);
    }
  });

  test('a flood without a newline is cut at the line limit (bounded memory)', async () => {
    const flood = Buffer.alloc(8 * 1024 * 1024, 0x41);
    await using fake = await fakeIiod((line) => (line.startsWith('READ') ? flood : undefined));
    await using ctx = await openContext(fake.uri);
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(ctx.device('adc').attr('sampling_frequency').read(), systemFailure('EPROTO', 'READ', /no end of line within 1024 bytes/));
    assert.ok(process.memoryUsage().arrayBuffers - before < 6 * 1024 * 1024, 'the client did not take the whole flood in');
  });

  test('a payload without its newline, a truncated payload, unusable XML', async () => {
    {
      await using fake = await fakeIiod((line) => (line.startsWith('READ') ? '3\nabcX' : undefined));
      await using ctx = await openContext(fake.uri);
      await assert.rejects(ctx.device('adc').attr('sampling_frequency').read(), systemFailure('EPROTO', 'READ', /not followed by a newline/));
    }
    {
      await using fake = await fakeIiod((line) => (line.startsWith('READ') ? (s: Socket) => s.end('100\nabc') : undefined));
      await using ctx = await openContext(fake.uri);
      await assert.rejects(ctx.device('adc').attr('sampling_frequency').read(), systemFailure('ECONNRESET', 'READ', /iiod closed the connection/, /sampling_frequency/));
    }
    for (const [xml, pattern] of [['<context', /not well-formed|XML/], ['<foo/>', /<foo>, not <context>/], ['<context name="x" version-major="0" version-minor="1" version-git="g"><device id="d"><channel id="c" type="sideways"/></device></context>', /neither input nor output/],
      ['<context name="x" version-major="0" version-minor="1" version-git="g"><device id="d"><channel id="c" type="input"><scan-element index="0" format="le:s99/16&gt;&gt;0"/></channel></device></context>', /invalid scan element type/]] as const) {
      await using fake = await fakeIiod(() => undefined, xml);
      await assert.rejects(openContext(fake.uri), systemFailure('EPROTO', 'PRINT', /unusable context XML/, pattern));
    }
  });

  test('a connection lost under a command rejects it and every command queued behind it; later ones connect again', async () => {
    await using fake = await fakeIiod((line, connection) => {
      if (!line.startsWith('READ')) return undefined;
      return connection === 0 ? (s: Socket) => setTimeout(() => s.destroy(), 50) : '2\n9\0\n';
    });
    await using ctx = await openContext(fake.uri);
    const attr = ctx.device('adc').attr('sampling_frequency');
    const results = await Promise.allSettled([attr.read(), attr.read(), attr.read()]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      systemFailure('ECONNRESET', 'READ', /127\.0\.0\.1:\d+/)((r as PromiseRejectedResult).reason as Failure);
    }
    assert.equal(await attr.read(), '9');
  });

  test('a server that never answers: ETIMEDOUT after the limit; an abort in flight; both leave the context usable', async () => {
    await using fake = await fakeIiod((line, connection) => (line.startsWith('READ') ? (connection < 2 ? 'hang' : '1\n5\n') : undefined));
    await using ctx = await openContext(fake.uri);
    ctx.setTimeout(200);
    const attr = ctx.device('adc').attr('sampling_frequency');
    const started = performance.now();
    await assert.rejects(attr.read(), systemFailure('ETIMEDOUT', 'READ', /no reply within 200 ms/, /sampling_frequency/));
    // Not before the limit (a timer never fires early; 1 ms for clock rounding), and long before
    // a hang would end (generous: a loaded 2-core machine delays timers, it does not hang them).
    const took = performance.now() - started;
    assert.ok(took >= 199 && took < 5000, `took ${took} ms`);
    ctx.setTimeout(0);
    await assert.rejects(attr.read({ signal: AbortSignal.timeout(100) }), { name: 'AbortError' });
    assert.equal(await attr.read(), '5');
    assert.ok(fake.lines.flat().includes('TIMEOUT 100'));
    assert.ok(fake.lines.flat().includes('TIMEOUT 0'));
  });

  test('closing the context rejects later commands with ERR_IIOJS_CLOSED', async () => {
    await using fake = await fakeIiod(() => undefined);
    const ctx = await openContext(fake.uri);
    const attr = ctx.device('adc').attr('sampling_frequency');
    await ctx.close();
    await assert.rejects(attr.read(), { code: 'ERR_IIOJS_CLOSED' });
  });
});

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

