// Capture throughput on the real kernel (run inside the lab guest by bench/run.ts through
// vm/run-guest.sh): our library's `for await` DMABUF loop against a C program doing the same
// DMABUF loop (bench/c/dmabuf-capture.c) on the same device, in the same boot, alternating runs.
// Device: the lab module's vadc-dma (2 × u16), with its "DMA" either null (blocks complete
// without touching memory: the cost of the software stack per block) or filling the pattern.
// The C loop runs twice: as libiio does it (plain) and with iiojs's fence-error check (checked),
// which tells the language's share of the difference from the design's.
// The guest is QEMU TCG (no KVM here): V8's JIT code runs emulated, so a calibration runs the
// same library loop over the simulated kernel (pure JS, no syscalls) in the guest and, with
// `--calibrate`, on the host: their ratio is what emulation costs JavaScript.
// Prints one line `IIOJS-BENCH <json>` (the guest's console carries other lines too).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openContext } from '../src/open.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { resetLinuxLab } from '../test/support/linux-lab.js';
import { VADC } from '../test/support/probe-scenario.js';
import { machine, sig, spreadOf, summarize, type Row, type Summary } from './stats.js';

const RUN_MS = 2000;
/** V8 optimises the loop after some thousands of blocks; under emulation that takes seconds. */
const WARM_UP_MS = 4000;
const ROUNDS = 3;
const BLOCKS = 4;
const PARAMS = '/sys/module/iio_vadc_dma/parameters';
const binary = fileURLToPath(new URL('../../bench/out/dmabuf-capture', import.meta.url));

interface Run {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

function runC(blockBytes: number, variant: 'plain' | 'checked'): Run {
  const { sys, dev: node } = VADC; // resetLinuxLab makes the probe's devices, in its numbering
  for (const ch of ['in_voltage0_en', 'in_voltage1_en']) writeFileSync(`${sys}/buffer0/${ch}`, '1');
  const out = execFileSync(binary, [sys, node, String(blockBytes), String(BLOCKS), String(RUN_MS), variant], { encoding: 'utf8' });
  return JSON.parse(out) as Run;
}

async function runLibrary(blockBytes: number, ms = RUN_MS): Promise<Run> {
  await using ctx = await openContext('local:');
  await using stream = await ctx.device('vadc-dma').buffer(0).open({ blockSize: blockBytes / 4, blocks: BLOCKS, mode: 'dmabuf', timeoutMs: 5000 });
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(ms) * 1_000_000n;
  for await (const block of stream) {
    bytes += block.bytesUsed;
    if (process.hrtime.bigint() >= end) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { bytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const mbps = (r: Run): number => r.bytes / r.seconds / 1e6;
const cpuPerGB = (r: Run): number => r.cpuSeconds / (r.bytes / 1e9);

interface Figures {
  mbps: Summary;
  cpuSecondsPerGB: Summary;
  usPerBlock: Summary;
}

interface Case {
  dma: 'null' | 'pattern';
  blockBytes: number;
  library: Figures;
  cPlain: Figures;
  cChecked: Figures;
  libraryOverCPlain: number;
  libraryOverCChecked: number;
}

async function compare(dma: 'null' | 'pattern', blockBytes: number): Promise<Case> {
  writeFileSync(`${PARAMS}/null_dma`, dma === 'null' ? 'Y' : 'N');
  const runs: Record<'library' | 'cPlain' | 'cChecked', Run[]> = { library: [], cPlain: [], cChecked: [] };
  await runLibrary(blockBytes, WARM_UP_MS);
  for (let round = 0; round < ROUNDS; round++) {
    runs.cPlain.push(runC(blockBytes, 'plain'));
    runs.library.push(await runLibrary(blockBytes));
    runs.cChecked.push(runC(blockBytes, 'checked'));
  }
  const figures = (rs: Run[]): Figures => ({
    mbps: summarize(rs.map(mbps)),
    cpuSecondsPerGB: summarize(rs.map(cpuPerGB)),
    usPerBlock: summarize(rs.map((r) => r.seconds / (r.bytes / blockBytes) * 1e6)),
  });
  const [library, cPlain, cChecked] = [figures(runs.library), figures(runs.cPlain), figures(runs.cChecked)];
  return {
    dma, blockBytes, library, cPlain, cChecked,
    libraryOverCPlain: sig(library.mbps.median / cPlain.mbps.median),
    libraryOverCChecked: sig(library.mbps.median / cChecked.mbps.median),
  };
}

/** µs per block of the library's capture loop on the sim, null DMA, 64 KiB blocks (median). */
async function simLoopUsPerBlock(): Promise<number> {
  const sim = new SimKernel({
    timeMode: 'fast',
    scenario: { devices: [{ name: 'calib', samplingFrequency: 10_000_000, buffers: [{ direction: 'in', kind: 'dma' }], channels: [0, 1].map((i) => ({ type: 'voltage', index: i, scanIndex: i, format: 'le:u16/16>>0' })) }] },
  });
  sim.iio.device('calib').buffer(0).dmaMode = 'null';
  await using ctx = await Context.open(new LocalBackend(sim));
  await using stream = await ctx.device('calib').buffer(0).open({ blockSize: 16384, blocks: BLOCKS, mode: 'dmabuf' });
  const us: number[] = [];
  let t = process.hrtime.bigint();
  let n = 0;
  for await (const block of stream) {
    void block;
    const now = process.hrtime.bigint();
    if (n++ >= 500) us.push(Number(now - t) / 1000);
    t = now;
    if (n === 2500) break;
  }
  return summarize(us).median;
}

if (process.argv.includes('--calibrate')) {
  console.log(`IIOJS-BENCH ${JSON.stringify({ simLoopUsPerBlock: await simLoopUsPerBlock() })}`);
  process.exit(0);
}

resetLinuxLab(new LinuxKernel());
writeFileSync(`${PARAMS}/delay_us`, '0');
const cases = [];
for (const [dma, bytes] of [['null', 64 << 10], ['null', 1 << 20], ['pattern', 1 << 20]] as const) cases.push(await compare(dma, bytes));
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const simLoop = await simLoopUsPerBlock();
const rows: Row[] = cases.flatMap((c) => {
  const label = `${c.dma === 'null' ? 'null DMA' : 'pattern DMA'}, ${c.blockBytes >> 10} KiB blocks`;
  const lib = c.library.mbps;
  return [
    { figure: `lab capture (real 6.12, TCG guest), ${label}: library`, value: sig(lib.median), unit: 'MB/s', spread: spreadOf(lib, 0),
      baseline: { name: 'C DMABUF loop as libiio does it', value: sig(c.cPlain.mbps.median), unit: 'MB/s' }, ratio: c.libraryOverCPlain },
    { figure: `lab capture, ${label}: library`, value: sig(lib.median), unit: 'MB/s',
      baseline: { name: 'C loop with the same fence-error check', value: sig(c.cChecked.mbps.median), unit: 'MB/s' }, ratio: c.libraryOverCChecked },
  ];
});
console.log(`IIOJS-BENCH ${JSON.stringify({ benchmark: 'lab-capture', machine: { ...machine(), kernel, guest: 'QEMU TCG, 1 vCPU' }, runMs: RUN_MS, warmUpMs: WARM_UP_MS, rounds: ROUNDS, blocks: BLOCKS, cases, simLoopUsPerBlock: simLoop, rows })}`);
