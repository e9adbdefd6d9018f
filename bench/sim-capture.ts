// The simulated kernel's capture path, through the Kernel port exactly as the library drives it
// (kernel-abi §2.12: attach all, enqueue all, enable, then poll → SYNC → re-enqueue):
//  1. throughput in fast mode, 1 MiB DMABUFs, 4 in flight, against a plain memcpy of the same
//     bytes measured in the same run (goal: within 2×; the DMA "copy" is the only work);
//  2. the per-block cost of enqueue → fence → poll → SYNC cycles with a null DMA, which
//     completes blocks without touching memory (goal: median under 10 µs).
// Prints JSON.
import {
  DMA_BUF_IOCTL_SYNC, DMA_BUF_SYNC_END, DMA_BUF_SYNC_READ, DMA_BUF_SYNC_START, dmaBufSyncStruct, F_GETFL, F_SETFL,
  IIO_BUFFER_DMABUF_ATTACH_IOCTL, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct, O_NONBLOCK, POLLOUT,
} from '../src/abi/index.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';
import { SimKernel } from '../src/kernel/sim/index.js';
import { allocateDmabuf } from '../src/backends/local/dmabuf-alloc.js';
import { BENCH_ADC_SYSFS, benchBufferFd } from './bench-adc.js';
import { machine, summarize, sig, spreadOf, type Row } from './stats.js';

const BLOCK = 1 << 20;
const IN_FLIGHT = 4;
const THROUGHPUT_BLOCKS = 2000;
const CYCLE_BLOCKS = 20_000;
const RUNS = 5;

const scenario: Scenario = {
  devices: [
    {
      name: 'bench-adc',
      samplingFrequency: 10_000_000,
      buffers: [{ direction: 'in', kind: 'dma' }],
      channels: [0, 1, 2, 3].map((i) => ({
        type: 'voltage',
        index: i,
        scanIndex: i,
        format: 'le:s16/16>>0',
        waveform: i % 2 === 0 ? { kind: 'ramp' as const } : { kind: 'sine' as const, frequency: 10_000 },
      })),
    },
  ],
};

const SYNC_START = dmaBufSyncStruct.encode({ flags: DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ });
const SYNC_END = dmaBufSyncStruct.encode({ flags: DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ });

interface Capture {
  kernel: SimKernel;
  bufferFd: number;
  dmabufs: number[];
}

/** Sets up a capture like the library does: scan elements, buffer fd, DMABUFs attached and queued. */
async function openCapture(dmaMode: 'pattern' | 'null'): Promise<Capture> {
  const kernel = new SimKernel({ scenario, timeMode: 'fast' });
  kernel.iio.device('bench-adc').buffer(0).dmaMode = dmaMode;
  const bufferFd = await benchBufferFd(kernel);
  kernel.fcntl(bufferFd, F_SETFL, kernel.fcntl(bufferFd, F_GETFL) | O_NONBLOCK);
  const dmabufs: number[] = [];
  for (let i = 0; i < IN_FLIGHT; i++) dmabufs.push((await allocateDmabuf(kernel, BLOCK)).fd);
  for (const fd of dmabufs) kernel.ioctl(bufferFd, IIO_BUFFER_DMABUF_ATTACH_IOCTL, Int32Array.of(fd));
  for (const fd of dmabufs) enqueue(kernel, bufferFd, fd);
  await kernel.writeText(`${BENCH_ADC_SYSFS}/buffer0/enable`, '1');
  return { kernel, bufferFd, dmabufs };
}

function enqueue(kernel: SimKernel, bufferFd: number, dmabuf: number): void {
  kernel.ioctl(bufferFd, IIO_BUFFER_DMABUF_ENQUEUE_IOCTL, iioDmabufStruct.encode({ fd: dmabuf, bytesUsed: BLOCK }));
}

/** Waits for each block in turn, brackets CPU access, re-enqueues it; returns ns per block. */
async function runBlocks(capture: Capture, blocks: number, touch: (block: Uint8Array) => void): Promise<number[]> {
  const { kernel, bufferFd, dmabufs } = capture;
  const maps = dmabufs.map((fd) => kernel.mmap(fd, BLOCK, 1 /* PROT_READ */, 1 /* MAP_SHARED */));
  const perBlock: number[] = [];
  for (let i = 0; i < blocks; i++) {
    const slot = i % IN_FLIGHT;
    const fd = dmabufs[slot]!;
    const t0 = process.hrtime.bigint();
    await kernel.poll(fd, POLLOUT);
    kernel.ioctl(fd, DMA_BUF_IOCTL_SYNC, SYNC_START);
    touch(maps[slot]!);
    kernel.ioctl(fd, DMA_BUF_IOCTL_SYNC, SYNC_END);
    enqueue(kernel, bufferFd, fd);
    perBlock.push(Number(process.hrtime.bigint() - t0));
  }
  maps.forEach((m) => kernel.munmap(m));
  return perBlock;
}

async function closeCapture({ kernel, bufferFd, dmabufs }: Capture): Promise<void> {
  await kernel.writeText(`${BENCH_ADC_SYSFS}/buffer0/enable`, '0');
  kernel.close(bufferFd);
  dmabufs.forEach((fd) => kernel.close(fd));
}

let sink = 0;
const checkOne = (block: Uint8Array) => {
  sink ^= block[block.length - 1]!;
};

// 1. throughput vs memcpy
const simGBps: number[] = [];
const memcpyGBps: number[] = [];
const source = new Uint8Array(BLOCK).map((_, i) => i);
const target = new Uint8Array(BLOCK * IN_FLIGHT);
for (let run = 0; run < RUNS; run++) {
  const capture = await openCapture('pattern');
  await runBlocks(capture, 50, checkOne); // warm-up
  const t0 = process.hrtime.bigint();
  await runBlocks(capture, THROUGHPUT_BLOCKS, checkOne);
  simGBps.push((THROUGHPUT_BLOCKS * BLOCK) / Number(process.hrtime.bigint() - t0));
  await closeCapture(capture);

  const t1 = process.hrtime.bigint();
  for (let i = 0; i < THROUGHPUT_BLOCKS; i++) target.set(source, (i % IN_FLIGHT) * BLOCK);
  memcpyGBps.push((THROUGHPUT_BLOCKS * BLOCK) / Number(process.hrtime.bigint() - t1));
}

// 2. per-block cycle cost with a null DMA
const capture = await openCapture('null');
await runBlocks(capture, 1000, checkOne); // warm-up
const cycles = await runBlocks(capture, CYCLE_BLOCKS, checkOne);
await closeCapture(capture);
const cycle = summarize(cycles.map((ns) => ns / 1000));

const sim = summarize(simGBps);
const memcpy = summarize(memcpyGBps);
const rows: Row[] = [
  { figure: 'sim capture, fast mode, 1 MiB DMABUF blocks', value: sig(sim.median), unit: 'GB/s', spread: spreadOf(sim),
    baseline: { name: 'memcpy of the same bytes', value: sig(memcpy.median), unit: 'GB/s' },
    ratio: sig(sim.median / memcpy.median), goal: '≥ 0.5× of memcpy', met: memcpy.median / sim.median <= 2 },
  { figure: 'sim null-DMA cycle (poll → SYNC → ENQUEUE)', value: sig(cycle.median), unit: 'µs/block', spread: `p99 ${cycle.p99.toFixed(1)}`,
    goal: 'median < 10 µs', met: cycle.median < 10 },
];
process.stdout.write(
  JSON.stringify(
    {
      benchmark: 'sim-capture',
      machine: machine(),
      rows,
      throughput: {
        unit: 'GB/s',
        blockBytes: BLOCK,
        inFlight: IN_FLIGHT,
        blocksPerRun: THROUGHPUT_BLOCKS,
        sim,
        memcpy,
        memcpyOverSim: Math.round((memcpy.median / sim.median) * 100) / 100,
        goal: 'memcpyOverSim <= 2',
      },
      nullDmaCycle: {
        unit: 'µs per block (poll → SYNC START/END → ENQUEUE, fence signalled by the null DMA)',
        blocks: CYCLE_BLOCKS,
        median: cycle.median,
        p99: cycle.p99,
        p10: cycle.p10,
        goal: 'median < 10',
      },
      sink,
    },
    null,
    2,
  ) + '\n',
);
