// Every scenario recorded on Linux 6.12.117 (../shared/fixtures/linux-6.12-probe.txt) has a
// conformance case of the same name, and that case expects what the recording says. The
// recording's results are free text (`EBUSY`, `0 fd=4 cloexec=1 accmode=O_RDWR ...`,
// `status=-4 (EINTR)`, `ready(revents=0x1)`, `length=4096 watermark=2048`), so the comparison is
// made on the facts that can be read off it, each of which the case's source must assert:
//  - every errno the result names (outside parentheses) appears as a code the case expects,
//    and the case expects no errno the result does not name (unless listed in DIVERGENT below,
//    with the reason);
//  - `status=N` (a fence or sync_file status): the case compares a status with N;
//  - `key=NNN` (a size, length, offset...): the case uses the number, literally or by a name
//    listed in ALIASES;
//  - `cloexec=1|0`, `accmode=O_RDWR`, `nonblock=0`: the case checks FD_CLOEXEC (or 0), O_RDWR
//    and a clear O_NONBLOCK;
//  - `revents=0xN`: the case polls for that event (POLLIN, POLLPRI, POLLOUT).
// For a MISMATCH line the result is what Linux did, against kernel-abi's expectation: the case
// must expect what Linux did.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readShared } from './support/shared.js';

interface Recorded {
  name: string;
  call: string;
  result: string;
  verdict: 'MATCH' | 'MISMATCH';
}

/** The SCENARIO lines: `SCENARIO <name>: <call> -> <result> (expected per <...>) MATCH|MISMATCH`. */
function recorded(): Map<string, Recorded> {
  const out = new Map<string, Recorded>();
  for (const line of readShared('fixtures/linux-6.12-probe.txt').split('\n')) {
    if (!line.startsWith('SCENARIO ')) continue;
    // The call never contains " -> "; the result may ("RW MAP_SHARED mmap -> EACCES; ...").
    const m = /^SCENARIO ([A-Za-z0-9_]+): (.*?) -> (.*) \(expected per .*\) (MATCH|MISMATCH)$/.exec(line);
    assert.ok(m !== null, `unparsed recording line: ${line}`);
    const entry: Recorded = { name: m[1]!, call: m[2]!, result: m[3]!, verdict: m[4] as Recorded['verdict'] };
    const before = out.get(entry.name);
    assert.ok(before === undefined || before.result === entry.result, `${entry.name} recorded twice with different results`);
    out.set(entry.name, entry);
  }
  return out;
}

/**
 * The source of each conformance case: from `scenario('<name>'` to its closing `});`. A scenario
 * recorded in two boots (rmmod_with_devfd_open) has a case for each.
 */
function cases(): Map<string, string[]> {
  const dir = fileURLToPath(new URL('../../test/', import.meta.url));
  const out = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.startsWith('conformance-') && f.endsWith('.test.ts'))) {
    const source = readFileSync(dir + file, 'utf8');
    for (const match of source.matchAll(/^scenario\(\s*'([A-Za-z0-9_]+)'/gm)) {
      const end = source.indexOf('\n});', match.index);
      assert.ok(end > 0, `${file}: ${match[1]} has no closing "});" at the start of a line`);
      out.set(match[1]!, [...out.get(match[1]!) ?? [], source.slice(match.index, end)]);
    }
  }
  return out;
}

/** Names a case may use for a recorded number (the recording ran with 4 KiB pages). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  '65536': ['SIZE_64K'],
  '4096': ['pageSize'],
  '2048': ['pageSize / 2'],
};

/** Errnos a case expects that its recording does not show, and why that is still the recording's outcome. */
const DIVERGENT: Readonly<Record<string, { errno: string; why: string }>> = {
  dmabuf_fdinfo: { errno: 'ENOTTY', why: 'the port has no /proc: the fd name is read off the path of an error from an unknown ioctl (dmabuf_unknown_ioctl)' },
  read_nonblock_after_attach: { errno: 'ENOTRECOVERABLE', why: 'Linux oopses and kills the task; the sim reports the oops as ENOTRECOVERABLE and wedges the buffer' },
};

const POLL_BITS: Readonly<Record<string, string>> = { '1': 'POLLIN', '2': 'POLLPRI', '4': 'POLLOUT' };

/** What the case's source fails to expect of the recorded result (empty when it agrees). */
function disagreements(rec: Recorded, body: string): string[] {
  const problems: string[] = [];
  const outside = rec.result.replace(/\([^)]*\)/g, '');
  const named = new Set([...outside.matchAll(/\bE[A-Z]{2,}\b/g)].map((m) => m[0]));
  const expected = new Set([...body.matchAll(/'(E[A-Z]{2,})'/g)].map((m) => m[1]!));
  for (const errno of named) if (!expected.has(errno)) problems.push(`recorded ${errno}, the case does not expect it`);
  for (const errno of expected) {
    if (!named.has(errno) && DIVERGENT[rec.name]?.errno !== errno) problems.push(`the case expects ${errno}, the recording shows none`);
  }
  for (const m of rec.result.matchAll(/\bstatus=(-?\d+)/g)) {
    if (!new RegExp(`status\\b[^\\n]*?[,:] ?${m[1]}\\b`).test(body)) problems.push(`recorded status ${m[1]}, the case compares no status with it`);
  }
  for (const m of rec.result.matchAll(/\b([a-z_]+(?:\([A-Z_]+\))?)=(\d{2,})\b/g)) {
    const names = [m[2]!, ...(ALIASES[m[2]!] ?? [])];
    if (!names.some((n) => body.includes(n))) problems.push(`recorded ${m[1]}=${m[2]}, the case does not use ${names.join(' or ')}`);
  }
  if (/\bcloexec=1\b/.test(rec.result) && !body.includes('FD_CLOEXEC')) problems.push('recorded cloexec=1, the case does not check FD_CLOEXEC');
  if (/\bcloexec=0\b/.test(rec.result) && !/F_GETFD\), 0\)/.test(body)) problems.push('recorded cloexec=0, the case does not check F_GETFD is 0');
  if (/\baccmode=O_RDWR\b/.test(rec.result) && !body.includes('O_RDWR')) problems.push('recorded accmode=O_RDWR, the case does not check it');
  if (/\bnonblock=0\b/.test(rec.result) && !/O_NONBLOCK, 0\)/.test(body)) problems.push('recorded nonblock=0, the case does not check O_NONBLOCK is clear');
  for (const m of rec.result.matchAll(/revents=0x(\d)/g)) {
    const bit = POLL_BITS[m[1]!];
    if (bit !== undefined && !body.includes(bit)) problems.push(`recorded revents ${bit}, the case does not poll for it`);
  }
  return problems;
}

test('every recorded probe scenario has a conformance case named after it, expecting what Linux did', () => {
  const recording = recorded();
  assert.ok(recording.size > 150, `only ${recording.size} scenarios parsed`);
  const bodies = cases();
  const missing = [...recording.keys()].filter((name) => !bodies.has(name));
  assert.deepEqual(missing, [], `${missing.length} recorded scenarios have no conformance case`);
  const wrong = [...recording.values()].flatMap((rec) =>
    bodies.get(rec.name)!.flatMap((body) => disagreements(rec, body)).map((p) => `${rec.name} (${rec.verdict}: ${rec.result}): ${p}`));
  assert.deepEqual(wrong, [], `${wrong.length} cases disagree with the recording`);
  // Each divergence still applies: the recording shows no such errno and the case expects it.
  for (const [name, { errno }] of Object.entries(DIVERGENT)) {
    assert.ok(bodies.get(name)?.some((body) => body.includes(`'${errno}'`)) && !recording.get(name)!.result.includes(errno), `DIVERGENT.${name} is stale`);
  }
});

test('the comparison catches a case that expects something else than the recording', () => {
  const rec = (result: string): Recorded => ({ name: 'x', call: 'c', result, verdict: 'MATCH' });
  assert.deepEqual(disagreements(rec('EBUSY'), "assert.throws(() => f(), { code: 'EBUSY' });"), []);
  assert.equal(disagreements(rec('EBUSY'), "assert.throws(() => f(), { code: 'EINVAL' });").length, 2);
  assert.equal(disagreements(rec('0'), "assert.throws(() => f(), { code: 'EPERM' });").length, 1);
  assert.equal(disagreements(rec('status=-4 (EINTR)'), 'assert.equal(info.status, 1);').length, 1);
  assert.deepEqual(disagreements(rec('status=-4 (EINTR)'), 'assert.equal(info.status, -4);'), []);
  assert.equal(disagreements(rec('ok, lseek(SEEK_END)=4096'), 'assert.equal(k.lseek(fd, 0, SEEK_END), 8192);').length, 1);
  assert.equal(disagreements(rec('ready(revents=0x4)'), 'await pollFor(k, fd, POLLIN, 0);').length, 1);
  assert.equal(disagreements(rec('0 fd=4 cloexec=1'), 'assert.ok(fd >= 0);').length, 1);
});
