// Syscalls per captured DMABUF block on the real kernel (run inside the lab guest by bench/run.ts
// through vm/run-guest.sh), counted by `strace -f -c` over the whole process (every thread, the
// runtime's own calls included): the library's `for await` loop with fence checks (the default)
// and with `checkTransfers: false`, beside the C loop of bench/c/dmabuf-capture.c doing the same
// (checked) and as libiio does it (plain). Each is run for two lengths; the difference of the
// counts over the difference of the blocks is the cost of one block, start-up and shutdown
// cancelled out. Device: the lab module's vadc-dma with a null DMA (blocks complete at once).
// Prints one line `IIOJS-BENCH <json>`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openContext } from '../src/open.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { resetLinuxLab } from '../test/support/linux-lab.js';
import { VADC } from '../test/support/probe-scenario.js';
import { machine, sig, type Row } from './stats.js';

const BLOCK_BYTES = 32 << 10;
const BLOCKS = 4;
/** Blocks of the short and the long library run. */
const LIBRARY_RUNS = [300, 1300] as const;
/** Milliseconds of the short and the long C run (it counts the blocks it moved). */
const C_RUNS_MS = [200, 1000] as const;
const PARAMS = '/sys/module/iio_vadc_dma/parameters';
const script = fileURLToPath(import.meta.url);
const cBinary = fileURLToPath(new URL('../../bench/out/dmabuf-capture', import.meta.url));

/** The child: captures `blocks` blocks and exits. */
async function capture(blocks: number, checkTransfers: boolean): Promise<void> {
  await using ctx = await openContext('local:');
  await using stream = await ctx.device(VADC.name).buffer(0).open({ blockSize: BLOCK_BYTES / 4, blocks: BLOCKS, mode: 'dmabuf', timeoutMs: 5000, checkTransfers });
  let n = 0;
  for await (const block of stream) {
    void block;
    if (++n === blocks) break;
  }
}

interface Count {
  blocks: number;
  /** Calls by syscall name. */
  calls: Map<string, number>;
}

/** Runs `command` under strace -f -c; `blocksOf` reads how many blocks it moved from its stdout. */
function counted(command: readonly string[], blocksOf: (stdout: string) => number): Count {
  const dir = mkdtempSync(join(process.env['TMPDIR'] ?? '/tmp', 'iiojs-strace-'));
  try {
    const out = join(dir, 'summary');
    const stdout = execFileSync('strace', ['-f', '-c', '-o', out, ...command], { encoding: 'utf8' });
    return { blocks: blocksOf(stdout), calls: parseSummary(readFileSync(out, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** strace -c's table: `% time seconds usecs/call calls [errors] syscall`. */
function parseSummary(text: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^\d+(\.\d+)?$/.test(f[0]!) || f[f.length - 1] === 'total') continue;
    calls.set(f[f.length - 1]!, Number(f[3]));
  }
  if (calls.size === 0) throw new Error(`strace printed no summary:\n${text}`);
  return calls;
}

interface PerBlock {
  total: number;
  /** Calls per block by syscall, the ones above 0.05. */
  bySyscall: Record<string, number>;
  blocks: [number, number];
}

function perBlock(short: Count, long: Count): PerBlock {
  const blocks = long.blocks - short.blocks;
  if (blocks <= 0) throw new Error(`the long run moved ${long.blocks} blocks, the short one ${short.blocks}`);
  const bySyscall: Record<string, number> = {};
  let total = 0;
  for (const name of new Set([...short.calls.keys(), ...long.calls.keys()])) {
    const d = ((long.calls.get(name) ?? 0) - (short.calls.get(name) ?? 0)) / blocks;
    total += d;
    if (Math.abs(d) >= 0.05) bySyscall[name] = sig(d);
  }
  return { total: sig(total), bySyscall, blocks: [short.blocks, long.blocks] };
}

function library(checkTransfers: boolean): PerBlock {
  const run = (blocks: number): Count =>
    counted([process.execPath, script, '--child', String(blocks), checkTransfers ? 'checked' : 'unchecked'], () => blocks);
  return perBlock(run(LIBRARY_RUNS[0]), run(LIBRARY_RUNS[1]));
}

function c(variant: 'plain' | 'checked'): PerBlock {
  const run = (ms: number): Count =>
    counted([cBinary, VADC.sys, VADC.dev, String(BLOCK_BYTES), String(BLOCKS), String(ms), variant], (stdout) => (JSON.parse(stdout) as { blocks: number }).blocks);
  return perBlock(run(C_RUNS_MS[0]), run(C_RUNS_MS[1]));
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  await capture(Number(process.argv[childAt + 1]), process.argv[childAt + 2] === 'checked');
  process.exit(0);
}

resetLinuxLab(new LinuxKernel());
writeFileSync(`${PARAMS}/delay_us`, '0');
writeFileSync(`${PARAMS}/null_dma`, 'Y');
for (const ch of ['in_voltage0_en', 'in_voltage1_en']) writeFileSync(`${VADC.sys}/buffer0/${ch}`, '1'); // the C loop's precondition
const checked = library(true);
const unchecked = library(false);
const cChecked = c('checked');
const cPlain = c('plain');
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const rows: Row[] = [
  { figure: 'syscalls per captured block (real 6.12, lab), DMABUF, 32 KiB, fence checks', value: checked.total, unit: 'syscalls',
    baseline: { name: 'C loop with the same fence-error check', value: cChecked.total, unit: 'syscalls' }, ratio: sig(checked.total / cChecked.total),
    goal: '≤ 7', met: checked.total <= 7 },
  { figure: 'syscalls per captured block (real 6.12, lab), DMABUF, 32 KiB, checkTransfers: false', value: unchecked.total, unit: 'syscalls',
    baseline: { name: 'C loop as libiio does it', value: cPlain.total, unit: 'syscalls' }, ratio: sig(unchecked.total / cPlain.total),
    goal: '≤ 4', met: unchecked.total <= 4 },
];
console.log(`IIOJS-BENCH ${JSON.stringify({ benchmark: 'lab-syscalls', machine: { ...machine(), kernel, guest: 'QEMU TCG, 1 vCPU' }, blockBytes: BLOCK_BYTES, blocks: BLOCKS,
  counter: 'strace -f -c, whole process', library: { checked, unchecked }, c: { checked: cChecked, plain: cPlain }, rows })}`);
