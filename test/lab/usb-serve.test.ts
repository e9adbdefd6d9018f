// Our iiod server on the lab's USB device port (issue 16): `iio serve -u local: --usb
// --no-network` runs as a child process, makes its gadget on dummy_udc, and libiio 0.24's own
// usb: clients (iio_info, iio_attr, iio_readdev, iio_writedev, the Python bindings) in the same
// guest use it as they use iiod -F (usb.md §A1, §A2). vm/guest-tests.sh runs this file in the
// boot with dummy_hcd.sg=1, where the capture and playback blocks go by DMABUF (usb.md §A3, §A4),
// and in the one with sg=0, where ATTACH is EPERM and the copy path is used (§A5). Real-kernel
// tier only.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { DEFAULT_USB_IDS } from '../../src/server/iiod/index.js';
import { fnv1a } from '../support/checksum.js';
import { collect, exited, iio, spawnIio, type Collected } from '../support/cli.js';
import { assertSameListing, parseIioInfo, parseOurs } from '../support/iio-info-listing.js';
import { bootUnderTest } from '../support/kernel-under-test.js';
import { firstBadCount, firstBadScan, LAB_ADC_SCAN, labAdcScanAt } from '../support/lab-pattern.js';
import { DUMMY } from '../support/probe-scenario.js';
import { prng } from '../support/prng.js';
import { findUsbDevice, usbDeviceGone } from '../support/usb-gadget.js';

const { kernel } = bootUnderTest();
const SG = readFileSync('/sys/module/dummy_hcd/parameters/sg', 'utf8').trim() === 'Y';
const GADGET = '/sys/kernel/config/usb_gadget/iiojs';
const PYTHON = '/usr/bin/python3'; // Debian's, with python3-libiio
/** Generous: the guest is emulated (TCG) and the host side shares its two vCPUs. */
const TOOL_TIMEOUT_MS = 180_000;
const ENUMERATED_MS = 30_000;

let server: ReturnType<typeof spawnIio>;
let out: Collected;
let err: Collected;
let serverExit: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;

const stderrText = (): string => err.bytes().toString();

/** Waits for a line matching `re` in what the server wrote to stderr after `from` (a length of it). */
async function logged(from: number, re: RegExp, what: string): Promise<RegExpExecArray> {
  await Promise.race([
    err.until((b) => re.test(b.subarray(from).toString())),
    serverExit.then((s) => assert.fail(`the server exited (${s.status ?? s.signal}) before logging ${what}: ${stderrText()}`)),
  ]);
  return re.exec(stderrText().slice(from))!;
}

/** A libiio tool to completion, bounded. */
function tool(command: string, args: readonly string[], input?: Buffer): SpawnSyncReturns<Buffer> {
  const run = spawnSync(command, args, { input, timeout: TOOL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  if (run.error !== undefined) throw run.error;
  return run;
}

const failed = (run: SpawnSyncReturns<Buffer>): string => `exit ${run.status ?? run.signal}: ${run.stderr.toString()}\nserver: ${stderrText()}`;

/** What the server's own log says of the buffer of `device` a client opened after `from`. */
async function pathOf(from: number, device: string): Promise<{ pipe: number; path: string }> {
  const m = await logged(from, new RegExp(`^iio serve: usb pipe (\\d+): buffer0 of iio:device\\d+ \\(${device}\\): (.*)$`, 'm'), `${device}'s buffer path`);
  return { pipe: Number(m[1]), path: m[2]! };
}

/** sg=1: the buffer's blocks go by DMABUF; sg=0: copied, because the UDC refused the attach (usb.md §A5). */
function assertPath(path: string, endpoint: RegExp): void {
  if (SG) assert.match(path, new RegExp(`^zero-copy: .*${endpoint.source}.*FUNCTIONFS_DMABUF_TRANSFER`), path);
  else assert.match(path, new RegExp(`^copied: ${endpoint.source} takes no DMABUFs \\(EPERM from FUNCTIONFS_DMABUF_ATTACH: the UDC has no scatter-gather\\)$`), path);
}

before(async () => {
  server = spawnIio(['serve', '-u', 'local:', '--usb', '--no-network', '-v']);
  out = collect(server.stdout);
  err = collect(server.stderr);
  serverExit = exited(server);
  await Promise.race([
    out.until((b) => b.includes('\n')),
    serverExit.then((s) => assert.fail(`iio serve exited (${s.status ?? s.signal}): ${stderrText()}`)),
  ]);
  const first = out.bytes().toString().split('\n')[0]!;
  assert.match(first, /^serving local: over USB on dummy_udc\.0 \(gadget \/sys\/kernel\/config\/usb_gadget\/iiojs, FunctionFS at \/dev\/ffs-iiojs\), 3 pipes; hosts: -u usb:$/);
  await findUsbDevice(kernel, { ...DEFAULT_USB_IDS, timeoutMs: ENUMERATED_MS });
});

after(async () => {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGINT');
  const { status, signal } = await serverExit;
  assert.equal(status, 0, `iio serve ended with ${status ?? signal}: ${stderrText()}`);
  // Everything the server made is gone (configfs gadget, FunctionFS mount).
  assert.throws(() => readdirSync(GADGET), { code: 'ENOENT' });
  assert.throws(() => readdirSync('/dev/ffs-iiojs'), { code: 'ENOENT' });
});

test('iio_info -u usb: lists what iio info -u local: lists, ten times in a row (usb.md §2: Debian\'s iiod -F fails every second time)', () => {
  const local = iio(['info', '-u', 'local:']);
  assert.equal(local.status, 0, local.stderr);
  const ours = parseOurs(local.stdout.toString());
  for (const name of ['dummy0', 'vadc-dma', 'lab-adc', 'lab-dac', 't0', 'sysfstrig0']) assert.ok([...ours.values()].some((d) => d.name === name), name);
  for (let i = 1; i <= 10; i++) {
    const run = tool('iio_info', ['-u', 'usb:']);
    assert.equal(run.status, 0, `iio_info -u usb: run ${i} of 10: ${failed(run)}`);
    const text = run.stdout.toString();
    assert.match(text, /^IIO context created with usb backend\./m, `run ${i}`);
    assertSameListing(ours, parseIioInfo(text));
  }
});

test('iio_attr -u usb: reads and writes channel and device attributes; a refused write is the kernel\'s errno, logged by the server', async () => {
  const file = `${DUMMY.sys}/in_accel_x_calibbias`;
  const original = readFileSync(file, 'utf8').trim();
  const value = (run: SpawnSyncReturns<Buffer>): string => {
    assert.equal(run.status, 0, failed(run));
    // One attribute named: iio_attr 0.24 prints its value alone; a listing says `attr 'NAME', value :'…'`.
    const text = run.stdout.toString();
    return /value :?'([^']*)'/.exec(text)?.[1] ?? text.trim();
  };
  try {
    assert.equal(value(tool('iio_attr', ['-u', 'usb:', '-c', 'dummy0', 'accel_x', 'calibbias'])), original);
    const written = original === '11' ? '12' : '11';
    tool('iio_attr', ['-u', 'usb:', '-c', 'dummy0', 'accel_x', 'calibbias', written]);
    assert.equal(readFileSync(file, 'utf8').trim(), written);
    assert.equal(value(tool('iio_attr', ['-u', 'usb:', '-c', 'dummy0', 'accel_x', 'calibbias'])), written);
    const checksum = readFileSync(`/sys/bus/iio/devices/${labDacId()}/checksum`, 'utf8').trim();
    assert.equal(value(tool('iio_attr', ['-u', 'usb:', '-d', 'lab-dac', 'checksum'])), checksum);

    const mark = stderrText().length;
    tool('iio_attr', ['-u', 'usb:', '-c', 'dummy0', 'accel_x', 'calibbias', 'not-a-number']);
    await logged(mark, /^iio serve: usb pipe 0: WRITE .*calibbias.*-22/m, 'the refused write');
    assert.equal(readFileSync(file, 'utf8').trim(), written);
  } finally {
    await kernel.writeText(file, original);
  }
});

/** lab-dac's iio:deviceN. */
function labDacId(): string {
  return readdirSync('/sys/bus/iio/devices').find((e) => e.startsWith('iio:device') && readFileSync(`/sys/bus/iio/devices/${e}/name`, 'utf8').trim() === 'lab-dac')!;
}

test(`iio_readdev -u usb: lab-adc: the module's pattern sample by sample, ${SG ? 'by DMABUF (dummy_hcd.sg=1)' : 'copied (dummy_hcd.sg=0: ATTACH is EPERM)'} (usb.md §A2, §A3)`, async () => {
  const samples = 65536; // 16 READBUFs of 4096 scans
  const mark = stderrText().length;
  const run = tool('iio_readdev', ['-u', 'usb:', '-b', '4096', '-s', String(samples), 'lab-adc', 'voltage0', 'voltage1', 'voltage2']);
  assert.equal(run.status, 0, failed(run));
  assert.doesNotMatch(run.stderr.toString(), /ERROR|Unable/, failed(run));
  assert.equal(run.stdout.length, samples * LAB_ADC_SCAN);
  const first = labAdcScanAt(run.stdout);
  assert.ok(Number.isInteger(first), `the first scan's u32 (${3 * first}) is not 3n`);
  assert.equal(firstBadScan(run.stdout, first), -1, `lab-adc's pattern broken (scans from ${first})`);
  const { pipe, path } = await pathOf(mark, 'lab-adc');
  assert.equal(pipe, 1, 'libiio 0.24 takes the first free pipe after the context\'s');
  assertPath(path, /\/dev\/ffs-iiojs\/ep3/);
});

test(`iio_writedev -u usb: lab-dac receives every byte in order (its FNV-1a checksum), ${SG ? 'by DMABUF' : 'copied'}`, async () => {
  const sys = `/sys/bus/iio/devices/${labDacId()}`;
  const counters = (): { bytes: number; checksum: number } => ({
    bytes: Number(readFileSync(`${sys}/received_bytes`, 'utf8')), checksum: Number(readFileSync(`${sys}/checksum`, 'utf8')),
  });
  const random = prng(16);
  // 8 WRITEBUFs of 1024 scans of 2 × le:u16: 4096-byte payloads, whole 512-byte packets with no
  // zero-length packet after them, which the server must read for exactly their length.
  const samples = 8 * 1024;
  const data = Buffer.from(Uint8Array.from({ length: samples * 4 }, () => Math.floor(random() * 256)));
  const before = counters();
  const mark = stderrText().length;
  const run = tool('iio_writedev', ['-u', 'usb:', '-b', '1024', '-s', String(samples), 'lab-dac', 'voltage0', 'voltage1'], data);
  assert.equal(run.status, 0, failed(run));
  // libiio 0.24's tools exit 0 whatever ended their loop: a failed push is on stderr only.
  assert.doesNotMatch(run.stderr.toString(), /ERROR|Unable/, failed(run));
  // The server answers WRITEBUF once the block is queued; the module's DMA takes it a moment later.
  const deadline = Date.now() + 20_000;
  while (counters().bytes - before.bytes < data.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const now = counters();
  assert.equal(now.bytes - before.bytes, data.length);
  assert.equal(now.checksum, fnv1a(data, before.checksum), 'lab-dac received other bytes, or in another order');
  const { path } = await pathOf(mark, 'lab-dac');
  assertPath(path, /\/dev\/ffs-iiojs\/ep4/);
});

/** Runs a Python script with Debian's libiio bindings; its stdout is JSON. */
function python(script: string): unknown {
  const run = tool(PYTHON, ['-c', script]);
  assert.equal(run.status, 0, failed(run));
  return JSON.parse(run.stdout.toString());
}

const PY_CAPTURE = `
import base64, iio, json, sys, threading, time
ctx = iio.Context('usb:')
def capture(name, channels, samples, refills, into):
    dev = ctx.find_device(name)
    for c in channels:
        dev.find_channel(c).enabled = True
    buf = iio.Buffer(dev, samples)
    def run():
        data = bytearray()
        start = time.monotonic()
        for _ in range(refills):
            buf.refill()
            data += buf.read()
        into[name] = { 'data': base64.b64encode(bytes(data)).decode(), 'start': start, 'end': time.monotonic() }
    return run
`;

test('python3 iio.Context(\'usb:\'): Buffer.refill() gives lab-adc\'s pattern across refills', async () => {
  const mark = stderrText().length;
  const result = python(`${PY_CAPTURE}
got = {}
capture('lab-adc', ['voltage0', 'voltage1', 'voltage2'], 2048, 6, got)()
print(json.dumps(got))
`) as Record<string, { data: string }>;
  const data = Buffer.from(result['lab-adc']!.data, 'base64');
  assert.equal(data.length, 6 * 2048 * LAB_ADC_SCAN);
  assert.equal(firstBadScan(data, labAdcScanAt(data)), -1, 'lab-adc\'s pattern broken across refills');
  assertPath((await pathOf(mark, 'lab-adc')).path, /\/dev\/ffs-iiojs\/ep3/);
});

test('two buffers streaming at once on two pipes (lab-adc and vadc-dma, two threads of one libiio context)', async () => {
  const mark = stderrText().length;
  // One process: usbfs lets one process at a time claim the interface (libiio claims it for the context).
  const result = python(`${PY_CAPTURE}
got = {}
threads = [threading.Thread(target=capture('lab-adc', ['voltage0', 'voltage1', 'voltage2'], 4096, 12, got)),
           threading.Thread(target=capture('vadc-dma', ['voltage0', 'voltage1'], 4096, 12, got))]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(got))
`) as Record<string, { data: string; start: number; end: number }>;
  const adc = result['lab-adc']!;
  const vadc = result['vadc-dma']!;
  const adcData = Buffer.from(adc.data, 'base64');
  const vadcData = Buffer.from(vadc.data, 'base64');
  assert.equal(adcData.length, 12 * 4096 * LAB_ADC_SCAN);
  assert.equal(vadcData.length, 12 * 4096 * 4);
  assert.equal(firstBadScan(adcData, labAdcScanAt(adcData)), -1, 'lab-adc\'s pattern broken');
  assert.equal(firstBadCount(vadcData), -1, 'vadc-dma\'s counter broken');
  // Each thread's refills overlapped the other's: both buffers streamed at once.
  assert.ok(adc.start < vadc.end && vadc.start < adc.end, `no overlap: lab-adc ${adc.start}..${adc.end}, vadc-dma ${vadc.start}..${vadc.end}`);
  const pipes = [await pathOf(mark, 'lab-adc'), await pathOf(mark, 'vadc-dma')];
  assert.deepEqual(pipes.map((p) => p.pipe).sort(), [1, 2]);
  assertPath(pipes[0]!.path, new RegExp(`/dev/ffs-iiojs/ep${2 * pipes[0]!.pipe + 1}`));
  assertPath(pipes[1]!.path, new RegExp(`/dev/ffs-iiojs/ep${2 * pipes[1]!.pipe + 1}`));
});

/** The server's open fds that hold what a buffer or a pipe needs (IIO, DMABUF, sync_file, data endpoint files). */
function heldFds(pid: number): string[] {
  const held: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (/^\/dev\/iio:|anon_inode:iio|^\/dmabuf:|anon_inode:sync_file|^\/dev\/ffs-iiojs\/ep[1-9]/.test(target)) held.push(`${fd} -> ${target}`);
  }
  return held;
}

/** The kernel's log, a line each (dmesg). */
const kernelLog = (): string[] => spawnSync('dmesg', { encoding: 'utf8' }).stdout.split('\n');

const dmabufMaps = (pid: number): string[] => readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => /dmabuf/.test(l));

test('unbinding the UDC during a transfer: the server closes the pipe and frees every fd and mapping, then serves again once rebound', async () => {
  const pid = server.pid!;
  const mark = stderrText().length;
  const kernelLogFrom = kernelLog().length;
  const reader = spawn('iio_readdev', ['-u', 'usb:', '-b', '16384', 'lab-adc', 'voltage0', 'voltage1', 'voltage2']);
  const data = collect(reader.stdout);
  const readerErr = collect(reader.stderr);
  const readerExit = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
  // Blocks are flowing: several READBUFs answered.
  await data.until((b) => b.length >= 4 * 16384 * LAB_ADC_SCAN);
  await kernel.writeText(`${GADGET}/UDC`, '\n');
  await readerExit;
  // iio_readdev 0.24 exits 0 whatever ended its loop: its stderr says why.
  assert.match(readerErr.bytes().toString(), /Unable to refill buffer/);
  assert.equal(firstBadScan(data.bytes().subarray(0, data.bytes().length - (data.bytes().length % LAB_ADC_SCAN)), labAdcScanAt(data.bytes())), -1);
  await logged(mark, /^iio serve: usb pipe 1: disconnected$/m, 'pipe 1 closing');
  // The stream's DMABUFs and the IIO buffer are freed once the session has let go of the share.
  const deadline = Date.now() + 20_000;
  while (heldFds(pid).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(heldFds(pid), [], 'fds the server still holds');
  assert.deepEqual(dmabufMaps(pid), [], 'DMABUF mappings the server still holds');
  assert.equal(server.exitCode, null, `the server exited: ${stderrText()}`);
  await usbDeviceGone(kernel, { ...DEFAULT_USB_IDS, timeoutMs: ENUMERATED_MS });

  // The server survived: bound again, libiio's clients find it and read through it.
  await kernel.writeText(`${GADGET}/UDC`, 'dummy_udc.0');
  await findUsbDevice(kernel, { ...DEFAULT_USB_IDS, timeoutMs: ENUMERATED_MS });
  const again = tool('iio_readdev', ['-u', 'usb:', '-b', '4096', '-s', '8192', 'lab-adc', 'voltage0', 'voltage1', 'voltage2']);
  assert.equal(again.status, 0, failed(again));
  assert.equal(firstBadScan(again.stdout, labAdcScanAt(again.stdout)), -1);
  const log = kernelLog().slice(kernelLogFrom).join('\n');
  assert.doesNotMatch(log, /WARNING:|BUG:|Oops|general protection|refcount_t/, log);
});
