/// <reference lib="dom" />
// playwright-core's types name the DOM's (its evaluate() callbacks run in the page).
// The browser scope with the built-in adc4 (4 channels × 1 MS/s, sim in realtime) and headless
// Chromium (Debian's /usr/bin/chromium):
//  1. the frames per second the page draws and its sample-to-pixel latency (the newest block's
//     completion in the server to the frame drawn on the canvas; goals ≥ 30 fps, ≤ 100 ms);
//  2. the server's CPU per MS/s, against `iio read` capturing the same channels to /dev/null for
//     the same time (the capture alone);
//  3. capture blocks lost (overruns) while the tab is throttled (CPU throttled 20×, then frozen):
//     the capture must not notice, the frames are dropped instead.
// Prints JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { machine, sig, summarize, type Row } from './stats.js';

const IIO = fileURLToPath(new URL('../src/cli/iio.js', import.meta.url));
const CHANNELS = ['voltage0', 'voltage1', 'voltage2', 'voltage3'];
const RATE_MSPS = 4; // 4 channels × 1 MS/s
const MEASURE_S = 8;
const THROTTLE_S = 5;
const TICKS = 100; // USER_HZ of /proc/<pid>/stat

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing its URL`)));
  });
}

async function stopped(child: ChildProcess): Promise<void> {
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await gone;
}

/** CPU seconds per second of `pid` over `seconds`. */
async function cpuLoad(pid: number, seconds: number): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  return (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
}

async function baselineLoad(): Promise<number> {
  const child = spawn(process.execPath, [IIO, 'read', '-u', 'sim:', '-b', '16384', 'adc4', ...CHANNELS], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await sleep(1500);
    return await cpuLoad(child.pid!, MEASURE_S);
  } finally {
    await stopped(child);
  }
}

const pageStats = (page: Page): Promise<Record<string, any>> => page.evaluate(() => (window as any).scopeStats);

/** The capture's stats as the server reports them to any client (a WebSocket of our own). */
function watchCapture(url: URL): { latest: () => Record<string, any> | undefined; close: () => void } {
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`, { origin: url.origin });
  let latest: Record<string, any> | undefined;
  ws.on('message', (data, binary) => {
    if (binary) return;
    const m = JSON.parse(String(data)) as Record<string, any>;
    if (m.type === 'status') latest = (m.captures as Array<Record<string, any>>).find((c) => c.device === 'iio:device0');
  });
  return { latest: () => latest, close: () => ws.close() };
}

const baseline = await baselineLoad();
const scope = spawn(process.execPath, [IIO, 'scope', '-u', 'sim:', '-p', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
let report: Record<string, unknown>;
try {
  const url = new URL(await firstLine(scope));
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 } });
  await page.goto(url.href);
  await page.waitForSelector('body[data-ready=true]');
  for (const c of CHANNELS) await page.check(`#channels input[data-channel=${c}]`);
  await page.waitForFunction(() => (window as any).scopeStats.framesDrawn > 30);
  const watcher = watchCapture(url);

  // 1 and 2: frame rate, latency and the server's CPU, over the same seconds.
  const fps: number[] = [];
  const c0 = cpuSeconds(scope.pid!);
  const t0 = performance.now();
  for (let s = 0; s < MEASURE_S; s++) {
    await sleep(1000);
    fps.push((await pageStats(page)).fps);
  }
  const serverLoad = (cpuSeconds(scope.pid!) - c0) / ((performance.now() - t0) / 1000);
  const latencies = summarize((await pageStats(page)).latencies as number[]);
  const frames = summarize(fps);

  // 3: the tab throttled, then frozen; the capture's overruns before and after.
  const before = watcher.latest();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
  await sleep(THROTTLE_S * 1000);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  await sleep(THROTTLE_S * 1000);
  const during = watcher.latest();
  await cdp.send('Page.setWebLifecycleState', { state: 'active' });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await sleep(1500);
  const pageStatus = (await pageStats(page)).status as Record<string, any>;
  watcher.close();
  if (before === undefined || during === undefined) throw new Error('no capture status from the server');
  const overrunsThrottled = during.overruns - before.overruns;
  const blocksThrottled = during.blocks - before.blocks;
  const expectedBlocks = (2 * THROTTLE_S * 1e6) / during.blockSize;
  const perMsps = serverLoad / RATE_MSPS;
  const rows: Row[] = [
    { figure: 'scope: frames per second drawn by the page, adc4 4 × 1 MS/s, time view (headless Chromium)', value: frames.median, unit: 'fps', spread: `min–max ${Math.min(...fps)}–${Math.max(...fps)}`, goal: '≥ 30', met: frames.p10 >= 30 },
    { figure: 'scope: sample-to-pixel latency (newest block completed in the server → frame drawn)', value: sig(latencies.median), unit: 'ms', spread: `p10–p90 ${sig(latencies.p10)}–${sig(latencies.p90)}`, goal: '≤ 100 ms', met: latencies.p90 <= 100 },
    {
      figure: 'scope: server CPU per MS/s captured, one browser watching', value: sig(perMsps), unit: 'CPU s/s per MS/s',
      baseline: { name: '`iio read` of the same channels to /dev/null', value: sig(baseline / RATE_MSPS), unit: 'CPU s/s per MS/s' }, ratio: sig(serverLoad / baseline),
    },
    {
      figure: `scope: capture overruns while the tab is throttled 20× for ${THROTTLE_S} s, then frozen for ${THROTTLE_S} s`, value: overrunsThrottled, unit: 'overruns',
      baseline: { name: 'frames the server dropped for the page meanwhile', value: pageStatus.frames.dropped, unit: 'frames' }, goal: '0', met: overrunsThrottled === 0,
    },
  ];
  report = {
    machine: machine(), rows, fps, latencyMs: latencies, serverCpuPerS: serverLoad, baselineCpuPerS: baseline,
    throttled: { blocks: blocksThrottled, expectedBlocks, overruns: overrunsThrottled, samplesLost: during.samplesLost - before.samplesLost, blockSize: during.blockSize }, pageFrames: pageStatus.frames,
  };
} finally {
  await browser.close();
  await stopped(scope);
}
process.stdout.write(`${JSON.stringify(report)}\n`);
