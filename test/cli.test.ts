// The real `iio` binary as a subprocess.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

test('doctor --help shows options and examples', () => {
  const run = iio('doctor', '--help');
  assert.equal(run.status, 0);
  assert.match(run.stdout, /^Usage: iio doctor/);
  assert.match(run.stdout, /Examples:\n {2}iio doctor\n/);
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

test('doctor rejects unknown options with a one-line error and exit 1', () => {
  const run = iio('doctor', '--frobnicate');
  assert.equal(run.status, 1);
  assert.equal(run.stderr, "iio: unknown argument --frobnicate for doctor (see 'iio doctor --help')\n");
});
