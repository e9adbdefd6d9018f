// `iio info -u local:` next to libiio's own iio_info (Debian's libiio-utils 0.24) on the lab's
// real devices: the same devices (ids, names), the same channels (direction, scan index, format)
// and the same attribute values. Where 0.24 differs, the test says how: it lists
// iio_sysfs_trigger as a device, reads a write-only attribute as an error, and splits an
// attribute shared by direction (dummy0's in_sampling_frequency) into a channel "sampling" of
// unknown type with an attribute "frequency", where iiojs (as libiio 1.x) gives each input
// channel its sampling_frequency. Real-kernel tier only (run by vm/guest-tests.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { iio } from '../support/cli.js';
import { assertSameListing, parseIioInfo, parseOurs } from '../support/iio-info-listing.js';

bootUnderTest();

test('iio info and iio_info: the same devices, channels (index, format), attributes and values', () => {
  const run = iio(['info', '-u', 'local:']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  const ours = parseOurs(run.stdout.toString());
  const theirs = parseIioInfo(execFileSync('iio_info', ['-u', 'local:'], { encoding: 'utf8' }));
  assert.ok(theirs.delete('iio_sysfs_trigger'), 'libiio 0.24 lists iio_sysfs_trigger as a device');
  for (const name of ['dummy0', 'vadc-dma', 'lab-adc', 'lab-dac', 't0', 'sysfstrig0']) assert.ok([...ours.values()].some((d) => d.name === name), name);

  assertSameListing(ours, theirs);
  // The driver's constants, so that "the same" is not two empty listings.
  const dummy = [...ours.values()].find((d) => d.name === 'dummy0')!;
  assert.equal(dummy.channels.get('voltage0 input')!.attrs.get('raw'), '73');
  assert.equal(dummy.channels.get('voltage0 input')!.scan, 'index: 0, format: le:u13/16>>0');
  assert.equal(dummy.channels.get('voltage0 input')!.attrs.get('sampling_frequency'), theirs.get('iio:device0')!.unknown.get('sampling input')!.get('frequency'));
});
