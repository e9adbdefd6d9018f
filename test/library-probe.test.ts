// Discovery of the probe's hardware (iio_dummy dummy0, the vadc-dma test module, triggers t0 and
// sysfstrig0) through the public API, against the ground truth: the sysfs listing recorded on
// Linux 6.12 (../shared/fixtures/linux-6.12-iio-sysfs.txt) and what libiio 0.24 reported for the
// same devices (test/support/libiio-recording.ts). Written against the Kernel port under test, so
// it runs on the sim and, unchanged, in the real-kernel lab (IIOJS_KERNEL=linux).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Context } from '../src/core/context.js';
import type { Device } from '../src/core/device.js';
import { xmlScanFormat } from '../src/core/xml.js';
import { parseScanType } from '../src/format/scan-type.js';
import { openUnderTest, listingByDevice, summarizeXml, type XmlDevice } from './support/library.js';
import { LIBIIO_GENXML } from './support/libiio-recording.js';
import { DUMMY, VADC, probeScenario } from './support/probe-scenario.js';
import { readShared } from './support/shared.js';

const listing = listingByDevice(readShared('fixtures/linux-6.12-iio-sysfs.txt'));
const libiio = summarizeXml(LIBIIO_GENXML).devices;
const libiioDevice = (name: string): XmlDevice => libiio.find((d) => d.name === name)!;

let ctx: Context;
before(async () => {
  ({ ctx } = await openUnderTest({ scenario: probeScenario }));
});
after(() => ctx.close());

const device = (name: string): Device => ctx.device(name);

describe('the context', () => {
  test('context attributes: the kernel release and the URI', () => {
    assert.equal(ctx.name, 'local');
    assert.match(ctx.attr('local,kernel').staticValue!, /^\d+\.\d+/);
    assert.equal(ctx.attr('uri').staticValue, ctx.uri);
    assert.deepEqual([...ctx.attrs.keys()], ['local,kernel', 'uri']);
  });

  test('devices are found by id, label or name; triggers are devices too', () => {
    const dummy = device(DUMMY.name);
    assert.equal(dummy.id, DUMMY.sys.split('/').pop());
    assert.equal(ctx.find(dummy.id), dummy);
    assert.equal(device(VADC.name).id, VADC.sys.split('/').pop());
    assert.deepEqual(ctx.triggers.map((t) => [t.name, t.isTrigger]), [['t0', true], ['sysfstrig0', true]]);
    assert.equal(ctx.find('t0'), ctx.triggers[0]);
    assert.equal(ctx.find('no-such-device'), undefined);
    assert.throws(() => ctx.device('no-such-device'), { code: 'ENODEV', message: /no device "no-such-device".*dummy0/ });
  });
});

describe('channels as libiio 0.24 reports them (recorded on Linux 6.12)', () => {
  for (const name of [DUMMY.name, VADC.name]) {
    test(`${name}: ids, directions, scan indices and formats`, () => {
      const ours = device(name).channels.map((c) => ({
        id: c.id,
        type: c.output ? 'output' : 'input',
        scan: c.scanElement === undefined ? null : { index: c.scanElement.index, format: xmlScanFormat(c.scanElement.type) },
      }));
      // libiio 0.24 turns the direction-shared in_sampling_frequency into a channel "sampling" of
      // unknown type; we attach it to the input channels instead (see below).
      const theirs = libiioDevice(name).channels.filter((c) => c.id !== 'sampling').map((c) => ({
        id: c.id, type: c.type, scan: c.scan === null ? null : { index: c.scan.index, format: c.scan.format },
      }));
      // Scan elements in the same order (by scan index); the others in a stable order of ours.
      const scanned = (list: typeof ours): typeof ours => list.filter((c) => c.scan !== null);
      assert.deepEqual(scanned(ours), scanned(theirs));
      const key = (c: { id: string; type: string }): string => `${c.type} ${c.id}`;
      assert.deepEqual(ours.filter((c) => c.scan === null).map(key).sort(), theirs.filter((c) => c.scan === null).map(key).sort());
      // Mask order: scan elements first.
      const firstPlain = ours.findIndex((c) => c.scan === null);
      assert.ok(firstPlain === -1 || ours.slice(firstPlain).every((c) => c.scan === null));
    });

    test(`${name}: every attribute libiio found, under the same name and file`, () => {
      const dev = device(name);
      for (const theirs of libiioDevice(name).channels) {
        if (theirs.id === 'sampling') {
          for (const c of dev.channels.filter((c) => !c.output && c.type !== 'timestamp')) {
            assert.equal(c.attr('sampling_frequency').filename, 'in_sampling_frequency');
            assert.equal(c.attr('sampling_frequency').shared, 'direction');
          }
          continue;
        }
        const ours = dev.channel(theirs.id, theirs.type === 'output' ? 'out' : 'in');
        for (const [attr, filename] of Object.entries(theirs.attrs)) assert.equal(ours.attr(attr).filename, filename, `${theirs.id} ${attr}`);
      }
      for (const attr of libiioDevice(name).attrs) assert.ok(dev.attrs.has(attr), attr);
      for (const attr of libiioDevice(name).bufferAttrs) assert.ok(dev.buffer(0).attrs.has(attr), attr);
    });
  }

  test('dummy0: differential channels share in_voltage-voltage_scale; modified and unindexed channels', () => {
    const dev = device(DUMMY.name);
    for (const id of ['voltage1-voltage2', 'voltage3-voltage4']) {
      const c = dev.channel(id);
      assert.deepEqual([c.type, c.differential], ['voltage', true]);
      assert.equal(c.attr('scale').filename, 'in_voltage-voltage_scale');
      assert.equal(c.attr('scale').shared, 'type');
    }
    assert.deepEqual(pick(dev.channel('voltage1-voltage2')), { type: 'voltage', index: 1, channel2: 2, modifier: undefined, output: false });
    assert.deepEqual(pick(dev.channel('accel_x')), { type: 'accel', index: undefined, channel2: undefined, modifier: 'x', output: false });
    assert.deepEqual(pick(dev.channel('activity_running')), { type: 'activity', index: undefined, channel2: undefined, modifier: 'running', output: false });
    assert.deepEqual(pick(dev.channel('steps')), { type: 'steps', index: undefined, channel2: undefined, modifier: undefined, output: false });
    assert.deepEqual(pick(dev.channel('voltage0', 'out')), { type: 'voltage', index: 0, channel2: undefined, modifier: undefined, output: true });
    // The per-channel file wins: voltage0 has its own scale, not the differential one.
    assert.equal(dev.channel('voltage0').attr('scale').filename, 'in_voltage0_scale');
    assert.equal(dev.channel('voltage0').attr('scale').shared, 'separate');
    // in_steps_en is the steps channel's "en" attribute, not a scan element.
    assert.equal(dev.channel('steps').attr('en').filename, 'in_steps_en');
    assert.equal(dev.channel('steps').scanElement, undefined);
    assert.equal(dev.channel('timestamp').scanElement?.timestamp, true);
  });
});

describe('against the sysfs listing recorded on Linux 6.12', () => {
  for (const name of [DUMMY.name, VADC.name]) {
    test(`${name}: every file is an attribute, a scan element or the device's identity`, () => {
      const dev = device(name);
      const files = listing.get(name)!;
      const channelFiles = new Set(dev.channels.flatMap((c) => [...c.attrs.values()].map((a) => a.filename)));
      const deviceFiles = new Set([...dev.attrs.values()].map((a) => a.filename));
      for (const file of files) {
        const [dir, base] = file.path.includes('/') ? file.path.split('/') as [string, string] : ['', file.path];
        if (dir === '') {
          if (['name', 'label', 'dev', 'uevent'].includes(base)) continue;
          assert.ok(channelFiles.has(base) || deviceFiles.has(base), `${name}/${base} is nowhere`);
        } else if (dir === 'buffer0' || dir === 'buffer' || dir === 'scan_elements') {
          const scan = /^(in|out)_(.+)_(en|index|type)$/.exec(base);
          if (scan === null) {
            const attr = dev.buffer(0).attr(base);
            assert.equal(attr.writable, file.mode[2] === 'w', `${base} mode ${file.mode}`);
            continue;
          }
          const channel = dev.channel(scan[2]!, scan[1] as 'in' | 'out');
          assert.ok(channel.scanElement, `${channel.id} is a scan element`);
          if (scan[3] === 'index') assert.equal(channel.scanElement.index, Number(file.content), `${base}`);
          if (scan[3] === 'type') assert.deepEqual(channel.scanElement.type, parseScanType(file.content), `${base}`);
          assert.ok(dev.buffer(0).channels.includes(channel));
        } else if (dir === 'trigger') {
          assert.equal(dev.triggerSupport, true);
        } else {
          assert.fail(`unexpected directory ${dir}`);
        }
      }
    });

    test(`${name}: one input buffer with the kernel's attributes and modes`, () => {
      const dev = device(name);
      assert.equal(dev.buffers.length, 1);
      const buffer = dev.buffer(0);
      assert.deepEqual([buffer.index, buffer.direction], [0, 'in']);
      assert.deepEqual([...buffer.attrs.keys()], ['data_available', 'direction', 'enable', 'length', 'watermark']);
      assert.equal(buffer.attr('data_available').writable, false);
      assert.equal(buffer.attr('watermark').writable, name === DUMMY.name); // DMA buffers: read-only
      assert.deepEqual(buffer.channels.map((c) => c.id), dev.channels.filter((c) => c.scanElement).map((c) => c.id));
    });
  }

  test('vadc-dma takes no trigger and has no register access; dummy0 takes one', async () => {
    assert.equal(device(VADC.name).triggerSupport, false);
    assert.equal(device(DUMMY.name).triggerSupport, true);
    assert.equal(device(VADC.name).registers.supported, false);
    await assert.rejects(device(VADC.name).getTrigger(), { code: 'ERR_IIOJS_UNSUPPORTED', feature: 'trigger' });
    await assert.rejects(device(VADC.name).registers.read(0), { code: 'ERR_IIOJS_UNSUPPORTED', feature: 'registers' });
  });

  test('triggers: t0 has sampling_frequency, sysfstrig0 a write-only trigger_now', async () => {
    const [t0, sysfs] = ctx.triggers as [Device, Device];
    assert.deepEqual([...t0.attrs.keys()], ['sampling_frequency']);
    assert.equal(await t0.attr('sampling_frequency').readNumber(), 100);
    assert.deepEqual([...sysfs.attrs.keys()], ['trigger_now']);
    assert.deepEqual([sysfs.attr('trigger_now').readable, sysfs.attr('trigger_now').writable], [false, true]);
    await assert.rejects(sysfs.attr('trigger_now').read(), { code: 'EACCES', message: /trigger_now.*write-only/ });
  });
});

function pick(c: { type: string; index: number | undefined; channel2: number | undefined; modifier: string | undefined; output: boolean }): object {
  return { type: c.type, index: c.index, channel2: c.channel2, modifier: c.modifier, output: c.output };
}

