// Buffers, blocks and streams through the public API (IioBuffer.open → BufferStream): capture
// in DMABUF and file I/O mode with the data checked sample by sample, mode fallback, playback,
// cancel and timeout, unplug, fence errors, and fd leaks. Written against bootUnderTest, so it
// can run in the real-kernel lab as well as on the sim.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import type { BufferStream } from '../src/core/buffer-stream.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { bootUnderTest, type Lab } from './support/kernel-under-test.js';
import { FNV_OFFSET, fnv1a } from './support/checksum.js';
import { DUMMY, VADC, labScenario, probeScenario } from './support/probe-scenario.js';

async function probeContext(): Promise<{ ctx: Context; lab: Lab }> {
  const lab = bootUnderTest({ scenario: probeScenario });
  return { ctx: await Context.open(new LocalBackend(lab.kernel)), lab };
}

/** The probe's devices and the lab module's lab-adc and lab-dac, on either kernel. */
async function labContext(): Promise<{ ctx: Context; lab: Lab }> {
  const lab = bootUnderTest({ scenario: labScenario });
  return { ctx: await Context.open(new LocalBackend(lab.kernel)), lab };
}

/** vadc-dma's counter: word k of everything produced is k mod 65536. */
function checkCounter(stream: BufferStream, blocks: number): Promise<void> {
  return (async () => {
    let word = -1;
    let n = 0;
    for await (const block of stream) {
      const ch0 = block.samples('voltage0');
      const ch1 = block.samples('voltage1');
      assert.equal(ch0.length, stream.blockSize);
      if (word < 0) word = Number(ch0[0]);
      for (let s = 0; s < ch0.length; s++) {
        assert.equal(Number(ch0[s]), word & 0xffff, `block ${n} scan ${s} voltage0`);
        assert.equal(Number(ch1[s]), (word + 1) & 0xffff, `block ${n} scan ${s} voltage1`);
        word += 2;
      }
      if (++n === blocks) break;
    }
  })();
}

function fdCount(lab: Lab): number {
  return lab.kernel instanceof SimKernel ? lab.kernel.context.fds.size : readdirSync('/proc/self/fd').length;
}

describe('capture', () => {
  for (const mode of ['dmabuf', 'fileio'] as const) {
    test(`vadc-dma in ${mode} mode: the counter, sample by sample, across blocks`, async () => {
      const { ctx } = await probeContext();
      await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 1024, blocks: 4, mode, timeoutMs: 5000 });
      assert.equal(stream.mode, mode);
      assert.deepEqual(stream.channels.map((c) => c.id), ['voltage0', 'voltage1']);
      assert.equal(stream.blocks[0]!.dmabufFd === undefined, mode === 'fileio');
      await checkCounter(stream, 6);
    });
  }

  test('lab-adc: a partial mask of mixed formats (le:u16, le:s16, be:s12>>4) through samples(), in both modes', async () => {
    for (const mode of ['dmabuf', 'fileio'] as const) {
      const { ctx } = await labContext();
      await using stream = await ctx.device('lab-adc').buffer(0).open({ channels: ['voltage3', 'voltage0', 'voltage1'], blockSize: 1024, mode, timeoutMs: 5000 });
      assert.equal(stream.mode, mode);
      assert.deepEqual(stream.channels.map((c) => c.id), ['voltage0', 'voltage1', 'voltage3']);
      let previous: number | undefined;
      let blocks = 0;
      for await (const block of stream) {
        const [n, minus, low] = ['voltage0', 'voltage1', 'voltage3'].map((id) => block.samples(id));
        for (let i = 0; i < n!.length; i++) {
          const v = Number(n![i]); // scan k holds k mod 2^16, -(k mod 2^15), k mod 2^11
          if (previous !== undefined) assert.equal(v, (previous + 1) & 0xffff, `${mode}: block ${blocks} scan ${i}`);
          assert.equal(Number(minus![i]), -(v & 0x7fff) | 0, `${mode}: voltage1 at ${v}`);
          assert.equal(Number(low![i]), v & 0x7ff, `${mode}: voltage3 at ${v}`);
          previous = v;
        }
        if (++blocks === 3) break;
      }
    }
  });

  test('dummy0 (kfifo, triggered by t0): auto falls back to file I/O; forcing DMABUF is refused', async () => {
    const { ctx } = await probeContext();
    const dummy = ctx.device(DUMMY.name);
    await dummy.setTrigger('t0');
    await assert.rejects(dummy.buffer(0).open({ blockSize: 4, mode: 'dmabuf' }), { code: 'ERR_IIOJS_UNSUPPORTED' });
    await using stream = await dummy.buffer(0).open({ channels: ['voltage0', 'accel_x'], blockSize: 4, blocks: 2, timeoutMs: 5000 });
    assert.equal(stream.mode, 'fileio');
    let n = 0;
    for await (const block of stream) {
      assert.deepEqual([...block.samples('voltage0')].map(Number), [7, 7, 7, 7]);
      assert.deepEqual([...block.samples('accel_x')].map(Number), [344, 344, 344, 344]);
      if (++n === 2) break;
    }
  });

  test('file I/O sets length and watermark for the block size (kernel-abi §2.11): kfifo wakes per block, DMA keeps length / 2', async () => {
    const { ctx } = await probeContext();
    const dummy = ctx.device(DUMMY.name);
    await dummy.setTrigger('t0');
    {
      await using stream = await dummy.buffer(0).open({ channels: ['voltage0'], blockSize: 8, blocks: 2, mode: 'fileio' });
      assert.equal(stream.mode, 'fileio');
      assert.equal(await dummy.buffer(0).attr('length').read(), '32');
      assert.equal(await dummy.buffer(0).attr('watermark').read(), '8');
    }
    const vadc = ctx.device(VADC.name).buffer(0);
    await using dma = await vadc.open({ blockSize: 100, mode: 'fileio' });
    assert.equal(dma.mode, 'fileio');
    assert.equal(await vadc.attr('length').read(), '400');
    assert.equal(await vadc.attr('watermark').read(), '200'); // read-only for DMA buffers
  });

  test('dmabufSupport() tells by attaching one DMABUF, and leaves scan elements and enable as they were', async () => {
    const { ctx, lab } = await probeContext();
    const enables = async (sys: string): Promise<string[]> => {
      const dir = `${sys}/buffer0`;
      const files = (await lab.kernel.readdir(dir)).map((e) => e.name).filter((f) => f.endsWith('_en') || f === 'enable').sort();
      return Promise.all(files.map(async (f) => `${f}=${(await lab.kernel.readText(`${dir}/${f}`)).trim()}`));
    };
    const before = [await enables(VADC.sys), await enables(DUMMY.sys)];
    assert.deepEqual(await ctx.device(VADC.name).buffer(0).dmabufSupport(), { supported: true, source: 'heap' });
    const kfifo = await ctx.device(DUMMY.name).buffer(0).dmabufSupport();
    assert.equal(kfifo?.supported, false);
    assert.match((kfifo as { reason: string }).reason, /EPERM from ATTACH/); // kernel-abi §2.4: kfifo buffers refuse
    assert.deepEqual([await enables(VADC.sys), await enables(DUMMY.sys)], before);
    // and the buffer is free again at once
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 64, mode: 'dmabuf' });
    assert.equal(stream.mode, 'dmabuf');
  });

  test('toReadable: a byte stream of whole blocks with backpressure', async () => {
    const { ctx } = await probeContext();
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, timeoutMs: 5000 });
    const chunks: Buffer[] = [];
    await pipeline(stream.toReadable({ blocks: 5 }), new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _e, cb) {
        chunks.push(chunk);
        setTimeout(cb, 5); // a slow consumer
      },
    }));
    const all = Buffer.concat(chunks);
    assert.equal(all.length, 5 * 256 * 4);
    const words = new Uint16Array(all.buffer, all.byteOffset, all.length / 2);
    for (let i = 1; i < words.length; i++) assert.equal(words[i], (words[0]! + i) & 0xffff);
  });
});

describe('playback', () => {
  test('lab-dac: written blocks reach the DAC (bytes and checksum)', async () => {
    const { ctx, lab } = await labContext();
    const tx = ctx.device('lab-dac').buffer(0);
    await using stream = await tx.open({ blockSize: 512, blocks: 2, timeoutMs: 5000 });
    assert.equal(stream.mode, 'dmabuf');
    let checksum = FNV_OFFSET;
    for (let k = 0; k < 5; k++) {
      const i = Uint16Array.from({ length: 512 }, (_, n) => k * 1000 + n);
      const q = Uint16Array.from({ length: 512 }, (_, n) => 65535 - n);
      const ids = stream.channels.map((c) => c.id);
      await stream.write({ [ids[0]!]: i, [ids[1]!]: q });
      const block = new Uint8Array(512 * 4);
      stream.layout.fill(block, { [ids[0]!]: i, [ids[1]!]: q });
      checksum = fnv1a(block, checksum);
    }
    await stream.flush();
    const stats = lab.iio.device('lab-dac').buffer(0).stats;
    assert.equal(stats.bytes, 5 * 512 * 4);
    assert.equal(stats.checksum, checksum);
  });

  test('toWritable: bytes cut into blocks, played in order', async () => {
    const { ctx, lab } = await labContext();
    const tx = ctx.device('lab-dac').buffer(0);
    await using stream = await tx.open({ blockSize: 128, blocks: 3, timeoutMs: 5000 });
    const data = Buffer.from(Uint8Array.from({ length: 128 * 4 * 7 + 4 * 10 }, (_, n) => (n * 7) & 0xff));
    const { Readable } = await import('node:stream');
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), stream.toWritable());
    const stats = lab.iio.device('lab-dac').buffer(0).stats;
    assert.equal(stats.bytes, data.length);
    assert.equal(stats.checksum, fnv1a(data));
  });
});

describe('failures', () => {
  test('a timeout and an abort reject the dequeue; close still returns', async () => {
    const { ctx, lab } = await probeContext();
    const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2 });
    lab.iio.device(VADC.name).buffer(0).stall();
    for (const b of stream.blocks) await b.enqueue();
    await stream.start();
    await assert.rejects(stream.blocks[0]!.dequeue({ timeoutMs: 100 }), { code: 'ETIMEDOUT' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(stream.blocks[0]!.dequeue({ signal: controller.signal }), { name: 'AbortError' });
    await stream.close();
    assert.equal(stream.closed, true);
  });

  for (const mode of ['dmabuf', 'fileio'] as const) {
    test(`unplug mid-stream (${mode}): ENODEV, nothing hangs`, async () => {
      const { ctx, lab } = await probeContext();
      lab.iio.device(VADC.name).buffer(0).delayMs = 20;
      const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 1024, mode });
      let n = 0;
      await assert.rejects((async () => {
        for await (const block of stream) {
          void block;
          if (++n === 2) lab.iio.device(VADC.name).unplug({ likeRmmod: true });
        }
      })(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ENODEV', e.message);
        assert.match(e.message, /iio:device1\/buffer0/);
        return true;
      });
      await stream.close();
    });
  }

  for (const mode of ['dmabuf', 'fileio'] as const) {
    test(`a device removed and bound again at once (${mode}): the waiting dequeue rejects with ENODEV`, async () => {
      const { ctx, lab } = await probeContext();
      const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 1024, blocks: 2, mode });
      for (const b of stream.blocks) await b.enqueue();
      if (mode === 'fileio') {
        // a read on a buffer never enabled is EOF: start it, with the device delivering nothing
        lab.iio.device(VADC.name).buffer(0).stall();
        await stream.start();
      } // DMABUF blocks stay queued on the disabled buffer: their fences never signal (§2.10)
      const abandoned = assert.rejects(stream.blocks[0]!.dequeue(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ENODEV', e.message);
        assert.match(e.message, /iio:device1\/buffer0/);
        return true;
      });
      // back within the watch's interval, under another N: the stream's fd holds iio:device1
      lab.iio.device(VADC.name).unplug({ likeRmmod: true });
      const again = lab.iio.reprobe(VADC.name).devName;
      await abandoned;
      assert.notEqual(again, 'iio:device1');
      await stream.close();
      // the device bound again captures: the ENODEV was the removed one's only
      lab.iio.device(VADC.name).buffer(0).resume();
      await using ctx2 = await Context.open(new LocalBackend(lab.kernel));
      await using stream2 = await ctx2.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, mode, timeoutMs: 5000 });
      for await (const block of stream2) {
        assert.equal(block.bytesUsed, 256 * 4);
        break;
      }
    });
  }

  test('a fence error (block refused by the driver) is surfaced, naming the buffer', async () => {
    const { ctx, lab } = await probeContext();
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, timeoutMs: 5000 });
    for (const b of stream.blocks) await b.enqueue();
    lab.iio.device(VADC.name).buffer(0).failNext('EIO');
    await stream.start();
    await assert.rejects(stream.blocks[0]!.dequeue(), (e: Error & { code?: string; syscall?: string }) => {
      assert.equal(e.code, 'EIO');
      assert.equal(e.syscall, 'transfer');
      assert.match(e.message, /iio:device1\/buffer0/);
      return true;
    });
  });

  test('1,000 streams opened and closed leak no fd', async () => {
    const { ctx, lab } = await probeContext();
    const buffer = ctx.device(VADC.name).buffer(0);
    const baseline = fdCount(lab);
    for (let i = 0; i < 1000; i++) {
      const stream = await buffer.open({ blockSize: 64, blocks: 2, mode: i % 2 === 0 ? 'dmabuf' : 'fileio' });
      if (i % 100 === 0) {
        for (const b of stream.blocks) await b.enqueue();
        await stream.start();
        await stream.blocks[0]!.dequeue({ timeoutMs: 5000 });
      }
      await stream.close();
    }
    assert.equal(fdCount(lab), baseline);
    if (process.platform === 'linux' && lab.kernel instanceof SimKernel) {
      // the sim's fds are not the process's: /proc/self/fd must not grow either
      assert.ok(readdirSync('/proc/self/fd').length < 200);
    }
  });
});

/** A local backend over a kernel where the scan elements the kernel takes are not those asked for. */
class MaskChangingBackend extends LocalBackend {
  constructor(kernel: Lab['kernel'], readonly took: (asked: readonly number[], call: number) => number[]) {
    super(kernel);
  }

  #calls = 0;

  override openBuffer(...[device, index, mask, options]: Parameters<LocalBackend['openBuffer']>): ReturnType<LocalBackend['openBuffer']> {
    return super.openBuffer(device, index, this.took(mask, this.#calls++), options);
  }
}

describe('the channels the kernel enabled', () => {
  test('more than asked (voltage0 enabled by someone else): the stream re-plans its blocks for both', async () => {
    const lab = bootUnderTest({ scenario: probeScenario });
    const ctx = await Context.open(new MaskChangingBackend(lab.kernel, (asked) => [...new Set([0, ...asked])].sort()));
    await using stream = await ctx.device(VADC.name).buffer(0).open({ channels: ['voltage1'], blockSize: 512, timeoutMs: 5000 });
    assert.deepEqual(stream.channels.map((c) => c.id), ['voltage0', 'voltage1']);
    assert.equal(stream.blocks[0]!.data.length, 512 * 4);
    await checkCounter(stream, 3);
  });

  test('fewer than asked is EINVAL; a mask that keeps changing is EBUSY; neither leaks an fd', async () => {
    const lab = bootUnderTest({ scenario: probeScenario });
    const baseline = fdCount(lab);
    const fewer = await Context.open(new MaskChangingBackend(lab.kernel, () => [1]));
    await assert.rejects(fewer.device(VADC.name).buffer(0).open({ blockSize: 64 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'EINVAL');
      assert.match(e.message, /asked for channels at \[0, 1\], the kernel enabled \[1\]/);
      return true;
    });
    const changing = await Context.open(new MaskChangingBackend(lab.kernel, (asked, call) => call === 0 ? [0, 1] : [...asked, 1].slice(0, 1)));
    await assert.rejects(changing.device(VADC.name).buffer(0).open({ channels: ['voltage1'], blockSize: 64 }), { code: 'EBUSY' });
    assert.equal(fdCount(lab), baseline);
  });
});

describe('zero-copy hand-off and options', () => {
  test('cpuAccess: false leaves the DMABUF to another consumer: its fd maps the captured data', async () => {
    const { ctx, lab } = await probeContext();
    await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 1024, blocks: 2, cpuAccess: false, timeoutMs: 5000 });
    assert.equal(stream.mode, 'dmabuf');
    for await (const block of stream) {
      const fd = block.dmabufFd!;
      const { MAP_SHARED, PROT_READ } = await import('../src/abi/index.js');
      const map = lab.kernel.mmap(fd, block.data.length, PROT_READ, MAP_SHARED);
      const words = new Uint16Array(map.buffer, map.byteOffset, block.bytesUsed / 2);
      for (let i = 1; i < words.length; i++) assert.equal(words[i], (words[0]! + i) & 0xffff);
      lab.kernel.munmap(map);
      break;
    }
  });

  test('cyclic playback: accepted in DMABUF mode (mainline plays it once), refused for input and in file I/O', async () => {
    const { ctx, lab } = await labContext();
    const tx = ctx.device('lab-dac').buffer(0);
    await assert.rejects(ctx.device('lab-adc').buffer(0).open({ blockSize: 16, cyclic: true }), RangeError);
    {
      await using stream = await tx.open({ blockSize: 64, blocks: 1, cyclic: true, timeoutMs: 5000 });
      assert.equal(await stream.write(new Uint8Array(64 * 4).fill(5)), 64);
      await stream.flush();
      assert.equal(lab.iio.device('lab-dac').buffer(0).stats.bytes, 256);
    }
    await using fileio = await tx.open({ blockSize: 64, blocks: 1, mode: 'fileio' });
    await assert.rejects(fileio.writeCyclic(new Uint8Array(256)), { code: 'ERR_IIOJS_UNSUPPORTED' });
  });

  test('playback in file I/O mode writes through the buffer fd', async () => {
    const { ctx, lab } = await labContext();
    const tx = ctx.device('lab-dac').buffer(0);
    await using stream = await tx.open({ blockSize: 256, blocks: 2, mode: 'fileio', timeoutMs: 5000 });
    assert.equal(stream.mode, 'fileio');
    const data = Uint8Array.from({ length: 256 * 4 * 4 }, (_, n) => (n * 13) & 0xff);
    for (let k = 0; k < 4; k++) await stream.write(data.subarray(k * 1024, (k + 1) * 1024));
    await stream.flush(); // file I/O: everything is in the kernel's blocks, which play on
    const control = lab.iio.device('lab-dac').buffer(0);
    for (let i = 0; i < 100 && control.stats.bytes < data.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(control.stats.bytes, data.length);
    assert.equal(control.stats.checksum, fnv1a(data));
  });
});

test('breaking out of a capture loop and iterating again carries on with the data in order', async () => {
  const { ctx } = await probeContext();
  await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 512, blocks: 3, timeoutMs: 5000 });
  const firsts: number[] = [];
  for (let round = 0; round < 3; round++) {
    let n = 0;
    for await (const block of stream) {
      firsts.push(Number(block.samples('voltage0')[0]));
      if (++n === 2) break;
    }
  }
  for (let i = 1; i < firsts.length; i++) assert.equal(firsts[i], (firsts[i - 1]! + 1024) & 0xffff, `block ${i}`);
});

test('a block dequeued by hand, then the capture loop again: the blocks come back in the order they were queued', async () => {
  const { ctx } = await probeContext();
  await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 512, blocks: 2, timeoutMs: 5000 });
  const firsts: number[] = [];
  for await (const block of stream) {
    firsts.push(Number(block.samples('voltage0')[0]));
    break; // the other block stays queued
  }
  const queued = stream.blocks.find((b) => b.queued)!;
  await queued.dequeue();
  firsts.push(Number(queued.samples('voltage0')[0]));
  // Both blocks go round again: the one taken by hand was queued second, so it comes back second.
  let n = 0;
  for await (const block of stream) {
    firsts.push(Number(block.samples('voltage0')[0]));
    if (++n === 4) break;
  }
  for (let i = 1; i < firsts.length; i++) assert.equal(firsts[i], (firsts[i - 1]! + 1024) & 0xffff, `block ${i}`);
});

test('a process that exits with a stream left open exits (the exit hook releases it)', async () => {
  const { execFile } = await import('node:child_process');
  const here = new URL('../src/', import.meta.url).href;
  const script = `
    const { LocalBackend } = await import('${here}backends/local/backend.js');
    const { Context } = await import('${here}core/context.js');
    const { SimKernel } = await import('${here}kernel/sim/index.js');
    const ctx = await Context.open(new LocalBackend(new SimKernel({})));
    const stream = await ctx.device('iiojs-adc4').buffer(0).open({ blockSize: 256 });
    for await (const b of stream) { void b; break; }
    process.on('exit', () => console.log('exit with', stream.running ? 'a running stream' : 'a stream'));
  `;
  const out = await new Promise<string>((resolve, reject) => {
    // a process that does not exit is killed: the bound is loose, a child Node in the TCG lab takes 10 s
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 }, (e, stdout) => e ? reject(e) : resolve(stdout));
  });
  assert.match(out, /exit with a running stream/);
});

test('closing the context closes its open streams', async () => {
  const { ctx, lab } = await probeContext();
  const baseline = fdCount(lab);
  const stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, timeoutMs: 5000 });
  for await (const block of stream) {
    void block;
    break;
  }
  assert.equal(stream.running, true);
  await ctx.close();
  assert.equal(stream.closed, true);
  assert.equal(fdCount(lab), baseline);
});

test('file I/O capture honours timeouts too (the buffer fd is non-blocking)', async () => {
  const { ctx, lab } = await probeContext();
  await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: 256, blocks: 2, mode: 'fileio' });
  lab.iio.device(VADC.name).buffer(0).stall();
  for (const b of stream.blocks) await b.enqueue();
  await stream.start();
  const t0 = Date.now();
  await assert.rejects(stream.blocks[0]!.dequeue({ timeoutMs: 150 }), { code: 'ETIMEDOUT' });
  assert.ok(Date.now() - t0 < 2000);
});

test('the process-exit release disables the buffer and closes its fd, synchronously', async () => {
  // What the exit hook runs for streams left open (it cannot await anything).
  const sim = new SimKernel({ scenario: probeScenario });
  const backend = new LocalBackend(sim);
  await backend.describe();
  const fdsBefore = sim.context.fds.size;
  const handle = await backend.openBuffer('iio:device1', 0, [0, 1], { mode: 'auto', blockBytes: 4096, blocks: 2, scanBytes: 4 });
  await handle.enable();
  assert.equal((await sim.readText(`${VADC.sys}/buffer0/enable`)).trim(), '1');
  handle.releaseSync();
  assert.equal((await sim.readText(`${VADC.sys}/buffer0/enable`)).trim(), '0');
  await handle.close(); // frees the blocks (DMABUF fds) as a normal close would
  assert.equal(sim.context.fds.size, fdsBefore);
});
