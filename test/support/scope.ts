/// <reference lib="dom" />
// playwright-core's types name the DOM's (its evaluate() callbacks run in the page), so tests that drive it see them too.
// The browser scope under test: `iio scope` as a subprocess (its first stdout line is the URL),
// `iio serve` for tests that need a second client of the same context, and headless Chromium
// driven by playwright-core (Debian's /usr/bin/chromium; nothing is downloaded).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { collect, exited, spawnIio } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** The first line of stdout. */
  line: string;
  stop(): Promise<void>;
}

/** `iio <args>` until its first stdout line; stop() interrupts it and checks it exits 0. */
export async function startIio(args: readonly string[]): Promise<Running> {
  const child = spawnIio(args);
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const gone = exited(child);
  try {
    await out.until((b) => b.includes('\n'));
  } catch (e) {
    throw new Error(`iio ${args.join(' ')} printed no line: ${(e as Error).message}; stderr: ${err.bytes().toString()}`);
  }
  return {
    child,
    line: out.bytes().toString().split('\n')[0]!,
    async stop() {
      child.kill('SIGINT');
      const { status } = await gone;
      if (status !== 0) throw new Error(`iio ${args[0]} exited ${status}: ${err.bytes().toString()}`);
    },
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
}

/** The scope's page at `url`, once it has the context; page errors fail the test that reads `errors`. */
export async function openScope(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 820 }, acceptDownloads: true });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]');
  return { page, errors };
}

/** Waits until the page has drawn `more` frames beyond what it had. */
export async function framesDrawn(page: Page, more: number): Promise<void> {
  const now = await page.evaluate(() => (window as any).scopeStats.framesDrawn as number);
  await page.waitForFunction((n) => (window as any).scopeStats.framesDrawn >= n, now + more);
}

/** The pixels of a canvas, as a data URL, taken right after the page drew a frame. */
export async function nextFramePixels(page: Page, canvas: string): Promise<string> {
  return page.evaluate((selector) => new Promise<string>((resolve) => {
    const stats = (window as any).scopeStats;
    const start = stats.framesDrawn as number;
    const check = (): void => {
      if (stats.framesDrawn > start) resolve((document.querySelector(selector) as HTMLCanvasElement).toDataURL());
      else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  }), canvas);
}

/**
 * With SCOPE_SCREENSHOTS=<dir> (npm run screenshots: docs/scope), the view as `<dir>/<name>.png`;
 * otherwise nothing, so that the tests leave the checkout as it was.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCOPE_SCREENSHOTS;
  if (dir !== undefined && dir !== '') await page.screenshot({ path: `${dir}/${name}.png` });
}

/** Chooses a device in the source bar and exactly `channels` of it. */
export async function choose(page: Page, device: string, channels: readonly string[]): Promise<void> {
  const value = await page.$$eval('#device option', (os, d) => os.find((o) => o.textContent!.startsWith(`${d} `))?.getAttribute('value'), device);
  if (value === undefined || value === null) throw new Error(`no capture device ${device} in the page's list`);
  await page.selectOption('#device', value);
  for (const box of await page.$$('#channels input[type=checkbox]')) {
    const id = await box.getAttribute('data-channel');
    if (channels.includes(id!) !== (await box.isChecked())) await box.click();
  }
}
