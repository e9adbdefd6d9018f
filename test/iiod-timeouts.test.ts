// Time limits over ip: and in the server: slow devices (blocks sized from -s and the rate, limits
// that cover a block at the device's rate), -T 0 as no limit, and limits a Node timer cannot count
// (2^31 ms and more fire at once) refused with a clear error everywhere.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_TIMEOUT_MS } from '../src/backends/waits.js';
import { openFromArgs } from '../src/cli/args.js';
import type { CliEnv } from '../src/cli/env.js';
import { openContext } from '../src/open.js';
import { exited, spawnIio } from './support/cli.js';
import { assertSettled, RawClient, serveSim, type Served } from './support/iiod.js';

const ADC = 'iio:device0';

/** `iio read …` against the served context: its status, stdout and stderr, and how long it took. */
async function iioRead(served: Served, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawnIio(['read', '-u', `ip:127.0.0.1:${served.server.port}`, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const { status } = await exited(child);
  return { status, stdout, stderr, ms: performance.now() - started };
}

describe('slow devices over ip:', () => {
  test('iio read -s 3 of the 100 Hz sensor: blocks sized from -s and the rate, three samples long before a default block', async () => {
    await using served = await serveSim();
    const r = await iioRead(served, '-v', '-f', 'json', '-s', '3', 'sensor');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /blocks of 3 samples/);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    assert.equal(lines.length, 3);
    for (const l of lines) assert.ok(l.temp! > 2000 && l.temp! < 2700, JSON.stringify(l));
    // A default block (256 samples) takes 2.56 s at 100 Hz; three samples take 30 ms. What
    // proves the sizing is -v's line above; the time (which includes starting node) only has
    // to stay under the default block's.
    assert.ok(r.ms < 2560 + 5000, `took ${r.ms} ms`);
  });

  test('a block longer than the context\'s limit: the limit is raised to cover it (-b 256 at 100 Hz, 2.56 s)', async () => {
    await using served = await serveSim();
    const r = await iioRead(served, '-f', 'json', '-b', '256', '-s', '3', 'sensor');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 3);
  });

  test('-T 0 means no limit, also where the context has a default (ip: has 5000 ms)', async () => {
    await using served = await serveSim();
    const env = { openContext: (uri: string) => openContext(uri) } as unknown as CliEnv;
    await using ctx = await openFromArgs({ uri: `ip:127.0.0.1:${served.server.port}`, timeout: '0' }, env);
    assert.equal(ctx.timeout, 0);
    const r = await iioRead(served, '-T', '0', '-f', 'json', '-b', '256', '-s', '3', 'sensor');
    assert.equal(r.status, 0, r.stderr);
  });

  test('-T beyond what a timer counts is a usage error (exit 2)', async () => {
    await using served = await serveSim();
    const r = await iioRead(served, '-T', String(MAX_TIMEOUT_MS + 1), 'sensor');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /-T\/--timeout \(ms\) must be an integer from 0 to 2147483647/);
  });
});

describe('limits of 2^31 ms and more', () => {
  test('the server refuses TIMEOUT 2147483648 (-22, the reason logged); 2147483647 waits as long as it says', async () => {
    const errors: string[] = [];
    await using served = await serveSim({ serve: { log: { info: () => undefined, error: (l) => errors.push(l) } } });
    served.kernel.iio.device('iiojs-adc4').buffer(0).stall();
    const c = await RawClient.connect(served.server.port);
    try {
      assert.equal(await c.command(`TIMEOUT ${MAX_TIMEOUT_MS + 1}`), -22);
      assert.ok(errors.some((l) => /TIMEOUT 2147483648: -22: .*a timeout is 0 \(none\) to 2147483647 ms/.test(l)), errors.join('\n'));
      assert.equal(await c.command(`OPEN ${ADC} 256 00000004`), 0);
      // Control: a short limit gives -110 promptly, so a silent READBUF is the long limit at work.
      assert.equal(await c.command('TIMEOUT 50'), 0);
      assert.equal(await c.command(`READBUF ${ADC} 512`), -110);
      assert.equal(await c.command(`TIMEOUT ${MAX_TIMEOUT_MS}`), 0);
      c.send(`READBUF ${ADC} 512\r\n`);
      assert.ok(await c.silent(300), 'no -110 after a few ms');
    } finally {
      c.destroy();
    }
    await assertSettled(served);
  });

  test('ctx.setTimeout(2 ** 31) is a RangeError (ERR_OUT_OF_RANGE) on ip: and sim:; 2 ** 31 - 1 works; so do per-wait limits', async () => {
    await using served = await serveSim();
    for (const uri of [`ip:127.0.0.1:${served.server.port}`, 'sim:']) {
      await using ctx = await openContext(uri);
      assert.throws(() => ctx.setTimeout(2 ** 31), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: /a timeout is 0 \(none\) to 2147483647 ms/ }, uri);
      ctx.setTimeout(MAX_TIMEOUT_MS);
      assert.equal(ctx.timeout, MAX_TIMEOUT_MS);
      assert.equal(await ctx.device('adc4').attr('sampling_frequency').read(), '1000000', `${uri}: commands work under the longest limit`);
      await using stream = await ctx.device('adc4').buffer(0).open({ channels: ['voltage2'], blockSize: 64 });
      for (const b of stream.blocks) await b.enqueue();
      await stream.start();
      await assert.rejects(stream.blocks[0]!.dequeue({ timeoutMs: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE' }, uri);
      await stream.blocks[0]!.dequeue({ timeoutMs: MAX_TIMEOUT_MS });
      assert.equal(stream.blocks[0]!.scans, 64, uri);
    }
  });
});
