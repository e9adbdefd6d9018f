// Context.toXml() against iiod-protocol.md §4c and §4a: parsed back (xmldom) and checked
// element by element — the DTD, context attributes, device/channel order (scan elements by
// index, then the others: the mask order), libiio's format strings, scan-element scale,
// buffer-attribute compatibility, v1 buffers and event attributes, escaping, values — then
// compared with what libiio 0.24 made of the same hardware, and read by libiio 0.24 itself
// (`iio_info -x`, whose parser validates against the embedded DTD). On the simulated kernel.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { CONTEXT_DTD } from '../src/core/xml.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { IIOJS_VERSION, IIOJS_VERSION_TEXT } from '../src/version.js';
import { childElements, parseXml, summarizeXml } from './support/library.js';
import { LIBIIO_GENXML } from './support/libiio-recording.js';
import { probeScenario } from './support/probe-scenario.js';

let ctx: Context;
let xml: string;
before(async () => {
  ctx = await Context.open(new LocalBackend(new SimKernel()));
  xml = ctx.toXml();
});
after(() => ctx.close());

describe('structure (iiod-protocol.md §4c)', () => {
  test('prolog, embedded DTD, context element and its attributes', () => {
    assert.ok(xml.startsWith(`<?xml version="1.0" encoding="utf-8"?><!DOCTYPE context [${CONTEXT_DTD}]><context `));
    const root = parseXml(xml);
    assert.equal(root.tagName, 'context');
    assert.deepEqual(['name', 'version-major', 'version-minor', 'version-git'].map((a) => root.getAttribute(a)),
      ['local', String(IIOJS_VERSION.major), String(IIOJS_VERSION.minor), IIOJS_VERSION.git]);
    assert.equal(root.getAttribute('description'), ctx.description);
    assert.deepEqual(childElements(root, 'context-attribute').map((a) => [a.getAttribute('name'), a.getAttribute('value')]),
      [['local,kernel', '6.12.0-iiojs-sim'], ['uri', 'sim:']]);
    assert.deepEqual(childElements(root).map((e) => e.tagName === 'device' ? e.getAttribute('id') : e.tagName), [
      'context-attribute', 'context-attribute', 'iio:device0', 'iio:device1', 'iio:device2', 'iio:device3', 'iio:device4', 'trigger0', 'trigger1',
    ]);
  });

  test('the library version is the package\'s', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(IIOJS_VERSION_TEXT, pkg.version);
    assert.equal(IIOJS_VERSION.git, `v${pkg.version}`);
  });

  test('channels in mask order with libiio\'s format strings and the scale', () => {
    const { devices } = summarizeXml(xml);
    const sensor = devices.find((d) => d.id === 'iio:device2')!;
    assert.deepEqual(sensor.channels.map((c) => [c.id, c.type, c.scan?.index, c.scan?.format, c.scan?.scale]), [
      ['temp', 'input', 0, 'le:S16/16>>0', 10],
      ['accel_x', 'input', 1, 'be:s12/16>>4', 0.00980665],
      ['accel_y', 'input', 2, 'be:s12/16>>4', 0.00980665],
      ['accel_z', 'input', 3, 'be:s12/16>>4', 0.00980665],
      ['timestamp', 'input', 4, 'le:S64/64>>0', null],
    ]);
    for (const device of devices) {
      const indices = device.channels.map((c) => c.scan?.index ?? Infinity);
      assert.deepEqual(indices, [...indices].sort((a, b) => a - b), `${device.id}: scan elements first, by index`);
      const ours = ctx.find(device.id)!;
      assert.deepEqual(device.channels.map((c) => `${c.type} ${c.id}`), ours.channels.map((c) => `${c.output ? 'output' : 'input'} ${c.id}`));
    }
    // §4a: a mask has ceil(channels/32) words over all channels; adc4 has 5 → 1 word.
    assert.equal(Math.ceil(devices.find((d) => d.id === 'iio:device0')!.channels.length / 32), 1);
  });

  test('attributes: channel ones with their file, device, debug, buffer (one buffer only) and v1 elements', async () => {
    const root = parseXml(xml);
    const device = (id: string) => childElements(root, 'device').find((d) => d.getAttribute('id') === id)!;
    const adc = device('iio:device0');
    assert.deepEqual([adc.getAttribute('name'), adc.getAttribute('label')], ['iiojs-adc4', 'adc4']);
    const v0 = childElements(adc, 'channel')[0]!;
    assert.deepEqual([v0.getAttribute('id'), v0.getAttribute('label'), v0.hasAttribute('name')], ['voltage0', 'sine 1 kHz', false]);
    assert.deepEqual(childElements(v0).map((e) => e.tagName), ['scan-element', ...Array(6).fill('attribute')]);
    assert.deepEqual(childElements(v0, 'attribute').map((a) => [a.getAttribute('name'), a.getAttribute('filename')]), [
      ['label', 'in_voltage0_label'], ['offset', 'in_voltage_offset'], ['raw', 'in_voltage0_raw'],
      ['sampling_frequency', 'sampling_frequency'], ['sampling_frequency_available', 'sampling_frequency_available'], ['scale', 'in_voltage_scale'],
    ]);
    assert.deepEqual(childElements(adc, 'attribute').map((a) => [a.getAttribute('name'), a.hasAttribute('filename')]),
      [['current_timestamp_clock', false], ['sampling_frequency', false], ['sampling_frequency_available', false]]);
    // One buffer: v0.24's buffer-attribute elements as well as v1's buffer element.
    assert.deepEqual(childElements(adc, 'buffer-attribute').map((a) => a.getAttribute('name')), ['data_available', 'direction', 'enable', 'length', 'watermark']);
    const [buffer] = childElements(adc, 'buffer');
    assert.deepEqual([buffer!.getAttribute('index'), buffer!.getAttribute('direction')], ['0', 'in']);
    assert.deepEqual(childElements(buffer!, 'channel').map((c) => [c.getAttribute('id'), c.getAttribute('type'), c.childNodes.length]), [
      ['voltage0', 'input', 0], ['voltage1', 'input', 0], ['voltage2', 'input', 0], ['voltage3', 'input', 0], ['timestamp', 'input', 0],
    ]);
    const trx = device('iio:device1');
    assert.equal(childElements(trx, 'buffer').length, 0);
    assert.deepEqual(childElements(trx, 'debug-attribute').map((a) => a.getAttribute('name')), ['direct_reg_access']);
    const tx = device('iio:device4');
    assert.deepEqual(childElements(tx, 'buffer-attribute').map((a) => a.getAttribute('name')), ['data_available', 'direction', 'enable', 'length', 'length_align_bytes', 'watermark']);
    // Two buffers: no buffer-attribute (a v0.24 client could not tell them apart).
    const two = await Context.open(new LocalBackend(new SimKernel({ scenario: { devices: [{ name: 'two', buffers: [{ direction: 'in', kind: 'dma' }, { direction: 'out', kind: 'dma' }], channels: [
      { type: 'voltage', index: 0, scanIndex: 0, format: 'le:s16/16>>0' },
      { type: 'voltage', direction: 'out', index: 0, scanIndex: 1, format: 'le:s16/16>>0' },
    ] }] } })));
    const twoXml = childElements(parseXml(two.toXml()), 'device')[0]!;
    await two.close();
    assert.equal(childElements(twoXml, 'buffer-attribute').length, 0);
    assert.deepEqual(childElements(twoXml, 'buffer').map((b) => [b.getAttribute('index'), b.getAttribute('direction'),
      childElements(b, 'attribute').length, childElements(b, 'channel').map((c) => `${c.getAttribute('type')} ${c.getAttribute('id')}`)]), [
      ['0', 'in', 5, ['input voltage0']], ['1', 'out', 5, ['output voltage0']],
    ]);
    assert.deepEqual(childElements(trx, 'channel').filter((c) => c.hasAttribute('name')).map((c) => [c.getAttribute('id'), c.getAttribute('name')]),
      [['altvoltage0', 'RX_LO'], ['altvoltage1', 'TX_LO']]);
    const temp = childElements(device('iio:device2'), 'channel')[0]!;
    assert.deepEqual(childElements(temp, 'event-attribute').map((a) => [a.getAttribute('name'), a.getAttribute('filename')]),
      [['thresh_rising_en', 'in_temp_thresh_rising_en'], ['thresh_rising_value', 'in_temp_thresh_rising_value']]);
    assert.deepEqual(childElements(device('trigger0')).map((a) => a.getAttribute('name')), ['sampling_frequency']);
  });

  test('a device\'s <buffer>s come before its buffer-attributes: libiio v1 (4e3cfe61 xml.c) reads buffer-attributes after no <buffer> as a second, channel-less buffer 0', () => {
    let checked = 0;
    for (const dev of childElements(parseXml(xml), 'device')) {
      const tags = childElements(dev).map((e) => e.tagName);
      const firstBufferAttr = tags.indexOf('buffer-attribute');
      if (firstBufferAttr < 0) continue;
      assert.ok(tags.lastIndexOf('buffer') >= 0 && tags.lastIndexOf('buffer') < firstBufferAttr, `${dev.getAttribute('id')}: ${tags.join(' ')}`);
      checked++;
    }
    assert.ok(checked >= 2, 'devices with one buffer were checked');
  });

  test('values (IIO_CTX_XML_INCLUDE_VALUES) and escaping', async () => {
    const c = await Context.open(new LocalBackend(new SimKernel({ scenario: {
      devices: [{ name: 'a&b <"odd">', channels: [{ type: 'voltage', index: 0, label: "it's <1>" }], attributes: { note: 'x < y & "z"\tend' } }],
    } })));
    const withValues = await c.toXmlWithValues();
    await c.close();
    const root = parseXml(withValues);
    const device = childElements(root, 'device')[0]!;
    assert.equal(device.getAttribute('name'), 'a&b <"odd">');
    assert.equal(childElements(device, 'attribute').find((a) => a.getAttribute('name') === 'note')!.getAttribute('value'), 'x < y & "z"\tend');
    const channel = childElements(device, 'channel')[0]!;
    assert.equal(channel.getAttribute('label'), "it's <1>");
    assert.equal(childElements(channel, 'attribute').find((a) => a.getAttribute('name') === 'raw')!.getAttribute('value')?.match(/^-?\d+$/)?.length, 1);
    assert.ok(!/="[^"]*</.test(withValues), 'no raw < inside attribute values');
    // Without values: no value attributes except the context attributes'.
    assert.ok(!/<(attribute|debug-attribute|buffer-attribute|event-attribute)[^>]* value=/.test(xml));
  });
});

describe('against libiio 0.24 on the same hardware (recorded on Linux 6.12)', () => {
  test('dummy0 and vadc-dma: the same scan elements, formats, scales, and every attribute libiio listed', async () => {
    const probe = await Context.open(new LocalBackend(new SimKernel({ scenario: probeScenario })));
    const ours = summarizeXml(probe.toXml()).devices;
    await probe.close();
    const theirs = summarizeXml(LIBIIO_GENXML).devices;
    for (const name of ['dummy0', 'vadc-dma']) {
      const o = ours.find((d) => d.name === name)!;
      const t = theirs.find((d) => d.name === name)!;
      const scans = (d: typeof o) => d.channels.filter((c) => c.scan !== null).map((c) => [c.id, c.type, c.scan!.index, c.scan!.format]);
      assert.deepEqual(scans(o), scans(t), name);
      for (const tc of t.channels) {
        if (tc.id === 'sampling') continue; // libiio 0.24's reading of in_sampling_frequency
        const oc = o.channels.find((c) => c.id === tc.id && c.type === tc.type)!;
        assert.ok(oc, `${name} ${tc.id}`);
        // libiio prints the scale with %f; ours keeps every digit.
        if (tc.scan?.scale != null) assert.ok(Math.abs(oc.scan!.scale! - tc.scan.scale) < 1e-6, `${tc.id} scale`);
        for (const [attr, file] of Object.entries(tc.attrs)) assert.equal(oc.attrs[attr], file, `${name} ${tc.id} ${attr}`);
      }
      for (const attr of [...t.attrs, ...t.debugAttrs]) assert.ok([...o.attrs, ...o.debugAttrs].includes(attr), `${name} ${attr}`);
      for (const attr of t.bufferAttrs) assert.ok(o.bufferAttrs.includes(attr), `${name} buffer ${attr}`);
    }
  });
});

describe('read by libiio 0.24 (iio_info -x)', () => {
  // libiio's own parser is the judge; .ci/run installs it (Debian: libiio-utils). Missing, the test fails.
  test('no validity error, and the channels we listed', async () => {
    assert.equal(spawnSync('iio_info', ['-h']).error, undefined, 'iio_info is not installed (Debian: libiio-utils)');
    const dir = mkdtempSync(join(tmpdir(), 'iiojs-xml-'));
    try {
      const file = join(dir, 'context.xml');
      writeFileSync(file, await ctx.toXmlWithValues());
      const run = spawnSync('iio_info', ['-x', file], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stderr, '', 'libxml2 validity errors go to stderr');
      assert.match(run.stdout, /IIO context has 7 devices:/);
      // "\t\t\tvoltage0:  (input, index: 0, format: le:S16/16>>0)", "altvoltage0: RX_LO (output)"
      const listed = [...run.stdout.matchAll(/^\t\t\t(\S+): (\S*) ?\((input|output)(?:, index: (\d+), format: (\S+))?\)$/gm)]
        .map((m) => [m[1], m[2] === '' ? undefined : m[2], m[3], m[4] === undefined ? undefined : Number(m[4]), m[5]]);
      const expected = ctx.allDevices.flatMap((d) => d.channels.map((c) => [
        c.id, c.name, c.output ? 'output' : 'input', c.scanElement?.index,
        c.scanElement === undefined ? undefined : `${c.scanElement.type.endianness}:${c.scanElement.type.realBits === c.scanElement.type.storageBits ? (c.scanElement.type.signed ? 'S' : 'U') : (c.scanElement.type.signed ? 's' : 'u')}${c.scanElement.type.realBits}/${c.scanElement.type.storageBits}>>${c.scanElement.type.shift}`,
      ]));
      assert.deepEqual(listed, expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
