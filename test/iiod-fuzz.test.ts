// Fuzzing the iiod server: seeded random command lines built from the protocol's vocabulary,
// valid lines mutated byte by byte, and payloads cut short or clients dropped mid-command,
// thousands of them over many concurrent connections. The server must never crash, must answer
// a fresh client afterwards, and must be back to its baseline: no session left and the sim's fd
// table as it was before the first client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prng } from './support/prng.js';
import { RawClient, assertSettled, serveSim } from './support/iiod.js';

const SEED = 0x11d0;
const CONNECTIONS = 80;
const PARALLEL = 20;
const LINES_PER_CONNECTION = 50;

const KEYWORDS = ['VERSION', 'PRINT', 'ZPRINT', 'HELP', 'TIMEOUT', 'OPEN', 'CLOSE', 'READ', 'WRITE', 'READBUF', 'WRITEBUF',
  'GETTRIG', 'SETTRIG', 'SET', 'BINARY', 'EXIT', 'QUIT'];
const TOKENS = [
  'iio:device0', 'iio:device1', 'iio:device2', 'iio:device3', 'iio:device4', 'trigger0', 'trigger1', 'adc4', 'iiojs-trx', 'iio:device9', 'x',
  'INPUT', 'OUTPUT', 'DEBUG', 'BUFFER', 'input', 'CYCLIC', 'BUFFERS_COUNT',
  'voltage0', 'voltage2', 'altvoltage0', 'timestamp', 'RX_LO', 'temp',
  'raw', 'scale', 'sampling_frequency', 'length', 'watermark', 'direct_reg_access', 'frequency', 'label', 'nope',
  '0', '1', '4', '7', '256', '512', '4096', '65536', '99999999', '1099511627776', '-1', 'abc', '1e3',
  '00000004', '0000000c', '00000003', '0000001f', 'ffffffff', '0', '000000000004', 'zzzzzzzz',
];
/** Lines that are valid, to mutate. */
const VALID = [
  'VERSION', 'PRINT', 'TIMEOUT 2500', 'READ iio:device0 sampling_frequency', 'READ iio:device1 OUTPUT altvoltage0 frequency',
  'READ iio:device0', 'READ iio:device0 BUFFER', 'READ iio:device1 DEBUG direct_reg_access', 'GETTRIG iio:device2',
  'OPEN iio:device0 256 00000004', 'READBUF iio:device0 512', 'CLOSE iio:device0', 'OPEN iio:device4 64 00000003',
  'WRITEBUF iio:device4 256', 'SET iio:device0 BUFFERS_COUNT 2', 'SETTRIG iio:device2 trigger0', 'WRITE iio:device0 raw 2',
];

function generate(rand: () => number): { lines: Buffer[]; inputs: number } {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const lines: Buffer[] = [];
  let inputs = 0;
  for (let i = 0; i < LINES_PER_CONNECTION; i++) {
    let line: string;
    const kind = rand();
    if (kind < 0.45) {
      // From the vocabulary: a keyword (upper, lower or mixed case) and a few tokens.
      const kw = pick(KEYWORDS);
      const spelt = rand() < 0.7 ? kw : rand() < 0.5 ? kw.toLowerCase() : kw[0] + kw.slice(1).toLowerCase();
      const words = [spelt];
      const n = Math.floor(rand() * 6);
      for (let k = 0; k < n; k++) words.push(pick(TOKENS));
      line = words.join(rand() < 0.9 ? ' ' : '\t');
    } else if (kind < 0.85) {
      line = mutate(pick(VALID), rand);
    } else {
      // Raw bytes.
      line = String.fromCharCode(...Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
    }
    inputs++;
    lines.push(Buffer.from(`${line}${rand() < 0.9 ? '\r\n' : '\n'}`, 'latin1'));
    // A payload for WRITE/WRITEBUF with a small size: whole, or cut short.
    const size = /^(WRITE|WRITEBUF|write|writebuf)\b.* (\d{1,4})$/.exec(line);
    if (size !== null) {
      const n = Number(size[2]);
      const sent = rand() < 0.8 ? n : Math.floor(rand() * n);
      lines.push(Buffer.from(Array.from({ length: sent }, () => Math.floor(rand() * 256))));
      inputs++;
    }
  }
  return { lines, inputs };
}

function mutate(line: string, rand: () => number): string {
  const chars = [...line];
  const edits = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (chars.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0:
        chars.splice(at, 1);
        break;
      case 1:
        chars.splice(at, 0, String.fromCharCode(Math.floor(rand() * 256)));
        break;
      case 2:
        chars.splice(at, 0, ' ');
        break;
      case 3:
        chars.length = at;
        break;
      case 4:
        chars.splice(at, 0, String(Math.floor(rand() * 1e6)));
        break;
      default:
        if (chars[at] !== undefined) chars[at] = chars[at]!.toUpperCase() === chars[at] ? chars[at]!.toLowerCase() : chars[at]!.toUpperCase();
    }
  }
  return chars.join('');
}

/** One client: sends its lines in a few bursts, reads whatever comes, then leaves (politely or not). */
async function fuzzConnection(port: number, rand: () => number): Promise<number> {
  const { lines, inputs } = generate(rand);
  const c = await RawClient.connect(port);
  const abrupt = rand() < 0.3;
  try {
    for (let i = 0; i < lines.length; i += 10) {
      for (const line of lines.slice(i, i + 10)) c.send(line);
      await new Promise((r) => setTimeout(r, rand() * 5));
    }
    if (!abrupt) {
      c.socket.end();
      await c.closedByServer(300).catch(() => undefined);
    }
  } finally {
    c.destroy();
  }
  return inputs;
}

test(`fuzz: ${CONNECTIONS} clients × ${LINES_PER_CONNECTION} random and mutated lines, payloads cut short; the server survives, answers and frees everything`, async () => {
  // What the server saw, from its log: each session's start and end, and each command it refused
  // (a failure is logged as `<peer>: <command>: <errno>: <message>`).
  const seen = { connected: 0, disconnected: 0, refused: 0 };
  const count = (line: string): void => {
    if (/: connected$/.test(line)) seen.connected++;
    else if (/: disconnected(:|$)/.test(line)) seen.disconnected++;
    else if (/: -\d+: /.test(line)) seen.refused++;
  };
  // Every client comes from 127.0.0.1: the per-address limit is the server's whole capacity here.
  await using served = await serveSim({ serve: { log: { info: count, error: count }, maxClientsPerAddress: 64 } });
  const rand = prng(SEED);
  let inputs = 0;
  for (let wave = 0; wave < CONNECTIONS / PARALLEL; wave++) {
    const counts = await Promise.all(Array.from({ length: PARALLEL }, () => fuzzConnection(served.server.port, prng(Math.floor(rand() * 2 ** 32)))));
    inputs += counts.reduce((a, b) => a + b, 0);
  }
  await assertSettled(served);
  // The inputs reached the server: every client had a session, and a large share of the lines
  // (most are invalid by construction) came back refused. A broken generator, a client that
  // never sends, or a server that drops lines unread fails here.
  assert.equal(seen.connected, CONNECTIONS, JSON.stringify(seen));
  assert.ok(seen.disconnected >= CONNECTIONS, JSON.stringify(seen));
  assert.ok(seen.refused >= inputs / 4, `${seen.refused} of ${inputs} inputs refused by the server`);
  // Still serving, and correctly.
  const c = await RawClient.connect(served.server.port);
  try {
    c.send('VERSION\r\n');
    assert.match(await c.line(), /^0\.24\./);
    const xml = Buffer.from(served.ctx.toXml());
    assert.equal(await c.command('PRINT'), xml.length);
    assert.deepEqual(await c.bytes(xml.length + 1), Buffer.concat([xml, Buffer.from('\n')]));
    assert.equal(await c.value('READ iio:device1 ensm_mode_available'), 'sleep wait alert fdd pinctrl');
  } finally {
    c.destroy();
  }
  await assertSettled(served);
});
