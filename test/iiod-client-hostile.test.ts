// The ip: client against a hostile server: every reply is bounded in memory and time and ends in
// a clear error. The victim (`iio`) runs in a child process whose peak RSS (ru_maxrss) is
// measured; the server is in the test, answering as the case says.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ATTR_VALUE_LIMIT, XML_ELEMENT_LIMIT, XML_LIMIT } from '../src/backends/network/commands.js';
import { fakeIiod, type Reply } from './support/fake-iiod.js';
import { spawnMeasured } from './support/peak-rss.js';

/** A context XML of `devices` (each a `<device>` element's text), in libiio 0.24's form. */
function contextXml(devices: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><context name="hostile" version-major="0" version-minor="24" version-git="0000000" description="a hostile server">${devices}</context>`;
}

/** A payload reply (PRINT, READ): its length line, its bytes, the newline. */
function framed(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes, Buffer.from('\n')]);
}

/** What a server needs to answer for `iio` to get as far as the case: opens, closes and triggers succeed. */
function plain(line: string): Reply | undefined {
  return /^(OPEN|CLOSE|GETTRIG) /.test(line) ? '0\n' : undefined;
}

/** What `iio` may take at its peak in these cases: a node process and a small context, roomily. */
const PEAK_MIB = 160;

/** `iio <args>` to its end: status, stdout, stderr, peak RSS and how long it took. */
async function victim(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string; peakMiB: number; ms: number }> {
  const started = performance.now();
  const m = spawnMeasured(args);
  let stdout = '';
  m.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const { status, peakMiB } = await m.exited;
  return { status, stdout, stderr: m.errors(), peakMiB, ms: performance.now() - started };
}

function assertPeak(peakMiB: number, bound = PEAK_MIB): void {
  assert.ok(Number.isFinite(peakMiB) && peakMiB > 10, `no peak RSS reported (${peakMiB})`);
  assert.ok(peakMiB < bound, `iio peaked at ${peakMiB.toFixed(1)} MiB (bound ${bound})`);
}

describe('the ip: client against a hostile server', () => {
  test('READBUF answered 0\\n forever: iio read -s 1000 ends with EPROTO instead of asking again and again', { timeout: 60_000 }, async () => {
    await using server = await fakeIiod((line) => (/^READBUF /.test(line) ? '0\n' : plain(line)));
    const r = await victim(['read', '-u', server.uri, '-s', '1000', '-f', 'json', 'adc', 'voltage0']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /EPROTO.*READBUF.*iiod ended READBUF of \d+ bytes with no data/);
    assert.equal(r.stdout, '');
    // One READBUF per queued block at most, not a spin.
    const readbufs = server.lines.flat().filter((l) => l.startsWith('READBUF')).length;
    assert.ok(readbufs >= 1 && readbufs <= 8, `${readbufs} READBUFs`);
    assertPeak(r.peakMiB);
  });

  test('deeply nested XML (a million elements in 7 MB): refused with EPROTO before parsing, memory bounded', { timeout: 60_000 }, async () => {
    const depth = 1_000_000;
    await using server = await fakeIiod(plain, contextXml(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`));
    const r = await victim(['info', '-u', server.uri]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`EPROTO.*PRINT.*unusable context XML: ${depth + 1} elements, more than the ${XML_ELEMENT_LIMIT}`));
    assertPeak(r.peakMiB);
  });

  test(`an XML longer than ${XML_LIMIT} bytes: refused on its length line, before any of it is read`, { timeout: 60_000 }, async () => {
    let sent = 0;
    await using server = await fakeIiod((line) => {
      if (line !== 'PRINT') return plain(line);
      return (socket: Socket) => {
        // Claims 21 MB and starts sending it: the client must not wait for it.
        socket.write(`${21_000_000}\n<context>`);
        sent++;
      };
    });
    const r = await victim(['info', '-u', server.uri]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`EPROTO.*PRINT.*a payload of 21000000 bytes exceeds the limit of ${XML_LIMIT}`));
    assert.equal(sent, 1);
    assertPeak(r.peakMiB);
  });

  test('50 000 devices: iio info lists them all (a map, not a search, per command), memory bounded', { timeout: 120_000 }, async () => {
    const count = 50_000;
    const devices = Array.from({ length: count }, (_, i) => `<device id="iio:device${i}" name="d${i}"/>`).join('');
    await using server = await fakeIiod(plain, contextXml(devices));
    const r = await victim(['info', '-u', server.uri]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^IIO devices \\(${count}\\):$`, 'm'));
    assert.match(r.stdout, new RegExp(`^  iio:device${count - 1}: d${count - 1}$`, 'm'));
    // Every device's trigger was asked: one command each.
    assert.equal(server.lines.flat().filter((l) => l.startsWith('GETTRIG')).length, count);
    // Opening such a context takes about 260 MiB (the XML parser, the description, the objects)
    // and iio info asks for every trigger at once.
    assertPeak(r.peakMiB, 640);
  });

  test('100 001 elements (100 000 devices): refused with EPROTO, quickly and in bounded memory', { timeout: 60_000 }, async () => {
    const devices = Array.from({ length: 100_000 }, (_, i) => `<device id="iio:device${i}"/>`).join('');
    await using server = await fakeIiod(plain, contextXml(devices));
    const r = await victim(['info', '-u', server.uri]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /EPROTO.*unusable context XML: 100001 elements, more than the 100000/);
    assertPeak(r.peakMiB);
  });

  test(`attribute values of 1 MiB, many of them: each refused with EPROTO (the limit is ${ATTR_VALUE_LIMIT} bytes), memory bounded`, { timeout: 60_000 }, async () => {
    const attrs = 200;
    const device = `<device id="iio:device0" name="big">${Array.from({ length: attrs }, (_, i) => `<attribute name="a${i}" filename="a${i}"/>`).join('')}</device>`;
    const value = framed('x'.repeat(1 << 20));
    await using server = await fakeIiod((line) => (/^READ /.test(line) ? value : plain(line)), contextXml(device));
    const r = await victim(['info', '-u', server.uri]);
    assert.equal(r.status, 0, r.stderr);
    const refused = r.stdout.match(/ERROR: EPROTO: .*READ .*a payload of 1048576 bytes exceeds the limit of 65536/g) ?? [];
    assert.equal(refused.length, attrs, r.stdout.slice(0, 2000));
    assertPeak(r.peakMiB);
  });

  test('a value at the limit is read; one byte more is refused', { timeout: 60_000 }, async () => {
    await using server = await fakeIiod((line) => (line === 'READ iio:device0 max' ? framed('y'.repeat(ATTR_VALUE_LIMIT)) : line === 'READ iio:device0 over' ? framed('y'.repeat(ATTR_VALUE_LIMIT + 1)) : plain(line)),
      contextXml('<device id="iio:device0" name="big"><attribute name="max" filename="max"/><attribute name="over" filename="over"/></device>'));
    const max = await victim(['attr', '-u', server.uri, '-q', '-d', 'big', 'max']);
    assert.equal(max.status, 0, max.stderr);
    assert.equal(max.stdout.trimEnd().length, ATTR_VALUE_LIMIT);
    const over = await victim(['attr', '-u', server.uri, '-q', '-d', 'big', 'over']);
    assert.equal(over.status, 1);
    assert.match(over.stderr, /EPROTO.*a payload of 65537 bytes exceeds the limit of 65536/);
    assertPeak(Math.max(max.peakMiB, over.peakMiB));
  });

  test('a status of -2147483648 (or any below -4095) is EPROTO, not an errno', { timeout: 60_000 }, async () => {
    await using server = await fakeIiod((line) => (line.startsWith('READ ') ? '-2147483648\n' : plain(line)));
    const r = await victim(['attr', '-u', server.uri, '-c', 'adc', 'voltage1', 'raw']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /EPROTO: protocol error, READ '127\.0\.0\.1:\d+': malformed reply from iiod \(attribute "raw" of input channel voltage1 of iio:device0 \(adc\)\): status -2147483648 is no errno \(-1 to -4095\)/);
    assert.doesNotMatch(r.stderr, /E2147483648|unknown error/);
    assertPeak(r.peakMiB);
  });
});
