// `iio serve` as a subprocess: where it listens, serving libiio's tools, read-only mode, what it
// logs, and a clean exit 0 on SIGINT and SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
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
  assert.match(help.stdout, /^Usage: iio serve \[-u <uri>\] \[--listen <address>\] \[-p <port>\] \[--no-network\]\n +\[--usb \| --ffs <dir>\]/);
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

/** `iio serve …` started with `options` until its guide is out; `stop()` interrupts it and resolves with its exit status. */
async function guideOf(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ guide: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no guide within 30 s: ${out}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ctrl-C stops the server.\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { guide: out, stop: () => (child.kill('SIGINT'), closed) };
}

test('iio serve prints a guide (what npm start shows) whose commands run as pasted from a directory outside the checkout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-guide-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // What the user's shell finds: node, libiio's tools, od and head; no iio unless linked. A
  // command that needs a registry (npx of a package not installed here) fails instead of fetching.
  const system = `${dirname(process.execPath)}${delimiter}/usr/bin${delimiter}/bin`;
  const linked = join(dir, 'bin');
  mkdirSync(linked);
  chmodSync(bin, 0o755); // as npm link makes the package's bin
  symlinkSync(bin, join(linked, 'iio'));
  const cases = [
    { name: 'iio not on PATH', args: [], PATH: system, iio: `node ${bin}` },
    // npm link's layout; and listening on every address, the guide's URI is still one that connects.
    { name: 'iio on PATH (npm link), --listen 0.0.0.0', args: ['--listen', '0.0.0.0'], PATH: `${linked}${delimiter}${system}`, iio: 'iio' },
  ];
  for (const c of cases) {
    const env = { ...process.env, PATH: c.PATH, npm_config_offline: 'true' };
    const { guide, stop } = await guideOf(['-u', 'sim:', '-p', '0', ...c.args], { cwd: dir, env });
    try {
      const uri = /^  iio_info -u (ip:127\.0\.0\.1:\d+) /m.exec(guide)?.[1];
      assert.ok(uri !== undefined, `${c.name}: ${guide}`);
      const commands = guide.split('\n').filter((l) => l.startsWith('  ') && !l.trimStart().startsWith('#')).map((l) => l.trim());
      assert.deepEqual(commands.map((l) => l.split(' -u ')[0]), ['iio_info', `${c.iio} info`, `${c.iio} read`, 'iio_readdev'], `${c.name}: ${guide}`);
      const ran = commands.map((command) => spawnSync('sh', ['-c', command], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 }));
      for (const [i, r] of ran.entries()) assert.equal(r.status, 0, `${c.name}: ${commands[i]}: ${r.stderr}`);
      assert.match(ran[0]!.stdout, /iiojs-adc4/);
      assert.match(ran[1]!.stdout, /^  iio:device0: iiojs-adc4 \(label: adc4\)$/m);
      const csv = ran[2]!.stdout.trimEnd().split('\n');
      assert.equal(csv[0], 'voltage0');
      assert.equal(csv.length, 9, ran[2]!.stdout);
      assert.equal(ran[3]!.stdout.trimEnd().split('\n').length, 10, ran[3]!.stdout); // head's 10 lines of od
    } finally {
      assert.equal(await stop(), 0);
    }
  }
});

test('iio serve --usb on the sim: the TCP line, then where USB is served; with --no-network the USB line alone; SIGINT exits 0', async () => {
  const both = await startServe('-u', 'sim:', '-p', '0', '--usb', '--pipes', '5', '--serial', 'X1');
  try {
    assert.match(both.banner, /^serving sim: on 127\.0\.0\.1:\d+; clients: -u ip:127\.0\.0\.1:\d+$/);
    assert.equal(iioAttr(both.port, '-d', 'iiojs-adc4', 'sampling_frequency').stdout.trim(), '1000000', 'TCP is served too');
  } finally {
    both.child.kill('SIGINT');
  }
  assert.equal((await both.exited).code, 0);
  const usbOnly = await startServe('-u', 'sim:', '--usb', '--no-network');
  try {
    assert.equal(usbOnly.banner, 'serving sim: over USB on dummy_udc.0 (gadget /sys/kernel/config/usb_gadget/iiojs, FunctionFS at /dev/ffs-iiojs), 3 pipes; hosts: -u usb:');
  } finally {
    usbOnly.child.kill('SIGINT');
  }
  assert.deepEqual(await usbOnly.exited, { code: 0, stderr: '' });
});

test('iio serve: USB options without --usb or --ffs, conflicting ones, and bad values are usage errors (exit 2)', () => {
  const usage = (...args: string[]): string => {
    const r = spawnSync(process.execPath, [bin, 'serve', '-u', 'sim:', ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    return r.stderr;
  };
  assert.match(usage('--no-network'), /--no-network leaves nothing to serve: add --usb or --ffs <dir>/);
  assert.match(usage('--udc', 'dummy_udc.0'), /--udc is for serving USB: add --usb or --ffs <dir>/);
  assert.match(usage('--usb', '--ffs', '/dev/x'), /--usb makes a gadget, --ffs uses one the board made/);
  assert.match(usage('--ffs', '/dev/x', '--vid', '0x1234'), /--vid is for the gadget --usb makes/);
  assert.match(usage('--usb', '--pipes', '16'), /--pipes must be an integer from 1 to 15, got "16"/);
  assert.match(usage('--usb', '--pid', 'zz'), /--pid must be a 16-bit hexadecimal id/);
});

test('iio serve --ffs on a directory that is no FunctionFS mount fails (exit 1) naming it', () => {
  const r = spawnSync(process.execPath, [bin, 'serve', '-u', 'sim:', '--ffs', '/dev/nothing-here', '--no-network'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ENOENT.*\/dev\/nothing-here\/ep0/);
});
