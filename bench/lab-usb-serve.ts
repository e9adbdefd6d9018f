// Serving IIO over USB on the real kernel (run inside the lab guest by bench/run.ts through
// vm/run-guest.sh, whose default boot has dummy_hcd.sg=1): the same device (the lab module's
// vadc-dma, 2 × u16, null DMA: blocks complete without the module touching them, so the figures
// are the serving stack's), the same link (dummy_hcd, high speed) and the same reader
// (libiio 0.24's `iio_readdev -u usb:`, 1 MiB blocks), served by Debian's `iiod -F` (libiio
// 0.24: read() from IIO, write() into FunctionFS), by `iio serve --usb` with its zero-copy path
// (FUNCTIONFS_DMABUF_TRANSFER of each capture block) and by `iio serve --usb --copy`. Rounds
// alternate the three. Each server first serves one unmeasured iio_readdev (V8's JIT, emulated
// here, takes seconds to compile the streaming paths; iiod gets the same warm-up), then the
// measured one: throughput counted on the reader's output from its first byte to its exit
// (context creation excluded), CPU the server process's utime + stime over the same span
// (/proc/<pid>/stat, every thread).
// Prints one line `IIOJS-BENCH <json>` (the guest's console carries other lines too).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LinuxKernel } from '../src/kernel/linux/index.js';
import { DEFAULT_USB_IDS } from '../src/server/iiod/index.js';
import { resetLinuxLab } from '../test/support/linux-lab.js';
import { createFfsGadget, endpointFiles, findUsbDevice, usbDeviceGone } from '../test/support/usb-gadget.js';
import { machine, sig, spreadOf, summarize, type Row, type Summary } from './stats.js';

const ROUNDS = 3;
const BLOCK_SAMPLES = 262_144; // × 4 bytes: 1 MiB, libiio's largest USB transfer
const SAMPLES = 96 * BLOCK_SAMPLES; // 96 MiB a measured run
const WARM_UP_SAMPLES = 16 * BLOCK_SAMPLES;
const PARAMS = '/sys/module/iio_vadc_dma/parameters';
const IIO_BIN = fileURLToPath(new URL('../src/cli/iio.js', import.meta.url));
const IIOD_IDS = { vendorId: 0x0456, productId: 0xb673 }; // Pluto's, as the lab's iiod gadget
const CLK_TCK = 100; // x86-64 USER_HZ
const ENUMERATED_MS = 30_000;

const kernel = new LinuxKernel();

type CaseName = 'iiod' | 'zeroCopy' | 'copy';

interface Run {
  bytes: number;
  seconds: number;
  cpuSeconds: number;
  /** Of which in the kernel (stime): the copies into FunctionFS, the ioctls, the waits. */
  systemSeconds: number;
  /** iio_readdev runs that failed before streaming (context or buffer refused) before this one streamed. */
  retries: number;
}

/** The process's user and system CPU seconds so far (all its threads). */
function cpuOf(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK }; // utime, stime: fields 14 and 15 of stat(5)
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Resolves with the child's stream text once `re` matches it; rejects if the child exits first. */
function untilOutput(child: ChildProcess, stream: NodeJS.ReadableStream, re: RegExp, what: string): Promise<string> {
  let text = '';
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (re.test(text)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what}: exited (${code}) first: ${text}`)));
  });
}

/** One iio_readdev of `samples` from vadc-dma, timed from its first byte; retried (`flaky`) if it failed before streaming. */
async function readdev(serverPid: number, samples: number, flaky = false): Promise<Run> {
  let last = '';
  for (let retries = 0; retries < 10; retries++) {
    const reader = spawn('iio_readdev', ['-u', 'usb:', '-b', String(BLOCK_SAMPLES), '-s', String(samples), 'vadc-dma', 'voltage0', 'voltage1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    reader.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let bytes = 0;
    let first: { at: bigint; bytes: number; cpu: { user: number; system: number } } | undefined;
    reader.stdout!.on('data', (d: Buffer) => {
      bytes += d.length;
      first ??= { at: process.hrtime.bigint(), bytes, cpu: cpuOf(serverPid) };
    });
    const code = await exited(reader);
    const end = { at: process.hrtime.bigint(), cpu: cpuOf(serverPid) };
    if (bytes === samples * 4 && first !== undefined) {
      const systemSeconds = end.cpu.system - first.cpu.system;
      return { bytes: bytes - first.bytes, seconds: Number(end.at - first.at) / 1e9, cpuSeconds: end.cpu.user - first.cpu.user + systemSeconds, systemSeconds, retries };
    }
    // Debian's iiod fails every second session over FunctionFS (usb.md §2), at the context, the
    // buffer or its first refill: tried again. Ours must not fail.
    if (bytes > 0 || !flaky) throw new Error(`iio_readdev exited ${code} after ${bytes} bytes: ${stderr}`);
    last = stderr;
  }
  throw new Error(`iio_readdev failed before streaming ten times in a row: ${last}`);
}

/** Debian's iiod -F on a gadget made as Pluto's init scripts make it (test/lab/usb-link.test.ts). */
async function withIiod(): Promise<Run & { path: string }> {
  const gadget = await createFfsGadget(kernel, { name: 'bench_iiod', ...IIOD_IDS, manufacturer: 'iiojs', product: 'lab iiod', configuration: 'iio' });
  const iiod = spawn('iiod', ['-F', gadget.mountpoint, '-n', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await endpointFiles(kernel, gadget, 6, 20_000);
    await gadget.bind();
    await gadget.hostDevice(ENUMERATED_MS);
    await readdev(iiod.pid!, WARM_UP_SAMPLES, true);
    return { ...(await readdev(iiod.pid!, SAMPLES, true)), path: 'iiod 0.24: read() from IIO, write() into FunctionFS' };
  } finally {
    // SIGKILL: over FunctionFS iiod 0.24 takes some 50 s to stop on SIGTERM (usb-link.test.ts).
    iiod.kill('SIGKILL');
    await exited(iiod);
    await gadget.close();
    await usbDeviceGone(kernel, { ...IIOD_IDS, timeoutMs: ENUMERATED_MS });
  }
}

/** `iio serve --usb` (zero-copy where it can, or --copy). */
async function withOurs(copy: boolean): Promise<Run & { path: string }> {
  const server = spawn(process.execPath, [IIO_BIN, 'serve', '-u', 'local:', '--usb', '--no-network', ...(copy ? ['--copy'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await untilOutput(server, server.stdout!, /\n/, 'iio serve');
    await findUsbDevice(kernel, { ...DEFAULT_USB_IDS, timeoutMs: ENUMERATED_MS });
    await readdev(server.pid!, WARM_UP_SAMPLES);
    const run = await readdev(server.pid!, SAMPLES);
    const path = /\(vadc-dma\): (.*)/.exec(stderr)?.[1];
    if (path === undefined) throw new Error(`the server did not say which path vadc-dma's buffer took: ${stderr}`);
    return { ...run, path };
  } finally {
    server.kill('SIGINT');
    const code = await exited(server);
    if (code !== 0) throw new Error(`iio serve exited ${code}: ${stderr}`);
    await usbDeviceGone(kernel, { ...DEFAULT_USB_IDS, timeoutMs: ENUMERATED_MS });
  }
}

const mbps = (r: Run): number => r.bytes / r.seconds / 1e6;
const cpuPerGB = (r: Run): number => r.cpuSeconds / (r.bytes / 1e9);

resetLinuxLab(kernel);
writeFileSync(`${PARAMS}/null_dma`, 'Y');
writeFileSync(`${PARAMS}/delay_us`, '0');
const sg = readFileSync('/sys/module/dummy_hcd/parameters/sg', 'utf8').trim() === 'Y';
const runs: Record<CaseName, Array<Run & { path: string }>> = { iiod: [], zeroCopy: [], copy: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.iiod.push(await withIiod());
  runs.zeroCopy.push(await withOurs(false));
  runs.copy.push(await withOurs(true));
}
const figures = (rs: Run[]): { mbps: Summary; cpuSecondsPerGB: Summary; systemSecondsPerGB: Summary } => ({
  mbps: summarize(rs.map(mbps)), cpuSecondsPerGB: summarize(rs.map(cpuPerGB)), systemSecondsPerGB: summarize(rs.map((r) => r.systemSeconds / (r.bytes / 1e9))),
});
const [iiod, zeroCopy, copy] = [figures(runs.iiod), figures(runs.zeroCopy), figures(runs.copy)];
const osrelease = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
const label = `(lab, dummy_hcd sg=${sg ? 1 : 0}, vadc-dma null DMA, 1 MiB blocks)`;
const iiodBase = (unit: 'MB/s' | 's/GB') => ({
  name: 'Debian\'s iiod -F 0.24, same device, link and reader', value: sig(unit === 'MB/s' ? iiod.mbps.median : iiod.cpuSecondsPerGB.median), unit,
});
const zcRatio = zeroCopy.mbps.median / iiod.mbps.median;
const zcCpuRatio = zeroCopy.cpuSecondsPerGB.median / iiod.cpuSecondsPerGB.median;
const copyRatio = copy.mbps.median / iiod.mbps.median;
const rows: Row[] = [
  { figure: `iio serve --usb → iio_readdev -u usb: ${label}, zero-copy`, value: sig(zeroCopy.mbps.median), unit: 'MB/s', spread: spreadOf(zeroCopy.mbps, 1),
    baseline: iiodBase('MB/s'), ratio: sig(zcRatio), goal: '≥ 1.5× of iiod', met: zcRatio >= 1.5 },
  { figure: 'iio serve --usb, server CPU per GB sent, zero-copy', value: sig(zeroCopy.cpuSecondsPerGB.median), unit: 's/GB', spread: spreadOf(zeroCopy.cpuSecondsPerGB),
    baseline: iiodBase('s/GB'), ratio: sig(zcCpuRatio), goal: '≤ 0.3× of iiod', met: zcCpuRatio <= 0.3 },
  { figure: `iio serve --usb --copy → iio_readdev -u usb: ${label}`, value: sig(copy.mbps.median), unit: 'MB/s', spread: spreadOf(copy.mbps, 1),
    baseline: iiodBase('MB/s'), ratio: sig(copyRatio), goal: '≥ 1.0× of iiod', met: copyRatio >= 1.0 },
  { figure: 'iio serve --usb --copy, server CPU per GB sent', value: sig(copy.cpuSecondsPerGB.median), unit: 's/GB', spread: spreadOf(copy.cpuSecondsPerGB),
    baseline: iiodBase('s/GB'), ratio: sig(copy.cpuSecondsPerGB.median / iiod.cpuSecondsPerGB.median) },
];
console.log(`IIOJS-BENCH ${JSON.stringify({
  benchmark: 'lab-usb-serve', machine: { ...machine(), kernel: osrelease, guest: 'QEMU TCG, 2 vCPUs', dummyHcdSg: sg },
  rounds: ROUNDS, blockBytes: BLOCK_SAMPLES * 4, bytesPerRun: SAMPLES * 4, iiod, zeroCopy, copy,
  paths: { iiod: runs.iiod[0]!.path, zeroCopy: runs.zeroCopy[0]!.path, copy: runs.copy[0]!.path },
  retries: { iiod: runs.iiod.map((r) => r.retries), zeroCopy: runs.zeroCopy.map((r) => r.retries), copy: runs.copy.map((r) => r.retries) },
  rows,
})}`);
