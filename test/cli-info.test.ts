// `iio info`, the real binary on the sim: the probe's devices shown exactly, every value
// checked against what the library reads from the same scenario, DMABUF support as the buffers
// answer, device selection, -n, and bad input.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Attr } from '../src/core/attr.js';
import { xmlScanFormat } from '../src/core/xml.js';
import { openContext } from '../src/open.js';
import { iio, parseTree, probeUri, ScenarioFiles, type InfoNode as Node } from './support/cli.js';
import { probeScenario } from './support/probe-scenario.js';

const files = new ScenarioFiles();
after(() => files.cleanup());
const PROBE = probeUri(files);

const DUMMY0 = `  iio:device0: dummy0
    channels (9):
      voltage0 (input, index: 0, format: le:u13/16>>0)
        offset: 7
        raw: 73
        sampling_frequency: 3.000000033
        scale: 0.001333
      voltage1-voltage2 (input, index: 1, format: le:s12/16>>0)
        raw: 33
        sampling_frequency: 3.000000033
        scale: 0.000001344
      voltage3-voltage4 (input, index: 2, format: le:s11/16>>0)
        raw: -34
        sampling_frequency: 3.000000033
        scale: 0.000001344
      accel_x (input, index: 3, format: le:S16/16>>0)
        calibbias: -7
        calibscale: 0.000100
        raw: 34
        sampling_frequency: 3.000000033
      timestamp (input, index: 4, format: le:S64/64>>0)
      activity_running (input)
        input: 98
        sampling_frequency: 3.000000033
      activity_walking (input)
        input: 4
        sampling_frequency: 3.000000033
      steps (input)
        calibheight: 0
        en: 0
        input: 47
        sampling_frequency: 3.000000033
      voltage0 (output)
        raw: 0
    attributes (1):
      current_timestamp_clock: realtime
    buffer0 (input; DMABUF zero-copy: no (iio:device0/buffer0 does not support DMABUF blocks (EPERM from ATTACH))):
      channels: voltage0 voltage1-voltage2 voltage3-voltage4 accel_x timestamp
      data_available: 0
      direction: in
      enable: 0
      length: 2
      watermark: 1
    trigger: none
`;

const VADC = `  iio:device1: vadc-dma
    channels (2):
      voltage0 (input, index: 0, format: le:U16/16>>0)
      voltage1 (input, index: 1, format: le:U16/16>>0)
    buffer0 (input; DMABUF zero-copy: yes (DMA heap)):
      channels: voltage0 voltage1
      data_available: 0
      direction: in
      enable: 0
      length: 4096
      watermark: 2048
`;

test('the probe\'s devices and triggers, exactly', () => {
  const run = iio(['info', '-u', PROBE]);
  assert.equal(run.stderr, '');
  assert.equal(run.status, 0);
  const uri = PROBE;
  assert.equal(run.stdout.toString(), `iiojs 0.1.0
Backend: local 0.1 (git v0.1.0): Linux iiojs-sim 6.12.0-iiojs-sim #1 SMP PREEMPT_DYNAMIC (simulated)
URI: ${uri}
Context attributes (2):
  local,kernel: 6.12.0-iiojs-sim
  uri: ${uri}
IIO devices (2):
${DUMMY0}${VADC}Triggers (2):
  trigger0: t0
    attributes (1):
      sampling_frequency: 100.000000
  trigger1: sysfstrig0
    attributes (1):
      trigger_now: (write-only)
`);
});

const child = (node: Node, line: string | RegExp): Node => {
  const found = node.children.find((c) => typeof line === 'string' ? c.line === line : line.test(c.line));
  assert.ok(found !== undefined, `no ${String(line)} under ${node.line}`);
  return found;
};

async function values(attrs: ReadonlyMap<string, Attr>): Promise<string[]> {
  return Promise.all([...attrs.values()].map(async (a) => a.readable === false ? `${a.name}: (write-only)` : `${a.name}: ${await a.read()}`));
}

test('every device, channel, attribute value, buffer and trigger as the library reads them', async () => {
  const run = iio(['info', '-u', PROBE]);
  assert.equal(run.status, 0, run.stderr);
  const tree = parseTree(run.stdout.toString());
  await using ctx = await openContext(PROBE);
  const sections = [['IIO devices', ctx.devices], ['Triggers', ctx.triggers]] as const;
  for (const [title, devices] of sections) {
    const section = tree.find((n) => n.line === `${title} (${devices.length}):`)!;
    assert.ok(section !== undefined, title);
    assert.deepEqual(section.children.map((n) => n.line), devices.map((d) => `${d.id}: ${d.name}`));
    for (const [i, d] of devices.entries()) {
      const node = section.children[i]!;
      if (d.channels.length > 0) {
        const channels = child(node, `channels (${d.channels.length}):`);
        for (const [j, c] of d.channels.entries()) {
          const scan = c.scanElement === undefined ? '' : `, index: ${c.scanElement.index}, format: ${xmlScanFormat(c.scanElement.type)}`;
          assert.equal(channels.children[j]!.line, `${c.id}${c.name === undefined ? '' : `: ${c.name}`} (${c.output ? 'output' : 'input'}${scan})`);
          assert.deepEqual(channels.children[j]!.children.map((n) => n.line), await values(c.attrs), c.toString());
        }
      }
      const attrs = d.attrs.size === 0 ? [] : child(node, `attributes (${d.attrs.size}):`).children.map((n) => n.line);
      assert.deepEqual(attrs, await values(d.attrs), d.toString());
      const debug = node.children.find((n) => n.line.startsWith('debug attributes'));
      assert.deepEqual(debug?.children.map((n) => n.line) ?? [], await values(d.debugAttrs));
      for (const b of d.buffers) {
        const buffer = child(node, new RegExp(`^buffer${b.index} \\(${b.output ? 'output' : 'input'}; DMABUF zero-copy: `));
        assert.deepEqual(buffer.children.map((n) => n.line), [`channels: ${b.channels.map((c) => c.id).join(' ')}`, ...await values(b.attrs)]);
      }
      if (d.triggerSupport === true) {
        const trigger = await d.getTrigger();
        assert.equal(child(node, /^trigger: /).line, `trigger: ${trigger === null ? 'none' : `${trigger.name} (${trigger.id})`}`);
      } else assert.equal(node.children.find((n) => n.line.startsWith('trigger:')), undefined, `${d.toString()} takes no trigger`);
    }
  }
});

test('a device\'s trigger and its event attributes (the built-in sensor)', async () => {
  const run = iio(['info', '-u', 'sim:', 'sensor']);
  assert.equal(run.status, 0, run.stderr);
  const device = child(parseTree(run.stdout.toString())[0]!, 'iio:device2: iiojs-sensor (label: sensor)');
  assert.equal(child(device, /^trigger: /).line, 'trigger: iiojs-timer0 (trigger0)');
  const temp = child(child(device, 'channels (5):'), 'temp (input, index: 0, format: le:S16/16>>0)');
  assert.deepEqual(child(temp, 'event attributes (2):').children.map((n) => n.line), ['thresh_rising_en: 0', 'thresh_rising_value: 2450']);
});

test('without a DMABUF allocator, a DMA buffer says why it takes no DMABUFs', () => {
  const uri = files.uri('no-heap', { ...probeScenario, dmaHeaps: [], udmabuf: false });
  const run = iio(['info', '-u', uri, 'vadc-dma']);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout.toString(), /\n {4}buffer0 \(input; DMABUF zero-copy: no \(.+\)\):\n/);
  assert.doesNotMatch(run.stdout.toString(), /zero-copy: yes/);
});

test('devices named on the command line (id, label or name), and -n: names only, nothing read', () => {
  const run = iio(['info', '-u', PROBE, '-n', 'iio:device1', 't0']);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.toString(), `IIO devices (1):
  iio:device1: vadc-dma
    channels (2):
      voltage0 (input, index: 0, format: le:U16/16>>0)
      voltage1 (input, index: 1, format: le:U16/16>>0)
    buffer0 (input):
      channels: voltage0 voltage1
      data_available
      direction
      enable
      length
      watermark
Triggers (1):
  trigger0: t0
    attributes (1):
      sampling_frequency
`);
  const byLabel = iio(['info', '-u', 'sim:', 'adc4']);
  assert.match(byLabel.stdout.toString(), /^IIO devices \(1\):\n {2}iio:device0: iiojs-adc4 \(label: adc4\)\n/);
});

test('bad input: an unknown device (exit 1), an unknown option (exit 2)', () => {
  const unknown = iio(['info', '-u', PROBE, 'nope']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^iio: ENODEV: no such device, find: context sim:.* has no device "nope" \(there are: iio:device0 \(dummy0\), iio:device1 \(vadc-dma\), trigger0 \(t0\), trigger1 \(sysfstrig0\)\)\n$/);
  assert.equal(unknown.stdout.length, 0);
  const option = iio(['info', '-x']);
  assert.equal(option.status, 2);
  assert.equal(option.stderr, "iio: unknown option '-x' (see 'iio info --help')\n");
});
