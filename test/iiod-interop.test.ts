// libiio's own clients (Debian's libiio 0.24: iio_info, iio_attr, iio_readdev, iio_writedev and
// the Python bindings) against serve() on an ephemeral port of 127.0.0.1, serving the default
// sim scenario. libiio 0.24 takes `ip:<host>:<port>`. CI installs libiio-utils and
// python3-libiio (.ci/run); a missing tool fails the test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import type { Context } from '../src/core/context.js';
import type { DmaStats } from '../src/kernel/sim/iio/dma-engine.js';
import { xmlScanFormat } from '../src/core/xml.js';
import { fnv1a } from './support/checksum.js';
import { assertSettled, serveSim, type Served } from './support/iiod.js';

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs a tool to completion (bounded), feeding `input` on stdin. */
function run(command: string, args: string[], options: { input?: Buffer; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error(`${command} is not installed: apt-get install libiio-utils python3-libiio (see .ci/run)`) : e);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

const uri = (served: Served): string => `ip:127.0.0.1:${served.server.port}`;

/**
 * `iio_writedev -c -b 256` of `data` on the transceiver's TX device: `played(n)` resolves with
 * the DAC's stats once it took n bytes (bounded); `kill()` sends SIGTERM, after which
 * `exitedCleanly()` asserts the exit status 0.
 */
function cyclicWriter(served: Served, data: Buffer): { played(bytes: number): Promise<DmaStats>; kill(): void; exitedCleanly(): Promise<void> } {
  const tx = served.kernel.iio.device('iiojs-trx-tx').buffer(0);
  const child = spawn('iio_writedev', ['-u', uri(served), '-c', '-b', '256', 'iiojs-trx-tx', 'voltage0_i', 'voltage0_q'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin.end(data);
  return {
    async played(bytes) {
      const deadline = Date.now() + 10_000;
      while (tx.stats.bytes < bytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.ok(tx.stats.bytes >= bytes, `played ${tx.stats.bytes} bytes (${stderr})`);
      return tx.stats;
    },
    kill() {
      child.kill('SIGTERM');
    },
    async exitedCleanly() {
      assert.equal(await exited, 0, stderr);
    },
  };
}

/** iio_attr's answer (it prints the value read, or read back after a write). */
async function iioAttr(served: Served, ...args: string[]): Promise<string> {
  const r = await run('iio_attr', ['-u', uri(served), ...args]);
  assert.equal(r.code, 0, `iio_attr ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString().trim();
}

// ---- iio_info's text, parsed -------------------------------------------------------------

type Value = string | number; // a value, or -errno where iio_info printed an ERROR

interface InfoChannel {
  id: string;
  name: string;
  direction: string;
  index?: number;
  format?: string;
  attrs: Map<string, Value>;
}

interface InfoDevice {
  id: string;
  name: string;
  label?: string;
  bufferCapable: boolean;
  channels: InfoChannel[];
  attrs: Map<string, Value>;
  bufferAttrs: Map<string, Value>;
  debugAttrs: Map<string, Value>;
  trigger: string;
}

function parseInfo(text: string): { contextAttrs: Map<string, string>; devices: InfoDevice[] } {
  const contextAttrs = new Map<string, string>();
  const devices: InfoDevice[] = [];
  let inDevices = false;
  let device: InfoDevice | undefined;
  let section: Map<string, Value> | undefined;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if (/^IIO context has \d+ devices:$/.test(line)) {
      inDevices = true;
    } else if (!inDevices) {
      if ((m = /^\t([^:]+): (.*)$/.exec(line)) !== null) contextAttrs.set(m[1]!, m[2]!);
    } else if ((m = /^\t([^\t:][^:]*(?::device\d+)?): (\S*)(?: \(label: (.*?)\))?( \(buffer capable\))?$/.exec(line)) !== null) {
      device = { id: m[1]!, name: m[2]!, bufferCapable: m[4] !== undefined, channels: [], attrs: new Map(), bufferAttrs: new Map(), debugAttrs: new Map(), trigger: '' };
      if (m[3] !== undefined) device.label = m[3];
      devices.push(device);
      section = undefined;
    } else if (device === undefined) {
      continue;
    } else if ((m = /^\t\t\t([^:]+): (.*?) \((input|output)(?:, index: (\d+), format: (\S+))?\)$/.exec(line)) !== null) {
      const channel: InfoChannel = { id: m[1]!, name: m[2]!.trim(), direction: m[3]!, attrs: new Map() };
      if (m[4] !== undefined) {
        channel.index = Number(m[4]);
        channel.format = m[5]!;
      }
      device.channels.push(channel);
      section = channel.attrs;
    } else if ((m = /^\t\t\d+ (device-specific|buffer-specific|debug) attributes found:$/.exec(line)) !== null) {
      section = m[1] === 'device-specific' ? device.attrs : m[1] === 'buffer-specific' ? device.bufferAttrs : device.debugAttrs;
    } else if ((m = /^\t\t\t\t(?:debug )?attr\s+\d+: (\S+) (?:value: (.*)|ERROR: .* \((\d+)\))$/.exec(line)) !== null) {
      assert.ok(section !== undefined, `attribute line outside a section: ${line}`);
      section.set(m[1]!, m[3] === undefined ? m[2]! : -Number(m[3]));
    } else if ((m = /^\t\t(Current trigger: .*|No trigger.*)$/.exec(line)) !== null) {
      device.trigger = m[1]!;
    }
  }
  return { contextAttrs, devices };
}

/** Every attribute value of the context through the library, keyed like iio_info's listing. */
async function libraryValues(ctx: Context): Promise<Map<string, Value>> {
  const values = new Map<string, Value>();
  const read = async (key: string, attr: { read(): Promise<string> }): Promise<void> => {
    values.set(key, await attr.read().catch((e: { errno: number }) => e.errno));
  };
  const work: Array<Promise<void>> = [];
  for (const d of ctx.allDevices) {
    for (const c of d.channels) for (const a of c.attrs.values()) work.push(read(`${d.id}/${c.direction}/${c.id}/${a.name}`, a));
    for (const a of d.attrs.values()) work.push(read(`${d.id}/${a.name}`, a));
    for (const a of d.debugAttrs.values()) work.push(read(`${d.id}/debug/${a.name}`, a));
    if (d.buffers.length === 1) for (const a of d.buffers[0]!.attrs.values()) work.push(read(`${d.id}/buffer/${a.name}`, a));
  }
  await Promise.all(work);
  return values;
}

describe('libiio 0.24 clients against serve()', () => {
  test('iio_info lists the devices, channels and every attribute value the library reads', async () => {
    await using served = await serveSim();
    const before = await libraryValues(served.ctx);
    const r = await run('iio_info', ['-u', uri(served)]);
    const after = await libraryValues(served.ctx);
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString();
    assert.match(text, /IIO context created with network backend\./);
    const { contextAttrs, devices: listed } = parseInfo(text);
    // The context's attributes, and those libiio's ip: backend adds (uri, ip,ip-addr).
    for (const [name, attr] of served.ctx.attrs) if (name !== 'uri') assert.equal(contextAttrs.get(name), attr.staticValue, name);
    assert.equal(contextAttrs.get('uri'), 'ip:127.0.0.1');
    const all = served.ctx.allDevices;
    assert.deepEqual(listed.map((d) => d.id), all.map((d) => d.id));

    const seen = new Map<string, Value>();
    for (const [i, d] of all.entries()) {
      const info = listed[i]!;
      assert.equal(info.name, d.name);
      assert.equal(info.label, d.label);
      assert.equal(info.bufferCapable, d.buffers.length > 0, d.id);
      assert.deepEqual(info.channels.map((c) => [c.id, c.direction, c.index, c.format]),
        d.channels.map((c) => [c.id, c.output ? 'output' : 'input', c.scanElement?.index, c.scanElement === undefined ? undefined : xmlScanFormat(c.scanElement.type)]));
      assert.deepEqual(info.channels.map((c) => c.name), d.channels.map((c) => c.name ?? ''));
      for (const [k, c] of info.channels.entries()) {
        assert.deepEqual([...c.attrs.keys()], [...d.channels[k]!.attrs.keys()], `${d.id} ${c.id}`);
        for (const [name, v] of c.attrs) seen.set(`${d.id}/${c.direction === 'output' ? 'out' : 'in'}/${c.id}/${name}`, v);
      }
      assert.deepEqual([...info.attrs.keys()], [...d.attrs.keys()]);
      assert.deepEqual([...info.debugAttrs.keys()], [...d.debugAttrs.keys()]);
      assert.deepEqual([...info.bufferAttrs.keys()], d.buffers.length === 1 ? [...d.buffers[0]!.attrs.keys()] : []);
      for (const [name, v] of info.attrs) seen.set(`${d.id}/${name}`, v);
      for (const [name, v] of info.debugAttrs) seen.set(`${d.id}/debug/${name}`, v);
      for (const [name, v] of info.bufferAttrs) seen.set(`${d.id}/buffer/${name}`, v);
      const trigger = await d.getTrigger().catch(() => undefined);
      assert.equal(info.trigger, trigger === undefined ? 'No trigger on this device' : trigger === null ? 'No trigger assigned to device' : `Current trigger: ${trigger.id}(${trigger.name})`);
    }
    assert.deepEqual([...seen.keys()].sort(), [...before.keys()].sort());
    // Every value is exactly the library's, except the inputs' `raw`: live samples of the
    // simulated waveforms, which change while iio_info runs (those must be integers).
    const live = (key: string): boolean => /\/in\/[^/]+\/raw$/.test(key);
    for (const [key, value] of seen) {
      if (live(key)) assert.match(String(value), /^-?\d+$/, key);
      else {
        assert.equal(before.get(key), after.get(key), `${key} is not static`);
        assert.equal(value, before.get(key), key);
      }
    }
    assert.equal([...seen.keys()].filter(live).length, 10, 'raw of adc4 voltage0-3, the RX device\'s i and q, the sensor\'s temp and accel x/y/z');
    assert.equal(seen.get('trigger1/trigger_now'), -13, 'a write-only attribute: EACCES as iiod answers');
  });

  test('iio_attr reads and writes device, channel, buffer and debug attributes', async () => {
    await using served = await serveSim();
    const adc = served.ctx.device('iiojs-adc4');
    const trx = served.ctx.device('iiojs-trx');
    assert.equal(await iioAttr(served, '-d', 'iiojs-adc4', 'sampling_frequency'), await adc.attr('sampling_frequency').read());
    assert.equal(await iioAttr(served, '-d', 'iiojs-adc4', 'sampling_frequency', '250000'), '250000');
    assert.equal(await adc.attr('sampling_frequency').read(), '250000');
    assert.equal(await iioAttr(served, '-c', 'iiojs-adc4', 'voltage1', 'label'), 'square 250 Hz');
    assert.equal(await iioAttr(served, '-c', '-o', 'iiojs-trx', 'altvoltage1', 'frequency', '2450000000'), '2450000000');
    assert.equal(await trx.channel('altvoltage1', 'out').attr('frequency').read(), '2450000000');
    assert.equal(await iioAttr(served, '-B', 'iiojs-adc4', 'length'), await adc.buffer(0).attr('length').read());
    assert.equal(await iioAttr(served, '-B', 'iiojs-adc4', 'length', '8192'), '8192');
    assert.equal(await adc.buffer(0).attr('length').read(), '8192');
    assert.equal(await iioAttr(served, '-D', 'iiojs-trx', 'direct_reg_access'), await trx.debugAttr('direct_reg_access').read());
    assert.equal(await iioAttr(served, '-D', 'iiojs-trx', 'direct_reg_access', '0x3f 0x1234'), '0x1234');
    assert.equal(await trx.registers.read(0x3f), 0x1234);
    await assertSettled(served);
  });

  test('iio_readdev captures adc4 voltage0 and the voltage2 ramp, sample by sample', async () => {
    await using served = await serveSim();
    const samples = 5 * 4096;
    const r = await run('iio_readdev', ['-u', uri(served), '-b', '4096', '-s', String(samples), 'iiojs-adc4', 'voltage0', 'voltage2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, samples * 4);
    for (let block = 0; block < 5; block++) {
      let previous: number | undefined;
      for (let s = 0; s < 4096; s++) {
        const at = (block * 4096 + s) * 4;
        const sine = r.stdout.readInt16LE(at);
        const ramp = r.stdout.readInt16LE(at + 2);
        assert.ok(Math.abs(sine) <= 24000, `voltage0 ${sine} beyond the sine's amplitude`);
        assert.ok(ramp >= -32000 && ramp <= -32000 + 16 * 3999 && (ramp + 32000) % 16 === 0, `block ${block} sample ${s}: ${ramp} is off the ramp`);
        if (previous !== undefined) assert.equal(ramp, previous === -32000 + 16 * 3999 ? -32000 : previous + 16, `block ${block} sample ${s}`);
        previous = ramp;
      }
    }
    await assertSettled(served);
  });

  test('iio_readdev through the triggered sensor (file I/O buffer): temperature and big-endian 12-bit accel_z', async () => {
    await using served = await serveSim();
    const r = await run('iio_readdev', ['-u', uri(served), '-b', '4', '-s', '12', 'iiojs-sensor', 'temp', 'accel_z']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 12 * 4);
    for (let s = 0; s < 12; s++) {
      const temp = r.stdout.readInt16LE(s * 4);
      const z = r.stdout.readInt16BE(s * 4 + 2) >> 4;
      assert.ok(temp >= 2200 && temp <= 2500, `temp ${temp}`);
      assert.ok(z >= 988 && z <= 1012, `accel_z ${z}`);
    }
    await assertSettled(served);
  });

  test('iio_writedev delivers its samples to the DAC (bytes and checksum at the sim)', async () => {
    await using served = await serveSim();
    const data = Buffer.from(Uint8Array.from({ length: 4 * 1024 }, (_, i) => (i * 31 + 7) & 0xff));
    const r = await run('iio_writedev', ['-u', uri(served), '-b', '256', '-s', '1024', 'iiojs-trx-tx', 'voltage0_i', 'voltage0_q'], { input: data });
    assert.equal(r.code, 0, r.stderr);
    const stats = served.kernel.iio.device('iiojs-trx-tx').buffer(0).stats;
    assert.equal(stats.bytes, data.length);
    assert.equal(stats.checksum, fnv1a(data));
    await assertSettled(served);
  });

  test('iio_writedev -c plays its one buffer again and again until stopped', async () => {
    await using served = await serveSim();
    const data = Buffer.from(Uint8Array.from({ length: 256 * 4 }, (_, i) => (i * 5 + 1) & 0xff));
    const writer = cyclicWriter(served, data);
    try {
      const stats = await writer.played(8 * data.length);
      assert.equal(stats.bytes % data.length, 0);
      assert.deepEqual(Buffer.from(stats.last!), data);
    } finally {
      writer.kill();
    }
    await writer.exitedCleanly();
    await assertSettled(served);
  });

  test('the transceiver live: iio_readdev on the RX device hears iio_writedev -c on the TX device while it plays', async () => {
    await using served = await serveSim();
    // A complex tone, 256 scans of (i, q).
    const tone = Buffer.alloc(256 * 4);
    for (let k = 0; k < 256; k++) {
      tone.writeInt16LE(Math.round(8000 * Math.cos((2 * Math.PI * k) / 32)), 4 * k);
      tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * k) / 32)), 4 * k + 2);
    }
    const writer = cyclicWriter(served, tone);
    try {
      await writer.played(tone.length); // playing: the DAC took the tone at least once
      // one block: the RX converter keeps its clock, so a gap between blocks would shift the tone
      const r = await run('iio_readdev', ['-u', uri(served), '-b', '4096', '-s', '4096', 'iiojs-trx-rx', 'voltage0_i', 'voltage0_q']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, 4096 * 4);
      const start = [...Array(256).keys()].find((k) => r.stdout.readUInt32LE(0) === tone.readUInt32LE(4 * k));
      assert.ok(start !== undefined, 'the first scan heard is one of the tone');
      for (let n = 0; n < 4096; n++) assert.equal(r.stdout.readUInt32LE(4 * n), tone.readUInt32LE(4 * ((start + n) % 256)), `scan ${n}`);
    } finally {
      writer.kill();
    }
    await writer.exitedCleanly();
    await assertSettled(served);
  });

  test('Python (python3-libiio): iio.Context("ip:…") buffers refill with the ramp', async () => {
    await using served = await serveSim();
    const script = `
import iio, json, struct, sys
ctx = iio.Context(sys.argv[1])
dev = ctx.find_device('iiojs-adc4')
for name in ('voltage1', 'voltage2'):
    dev.find_channel(name).enabled = True
buf = iio.Buffer(dev, 1000)
blocks = []
for _ in range(3):
    buf.refill()
    raw = dev.find_channel('voltage2').read(buf)
    blocks.append(list(struct.unpack('<%dh' % (len(raw) // 2), raw)))
print(json.dumps({'blocks': blocks, 'frequency': dev.attrs['sampling_frequency'].value}))
`;
    const r = await run('/usr/bin/python3', ['-c', script, uri(served)]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.toString()) as { blocks: number[][]; frequency: string };
    assert.equal(result.frequency, '1000000');
    assert.equal(result.blocks.length, 3);
    for (const [b, block] of result.blocks.entries()) {
      assert.equal(block.length, 1000);
      for (let s = 1; s < block.length; s++) {
        assert.equal(block[s], block[s - 1] === -32000 + 16 * 3999 ? -32000 : block[s - 1]! + 16, `block ${b} sample ${s}`);
      }
    }
    await assertSettled(served);
  });
});

