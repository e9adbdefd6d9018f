// `iio serve` as a subprocess: where it listens, serving libiio's tools, read-only mode, what it
// logs, and a clean exit 0 on SIGINT and SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RawClient } from './support/iiod.js';

const bin = fileURLToPath(new URL('../src/cli/iio.js', import.meta.url));

interface Serving {
  child: ChildProcessByStdio<null, Readable, Readable>;
  banner: string;
  port: number;
  exited: Promise<{ code: number | null; stderr: string }>;
  /** Resolves once the server's stderr has a line matching `pattern`; rejects after 10 s. */
  logged(pattern: RegExp): Promise<void>;
}

/** Starts `iio serve …` and waits (bounded) for the line saying where it listens. */
async function startServe(...args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  const banner = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no banner within 10 s (stderr: ${stderr})`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(out.slice(0, out.indexOf('\n')));
      }
    });
    child.on('close', () => reject(new Error(`iio serve exited: ${stderr}`)));
  });
  const port = Number(/ on 127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
  const logged = (pattern: RegExp): Promise<void> => new Promise((resolve, reject) => {
    const check = (): boolean => stderr.split('\n').some((l) => pattern.test(l));
    if (check()) return resolve();
    const timer = setTimeout(() => reject(new Error(`no log line ${pattern} within 10 s; stderr:\n${stderr}`)), 10_000);
    const onData = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      child.stderr.off('data', onData);
      resolve();
    };
    child.stderr.on('data', onData);
  });
  return { child, banner, port, exited, logged };
}

function iioAttr(port: number, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('iio_attr', ['-u', `ip:127.0.0.1:${port}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) throw new Error(`iio_attr: ${r.error.message} (apt-get install libiio-utils, see .ci/run)`);
  return r;
}

test('iio serve -u sim: -p 0 says where it listens (127.0.0.1), serves iio_attr, and exits 0 on SIGINT', async () => {
  const s = await startServe('-u', 'sim:', '-p', '0');
  try {
    assert.match(s.banner, /^serving sim: on 127\.0\.0\.1:\d+; clients: -u ip:127\.0\.0\.1:\d+$/);
    assert.equal(iioAttr(s.port, '-d', 'iiojs-adc4', 'sampling_frequency').stdout.trim(), '1000000');
    assert.equal(iioAttr(s.port, '-d', 'iiojs-adc4', 'sampling_frequency', '500000').stdout.trim(), '500000');
  } finally {
    s.child.kill('SIGINT');
  }
  assert.deepEqual(await s.exited, { code: 0, stderr: '' });
});

test('iio serve --read-only refuses writes (EACCES) and exits 0 on SIGTERM', async () => {
  const s = await startServe('-u', 'sim:', '-p', '0', '--read-only');
  try {
    assert.match(s.banner, / \(read-only\);/);
    const write = iioAttr(s.port, '-d', 'iiojs-adc4', 'sampling_frequency', '500000');
    assert.notEqual(write.status, 0);
    assert.match(write.stdout + write.stderr, /Permission denied \(13\)/);
    assert.equal(iioAttr(s.port, '-d', 'iiojs-adc4', 'sampling_frequency').stdout.trim(), '1000000');
  } finally {
    s.child.kill('SIGTERM');
  }
  const { code, stderr } = await s.exited;
  assert.equal(code, 0);
  // The refusal is logged with its reason, which the client's errno alone does not carry.
  assert.match(stderr, /^iio serve: 127\.0\.0\.1:\d+: WRITE iio:device0 sampling_frequency \d+: -13: EACCES: permission denied, WRITE: the server is read-only$/m);
});

test('iio serve -v logs connections, opens and closes; every error answered is logged with its reason, with or without -v', async () => {
  for (const verbose of [true, false]) {
    const s = await startServe('-u', 'sim:', '-p', '0', ...(verbose ? ['-v'] : []));
    try {
      const c = await RawClient.connect(s.port);
      assert.equal(await c.command('READBUF iio:device0 16'), -9);
      c.send('WRITE iio:device0 sampling_frequency 5\r\nfast\0');
      assert.equal(await c.integer(), -22);
      assert.equal(await c.command('OPEN iio:device0 256 00000004'), 0);
      assert.equal(await c.command('CLOSE iio:device0'), 0);
      c.destroy();
      await s.logged(/: WRITE iio:device0 sampling_frequency 5: -22: EINVAL: .*sampling_frequency/);
      await s.logged(/^iio serve: 127\.0\.0\.1:\d+: READBUF iio:device0 16: -9: EBADF: bad file descriptor, READBUF: this client has no input buffer of .*iiojs-adc4.* open$/);
      if (verbose) {
        await s.logged(/^iio serve: 127\.0\.0\.1:\d+: connected$/);
        await s.logged(/^iio serve: 127\.0\.0\.1:\d+: OPEN iio:device0 256 00000004: opened$/);
        await s.logged(/^iio serve: 127\.0\.0\.1:\d+: CLOSE iio:device0: closed$/);
        await s.logged(/^iio serve: 127\.0\.0\.1:\d+: disconnected$/);
      }
    } finally {
      s.child.kill('SIGINT');
    }
    const { code, stderr } = await s.exited;
    assert.equal(code, 0);
    if (!verbose) assert.doesNotMatch(stderr, /connected|opened|closed/, 'without -v: errors only');
  }
});

/**
 * `iio info` output as far as iiod's text protocol carries it: the backend's own lines (name,
 * URI, context attributes) dropped, live raw values and DMABUF support (probed only locally)
 * masked, event attribute values (no command for them) masked.
 */
function carried(info: string): string[] {
  const out: string[] = [];
  let events: string | undefined;
  let context = false;
  for (const line of info.split('\n')) {
    if (/^(Backend|URI): /.test(line)) continue;
    if (/^Context attributes/.test(line)) {
      context = true;
      continue;
    }
    if (context && line.startsWith('  ')) continue;
    context = false;
    const indent = /^ */.exec(line)![0];
    if (events !== undefined && indent.length <= events.length) events = undefined;
    if (/event attributes \(\d+\):$/.test(line)) events = indent;
    let text = line.replace(/^(\s+raw): -?\d+$/, '$1: <live>').replace(/DMABUF zero-copy: [^)]*\)*\):$/, 'DMABUF zero-copy: <local only>):');
    if (events !== undefined && indent.length > events.length) text = text.replace(/: .*$/, ': <not carried>');
    out.push(text);
  }
  return out;
}

test('iio info -u ip: shows what -u sim: shows for the same context, as far as the protocol carries it: no ERROR lines', async () => {
  const s = await startServe('-u', 'sim:', '-p', '0');
  try {
    const remote = spawnSync(process.execPath, [bin, 'info', '-u', `ip:127.0.0.1:${s.port}`], { encoding: 'utf8', timeout: 60_000 });
    const local = spawnSync(process.execPath, [bin, 'info', '-u', 'sim:'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(remote.status, 0, remote.stderr);
    assert.equal(local.status, 0, local.stderr);
    assert.doesNotMatch(remote.stdout, /ERROR/);
    assert.match(remote.stdout, /thresh_rising_en: \(not carried by this backend\)/);
    assert.match(remote.stdout, /trigger_now: \(write-only\)/);
    assert.deepEqual(carried(remote.stdout), carried(local.stdout));
  } finally {
    s.child.kill('SIGINT');
  }
  assert.equal((await s.exited).code, 0);
});

test('iio serve: --help; a bad port is a usage error (exit 2), a busy one a failure (exit 1)', async () => {
  const help = spawnSync(process.execPath, [bin, 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: iio serve \[-u <uri>\] \[--listen <address>\] \[-p <port>\] \[--read-only\]/);
  const bad = spawnSync(process.execPath, [bin, 'serve', '-u', 'sim:', '-p', 'http'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'iio: -p/--port must be an integer from 0 to 65535, got "http" (see \'iio serve --help\')\n');
  const s = await startServe('-u', 'sim:', '-p', '0');
  try {
    const busy = spawnSync(process.execPath, [bin, 'serve', '-u', 'sim:', '-p', String(s.port)], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(busy.status, 1);
    assert.equal(busy.stderr, `iio: listen EADDRINUSE: address already in use 127.0.0.1:${s.port}\n`);
  } finally {
    s.child.kill('SIGINT');
  }
  assert.equal((await s.exited).code, 0);
});

test('iio serve prints a guide with this context\'s device and its own URI (what npm start shows)', async () => {
  const child = spawn(process.execPath, [bin, 'serve', '-u', 'sim:', '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no guide within 10 s: ${out}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops the server.\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill('SIGINT');
  const uri = /clients: -u (ip:127\.0\.0\.1:\d+)\n/.exec(out)?.[1];
  assert.ok(uri !== undefined, out);
  assert.ok(out.includes(`  iio_info -u ${uri} `), out);
  assert.ok(out.includes(`  npx iio read -u ${uri} iiojs-adc4 voltage0 -s 8 --format csv\n`), out);
  assert.ok(out.includes(`  iio_readdev -u ${uri} -b 4096 -s 4096 iiojs-adc4 |`), out);
  assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
});
