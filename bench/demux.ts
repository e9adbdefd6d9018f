// Demux/mux throughput (src/samples) against the same loops in C (bench/c/demux.c, built here
// with `cc -O2`) in the same run. Blocks of 131072 scans (1 MiB for 4 × int16). Prints JSON:
// ns per block (median, p10, p90 over the runs), GB/s of block bytes, and JS/C speed ratios
// (> 1: faster than C).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlockLayout } from '../src/samples/index.js';
import { demuxChannel } from '../src/samples/demux.js';
import { demuxGeneral, muxGeneral } from '../src/samples/general.js';
import { muxChannel } from '../src/samples/mux.js';
import { kernel } from '../src/samples/simd.js';
import { machine, summarize, timeSync, type Summary, type Row } from './stats.js';

const RUNS = 15;
const SCANS = 131072;

function cBaseline(): Record<string, number[]> {
  const source = fileURLToPath(new URL('../../bench/c/demux.c', import.meta.url));
  const outDir = fileURLToPath(new URL('../../bench/out/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, 'demux');
  execFileSync('cc', ['-O2', '-o', binary, source]);
  return JSON.parse(execFileSync(binary, [String(RUNS), '100', String(SCANS)], { encoding: 'utf8' })) as Record<string, number[]>;
}

function randomBytes(block: Uint8Array): Uint8Array {
  let x = 0x9e3779b9;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = x & 0xff;
  }
  return block;
}

const channels = (type: string) => [0, 1, 2, 3].map((i) => ({ id: `voltage${i}`, index: i, type }));
const int16x4 = new BlockLayout(channels('le:s16/16>>0'));
const be12x4 = new BlockLayout(channels('be:s12/16>>4'));
const withTimestamp = new BlockLayout([...channels('le:s16/16>>0'), { id: 'timestamp', index: 4, type: 'le:s64/64>>0', timestamp: true }]);

const block = randomBytes(int16x4.allocate(SCANS));
const outs = Object.fromEntries(int16x4.channels.map((ch) => [ch.id, new Int16Array(SCANS)]));
const outList = int16x4.channels.map((ch) => outs[ch.id]!);
const tsBlock = randomBytes(withTimestamp.allocate(SCANS));
const tsOut = new BigInt64Array(SCANS);
const ts = withTimestamp.channel('timestamp');

const js: Record<string, { ns: number[]; bytes: number; c?: string }> = {};
const time = (name: string, bytes: number, op: () => void, iterations: number, c?: string) => {
  js[name] = { ns: timeSync(op, iterations, RUNS), bytes, ...(c === undefined ? {} : { c }) };
};

// Demux 4 × int16: the public call (SIMD kernel for packed layouts), one channel alone (also
// SIMD: the kernel decodes all four), the per-channel JS fast path (what runs without wasm
// SIMD, or for layouts that are not packed), and the general byte-by-byte path.
time('demux4x16', block.length, () => void int16x4.samplesAllInto(block, outs), 100, 'demux4x16');
time('demux4x16.oneChannel', block.length, () => void int16x4.samplesInto(block, 'voltage0', outList[0]!), 100);
time('demux4x16.jsPerChannel', block.length, () => {
  for (const [i, ch] of int16x4.channels.entries()) demuxChannel(int16x4.scanBytes, ch, block, 0, SCANS, outList[i]!);
}, 50, 'demux4x16');
time('demux4x16.general', block.length, () => {
  for (const [i, ch] of int16x4.channels.entries()) demuxGeneral(int16x4.scanBytes, ch, block, 0, SCANS, outList[i]!);
}, 5, 'demux4x16');

// Mux 4 × int16: the inverse three ways.
const target = int16x4.allocate(SCANS);
time('mux4x16', block.length, () => void int16x4.fill(target, outs), 100, 'mux4x16');
time('mux4x16.jsPerChannel', block.length, () => {
  for (const [i, ch] of int16x4.channels.entries()) muxChannel(int16x4.scanBytes, ch, target, 0, SCANS, outList[i]!);
}, 50, 'mux4x16');
time('mux4x16.general', block.length, () => {
  for (const [i, ch] of int16x4.channels.entries()) muxGeneral(int16x4.scanBytes, ch, target, 0, SCANS, outList[i]!);
}, 5, 'mux4x16');

// A format that needs work per value: big-endian 12-bit, shifted by 4 (the JS word path).
time('demux4x12be', block.length, () => void be12x4.samplesAllInto(block, outs), 50, 'word4x12be');

// The 64-bit timestamp of 16-byte scans into a BigInt64Array (two 32-bit word copies each).
time('timestamp', tsBlock.length, () => void withTimestamp.samplesInto(tsBlock, ts, tsOut), 100, 'timestamp');

const c = cBaseline();
const gbps = (bytes: number, s: Summary) => ({
  median: round(bytes / s.median), p10: round(bytes / s.p90), p90: round(bytes / s.p10),
});
const round = (x: number) => Math.round(x * 100) / 100;
const figures: Record<string, unknown> = {};
const ratios: Record<string, number> = {};
for (const [name, { ns, bytes, c: baseline }] of Object.entries(js)) {
  const s = summarize(ns);
  const entry: Record<string, unknown> = { nsPerBlock: s, gbps: gbps(bytes, s) };
  if (baseline !== undefined) {
    const cs = summarize(c[baseline]!);
    entry['c'] = { nsPerBlock: cs, gbps: gbps(bytes, cs) };
    ratios[`${name}VsC`] = Number((cs.median / s.median).toPrecision(3));
  }
  figures[name] = entry;
}
const titles: Record<string, string> = {
  demux4x16: 'demux 4 × int16 → 4 arrays (wasm SIMD)',
  mux4x16: 'mux 4 arrays → 4 × int16 (wasm SIMD)',
  demux4x12be: 'demux 4 × be:s12/16>>4',
  timestamp: 'demux s64 timestamp of 16-byte scans',
};
const rows: Row[] = Object.entries(titles).map(([name, figure]) => {
  const s = summarize(js[name]!.ns);
  const g = gbps(js[name]!.bytes, s);
  const base = js[name]!.c;
  const row: Row = { figure, value: g.median, unit: 'GB/s', spread: `p10–p90 ${g.p10}–${g.p90}` };
  if (base !== undefined) {
    const cs = summarize(c[base]!);
    row.baseline = { name: 'C -O2 loop, same data', value: gbps(js[name]!.bytes, cs).median, unit: 'GB/s' };
    row.ratio = ratios[`${name}VsC`]!;
    if (name === 'demux4x16') {
      row.goal = '≥ 1.0× of C';
      row.met = row.ratio >= 1;
    }
  }
  return row;
});
process.stdout.write(JSON.stringify({
  benchmark: 'demux',
  rows,
  machine: machine(),
  scans: SCANS,
  simd: kernel('unzip', 2, 4) !== null,
  unit: 'ns per block; GB/s of block bytes (p10/p90 of the runs)',
  figures,
  ratios,
  note: 'ratios are C time / JS time: above 1 the JS path is faster than the C loop',
}, null, 2) + '\n');
