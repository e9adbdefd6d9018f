// The iiod server's parts on their own: the command grammar, attribute value framing, the line
// and payload framing of the input, and the server's layering (public object model only).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { allReply, decodeAll, encodeAll, valueReply, valueText } from '../src/server/iiod/attr-framing.js';
import { Inbox } from '../src/server/iiod/inbox.js';
import { ParseError, parseLine } from '../src/server/iiod/parser.js';
import { importClosure, repo } from './support/imports.js';

describe('command grammar', () => {
  test('every command of the 0.24 table, in both spellings', () => {
    const cases: Array<[string, unknown]> = [
      ['VERSION', { op: 'VERSION' }],
      ['print', { op: 'PRINT' }],
      ['ZPRINT', { op: 'ZPRINT' }],
      ['help', { op: 'HELP' }],
      ['QUIT', { op: 'EXIT' }],
      ['exit', { op: 'EXIT' }],
      ['BINARY', { op: 'BINARY' }],
      ['TIMEOUT 2500', { op: 'TIMEOUT', ms: 2500 }],
      ['OPEN iio:device0 256 0000000f', { op: 'OPEN', device: 'iio:device0', samples: 256, mask: '0000000f', cyclic: false }],
      ['open adc 1 00000001 cyclic', { op: 'OPEN', device: 'adc', samples: 1, mask: '00000001', cyclic: true }],
      ['CLOSE iio:device0', { op: 'CLOSE', device: 'iio:device0' }],
      ['READ iio:device0', { op: 'READ', device: 'iio:device0', target: { kind: 'device' }, attr: undefined }],
      ['READ iio:device0 sampling_frequency', { op: 'READ', device: 'iio:device0', target: { kind: 'device' }, attr: 'sampling_frequency' }],
      ['READ iio:device0 DEBUG', { op: 'READ', device: 'iio:device0', target: { kind: 'debug' }, attr: undefined }],
      ['read iio:device0 debug direct_reg_access', { op: 'READ', device: 'iio:device0', target: { kind: 'debug' }, attr: 'direct_reg_access' }],
      ['READ iio:device0 BUFFER length', { op: 'READ', device: 'iio:device0', target: { kind: 'buffer' }, attr: 'length' }],
      ['READ iio:device0 INPUT voltage0', { op: 'READ', device: 'iio:device0', target: { kind: 'channel', output: false, channel: 'voltage0' }, attr: undefined }],
      ['READ iio:device1 output altvoltage0 frequency', { op: 'READ', device: 'iio:device1', target: { kind: 'channel', output: true, channel: 'altvoltage0' }, attr: 'frequency' }],
      ['WRITE iio:device0 12', { op: 'WRITE', device: 'iio:device0', target: { kind: 'device' }, attr: undefined, bytes: 12 }],
      ['WRITE iio:device0 sampling_frequency 7', { op: 'WRITE', device: 'iio:device0', target: { kind: 'device' }, attr: 'sampling_frequency', bytes: 7 }],
      ['WRITE iio:device0 BUFFER 8', { op: 'WRITE', device: 'iio:device0', target: { kind: 'buffer' }, attr: undefined, bytes: 8 }],
      ['WRITE iio:device0 DEBUG direct_reg_access 5', { op: 'WRITE', device: 'iio:device0', target: { kind: 'debug' }, attr: 'direct_reg_access', bytes: 5 }],
      ['WRITE iio:device0 OUTPUT voltage0 raw 2', { op: 'WRITE', device: 'iio:device0', target: { kind: 'channel', output: true, channel: 'voltage0' }, attr: 'raw', bytes: 2 }],
      ['WRITE iio:device0 INPUT voltage0 16', { op: 'WRITE', device: 'iio:device0', target: { kind: 'channel', output: false, channel: 'voltage0' }, attr: undefined, bytes: 16 }],
      ['READBUF iio:device0 512', { op: 'READBUF', device: 'iio:device0', bytes: 512 }],
      ['writebuf iio:device1 1024', { op: 'WRITEBUF', device: 'iio:device1', bytes: 1024 }],
      ['GETTRIG iio:device2', { op: 'GETTRIG', device: 'iio:device2' }],
      ['SETTRIG iio:device2 trigger0', { op: 'SETTRIG', device: 'iio:device2', trigger: 'trigger0' }],
      ['SETTRIG iio:device2', { op: 'SETTRIG', device: 'iio:device2', trigger: undefined }],
      ['SET iio:device0 BUFFERS_COUNT 4', { op: 'SET_BUFFERS_COUNT', device: 'iio:device0', count: 4 }],
      ['READ\tiio:device0  \tip,ip-addr', { op: 'READ', device: 'iio:device0', target: { kind: 'device' }, attr: 'ip,ip-addr' }],
    ];
    for (const [line, command] of cases) assert.deepEqual(parseLine(line), command, line);
    assert.equal(parseLine(''), null);
  });

  test('anything else is a ParseError (EINVAL): mixed case, stray words, bad names and numbers', () => {
    for (const line of ['Read iio:device0 raw', 'VERSION 2', 'OPEN iio:device0 256', 'OPEN iio:device0 256 0f LOOP', 'READ', 'READ iio:device0 INPUT',
      'READ iio:device0 a b c', 'TIMEOUT -1', 'TIMEOUT 1.5', 'READBUF iio:device0 1234567890123456', 'READ iio:dev/0 raw', 'READ iio:device0 ,raw',
      ' VERSION', 'SET iio:device0 BUFFERS 4', 'FOO', 'WRITE iio:device0 raw x', '\u00e9']) {
      assert.throws(() => parseLine(line), (e: unknown) => e instanceof ParseError && e.code === 'EINVAL', JSON.stringify(line));
    }
  });
});

describe('attribute value framing', () => {
  test('one value: length with the NUL counted, the NUL, then \\n', () => {
    assert.deepEqual(valueReply('1000'), [Buffer.from('5\n'), Buffer.from('1000\0\n', 'latin1')]);
    assert.deepEqual(valueReply(''), [Buffer.from('1\n'), Buffer.from('\0\n', 'latin1')]);
    assert.deepEqual(valueReply('µ'), [Buffer.from('3\n'), Buffer.from('µ\0\n', 'utf8')]);
  });

  test('"read all": big-endian lengths or -errno, values NUL-terminated and padded to 4; decodeAll reads it back', () => {
    const payload = encodeAll(['abc', -13, '1000', '']);
    assert.deepEqual([...payload], [
      0, 0, 0, 4, 0x61, 0x62, 0x63, 0,
      0xff, 0xff, 0xff, 0xf3,
      0, 0, 0, 5, 0x31, 0x30, 0x30, 0x30, 0, 0, 0, 0,
      0, 0, 0, 1, 0, 0, 0, 0,
    ]);
    assert.deepEqual(allReply(['abc']), [Buffer.from('8\n'), Buffer.concat([encodeAll(['abc']), Buffer.from('\n')])]);
    assert.deepEqual(decodeAll(payload, 4), ['abc', undefined, '1000', '']);
  });

  test('"write all" payloads of the wrong shape are RangeErrors; written values lose their NULs', () => {
    assert.throws(() => decodeAll(encodeAll(['a']), 2), RangeError);
    assert.throws(() => decodeAll(Buffer.concat([encodeAll(['a']), Buffer.alloc(4)]), 1), RangeError);
    assert.throws(() => decodeAll(Buffer.from([0, 0, 0, 9, 1, 2]), 1), RangeError);
    assert.equal(valueText(Buffer.from('500000\0')), '500000');
    assert.equal(valueText(Buffer.from('0x37 0x55')), '0x37 0x55');
  });
});

/** A connected socket pair on loopback: the inbox reads `server`, the test writes `client`. */
async function socketPair(): Promise<{ server: Socket; client: Socket; close(): void }> {
  const listener = createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => listener.once('connection', r));
  const client = connect(port, '127.0.0.1');
  const server = await accepted;
  return {
    server,
    client,
    close: () => {
      client.destroy();
      server.destroy();
      listener.close();
    },
  };
}

describe('input framing', () => {
  test('lines split anywhere, CR and trailing blanks dropped; payload bytes as they arrived; EOF', async () => {
    const pair = await socketPair();
    try {
      const inbox = new Inbox(pair.server);
      pair.client.write('VERS');
      pair.client.write('ION \t\r');
      pair.client.write('\nWRITE a 5\r\nab');
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'VERSION' });
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'WRITE a 5' });
      const payload = inbox.bytes(5);
      pair.client.write('cde\nNEXT\n');
      assert.equal(Buffer.concat((await payload)!).toString(), 'abcde');
      assert.deepEqual(await inbox.line(), { kind: 'line', text: '' });
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'NEXT' });
      const missing = inbox.bytes(10);
      pair.client.end('short');
      assert.equal(await missing, null);
      assert.deepEqual(await inbox.line(), { kind: 'eof' });
    } finally {
      pair.close();
    }
  });

  test('a line over the limit is one overflow, dropped as it streams in, and framing resumes after its \\n', async () => {
    const pair = await socketPair();
    try {
      const inbox = new Inbox(pair.server, { maxLine: 16, highWater: 64 });
      pair.client.write('x'.repeat(20));
      assert.deepEqual(await inbox.line(), { kind: 'overflow' });
      for (let i = 0; i < 100; i++) pair.client.write('y'.repeat(1000));
      pair.client.write('z\nOK\n' + 'w'.repeat(30) + '\nAFTER\n');
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'OK' });
      assert.deepEqual(await inbox.line(), { kind: 'overflow' });
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'AFTER' });
      pair.client.write(`${'a'.repeat(16)}\r\n`);
      assert.deepEqual(await inbox.line(), { kind: 'line', text: 'a'.repeat(16) }, 'exactly the limit, CRLF not counted');
    } finally {
      pair.close();
    }
  });

  test('unread input above the high-water mark pauses the socket until it is consumed', async () => {
    const pair = await socketPair();
    try {
      const inbox = new Inbox(pair.server, { highWater: 1024 });
      const paused = new Promise((r) => pair.server.once('pause', r));
      pair.client.write(Buffer.alloc(4096, 'a'));
      await paused;
      assert.equal(pair.server.isPaused(), true);
      await inbox.bytes(4096);
      assert.equal(pair.server.isPaused(), false);
    } finally {
      pair.close();
    }
  });
});

test('src/server uses the public object model only: no kernel, no particular backend, no addon', () => {
  const forbidden = [/src\/kernel\/(linux|sim)\//, /src\/kernel\/open\.ts$/, /src\/backends\/(local|open)/, /addon/];
  const files = readdirSync(join(repo, 'src/server/iiod')).filter((f) => f.endsWith('.ts')).map((f) => `src/server/iiod/${f}`);
  assert.ok(files.length >= 8);
  for (const file of files) {
    const bad = [...importClosure(file)].filter((m) => forbidden.some((re) => re.test(m)));
    assert.deepEqual(bad, [], `${file} reaches ${bad.join(', ')}`);
  }
});
