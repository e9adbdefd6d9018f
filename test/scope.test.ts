// The browser scope (`iio scope`), driven in headless Chromium: what the page draws from the
// simulated devices, the attribute panel against another client of the same context, the
// generator into the simulated transmitter, the access rules, and SigMF recordings.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { iio } from './support/cli.js';
import { choose, framesDrawn, launchChromium, nextFramePixels, openScope, screenshot, startIio, type Running } from './support/scope.js';
import { checkRamp, sigmfSchemaErrors } from './support/sigmf-schema.js';

let browser: Browser;
let scope: Running;
let url: string;

before(async () => {
  browser = await launchChromium();
  scope = await startIio(['scope', '-u', 'sim:', '-p', '0']);
  url = scope.line;
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{20,}$/);
});

after(async () => {
  await browser?.close();
  await scope?.stop();
});

async function withPage(fn: (page: Page) => Promise<void>, at = url): Promise<void> {
  const { page, errors } = await openScope(browser, at);
  try {
    await fn(page);
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await page.close();
  }
}

const stats = (page: Page): Promise<Record<string, any>> => page.evaluate(() => (window as any).scopeStats);

test('the page loads the context: its tree lists every device, channel and trigger', async () => {
  await withPage(async (page) => {
    const tree = await page.locator('#tree').innerText();
    for (const name of ['adc4', 'voltage0: sine 1 kHz', 'trx', 'sensor', 'rx', 'tx', 'iiojs-timer0']) assert.ok(tree.includes(name), `${name} in the tree:\n${tree}`);
  });
});

test('adc4 voltage0 draws a trace whose pixels change between frames (free-running)', async () => {
  await withPage(async (page) => {
    await choose(page, 'adc4', ['voltage0']);
    await framesDrawn(page, 3);
    const first = await nextFramePixels(page, '#time-plot');
    const frames = [first];
    for (let i = 0; i < 4; i++) frames.push(await nextFramePixels(page, '#time-plot'));
    assert.ok(frames.some((f) => f !== first), 'the untriggered sine moves between frames');
    const h = (await stats(page)).lastHeader;
    assert.equal(h.type, 'time');
    assert.equal(h.rate, 1_000_000);
    assert.equal(h.measurements.voltage0.max, 24000, 'the sine\'s amplitude (scenario: 24000)');
    assert.ok(Math.abs(h.measurements.voltage0.frequency - 1000) < 5, `measured ${h.measurements.voltage0.frequency} Hz`);
    // The measurements table shows the same.
    const freq = Number(await page.getAttribute('#measurements tr[data-channel=voltage0] td[data-m=frequency]', 'data-value'));
    assert.ok(Math.abs(freq - 1000) < 5);
    await screenshot(page, 'time');
  });
});

test('with the trigger on, consecutive frames of the 1 kHz sine match', async () => {
  await withPage(async (page) => {
    await choose(page, 'adc4', ['voltage0']);
    await page.check('#trigger-on');
    await page.selectOption('#trigger-channel', 'voltage0');
    await page.fill('#trigger-level', '0');
    await page.dispatchEvent('#trigger-level', 'change');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.triggered === true);
    await framesDrawn(page, 3);
    const frames: string[] = [];
    for (let i = 0; i < 4; i++) frames.push(await nextFramePixels(page, '#time-plot'));
    assert.ok((await stats(page)).lastHeader.triggered, 'the frames were triggered');
    for (const f of frames.slice(1)) assert.equal(f, frames[0], 'a triggered periodic signal stands still');
    // Cursors: A at 0.5 ms reads the time back.
    await page.click('#time-plot', { position: { x: 64 + Math.round((0.5e-3 / 4.096e-3) * (960 - 76)), y: 100 } });
    assert.match(await page.locator('#cursors').innerText(), /^A (49\d|50\d) µs/);
    await screenshot(page, 'time-trigger');
  });
});

test("the spectrum's peak is at 1 kHz ± one bin", async () => {
  await withPage(async (page) => {
    await choose(page, 'adc4', ['voltage0']);
    await page.click('#tabs button[data-tab=spectrum]');
    await page.selectOption('#fft-size', '8192');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.type === 'spectrum' && (window as any).scopeStats.lastHeader.size === 8192);
    const peak = page.locator('#peaks li').first();
    const hz = Number(await peak.getAttribute('data-hz'));
    const bin = Number(await peak.getAttribute('data-bin-hz'));
    assert.equal(bin, 1_000_000 / 8192);
    assert.ok(Math.abs(hz - 1000) <= bin, `peak at ${hz} Hz, bins of ${bin} Hz`);
    const db = Number(await peak.getAttribute('data-db'));
    assert.ok(Math.abs(db - 20 * Math.log10(24000 / 32768)) < 1.5, `a 24000/32768 sine is about -2.7 dBFS, read ${db}`);
    await page.check('#fft-hold');
    await page.dispatchEvent('#fft-hold', 'change');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.hold === true);
    await screenshot(page, 'spectrum');
  });
});

test('XY of the I/Q receiver, and the rolling mode of the 100 Hz sensor', async () => {
  await withPage(async (page) => {
    await choose(page, 'adc4', ['voltage0', 'voltage1']);
    await page.click('#tabs button[data-tab=xy]');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.type === 'xy');
    const h = (await stats(page)).lastHeader;
    assert.deepEqual(h.channels, ['voltage0', 'voltage1']);
    await screenshot(page, 'xy');
    // Rolling: a 100 Hz sensor's window of 1000 samples (10 s) fills as samples come.
    await page.click('#tabs button[data-tab=time]');
    await choose(page, 'sensor', ['temp']);
    await page.fill('#samples', '1000');
    await page.dispatchEvent('#samples', 'change');
    await page.check('#rolling');
    await page.dispatchEvent('#rolling', 'change');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.device === 'iio:device2');
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await framesDrawn(page, 1);
      counts.push((await stats(page)).lastHeader.count);
    }
    assert.ok(counts[0]! < 1000, `a rolling window shows what has come, before the window is full: ${counts}`);
    assert.ok(counts[2]! > counts[0]!, `and scrolls as more comes: ${counts}`);
    // Its IIO trigger, in its attribute panel.
    await page.click('#tree span[data-target*="\\"kind\\":\\"device\\",\\"device\\":\\"iio:device2\\""]');
    const trigger = page.locator('#attrs select[data-attr=trigger]');
    assert.equal(await trigger.inputValue(), 'trigger0', 'the sensor runs on iiojs-timer0');
    await trigger.selectOption('trigger1');
    await page.waitForFunction(() => document.querySelector('#attrs [data-note=trigger]')?.textContent === 'set');
    await trigger.selectOption('trigger0');
    await page.waitForFunction(() => document.querySelector('#attrs [data-note=trigger].ok') !== null);
  });
});

test('a write of sampling_frequency in the panel is seen by iio attr, and the time axis follows; an invalid value shows the kernel\'s error', async () => {
  // Two clients of one context: the scope and iio attr, both over ip: of one iio serve.
  const server = await startIio(['serve', '-u', 'sim:', '-p', '0']);
  const port = /127\.0\.0\.1:(\d+)/.exec(server.line)![1]!;
  const uri = `ip:127.0.0.1:${port}`;
  const remote = await startIio(['scope', '-u', uri, '-p', '0']);
  try {
    await withPage(async (page) => {
      await choose(page, 'adc4', ['voltage0']);
      await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.rate === 1_000_000);
      assert.equal(await page.getAttribute('#time-axis', 'data-span-seconds'), String(4096 / 1_000_000));
      await page.click('#tree span[data-target*="\\"kind\\":\\"device\\",\\"device\\":\\"iio:device0\\""]');
      const select = page.locator('#attrs select[data-attr=sampling_frequency]');
      await select.selectOption('125000');
      await page.waitForFunction(() => document.querySelector('#attrs [data-note=sampling_frequency]')?.textContent === 'read back: 125000');
      const read = iio(['attr', '-u', uri, '-q', '-d', 'adc4', 'sampling_frequency']);
      assert.equal(read.stdout.toString().trim(), '125000', read.stderr);
      await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.rate === 125_000);
      await framesDrawn(page, 1);
      assert.equal(await page.getAttribute('#time-axis', 'data-span-seconds'), String(4096 / 125_000));
      await screenshot(page, 'attributes');
      // A value the driver refuses: its errno under the field (over ip:, iiod carries the errno alone).
      await page.click('#tree span[data-target*="\\"channel\\":\\"altvoltage0\\""]');
      const field = page.locator('#attrs input[data-attr=frequency]');
      await field.fill('1e3');
      await field.dispatchEvent('change');
      const note = page.locator('#attrs [data-note=frequency].error');
      await note.waitFor();
      assert.match(await note.innerText(), /^EINVAL: invalid argument, .*"frequency" of output channel altvoltage0/);
      const still = iio(['attr', '-u', uri, '-q', '-c', '-o', 'trx', 'altvoltage0', 'frequency']);
      assert.equal(still.stdout.toString().trim(), '2400000000', 'the refused write changed nothing');
    }, remote.line);
  } finally {
    await remote.stop();
    await server.stop();
  }
});

test("on sim: a refused write shows the driver's reason under the field", async () => {
  await withPage(async (page) => {
    await page.click('#tree span[data-target*="\\"channel\\":\\"altvoltage0\\""]');
    const field = page.locator('#attrs input[data-attr=frequency]');
    await field.fill('1e3');
    await field.dispatchEvent('change');
    const note = page.locator('#attrs [data-note=frequency].error');
    await note.waitFor();
    assert.match(await note.innerText(), /^EINVAL: invalid argument, write '\/sys\/bus\/iio\/devices\/iio:device1\/out_altvoltage0_RX_LO_frequency': not a number: "1e3"/);
  });
});

test("the generator's tone played into the simulated transmitter is seen by its receiver", async () => {
  await withPage(async (page) => {
    await page.click('#tabs button[data-tab=generator]');
    await page.selectOption('#gen-device', { index: 0 });
    assert.match(await page.locator('#gen-device').innerText(), /tx/);
    await page.fill('#tones .tone-frequency', '25000');
    await page.click('#gen-tone');
    await page.waitForFunction(() => document.querySelector('#gen-status')?.textContent?.startsWith('playing'));
    const played = JSON.parse((await page.getAttribute('#gen-status', 'data-frequencies'))!) as number[];
    assert.ok(Math.abs(played[0]! - 25000) < 50, `played ${played[0]} Hz`);
    await screenshot(page, 'generator');
    await page.click('#tabs button[data-tab=time]');
    await choose(page, 'rx', ['voltage0_i', 'voltage0_q']);
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.device === 'iio:device3' && (window as any).scopeStats.lastHeader.measurements.voltage0_i.max > 1000);
    const m = (await stats(page)).lastHeader.measurements;
    assert.ok(Math.abs(m.voltage0_i.frequency - played[0]!) < played[0]! * 0.01, `the receiver hears ${m.voltage0_i.frequency} Hz`);
    assert.ok(Math.abs(m.voltage0_i.max - 16383) <= 2, `amplitude 0.5 of full scale: ${m.voltage0_i.max}`);
    await screenshot(page, 'generator-rx');
    await page.click('#tabs button[data-tab=spectrum]');
    await page.check('#fft-complex');
    await page.dispatchEvent('#fft-complex', 'change');
    await page.waitForFunction(() => (window as any).scopeStats.lastHeader?.complex === true);
    const hz = Number(await page.locator('#peaks li').first().getAttribute('data-hz'));
    const bin = Number(await page.locator('#peaks li').first().getAttribute('data-bin-hz'));
    assert.ok(Math.abs(hz - played[0]!) <= bin, `a complex tone at +${played[0]} Hz: peak at ${hz} Hz`);
    await page.click('#tabs button[data-tab=generator]');
    await page.click('#gen-stop');
    await page.waitForFunction(() => document.querySelector('#gen-status')?.textContent === 'stopped');
  });
});

test('a request without the token is 403, and a WebSocket from another Origin is refused', async () => {
  const page = new URL(url);
  const bare = `${page.origin}/`;
  assert.equal((await fetch(bare)).status, 403);
  assert.equal((await fetch(`${bare}app.js`)).status, 403);
  assert.equal((await fetch(`${bare}?token=wrong${page.searchParams.get('token')}`)).status, 403);
  assert.equal((await fetch(url)).status, 200);
  const ws = (path: string, origin: string): Promise<number> => new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://${page.host}${path}`, { origin });
    socket.on('open', () => { socket.close(); resolve(101); });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', reject);
  });
  const token = page.searchParams.get('token')!;
  assert.equal(await ws(`/ws?token=${token}`, 'http://evil.example'), 403);
  assert.equal(await ws(`/ws?token=${token}`, `http://localhost:${page.port}`), 403, 'another name of the same host is another origin');
  assert.equal(await ws('/ws', page.origin), 403);
  assert.equal(await ws(`/ws?token=${token}`, page.origin), 101, 'the page\'s own origin with the token is let in');
});

test('--read-only refuses writes and the generator', async () => {
  const ro = await startIio(['scope', '-u', 'sim:', '-p', '0', '--read-only']);
  try {
    await withPage(async (page) => {
      assert.match(await page.locator('#context').innerText(), /read-only/);
      await page.click('#tree span[data-target*="\\"kind\\":\\"device\\",\\"device\\":\\"iio:device0\\""]');
      await page.locator('#attrs select[data-attr=sampling_frequency]').selectOption('500000');
      const note = page.locator('#attrs [data-note=sampling_frequency].error');
      await note.waitFor();
      assert.match(await note.innerText(), /^EACCES: .*read-only/);
      await page.click('#tree span[data-target*="\\"kind\\":\\"device\\",\\"device\\":\\"iio:device2\\""]');
      await page.locator('#attrs select[data-attr=trigger]').selectOption('');
      await page.waitForFunction(() => document.querySelector('#attrs [data-note=trigger].error')?.textContent?.startsWith('EACCES'));
      await page.click('#tabs button[data-tab=generator]');
      await page.click('#gen-tone');
      await page.waitForFunction(() => document.querySelector('#gen-status.error') !== null);
      assert.match(await page.locator('#gen-status').innerText(), /^EACCES/);
    }, ro.line);
  } finally {
    await ro.stop();
  }
});

test('a SigMF recording of the ramp, downloaded from the page, validates against the schema and holds the ramp', async () => {
  await withPage(async (page) => {
    await choose(page, 'adc4', ['voltage2']);
    await page.click('#tabs button[data-tab=record]');
    await page.fill('#rec-samples', '20000');
    const downloads: Array<Promise<import('playwright-core').Download>> = [page.waitForEvent('download'), page.waitForEvent('download', { predicate: (d) => d.suggestedFilename().endsWith('.sigmf-data') })];
    await page.click('#rec-start');
    const [meta, data] = await Promise.all(downloads);
    assert.match(meta.suggestedFilename(), /^adc4-.*\.sigmf-meta$/);
    assert.equal(data.suggestedFilename(), meta.suggestedFilename().replace(/meta$/, 'data'));
    const metaJson = JSON.parse(await readFile((await meta.path())!, 'utf8'));
    assert.deepEqual(sigmfSchemaErrors(metaJson), []);
    assert.equal(metaJson.global['core:datatype'], 'ri16_le');
    assert.equal(metaJson.global['core:sample_rate'], 1_000_000);
    assert.deepEqual(metaJson.global['iiojs:channels'], [{ id: 'voltage2', format: 'le:s16/16>>0', scale: 0.030517578, offset: 0 }]);
    const bytes = await readFile((await data.path())!);
    assert.equal(bytes.length, 20000 * 2);
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    if (metaJson.captures.length === 1) checkRamp(samples);
    else {
      // A gap (an overrun on this loaded machine) starts a capture segment: each one is the ramp.
      const starts = [...metaJson.captures.map((c: any) => c['core:sample_start']), samples.length];
      for (let i = 0; i + 1 < starts.length; i++) checkRamp(samples.subarray(starts[i], starts[i + 1]));
    }
    await screenshot(page, 'record');
  });
});
