// Our ip: client against libiio's own server (Debian's iiod 0.24) on the lab's real kernel: the
// context it describes is the one our local backend sees (libiio's view of it), attributes
// read and write through it, triggers attach and detach, the vadc-dma counter streams through
// it sample by sample, lab-dac receives what is played, and cancelling or timing out a
// transfer leaves iiod serving. Real-kernel tier only (run by vm/guest-tests.sh).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { LocalBackend } from '../../src/backends/local/backend.js';
import { Context } from '../../src/core/context.js';
import type { Device } from '../../src/core/device.js';
import { openContext } from '../../src/open.js';
import { bootUnderTest, type Lab } from '../support/kernel-under-test.js';
import { waitForListening } from '../support/listening.js';

const IIOD = '/usr/sbin/iiod';
const PORT = 30431;

let lab: Lab;
let iiod: ChildProcess;
let iiodLog = '';
let local: Context;
let net: Context;

before(async () => {
  assert.ok(existsSync(IIOD), `${IIOD} is missing: install Debian's iiod package (apt-get install iiod), as .ci/run does`);
  lab = bootUnderTest(); // the devices first: iiod describes what exists when it starts
  iiod = spawn(IIOD, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  iiod.stdout!.on('data', (d: Buffer) => { iiodLog += d.toString(); });
  iiod.stderr!.on('data', (d: Buffer) => { iiodLog += d.toString(); });
  await waitForListening(PORT, 20_000, iiod, () => iiodLog); // iiod listens once it has scanned the devices
  local = await Context.open(new LocalBackend(lab.kernel));
  net = await openContext('ip:127.0.0.1', { timeoutMs: 10_000 });
});

after(async () => {
  await net?.close();
  await local?.close();
  if (iiod !== undefined && iiod.exitCode === null) {
    // SIGKILL: iiod 0.24 takes its time on SIGTERM (it retries Avahi).
    const exited = new Promise((resolve) => iiod.once('exit', resolve));
    iiod.kill('SIGKILL');
    await exited;
  }
});

/** libiio 0.24 makes a channel "sampling" of in_sampling_frequency (we share it with the inputs). */
const libiioOnlyChannel = (id: string): boolean => id === 'sampling';

test('the context: every device and trigger, scan elements in the same mask order, libiio\'s attributes among ours', () => {
  assert.equal(net.name, 'network');
  assert.equal(net.attr('uri').staticValue, 'ip:127.0.0.1');
  assert.equal(net.attr('ip,ip-addr').staticValue, '127.0.0.1');
  // libiio also lists iio_sysfs_trigger, which is neither an IIO device nor a trigger.
  const netDevices = net.allDevices.filter((d) => d.id !== 'iio_sysfs_trigger');
  assert.deepEqual(netDevices.map((d) => [d.id, d.name, d.isTrigger]), local.allDevices.map((d) => [d.id, d.name, d.isTrigger]));
  for (const ours of local.allDevices) {
    const theirs = net.device(ours.id);
    const scans = (d: Device) => d.channels.filter((c) => c.scanElement !== undefined)
      .map((c) => [c.position, c.id, c.output, c.type, c.index, c.modifier, c.scanElement!.index, JSON.stringify(c.scanElement!.type)]);
    assert.deepEqual(scans(theirs), scans(ours), `${ours.id} scan elements`);
    const plain = (d: Device) => d.channels.filter((c) => c.scanElement === undefined && !libiioOnlyChannel(c.id)).map((c) => `${c.direction} ${c.id}`).sort();
    assert.deepEqual(plain(theirs), plain(ours), `${ours.id} other channels`);
    for (const tc of theirs.channels.filter((c) => !libiioOnlyChannel(c.id))) {
      const oc = ours.channel(tc.id, tc.direction);
      for (const a of tc.attrs.values()) assert.equal(oc.attrs.get(a.name)?.filename, a.filename, `${tc} ${a.name}`);
    }
    for (const a of theirs.attrs.keys()) assert.ok(ours.attrs.has(a), `${ours.id} attribute ${a}`);
    for (const a of theirs.debugAttrs.keys()) assert.ok(ours.debugAttrs.has(a), `${ours.id} debug attribute ${a}`);
    assert.equal(theirs.buffers.length, ours.buffers.length, `${ours.id} buffers`);
    for (const [i, b] of theirs.buffers.entries()) {
      assert.equal(b.direction, ours.buffers[i]!.direction);
      assert.deepEqual(b.channels.map((c) => c.position), ours.buffers[i]!.channels.map((c) => c.position));
      for (const a of b.attrs.keys()) assert.ok(ours.buffers[i]!.attrs.has(a), `${ours.id} buffer attribute ${a}`);
    }
  }
});

test('attribute reads give what the local backend reads, errors included', async () => {
  let compared = 0;
  for (const theirs of net.allDevices.filter((d) => d.id !== 'iio_sysfs_trigger')) {
    const ours = local.device(theirs.id);
    const pairs = [
      ...[...theirs.attrs.values()].map((a) => [a, ours.attr(a.name)] as const),
      ...[...theirs.debugAttrs.values()].map((a) => [a, ours.debugAttr(a.name)] as const),
      ...theirs.channels.filter((c) => !libiioOnlyChannel(c.id))
        .flatMap((c) => [...c.attrs.values()].map((a) => [a, ours.channel(c.id, c.direction).attr(a.name)] as const)),
      ...theirs.buffers.flatMap((b) => [...b.attrs.values()].filter((a) => a.name !== 'data_available')
        .map((a) => [a, ours.buffer(b.index).attr(a.name)] as const)),
    ];
    for (const [t, o] of pairs) {
      const [tv, ov] = await Promise.allSettled([t.read(), o.read()]);
      if (ov.status === 'fulfilled') assert.deepEqual(tv, ov, t.toString());
      else {
        assert.equal(tv.status, 'rejected', `${t}: local read failed (${(ov.reason as Error).message}), the network one did not`);
        assert.equal((tv as PromiseRejectedResult).reason.syscall, 'READ', t.toString());
      }
      compared++;
    }
  }
  assert.ok(compared > 20, `compared ${compared} attributes`);
});

test('writes round-trip both ways (dummy0 calibbias, the hrtimer trigger\'s sampling_frequency)', async () => {
  const theirs = net.device('dummy0').channel('accel_x').attr('calibbias');
  const ours = local.device('dummy0').channel('accel_x').attr('calibbias');
  const original = await ours.read();
  try {
    await theirs.write(11);
    assert.equal(await ours.read(), '11');
    await ours.write(-5);
    assert.equal(await theirs.read(), '-5');
  } finally {
    await ours.write(original);
  }
  const t0 = net.triggers.find((t) => t.name === 't0')!;
  await t0.attr('sampling_frequency').write(250);
  assert.equal(await local.device(t0.id).attr('sampling_frequency').readNumber(), 250);
  // A refused write is the server's errno, naming the attribute.
  await assert.rejects(theirs.write('not a number'), (e: Error & { code: string; syscall: string }) => {
    assert.equal(e.code, 'EINVAL');
    assert.equal(e.syscall, 'WRITE');
    assert.match(e.message, /127\.0\.0\.1:30431.*calibbias.*accel_x.*dummy0/);
    return true;
  });
});

test('GETTRIG and SETTRIG: attach by id, read back by name, detach', async () => {
  const dummy = net.device('dummy0');
  const sysfstrig = net.triggers.find((t) => t.name === 'sysfstrig0')!;
  try {
    await dummy.setTrigger(sysfstrig);
    assert.equal(await dummy.getTrigger(), sysfstrig);
    assert.equal((await local.device('dummy0').getTrigger())?.id, sysfstrig.id);
    await dummy.setTrigger(null);
    assert.equal(await dummy.getTrigger(), null);
    assert.equal(await local.device('dummy0').getTrigger(), null);
  } finally {
    await local.device('dummy0').setTrigger(null);
  }
  // vadc-dma takes no trigger: both backends say so the same way.
  await assert.rejects(local.device('vadc-dma').getTrigger(), { code: 'ERR_IIOJS_UNSUPPORTED' });
  await assert.rejects(net.device('vadc-dma').getTrigger(), { code: 'ERR_IIOJS_UNSUPPORTED' });
});

test('vadc-dma streams its counter through iiod, sample by sample across blocks', async () => {
  await using stream = await net.device('vadc-dma').buffer(0).open({ channels: ['voltage0', 'voltage1'], blockSize: 512, blocks: 4 });
  assert.equal(stream.mode, 'fileio');
  let expected: number | undefined;
  let blocks = 0;
  for await (const block of stream) {
    assert.equal(block.bytesUsed, 512 * 4);
    const v0 = block.samples('voltage0');
    const v1 = block.samples('voltage1');
    expected ??= Number(v0[0]);
    for (let n = 0; n < block.scans; n++) {
      assert.equal(Number(v0[n]), expected, `block ${blocks} scan ${n} voltage0`);
      assert.equal(Number(v1[n]), (expected + 1) & 0xffff, `block ${blocks} scan ${n} voltage1`);
      expected = (expected + 2) & 0xffff;
    }
    if (++blocks === 12) break;
  }
  assert.equal(expected! % 2, 0);
});

test('lab-dac receives every byte played through iiod', async () => {
  // (Only the count: the module's checksum algorithm is not settled across branches.)
  const sys = local.device('lab-dac');
  const before = await sys.attr('received_bytes').readBigInt();
  let played = 0n;
  await using stream = await net.device('lab-dac').buffer(0).open({ blockSize: 1024, blocks: 2 });
  for (let k = 0; k < 6; k++) {
    played += BigInt(await stream.write(Uint8Array.from({ length: 1024 * 4 }, (_, i) => (i * 7 + k) & 0xff)) * 4);
  }
  await stream.flush();
  // iiod answers WRITEBUF once the kernel has the bytes; the DMA consumes them a moment later.
  const deadline = Date.now() + 10_000;
  while (await sys.attr('received_bytes').readBigInt() - before < played && Date.now() < deadline) await sleep(50);
  assert.equal(await sys.attr('received_bytes').readBigInt() - before, played);
});

test('a stalled device: the server\'s timeout ends READBUF with ETIMEDOUT', async () => {
  const control = lab.iio.device('vadc-dma').buffer(0);
  control.stall();
  try {
    net.setTimeout(2000); // iiod is told 1000 ms
    await using stream = await net.device('vadc-dma').buffer(0).open({ blockSize: 256, blocks: 2 });
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    const started = Date.now();
    await assert.rejects(stream.blocks[0]!.dequeue(), (e: Error & { code: string; syscall: string }) => {
      assert.equal(e.code, 'ETIMEDOUT', e.message);
      assert.equal(e.syscall, 'READBUF');
      assert.match(e.message, /127\.0\.0\.1:30431.*iio:device1\/buffer0/);
      return true;
    });
    assert.ok(Date.now() - started < 1900, 'the server gave up first');
  } finally {
    control.resume();
    net.setTimeout(10_000);
  }
});

test('a stalled device without limits: an aborted wait returns, close() shuts the socket down, iiod serves on', async () => {
  const control = lab.iio.device('vadc-dma').buffer(0);
  control.stall();
  try {
    net.setTimeout(0); // no limit on either side
    const stream = await net.device('vadc-dma').buffer(0).open({ blockSize: 256, blocks: 2 });
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    await assert.rejects(stream.blocks[0]!.dequeue({ signal: AbortSignal.timeout(200) }), { name: 'AbortError' });
    assert.equal(stream.blocks[0]!.queued, true, 'the transfer goes on after the wait was cancelled');
    const started = Date.now();
    await stream.close();
    assert.ok(Date.now() - started < 1000, `close() took ${Date.now() - started} ms`);
  } finally {
    control.resume();
    net.setTimeout(10_000);
  }
  await using again = await net.device('vadc-dma').buffer(0).open({ blockSize: 256, blocks: 2 });
  for await (const block of again) {
    assert.equal(block.bytesUsed, 256 * 4);
    break;
  }
});
