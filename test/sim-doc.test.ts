// docs/sim.md held to the code: every `json` block boots through `sim:<file>` (src/kernel/open.ts,
// as openContext and the CLI open it), every `console` block prints what it shows (the `iio`
// binary, in a directory holding its section's scenario), the reference describes every field the
// validator accepts (SCENARIO_FIELDS, WAVEFORM_FIELDS), and the examples use each of them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SCENARIO_FIELDS, WAVEFORM_FIELDS } from '../src/kernel/sim/scenario.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import { openContext } from '../src/open.js';
import { iio } from './support/cli.js';
import { repo } from './support/imports.js';
import { fences, sections, type Section } from './support/markdown.js';

const DOC = 'docs/sim.md';
const doc = readFileSync(join(repo, DOC), 'utf8');
const blocks = fences(doc);
const scenarios = blocks.filter((b) => b.lang === 'json');
const dir = mkdtempSync(join(tmpdir(), 'iiojs-sim-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function section(heading: string, within = doc): Section {
  const found = sections(within).find((s) => s.heading === heading);
  assert.ok(found !== undefined, `${DOC} has a section "${heading}"`);
  return found;
}

test('every json block boots through sim:<file>, with the devices it names', async () => {
  assert.ok(scenarios.length >= 6, `${scenarios.length} json blocks`);
  for (const block of scenarios) {
    const file = join(dir, `line${block.line}.json`);
    writeFileSync(file, block.body);
    const json = JSON.parse(block.body) as Scenario;
    await using ctx = await openContext(`sim:${file}`);
    assert.deepEqual(ctx.devices.map((d) => d.name), json.devices.map((d) => d.name), `${DOC}:${block.line}`);
  }
});

test('every console block prints what it shows, on the scenario of its section', () => {
  const consoles = blocks.filter((b) => b.lang === 'console');
  assert.ok(consoles.length >= 4, `${consoles.length} console blocks`);
  for (const block of consoles) {
    const own = scenarios.filter((s) => s.heading === block.heading);
    assert.equal(own.length, 1, `${DOC}:${block.line}: the section "${block.heading}" has one json block for its commands`);
    // "$ command" lines, each followed by what it prints (stdout, then stderr).
    for (const step of block.body.split(/^\$ /m).slice(1)) {
      const [command, ...output] = step.split('\n');
      const args = command!.split(' ');
      assert.equal(args[0], 'iio', `${DOC}:${block.line}: ${command}`);
      for (const arg of args) {
        const file = /^sim:([\w.-]+\.json)$/.exec(arg)?.[1];
        if (file !== undefined) writeFileSync(join(dir, file), own[0]!.body);
      }
      const run = iio(args.slice(1), undefined, dir);
      assert.equal(run.stdout.toString() + run.stderr, output.join('\n').replace(/\n*$/, '\n'), `${DOC}:${block.line}: $ ${command}`);
    }
  }
});

test('each complete example shows the channels it boots, and is what its text says', async () => {
  const examples = sections(section('Complete examples').text).filter((s) => s.level === 3);
  assert.deepEqual(examples.map((s) => s.heading), ['A triggered 3-axis accelerometer', 'A 12-bit 2-channel ADC', 'An RX/TX transceiver']);
  const boot = async (heading: string) => {
    const json = scenarios.find((b) => b.heading === heading)!;
    const file = join(dir, `example${json.line}.json`);
    writeFileSync(file, json.body);
    return openContext(`sim:${file}`);
  };
  for (const example of examples) {
    const listing = blocks.find((b) => b.lang === 'console' && b.heading === example.heading);
    assert.match(listing?.body ?? '', /^\$ iio attr -u sim:\w+\.json -c \.\n/, `${example.heading}: starts by listing the channels`);
  }

  await using accel = await boot('A triggered 3-axis accelerometer');
  const imu = accel.device('imu');
  assert.equal(imu.triggerSupport, true);
  assert.equal((await imu.getTrigger())?.name, 'accel-timer');
  assert.deepEqual(imu.buffers.map((b) => b.direction), ['in']);
  assert.deepEqual(accel.triggers.map((t) => t.name), ['accel-timer', 'sysfstrig0']);
  assert.equal(imu.channel('accel_z').eventAttrs.size, 2, 'the free-fall event');

  await using adc = await boot('A 12-bit 2-channel ADC');
  const converter = adc.device('adc');
  assert.equal(converter.id, 'iio:device3');
  assert.deepEqual(converter.channels.map((c) => [c.label, c.scanElement?.type.realBits]), [['vin0', 12], ['vin1', 12]]);
  assert.equal(converter.channel('voltage0').attr('scale').filename, 'in_voltage_scale');

  await using trx = await boot('An RX/TX transceiver');
  assert.deepEqual(['phy', 'rx', 'tx'].map((d) => trx.device(d).buffers.map((b) => b.direction)), [[], ['in'], ['out']]);
  assert.deepEqual(await trx.device('phy').attr('ensm_mode').available(), { kind: 'list', values: ['sleep', 'alert', 'fdd'] });
});

test('the reference describes every field the validator accepts', () => {
  const reference = section('Scenario reference').text;
  // Where each kind of object is described (a kind added to SCENARIO_FIELDS fails to compile here).
  const where: Record<keyof typeof SCENARIO_FIELDS, string> = {
    scenario: 'The document',
    trigger: '`triggers[]`',
    device: '`devices[]`',
    range: '`devices[]`',
    attribute: '`devices[].attributes`',
    buffer: '`devices[].buffers[]`',
    channel: '`devices[].channels[]`',
    event: '`devices[].events[]`',
  };
  const missing: string[] = [];
  const check = (heading: string, fields: readonly string[], within: string): void => {
    const text = section(heading, within).text;
    for (const f of fields) if (!text.includes(`\`${f}\``)) missing.push(`${heading}: ${f}`);
  };
  for (const [kind, fields] of Object.entries(SCENARIO_FIELDS)) check(where[kind as keyof typeof SCENARIO_FIELDS], fields, reference);
  const waveforms = section('`devices[].channels[].waveform`', reference).text;
  for (const [kind, fields] of Object.entries(WAVEFORM_FIELDS)) check(`\`${kind}\``, fields, waveforms);
  assert.deepEqual(missing, []);
});

test('the json blocks use every field, so each has an example that boots', () => {
  const used = new Map<string, Set<string>>();
  const note = (kind: string, o: object): void => {
    const set = used.get(kind) ?? new Set<string>();
    used.set(kind, set);
    for (const k of Object.keys(o)) set.add(k);
  };
  for (const block of scenarios) {
    const s = JSON.parse(block.body) as Scenario;
    note('scenario', s);
    for (const t of s.triggers ?? []) note('trigger', t);
    for (const d of s.devices) {
      note('device', d);
      if (d.samplingFrequencyAvailable !== undefined && !Array.isArray(d.samplingFrequencyAvailable)) note('range', d.samplingFrequencyAvailable);
      for (const a of Object.values(d.attributes ?? {})) if (typeof a === 'object') note('attribute', a);
      for (const b of d.buffers ?? []) note('buffer', b);
      for (const e of d.events ?? []) note('event', e);
      for (const c of d.channels) {
        note('channel', c);
        if (c.waveform !== undefined) note(`${c.waveform.kind} waveform`, c.waveform);
      }
    }
  }
  const unused = [
    ...Object.entries(SCENARIO_FIELDS).flatMap(([kind, fields]) => fields.filter((f) => !used.get(kind)?.has(f)).map((f) => `${kind}: ${f}`)),
    ...Object.entries(WAVEFORM_FIELDS).flatMap(([kind, fields]) => fields.filter((f) => !used.get(`${kind} waveform`)?.has(f)).map((f) => `${kind} waveform: ${f}`)),
  ];
  assert.deepEqual(unused, []);
});
