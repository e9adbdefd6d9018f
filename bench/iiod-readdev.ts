// The iiod server's streaming throughput: libiio's own `iio_readdev -u ip:127.0.0.1:<port> -b
// <1 MiB of samples> -s <many>` reading a 4-channel ADC of the simulated kernel (fast mode,
// 1 MiB blocks) from serve(), against raw loopback TCP measured in the same run between two
// processes shaped the same way: a Node process writing 1 MiB buffers (paced by 'drain') and a
// C reader, `cat` on bash's /dev/tcp, discarding them. Goal: ≥ 80% of raw loopback.
// CPU seconds per GB: process.cpuUsage() for the Node ends (the server process holds the sim
// too), bash's `time` for iio_readdev and cat.
//
// The sim's DMA runs in 'null' mode (blocks complete without the "hardware" writing them), so the
// server's own cost is measured; a 'pattern' run (the sim generating the waveforms, in this
// process too) is reported beside it. Prints JSON.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LocalBackend } from '../src/backends/local/backend.js';
import { Context } from '../src/core/context.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import type { DmaMode } from '../src/kernel/sim/iio/dma-engine.js';
import { benchAdcScenario } from './bench-adc.js';
import { serve } from '../src/server/iiod/index.js';
import { machine, sig, spreadOf, summarize, type Row, timed } from './stats.js';

const BLOCK = 1 << 20;
const TOTAL = 2 ** 31; // bytes per run
const RUNS = 3;
const SCAN_BYTES = 8; // 4 × le:s16

/** Loopback baseline, sending end: serves one connection TOTAL bytes in 1 MiB writes, paced by 'drain'. */
function runSource(): void {
  const chunk = Buffer.alloc(BLOCK, 0x5a);
  const server = createServer({ noDelay: true }, (socket) => {
    const cpu0 = process.cpuUsage();
    let sent = 0;
    const pump = (): void => {
      while (sent < TOTAL) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end(() => {
        const cpu = process.cpuUsage(cpu0);
        process.stdout.write(`${JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6 })}\n`);
        server.close();
      });
    };
    pump();
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
}

/**
 * The protocol's own ceiling, sending end: answers each request line with a 1 MiB READBUF reply
 * from memory, as a server with no device work would.
 */
function runResponder(): void {
  const block = Buffer.alloc(BLOCK, 0x5a);
  const header = Buffer.from(`${BLOCK}\n0000000f\n`);
  const server = createServer({ noDelay: true }, (socket) => {
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (line.startsWith('READBUF')) {
          socket.cork();
          socket.write(header);
          socket.write(block);
          socket.uncork();
        }
      }
    });
    socket.on('close', () => server.close());
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
}

/** A minimal READBUF client (Python, one recv_into per chunk): the same reader for both ends. */
const READBUF_CLIENT = `
import socket, sys, time
port, blocks, opens = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == 'open'
s = socket.create_connection(('127.0.0.1', port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if opens:
    s.sendall(b'OPEN iio:device0 ${BLOCK / 8} 0000000f\\r\\n')
    assert s.recv(2) == b'0\\n'
buf = bytearray(${BLOCK}); view = memoryview(buf)
header = len(b'${BLOCK}\\n0000000f\\n')
t0 = time.time()
for _ in range(blocks):
    s.sendall(b'READBUF iio:device0 ${BLOCK}\\r\\n')
    assert len(s.recv(header, socket.MSG_WAITALL)) == header
    got = 0
    while got < len(buf):
        got += s.recv_into(view[got:], len(buf) - got)
print(blocks * len(buf) / (time.time() - t0) / 1e6)
`;

/** MB/s of the READBUF loop above against `port` (`open`: send OPEN first, as to our server). */
async function readbufLoop(port: number, open: boolean): Promise<number> {
  const reader = child('/usr/bin/python3', ['-c', READBUF_CLIENT, String(port), String(TOTAL / BLOCK), open ? 'open' : 'no']);
  const MBps = Number(await next(reader));
  await reader.exited;
  return MBps;
}

async function ceilingRun(): Promise<{ responder: number; server: number }> {
  const responder = child(process.execPath, [fileURLToPath(import.meta.url), 'responder']);
  const staticMBps = await readbufLoop(Number(await next(responder)), false);
  await responder.exited;
  const kernel = new SimKernel({ scenario: benchAdcScenario, timeMode: 'fast' });
  kernel.iio.device('bench-adc').buffer(0).dmaMode = 'null';
  await using ctx = await Context.open(new LocalBackend(kernel));
  await using server = await serve(ctx, { port: 0 });
  return { responder: staticMBps, server: await readbufLoop(server.port, true) };
}

interface Child {
  lines: AsyncIterator<string>;
  exited: Promise<number | null>;
}

function child(command: string, args: string[]): Child {
  const p = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => {
    if (code !== 0) process.stderr.write(`${command} exited ${code}: ${stderr}\n`);
    resolve(code);
  }));
  async function* lines(): AsyncGenerator<string> {
    let buffered = '';
    for await (const d of p.stdout) {
      buffered += (d as Buffer).toString();
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        yield buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
      }
    }
    if (buffered !== '') yield buffered;
  }
  return { lines: lines(), exited };
}

async function next(c: Child): Promise<string> {
  const r = await c.lines.next();
  if (r.done === true) throw new Error('child ended early');
  return r.value;
}

async function loopbackRun(): Promise<{ MBps: number; cpuSecondsPerGB: { source: number; sink: number } }> {
  const source = child(process.execPath, [fileURLToPath(import.meta.url), 'source']);
  const port = Number(await next(source));
  const sink = await timed(`cat < /dev/tcp/127.0.0.1/${port} > /dev/null`);
  const sourceReport = JSON.parse(await next(source)) as { cpuSeconds: number };
  await source.exited;
  const gb = TOTAL / 1e9;
  return { MBps: TOTAL / 1e6 / sink.seconds, cpuSecondsPerGB: { source: sourceReport.cpuSeconds / gb, sink: sink.cpuSeconds / gb } };
}

async function serverRun(dmaMode: DmaMode): Promise<{ MBps: number; cpuSecondsPerGB: { server: number; iio_readdev: number } }> {
  const kernel = new SimKernel({ scenario: benchAdcScenario, timeMode: 'fast' });
  kernel.iio.device('bench-adc').buffer(0).dmaMode = dmaMode;
  await using ctx = await Context.open(new LocalBackend(kernel));
  await using server = await serve(ctx, { port: 0 });
  const cpu0 = process.cpuUsage();
  const readdev = await timed(`iio_readdev -u ip:127.0.0.1:${server.port} -b ${BLOCK / SCAN_BYTES} -s ${TOTAL / SCAN_BYTES} bench-adc > /dev/null`);
  const cpu = process.cpuUsage(cpu0);
  const gb = TOTAL / 1e9;
  return {
    MBps: TOTAL / 1e6 / readdev.seconds,
    cpuSecondsPerGB: { server: (cpu.user + cpu.system) / 1e6 / gb, iio_readdev: readdev.cpuSeconds / gb },
  };
}

async function main(): Promise<void> {
  const loopback: Array<Awaited<ReturnType<typeof loopbackRun>>> = [];
  const nullDma: Array<Awaited<ReturnType<typeof serverRun>>> = [];
  const patternDma: Array<Awaited<ReturnType<typeof serverRun>>> = [];
  const ceiling: Array<Awaited<ReturnType<typeof ceilingRun>>> = [];
  for (let run = 0; run < RUNS; run++) {
    loopback.push(await loopbackRun());
    nullDma.push(await serverRun('null'));
    patternDma.push(await serverRun('pattern'));
    ceiling.push(await ceilingRun());
  }
  const responderMBps = summarize(ceiling.map((c) => c.responder));
  const serverReadbufMBps = summarize(ceiling.map((c) => c.server));
  const median = (xs: number[]): number => Math.round(summarize(xs).median * 100) / 100;
  const loopbackMBps = summarize(loopback.map((r) => r.MBps));
  const report = (runs: typeof nullDma) => {
    const MBps = summarize(runs.map((r) => r.MBps));
    const server = median(runs.map((r) => r.cpuSecondsPerGB.server));
    const client = median(runs.map((r) => r.cpuSecondsPerGB.iio_readdev));
    return {
      MBps,
      ofLoopback: Math.round((MBps.median / loopbackMBps.median) * 100) / 100,
      cpuSecondsPerGB: { server, iio_readdev: client, total: Math.round((server + client) * 100) / 100 },
    };
  };
  const source = median(loopback.map((r) => r.cpuSecondsPerGB.source));
  const sink = median(loopback.map((r) => r.cpuSecondsPerGB.sink));
  const nullReport = report(nullDma);
  const patternReport = report(patternDma);
  const rows: Row[] = [
    { figure: 'iiod server → libiio 0.24 iio_readdev -u ip: (null DMA, 1 MiB blocks)', value: sig(nullReport.MBps.median), unit: 'MB/s', spread: spreadOf(nullReport.MBps, 0),
      baseline: { name: 'raw loopback TCP, two processes', value: sig(loopbackMBps.median), unit: 'MB/s' }, ratio: nullReport.ofLoopback,
      goal: '≥ 0.8× of loopback', met: nullReport.ofLoopback >= 0.8 },
    { figure: 'READBUF loop (one 1 MiB request at a time, same Python reader): our server', value: sig(serverReadbufMBps.median), unit: 'MB/s', spread: spreadOf(serverReadbufMBps, 0),
      baseline: { name: 'a responder answering from memory (the protocol\'s ceiling)', value: sig(responderMBps.median), unit: 'MB/s' }, ratio: sig(serverReadbufMBps.median / responderMBps.median) },
    { figure: 'READBUF protocol ceiling (responder from memory)', value: sig(responderMBps.median), unit: 'MB/s', spread: spreadOf(responderMBps, 0),
      baseline: { name: 'raw loopback TCP, two processes', value: sig(loopbackMBps.median), unit: 'MB/s' }, ratio: sig(responderMBps.median / loopbackMBps.median) },
    { figure: 'iiod server → iio_readdev, CPU per GB (server + iio_readdev)', value: nullReport.cpuSecondsPerGB.total, unit: 's/GB',
      baseline: { name: 'raw loopback, both ends', value: Math.round((source + sink) * 100) / 100, unit: 's/GB' },
      ratio: sig(nullReport.cpuSecondsPerGB.total / (source + sink)) },
    { figure: 'iiod server → iio_readdev, sim generating the waveforms in the server process', value: sig(patternReport.MBps.median), unit: 'MB/s', spread: spreadOf(patternReport.MBps, 0),
      baseline: { name: 'raw loopback TCP', value: sig(loopbackMBps.median), unit: 'MB/s' }, ratio: patternReport.ofLoopback },
  ];
  process.stdout.write(JSON.stringify({
    benchmark: 'iiod-readdev',
    machine: machine(),
    rows,
    bytesPerRun: TOTAL,
    blockBytes: BLOCK,
    command: `iio_readdev -u ip:127.0.0.1:<port> -b ${BLOCK / SCAN_BYTES} -s ${TOTAL / SCAN_BYTES} bench-adc`,
    loopback: { MBps: loopbackMBps, cpuSecondsPerGB: { source, sink, total: Math.round((source + sink) * 100) / 100 } },
    server: nullReport,
    serverWithPatternDma: patternReport,
    readbufLoop: { server: serverReadbufMBps, responderFromMemory: responderMBps },
    goal: 'server.ofLoopback >= 0.8',
    meetsGoal: nullReport.ofLoopback >= 0.8,
  }, null, 2) + '\n');
}

// One file, two roles: the benchmark, and the sending end of the loopback baseline.
if (process.argv[2] === 'source') runSource();
else if (process.argv[2] === 'responder') runResponder();
else await main();
