// The real `iio` binary as a subprocess.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../src/cli/iio.js', import.meta.url));
const iio = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const run = iio('--version');
  assert.equal(run.status, 0);
  assert.equal(run.stdout, `iiojs ${pkg.version}\n`);
});

test('no command prints usage and exits 2; an unknown one says so on stderr', () => {
  const none = iio();
  assert.equal(none.status, 2);
  assert.match(none.stdout, /^Usage: iio <command>/);
  const bogus = iio('bogus');
  assert.equal(bogus.status, 2);
  assert.equal(bogus.stdout, '');
  assert.match(bogus.stderr, /^iio: unknown command 'bogus'/);
});

test('--help lists every command; each command\'s --help shows its usage, options and examples', () => {
  const commands = ['info', 'attr', 'read', 'write', 'reg', 'genxml', 'bench', 'serve', 'scope', 'doctor'];
  const help = iio('--help');
  assert.equal(help.status, 0);
  assert.deepEqual([...help.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]), commands);
  for (const command of commands) {
    for (const flag of ['--help', '-h']) {
      const run = iio(command, flag);
      assert.equal(run.status, 0, `${command} ${flag}`);
      assert.equal(run.stderr, '');
      assert.match(run.stdout, new RegExp(`^Usage: iio ${command} `), command);
      assert.match(run.stdout, /\nOptions:\n/, command);
      assert.match(run.stdout, new RegExp(`\nExamples:\n( {2}iio .*\n)*( {2}iio ${command}( .*)?\n)( {2}iio .*\n)*$`), command);
    }
  }
});

test('--help and every command\'s -u list each URI form the command takes, ip: too, in the same words', () => {
  const forms = ['local:', 'sim:', 'sim:<scenario.json>', 'ip:<host>[:port]'];
  /** What the help says each form opens: `<form>  <what>` lines, under -u or on their own. */
  const described = (help: string, form: string): string | undefined =>
    new RegExp(`^ +(?:-u, --uri <uri> +)?${form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} {2,}(.+)$`, 'm').exec(help)?.[1];
  const top = iio('--help').stdout;
  const words = forms.map((f) => described(top, f));
  assert.ok(words.every((w) => w !== undefined), top);
  assert.match(words[3]!, /iiod server \(port 30431 by default\)/);
  for (const command of ['info', 'attr', 'read', 'write', 'reg', 'genxml', 'bench', 'serve', 'scope', 'doctor']) {
    const help = iio(command, '--help').stdout;
    // doctor checks a kernel: local: and sim: only.
    const taken = command === 'doctor' ? 3 : 4;
    assert.deepEqual(forms.map((f) => described(help, f)), [...words.slice(0, taken), ...forms.slice(taken).map(() => undefined)], command);
  }
});

test('a URI of no supported form is a command line iio cannot run: exit 2, the forms listed', () => {
  for (const [args, message] of [
    [['info', '-u', 'usb:'], 'unsupported URI "usb:": use local:, sim:, sim:<scenario.json> or ip:<host>[:port] (see \'iio info --help\')'],
    [['read', '-u', 'ip:', 'adc4'], 'invalid URI "ip:": no host (iiojs does not discover iiod servers through DNS-SD; name the host) (see \'iio read --help\')'],
    [['doctor', '-u', 'ip:127.0.0.1'], 'unsupported URI "ip:127.0.0.1": use local:, sim: or sim:<scenario.json> (see \'iio doctor --help\')'],
  ] as const) {
    const run = iio(...args);
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stderr, `iio: ${message}\n`);
    assert.equal(run.stdout, '');
  }
});

test('doctor --json reports the addon and this machine\'s memfd support', () => {
  const run = iio('doctor', '--json');
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout) as Record<string, any>;
  assert.equal(report['addon'].ok, true);
  assert.equal(report['memfd'].ok, true);
  assert.equal(typeof report['iio'].ok, 'boolean');
  assert.ok(Array.isArray(report['dmaHeaps'].heaps));
});

test('doctor rejects unknown options and URIs (exit 2) with a one-line error', () => {
  const run = iio('doctor', '--frobnicate');
  assert.equal(run.status, 2);
  assert.equal(run.stderr, "iio: unknown option '--frobnicate' (see 'iio doctor --help')\n");
  const bad = iio('doctor', '-u', 'usb:');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'iio: unsupported URI "usb:": use local:, sim: or sim:<scenario.json> (see \'iio doctor --help\')\n');
});

test('without IIO (no /sys/bus/iio), info and the other commands on local: say what doctor says', { skip: existsSync('/sys/bus/iio') && 'this machine has IIO' }, () => {
  const doctor = iio('doctor');
  assert.equal(doctor.status, 0, doctor.stderr);
  const advice = /^IIO +no +ENOENT: .*\n +(.+)$/m.exec(doctor.stdout)?.[1];
  assert.ok(advice !== undefined, doctor.stdout);
  for (const args of [['info'], ['info', '-u', 'local:'], ['attr', '-d'], ['read', '-s', '1', 'adc4']]) {
    const run = iio(...args);
    assert.equal(run.status, 1, args.join(' '));
    assert.equal(run.stderr, `iio: ENOENT: no such file or directory, scandir '/sys/bus/iio/devices': listing IIO devices; ${advice}\n`);
    assert.equal(run.stdout, '');
  }
});

test('doctor -u sim: lists the simulated devices and zero-copy support', () => {
  const run = iio('doctor', '-u', 'sim:');
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.equal(lines[0], `sim: (simulated kernel), Node ${process.version}`);
  assert.equal(lines[1], 'IIO             ok    5 device(s), 2 trigger(s)');
  assert.deepEqual(lines.slice(2, 9).map((l) => l.trim()), [
    'iio:device0  iiojs-adc4',
    'iio:device1  iiojs-trx',
    'iio:device2  iiojs-sensor',
    'iio:device3  iiojs-trx-rx',
    'iio:device4  iiojs-trx-tx',
    'trigger0  iiojs-timer0',
    'trigger1  sysfstrig0',
  ]);
  assert.match(run.stdout, /\nDMABUF zero-copy blocks available \(DMA heap "system"\)\n$/);
});

test('doctor -u sim:<file> boots the scenario file and names a broken one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-cli-'));
  try {
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify({ devices: [{ name: 'solo', channels: [{ type: 'temp' }] }], dmaHeaps: [], udmabuf: false }));
    const run = iio('doctor', '-u', `sim:${file}`, '--json');
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Record<string, any>;
    assert.deepEqual(report['iio'].devices, [{ id: 'iio:device0', name: 'solo' }]);
    assert.equal(report['udmabuf'].code, 'ENOENT');
    writeFileSync(file, '{ "devices": [ { "name": 7 } ] }');
    const broken = iio('doctor', '-u', `sim:${file}`);
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, new RegExp(`^iio: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: devices\\[0\\]`));
  } finally {
    rmSync(dir, { recursive: true });
  }
});
