// The library's context against libiio 0.24's, live, on the lab's real kernel: every device
// iio_genxml finds (dummy0, vadc-dma, lab-adc, lab-dac, the triggers) with the same channels,
// scan elements and formats, and every attribute libiio lists under the same name and file.
// Real-kernel tier only (run by vm/guest-tests.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LocalBackend } from '../../src/backends/local/backend.js';
import { Context } from '../../src/core/context.js';
import { summarizeXml } from '../support/library.js';
import { bootUnderTest } from '../support/kernel-under-test.js';

let ctx: Context;
before(async () => {
  ctx = await Context.open(new LocalBackend(bootUnderTest().kernel));
});
after(() => ctx.close());

test('every device, channel, scan element and attribute libiio 0.24 finds', () => {
  const genxml = execFileSync('iio_genxml', ['-u', 'local:'], { encoding: 'utf8' });
  const theirs = summarizeXml(genxml.slice(genxml.indexOf('<?xml'), genxml.indexOf('</context>') + '</context>'.length)).devices;
  const ours = summarizeXml(ctx.toXml()).devices;
  // libiio also lists iio_sysfs_trigger, which is neither an IIO device nor a trigger.
  assert.deepEqual(ours.map((d) => [d.id, d.name]), theirs.filter((d) => d.id !== 'iio_sysfs_trigger').map((d) => [d.id, d.name]));
  for (const t of theirs.filter((d) => d.id !== 'iio_sysfs_trigger')) {
    const o = ours.find((d) => d.id === t.id)!;
    const scans = (d: typeof o) => d.channels.filter((c) => c.scan !== null).map((c) => [c.id, c.type, c.scan!.index, c.scan!.format]);
    assert.deepEqual(scans(o), scans(t), t.id);
    // libiio 0.24 makes a channel "sampling" of in_sampling_frequency; we share it with the inputs.
    const plain = (d: typeof o) => d.channels.filter((c) => c.scan === null && c.id !== 'sampling').map((c) => `${c.type} ${c.id}`).sort();
    assert.deepEqual(plain(o), plain(t), t.id);
    for (const tc of t.channels.filter((c) => c.id !== 'sampling')) {
      const oc = o.channels.find((c) => c.id === tc.id && c.type === tc.type)!;
      for (const [attr, file] of Object.entries(tc.attrs)) assert.equal(oc.attrs[attr], file, `${t.id} ${tc.id} ${attr}`);
    }
    for (const attr of [...t.attrs, ...t.debugAttrs]) assert.ok([...o.attrs, ...o.debugAttrs].includes(attr), `${t.id} ${attr}`);
    for (const attr of t.bufferAttrs) assert.ok(o.bufferAttrs.includes(attr), `${t.id} buffer ${attr}`);
  }
});

test('libiio 0.24 reads our XML, values included, without a validity error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iiojs-xml-'));
  try {
    const file = join(dir, 'context.xml');
    writeFileSync(file, await ctx.toXmlWithValues());
    const out = execFileSync('iio_info', ['-x', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /iio:device0: dummy0/);
    assert.match(out, /vadc-dma/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
