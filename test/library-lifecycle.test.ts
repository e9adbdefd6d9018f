// The lifecycle rules of docs/lifecycle.md on the sim, where faults can be injected: close
// releases everything whatever fails, one transfer per queued block however many wait, waits
// leave nothing behind, the context's limit bounds local waits, ENQUEUE's two EBUSYs, a block
// whose fence could not be exported stays tracked, file I/O output waits for POLLOUT and backs
// off from room it is not given, and the event fd's slips. (The kernel behaviour behind each is
// cited where it is used.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalBackend } from '../src/backends/local/backend.js';
import { openLocalEvents } from '../src/backends/local/events.js';
import { POLLOUT } from '../src/abi/index.js';
import { layoutOf } from '../src/core/buffer.js';
import type { StreamBlock } from '../src/core/stream-block.js';
import { Context } from '../src/core/context.js';
import type { Device } from '../src/core/device.js';
import type { KernelPort } from '../src/kernel/port.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import type { ChannelSpec, Scenario } from '../src/kernel/sim/scenario-types.js';
import { fnv1a } from './support/checksum.js';
import { spyPort } from './support/port-spy.js';
import { DUMMY, labScenario, probeScenario, VADC } from './support/probe-scenario.js';

async function simContext(scenario = probeScenario): Promise<{ ctx: Context; sim: SimKernel }> {
  const sim = new SimKernel({ scenario });
  return { ctx: await Context.open(new LocalBackend(sim)), sim };
}

/** dummy0 (a kfifo buffer) on sysfstrig0, and `fire(n)`: n scans, one per trigger_now write. */
async function sysfsTriggeredDummy(): Promise<{ dummy: Device; fire: (n: number) => Promise<void> }> {
  const { ctx } = await simContext();
  const dummy = ctx.device(DUMMY.name);
  await dummy.setTrigger('sysfstrig0');
  const trigger = ctx.find('sysfstrig0')!.attr('trigger_now');
  const fire = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await trigger.write('1');
  };
  return { dummy, fire };
}

const ENABLE = `${VADC.sys}/buffer0/enable`;

describe('close', () => {
  test('a failing disable (EIO on enable) still releases every fd and mapping; a second close is harmless (kernel-abi §2.10)', async () => {
    const { ctx, sim } = await simContext();
    const before = sim.context.fds.size;
    const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 8, timeoutMs: 5000 });
    let n = 0;
    for await (const block of stream) {
      void block;
      if (++n === 3) break;
    }
    const mappings = stream.blocks.map((b) => b.data);
    sim.faults.failNext(`write ${ENABLE}`, 'EIO');
    await assert.rejects(stream.close(), { code: 'EIO' });
    assert.equal(sim.context.fds.size, before, 'the buffer fd and all 8 DMABUF fds are closed');
    assert.ok(mappings.every((m) => m.length === 0), 'every mapping is unmapped');
    await stream.close(); // resolves: nothing left to do
    // the buffer is free again (no EBUSY from a buffer fd left open)
    await using again = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, timeoutMs: 5000 });
    for await (const block of again) {
      assert.ok(block.bytesUsed > 0);
      break;
    }
  });
});

describe('one transfer per queued block', () => {
  test('two waits on one block and a close meanwhile: both end with the abort, no fd is used after its close', async () => {
    const { ctx, sim } = await simContext();
    const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2 });
    sim.iio.device(VADC.name).buffer(0).stall(); // submitted blocks stay ACTIVE until disabled
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    const block = stream.blocks[0]!;
    const waits = [block.dequeue(), block.dequeue()].map((p) => p.then(() => 'done', (e: Error & { code?: string }) => e.code));
    const closed = stream.close();
    // the disable aborts the ACTIVE blocks with -EINTR (§2.10): both waiters see that one ending
    assert.deepEqual(await Promise.all(waits), ['EINTR', 'EINTR']);
    await closed;
  });
});

/** `gc()` outside --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('waits leave nothing behind', () => {
  test('10^6 blocks captured with a timeoutMs on every wait: the heap stays flat', { timeout: 600_000 }, async () => {
    const gc = collector();
    const sim = new SimKernel({ scenario: probeScenario, timeMode: 'fast' });
    sim.iio.device(VADC.name).buffer(0).dmaMode = 'null';
    const ctx = await Context.open(new LocalBackend(sim));
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 16, blocks: 4, timeoutMs: 60_000, checkTransfers: true });
    const heapAt = (): number => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    let n = 0;
    let early = 0;
    for await (const block of stream) {
      void block;
      n++;
      if (n === 100_000) early = heapAt();
      if (n === 1_000_000) break;
    }
    const growth = heapAt() - early;
    // A wait that kept its timer or an AbortSignal.any dependant grows by hundreds of bytes a
    // block: 900,000 blocks would add hundreds of MB.
    assert.ok(growth < 8 << 20, `the heap grew by ${(growth / 2 ** 20).toFixed(1)} MiB over 900,000 blocks`);
  });
});

describe('the context limit (ctx.setTimeout) bounds local waits', () => {
  // Each test has a limit of its own: a regression (no bound) fails it instead of hanging the file.
  test('a stalled capture with no per-stream limit rejects ETIMEDOUT after the context limit', { timeout: 30_000 }, async () => {
    const { ctx, sim } = await simContext();
    assert.equal(ctx.timeout, 0, 'local: and sim: wait without a limit by default');
    ctx.setTimeout(200);
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2 });
    sim.iio.device(VADC.name).buffer(0).stall();
    await assert.rejects((async () => {
      for await (const block of stream) void block;
    })(), { code: 'ETIMEDOUT' });
    ctx.setTimeout(0);
  });

  test('file I/O capture follows it too', { timeout: 30_000 }, async () => {
    const { ctx, sim } = await simContext();
    ctx.setTimeout(200);
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, mode: 'fileio' });
    sim.iio.device(VADC.name).buffer(0).stall();
    await assert.rejects((async () => {
      for await (const block of stream) void block;
    })(), { code: 'ETIMEDOUT' });
  });
});

/**
 * Another importer's fence on a block's DMABUF: lab-adc's buffer (a second DMA buffer) takes the
 * same DMABUF and is enqueued while disabled, so its WRITE fence stays pending (§2.6 step 9).
 */
async function foreignFence(sim: SimKernel, dmabufFd: number): Promise<{ enable: () => Promise<void> }> {
  const { IIO_BUFFER_GET_FD_IOCTL, IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct, O_RDWR } = await import('../src/abi/index.js');
  const k: KernelPort = sim;
  const control = sim.iio.device('lab-adc');
  const sys = `/sys/bus/iio/devices/${control.devName}`;
  const elements = (await k.readdir(`${sys}/buffer0`)).filter((e) => e.name.endsWith('_en'));
  await k.writeText(`${sys}/buffer0/${elements[0]!.name}`, '1');
  const devfd = await k.open(`/dev/${control.devName}`, O_RDWR);
  const arg = Int32Array.of(0);
  k.ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, arg);
  k.close(devfd);
  const bfd = arg[0]!;
  k.ioctl(bfd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, Int32Array.of(dmabufFd));
  k.ioctl(bfd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct.encode({ fd: dmabufFd, flags: 0, bytesUsed: 4096 }));
  return { enable: () => k.writeText(`${sys}/buffer0/enable`, '1') };
}

describe('ENQUEUE answering EBUSY (kernel-abi §2.6)', () => {
  test("another importer's pending fence: the enqueue waits for it, then the block is queued", async () => {
    const { ctx, sim } = await simContext(labScenario);
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, timeoutMs: 5000 });
    const block = stream.blocks[0]!;
    const other = await foreignFence(sim, block.dmabufFd!);
    let queued = false;
    const enqueued = block.enqueue().then(() => (queued = true));
    await Promise.resolve();
    assert.equal(queued, false, 'held by the pending fence');
    await other.enable(); // its DMA runs: the fence signals
    await enqueued;
    assert.equal(block.queued, true);
    await stream.start();
    await block.dequeue();
    assert.ok(block.bytesUsed > 0);
  });

  test("a fence that stays pending: EBUSY once the wait's limit passes, naming the buffer", async () => {
    const { ctx, sim } = await simContext(labScenario);
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2 });
    const block = stream.blocks[0]!;
    await foreignFence(sim, block.dmabufFd!);
    await assert.rejects(block.enqueue(undefined, { timeoutMs: 150 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EBUSY');
      assert.match(e.message, /iio:device1\/buffer0.*another importer's fences after 150 ms/);
      assert.equal(e.message.split('iio:device1/buffer0').length, 2, `the buffer named once: ${e.message}`);
      return true;
    });
    assert.equal(block.queued, false);
  });

  test('a block the driver refused (every fence signalled, still ACTIVE in 6.12): EIO at once, without checkTransfers too', async () => {
    for (const checkTransfers of [true, false]) {
      const { ctx, sim } = await simContext();
      await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 1, timeoutMs: 5000, checkTransfers });
      const block = stream.blocks[0]!;
      await block.enqueue();
      sim.iio.device(VADC.name).buffer(0).failNext('EIO');
      await stream.start();
      if (checkTransfers) await assert.rejects(block.dequeue(), { code: 'EIO', syscall: 'transfer' });
      else await block.dequeue(); // without the check the failure goes unseen, as documented
      await assert.rejects(block.enqueue(), { code: 'EIO', message: /refused by the driver/ });
    }
  });
});

describe('a transfer the kernel accepted stays tracked', () => {
  test('EXPORT_SYNC_FILE failing (EMFILE) after ENQUEUE: the block is waited for and its dequeue reports it', async () => {
    const { ctx, sim } = await simContext();
    const before = sim.context.fds.size;
    const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, timeoutMs: 5000 });
    const [first, second] = stream.blocks;
    sim.faults.failNext('ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE)', 'EMFILE');
    await first!.enqueue(); // the kernel took it: the enqueue succeeds
    assert.equal(first!.queued, true);
    await second!.enqueue();
    await stream.start();
    await assert.rejects(first!.dequeue(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EMFILE');
      assert.match(e.message, /status is unknown/);
      return true;
    });
    await second!.dequeue();
    assert.ok(second!.bytesUsed > 0, 'the stream goes on');
    await stream.close();
    assert.equal(sim.context.fds.size, before);
  });
});

describe('file I/O', () => {
  // The disable of kernel-abi §2.10 refused: the sim fails the store to `enable` before acting
  // on it, so the buffer is still enabled and the library must not act as if it were not.
  test('disable failing (EIO) leaves the output running: blocks queued after it are still written', async () => {
    const { sim } = await simContext(labScenario);
    const backend = new LocalBackend(sim);
    const ctx = await Context.open(backend);
    const dac = ctx.device('lab-dac');
    const buffer = dac.buffer(0);
    const { scanBytes } = layoutOf(buffer.channels);
    const handle = await backend.openBuffer(dac.id, 0, buffer.channels.map((c) => c.index!), { mode: 'fileio', blocks: 2, blockBytes: 64 * scanBytes, scanBytes });
    try {
      await handle.enqueue(0, 64 * scanBytes, false);
      await handle.enable();
      await handle.dequeue(0, { timeoutMs: 5000 });
      sim.faults.failNext(`write /sys/bus/iio/devices/${sim.iio.device('lab-dac').devName}/buffer0/enable`, 'EIO');
      await assert.rejects(handle.disable(), { code: 'EIO' });
      // still enabled in the kernel: a block queued now is written, not held for an enable
      await handle.enqueue(1, 64 * scanBytes, false);
      assert.equal(await handle.dequeue(1, { timeoutMs: 5000 }), 64 * scanBytes);
    } finally {
      await handle.close();
      await ctx.close();
    }
  });

  test('room reported that write() does not take (a refused block stays ACTIVE): few writes and polls while it lasts; the data goes on after a restart (kernel-abi §1.3)', { timeout: 60_000 }, async () => {
    const sim = new SimKernel({ scenario: labScenario });
    const control = sim.iio.device('lab-dac').buffer(0);
    const calls = { writes: 0, zeroWrites: 0, polls: 0 };
    const port = spyPort(sim, {
      write: (write) => async (fd, from) => {
        // A write loop that never waits would starve the timers that end the wait (the sim
        // answers at once): past any sane count, let them run so the count can fail the test.
        if (++calls.writes > 1000) await new Promise(setImmediate);
        const n = await write(fd, from);
        if (n === 0) calls.zeroWrites++;
        return n;
      },
      poll: (poll) => (fd, events, options) => (calls.polls++, poll(fd, events, options)),
    });
    const backend = new LocalBackend(port);
    const ctx = await Context.open(backend);
    const buffer = ctx.device('lab-dac').buffer(0);
    const { scanBytes } = layoutOf(buffer.channels);
    const blockBytes = 64 * scanBytes;
    // length 4 × 64 scans: the DMA buffer splits it into two file I/O blocks, two of ours each
    const handle = await backend.openBuffer(buffer.device.id, 0, buffer.channels.map((c) => c.index!), { mode: 'fileio', blocks: 9, blockBytes, scanBytes });
    const data = handle.blocks.map((b, i) => {
      for (let n = 0; n < b.data.length; n++) b.data[n] = (i * 37 + n * 11) & 0xff;
      return b.data.slice();
    });
    try {
      // The driver refuses the first kernel block (ours 0–1); 6.12 keeps it ACTIVE (docs/sim.md).
      // Once the second (2–3) is done, POLLOUT reports its room (§1.3: any space), but write()
      // takes the blocks in order and the next is the refused one: it returns 0 while that lasts.
      control.failNext('EIO');
      for (let i = 0; i < 4; i++) await handle.enqueue(i, blockBytes, false);
      await handle.enable();
      for (let i = 0; i < 4; i++) await handle.dequeue(i, { timeoutMs: 5000 });
      assert.equal(control.stats.failed, 1);

      Object.assign(calls, { writes: 0, zeroWrites: 0, polls: 0 });
      const started = performance.now();
      await handle.enqueue(4, blockBytes, false);
      await assert.rejects(handle.dequeue(4, { timeoutMs: 400 }), { code: 'ETIMEDOUT' });
      const took = performance.now() - started;
      const { writes, zeroWrites, polls } = calls;
      assert.ok(zeroWrites >= 2, `room reported and nothing taken, more than once (${JSON.stringify(calls)})`);
      // The back-off doubles to 64 ms: 7 tries in its first 127 ms, then one per 64 ms. Allowed:
      // twice that. A loop that retries at once (or every 1 ms) makes hundreds to thousands.
      const budget = 14 + took / 32;
      assert.ok(writes <= budget && polls <= budget, `${writes} writes and ${polls} polls in ${took.toFixed(0)} ms (at most ${budget.toFixed(0)} each)`);

      // The kernel's remedy for a refused block (iio_dma_buffer_submit_block): disable and enable
      // again, which makes new file I/O blocks. The write waiting in its back-off goes on.
      await handle.disable();
      await handle.enable();
      for (let i = 5; i < 9; i++) await handle.enqueue(i, blockBytes, false);
      for (let i = 4; i < 8; i++) assert.equal(await handle.dequeue(i, { timeoutMs: 5000 }), blockBytes);
      // block 8 only fits once the kernel block holding 4–5 has played: that is our event
      await handle.dequeue(8, { timeoutMs: 5000 });
      const { bytes, checksum, failed } = control.stats;
      assert.equal(failed, 1);
      // What the DAC received, in order: 2–3, then 4–5 (and 6–7 if their block ended too). 0–1
      // went with the refused block, as on 6.12.
      assert.ok(bytes === 4 * blockBytes || bytes === 6 * blockBytes, `${bytes} bytes played`);
      const played = data.slice(2, 2 + bytes / blockBytes);
      assert.equal(checksum, fnv1a(Uint8Array.from(played.flatMap((d) => [...d]))));
    } finally {
      await handle.close();
      await ctx.close();
    }
  });
});

describe('file I/O capture', () => {
  // kernel-abi §1.3: a non-blocking read takes what the buffer holds, EAGAIN once it is empty
  test('a dequeue ended by its limit mid-block is resumed by the next: no byte read is lost', async () => {
    const { dummy, fire } = await sysfsTriggeredDummy();
    await using stream = await dummy.buffer(0).open({ channels: ['voltage0'], blockSize: 10, blocks: 1 });
    const [block] = stream.blocks;
    await block!.enqueue();
    await stream.start();
    await fire(4); // 4 of the block's 10 scans: read, then the wait for the rest times out
    await assert.rejects(block!.dequeue({ timeoutMs: 200 }), { code: 'ETIMEDOUT' });
    assert.equal(block!.queued, true);
    await fire(6); // the other 6: the block is whole only if the first 4 were kept
    await block!.dequeue({ timeoutMs: 5000 });
    assert.equal(block!.scans, 10);
  });
});

describe('stop() ends a capture loop with what was captured', () => {
  test('file I/O: the block being filled comes out partial, with what the disabled buffer still held, then the loop ends (kernel-abi §1.3)', async () => {
    const { dummy, fire } = await sysfsTriggeredDummy();
    await using stream = await dummy.buffer(0).open({ channels: ['voltage0'], blockSize: 100, timeoutMs: 5000 });
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    const loop = stream[Symbol.asyncIterator]();
    const first = loop.next(); // waits for a block of 100 scans
    await fire(7);
    await stream.stop();
    const block = (await first).value as StreamBlock;
    assert.equal(block.scans, 7);
    assert.deepEqual([...block.samples('voltage0')], Array(7).fill(7), "dummy0's buffered voltage0");
    assert.equal((await loop.next()).done, true);
  });

  test('DMABUF: blocks that completed before the stop still come out, in order; then the loop ends (kernel-abi §2.9)', async () => {
    const { ctx, sim } = await simContext();
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 4, mode: 'dmabuf', timeoutMs: 5000 });
    const loop = stream[Symbol.asyncIterator]();
    const first = (await loop.next()).value as StreamBlock;
    // The other three complete while the consumer holds the first: their fences signal (POLLOUT).
    for (const b of stream.blocks.filter((x) => x !== first)) await sim.poll(b.dmabufFd!, POLLOUT);
    await stream.stop();
    let word = Number(first.samples('voltage0')[0]);
    for (let n = 0; n < 3; n++) {
      const next = await loop.next();
      assert.equal(next.done, false, `block ${n + 1} of the 3 completed`);
      word += 2 * 256;
      assert.equal(Number((next.value as StreamBlock).samples('voltage0')[0]), word & 0xffff);
    }
    assert.equal((await loop.next()).done, true);
  });

  test('DMABUF: a loop waiting on a block in flight ends, the transfer the disable aborted (EINTR) is no error (kernel-abi §2.10)', async () => {
    const { ctx, sim } = await simContext();
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, mode: 'dmabuf', timeoutMs: 5000 });
    sim.iio.device(VADC.name).buffer(0).stall();
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    const loop = stream[Symbol.asyncIterator]();
    const first = loop.next(); // waits for a block that does not come
    await stream.stop();
    assert.equal((await first).done, true);
    assert.equal(sim.iio.device(VADC.name).buffer(0).stats.aborted, 2);
  });
});

/** Two temperatures crossing their rising thresholds together: two events queued at once (§1.1). */
const temp = (index: number): ChannelSpec => ({ type: 'temp', index, scale: 10, waveform: { kind: 'sine', frequency: 10, amplitude: 150, offset: 2350 } });
const thermo: Scenario = {
  devices: [{
    name: 'thermo',
    samplingFrequency: 100,
    channels: [temp(0), temp(1)],
    events: [0, 1].map((channel) => ({ channel, type: 'thresh', direction: 'rising', value: 2400, enabled: true })),
  }],
};

describe('events', () => {
  test('concurrent reads of one event fd each get their own event', async () => {
    const sim = new SimKernel({ scenario: thermo });
    const handle = await openLocalEvents(sim, '/dev/iio:device0');
    try {
      const [a, b] = await Promise.all([handle.read(), handle.read()]);
      assert.deepEqual([a.channel, b.channel].sort(), [0, 1], 'one event of each channel, not one record decoded twice');
    } finally {
      handle.close();
    }
  });

  test('a failing fcntl leaks no event fd', async () => {
    const sim = new SimKernel({ scenario: thermo });
    const before = sim.context.fds.size;
    sim.faults.failNext('fcntl', 'EIO');
    await assert.rejects(openLocalEvents(sim, '/dev/iio:device0'), { code: 'EIO' });
    assert.equal(sim.context.fds.size, before);
  });
});
