// Cost of one addon ioctl call and one readiness (poll) round-trip through the Linux port,
// against the same syscalls issued from C in the same run (bench/c/syscalls.c, built here with
// the system C compiler). Prints JSON.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAddon } from '../src/kernel/linux/addon.js';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { machine, summarize, timeAsync, timeSync, sig, spreadOf, type Row } from './stats.js';

const RUNS = 15;
const ITERATIONS = 100_000;
const FIONREAD = 0x541b;

function cBaseline(): { ioctl: number[]; poll: number[] } {
  const source = fileURLToPath(new URL('../../bench/c/syscalls.c', import.meta.url));
  const outDir = fileURLToPath(new URL('../../bench/out/', import.meta.url));
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, 'syscalls');
  execFileSync('cc', ['-O2', '-o', binary, source]);
  return JSON.parse(execFileSync(binary, [String(RUNS), String(ITERATIONS)], { encoding: 'utf8' })) as {
    ioctl: number[];
    poll: number[];
  };
}

const kernel = new LinuxKernel();
const addon = loadAddon();
const c = addon.constants;

// ioctl(FIONREAD) on a memfd: a real syscall with a byte-buffer argument that succeeds.
const memfd = kernel.memfdCreate('iiojs-bench', c.MFD_CLOEXEC);
kernel.ftruncate(memfd, 4096);
const avail = new Int32Array(1);
const ioctlPort = timeSync(() => void kernel.ioctl(memfd, FIONREAD, avail), ITERATIONS, RUNS);
const ioctlRaw = timeSync(() => void addon.ioctl(memfd, FIONREAD, avail), ITERATIONS, RUNS);

// Readiness round-trip on a FIFO (a pipe Node can open): start waiting, make the fd readable,
// wake through libuv's epoll, read the byte back. And the same when the fd is already ready.
const dir = mkdtempSync(join(tmpdir(), 'iiojs-bench-'));
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const fifoFd = await kernel.open(fifo, c.O_RDWR | c.O_NONBLOCK);
const one = Buffer.from([1]);
const pollWait = await timeAsync(async () => {
  const ready = kernel.poll(fifoFd, c.POLLIN);
  writeSync(fifoFd, one);
  await ready;
  readSync(fifoFd, one);
}, ITERATIONS / 10, RUNS);
const pollReady = await timeAsync(async () => {
  writeSync(fifoFd, one);
  await kernel.poll(fifoFd, c.POLLIN);
  readSync(fifoFd, one);
}, ITERATIONS / 10, RUNS);
kernel.close(fifoFd);
kernel.close(memfd);
rmSync(dir, { recursive: true });

const baseline = cBaseline();
const report = {
  benchmark: 'addon-syscalls',
  machine: machine(),
  unit: 'ns per operation',
  figures: {
    ioctl: {
      port: summarize(ioctlPort),
      addon: summarize(ioctlRaw),
      c: summarize(baseline.ioctl),
    },
    pollRoundTrip: {
      portWaiting: summarize(pollWait),
      portAlreadyReady: summarize(pollReady),
      c: summarize(baseline.poll),
    },
  },
};
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
const f = report.figures;
const rows: Row[] = [
  { figure: 'addon ioctl(FIONREAD) through the Kernel port', value: sig(f.ioctl.port.median), unit: 'ns', spread: spreadOf(f.ioctl.port, 0),
    baseline: { name: 'the same ioctl from C', value: sig(f.ioctl.c.median), unit: 'ns' }, ratio: ratio(f.ioctl.port.median, f.ioctl.c.median) },
  { figure: 'readiness round trip (poll), waiting', value: sig(f.pollRoundTrip.portWaiting.median), unit: 'ns', spread: spreadOf(f.pollRoundTrip.portWaiting, 0),
    baseline: { name: 'C poll() round trip', value: sig(f.pollRoundTrip.c.median), unit: 'ns' }, ratio: ratio(f.pollRoundTrip.portWaiting.median, f.pollRoundTrip.c.median) },
  { figure: 'readiness round trip (poll), already ready', value: sig(f.pollRoundTrip.portAlreadyReady.median), unit: 'ns', spread: spreadOf(f.pollRoundTrip.portAlreadyReady, 0),
    baseline: { name: 'C poll() round trip', value: sig(f.pollRoundTrip.c.median), unit: 'ns' }, ratio: ratio(f.pollRoundTrip.portAlreadyReady.median, f.pollRoundTrip.c.median) },
];
process.stdout.write(
  JSON.stringify(
    {
      ...report,
      rows,
      ratios: {
        ioctlPortVsC: ratio(report.figures.ioctl.port.median, report.figures.ioctl.c.median),
        pollWaitingVsC: ratio(report.figures.pollRoundTrip.portWaiting.median, report.figures.pollRoundTrip.c.median),
      },
    },
    null,
    2,
  ) + '\n',
);
