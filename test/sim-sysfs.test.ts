// The simulated kernel's IIO sysfs against the real one: every entry of
// ../shared/fixtures/linux-6.12-iio-sysfs.txt (names, modes, first line of content, symlink
// targets), both ways: nothing missing, nothing extra in the directories the dump followed.
// Not compared: /proc/devices and /sys/class (not modelled), and the major:minor of /dev
// nodes (the port's stat has no rdev; the `dev` attributes carry the same numbers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimKernel } from '../src/kernel/sim/index.js';
import { probeScenario } from './support/probe-scenario.js';
import { readShared } from './support/shared.js';

interface Entry {
  path: string;
  mode: string;
  content: string;
}

function parseListing(text: string): { links: Entry[]; entries: Entry[]; devNodes: Entry[] } {
  const links: Entry[] = [];
  const entries: Entry[] = [];
  const devNodes: Entry[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) {
      section = line.slice(3);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const parts = line.split(' | ');
    if (parts.length !== 3) continue;
    const [path, mode, content] = parts as [string, string, string];
    if (section === '/sys/bus/iio/devices/ entries') links.push({ path, mode, content });
    else if (section.startsWith('/sys/bus/iio/devices/')) entries.push({ path, mode, content });
    else if (section.startsWith('/dev nodes')) devNodes.push({ path, mode, content });
  }
  return { links, entries, devNodes };
}

/** "-rw-r--r--" → 0o644. */
function modeBits(text: string): number {
  let bits = 0;
  for (const c of text.slice(1)) bits = (bits << 1) | (c === '-' ? 0 : 1);
  return bits;
}

const listing = parseListing(readShared('fixtures/linux-6.12-iio-sysfs.txt'));

test('the fixture parses into the expected sections', () => {
  assert.equal(listing.links.length, 5);
  assert.ok(listing.entries.length > 100, `${listing.entries.length} entries`);
  assert.equal(listing.devNodes.length, 4);
});

test('/sys/bus/iio/devices links point where the kernel puts the devices, with the same names', async () => {
  const sim = new SimKernel({ scenario: probeScenario });
  const names = (await sim.readdir('/sys/bus/iio/devices')).map((e) => e.name).sort();
  assert.deepEqual(names, listing.links.map((l) => l.path.split('/').pop()!).sort());
  for (const link of listing.links) {
    assert.equal(await sim.readlink(link.path), link.mode.replace(/^-> /, ''), link.path);
    const name = link.content.replace(/^name=/, '');
    if (name === '<none>') await assert.rejects(sim.readText(`${link.path}/name`), { code: 'ENOENT' });
    else assert.equal(await sim.readText(`${link.path}/name`), `${name}\n`, link.path);
  }
});

test('every sysfs entry of the recording exists in the sim with the same mode and content', async () => {
  const sim = new SimKernel({ scenario: probeScenario });
  for (const { path, mode, content } of listing.entries) {
    if (mode.startsWith('l')) {
      assert.equal(await sim.readlink(path), content.replace(/^-> /, ''), path);
      continue;
    }
    const realPath = path.endsWith('/') ? path.slice(0, -1) : path;
    const stat = await sim.stat(realPath);
    if (mode.startsWith('d')) {
      assert.equal(stat.kind, 'directory', path);
      assert.equal(stat.mode, modeBits(mode), `${path} mode`);
      continue;
    }
    assert.equal(stat.kind, 'file', path);
    assert.equal(stat.mode.toString(8), modeBits(mode).toString(8), `${path} mode`);
    const unreadable = /^<unreadable: (E[A-Z]+)>$/.exec(content);
    if (unreadable !== null) {
      await assert.rejects(sim.readText(path), { code: unreadable[1] }, path);
      continue;
    }
    const text = await sim.readText(path);
    const first = text.split('\n')[0]!;
    if (content === '<empty>') assert.equal(text, '', path);
    else if (content.endsWith(' <more lines>')) {
      assert.equal(first, content.slice(0, -' <more lines>'.length), path);
      assert.ok(text.split('\n').length > 2, `${path} has more lines`);
    } else assert.equal(first, content, path);
  }
});

test('the directories the recording followed hold nothing the kernel does not show', async () => {
  const sim = new SimKernel({ scenario: probeScenario });
  const recorded = new Map<string, Set<string>>();
  for (const { path } of listing.entries) {
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    const dir = trimmed.slice(0, trimmed.lastIndexOf('/'));
    const name = trimmed.slice(trimmed.lastIndexOf('/') + 1);
    if (!recorded.has(dir)) recorded.set(dir, new Set());
    recorded.get(dir)!.add(name);
  }
  for (const [dir, names] of recorded) {
    const actual = (await sim.readdir(dir)).map((e) => e.name).sort();
    assert.deepEqual(actual, [...names].sort(), dir);
  }
});

test('the /dev nodes exist with the recorded permissions', async () => {
  const sim = new SimKernel({ scenario: probeScenario });
  for (const { path, mode } of listing.devNodes) {
    const stat = await sim.stat(path);
    assert.equal(stat.kind, 'other', path);
    assert.equal(stat.mode, modeBits(mode), `${path} mode`);
  }
  assert.equal(await sim.readText('/sys/bus/iio/devices/iio:device0/dev'), '253:0\n');
  assert.equal(await sim.readText('/sys/bus/iio/devices/iio:device1/dev'), '253:1\n');
});
