// Feature detection through a Kernel port: what this kernel offers for IIO streaming. Each
// feature is detected by trying it (kernel-abi §7 item 18), never by parsing a version. DMABUFs
// are made as the local backend makes them (kernel/dmabuf.ts), one page each.
import { MAP_SHARED, PROT_READ, PROT_WRITE, SEEK_END } from '../abi/index.js';
import { dmabufFromHeap, dmabufFromUdmabuf, sealedMemfd } from './dmabuf.js';
import type { KernelPort } from './port.js';

/** The outcome of one probe: what worked, or the error that stopped it. */
export type ProbeResult = { ok: true; detail: string } | { ok: false; code: string; message: string };

export interface KernelReport {
  /** iio:deviceN and triggerN entries of /sys/bus/iio/devices, with their `name` attributes. */
  iio: ProbeResult & { devices: NamedEntry[]; triggers: NamedEntry[] };
  /** Each DMA heap under /dev/dma_heap (§4.1) and whether a one-page allocation worked. */
  dmaHeaps: ProbeResult & { heaps: Array<{ name: string; alloc: ProbeResult }> };
  /** A one-page udmabuf made from a sealed memfd (§4.2). */
  udmabuf: ProbeResult;
  /** memfd_create, F_SEAL_SHRINK and a shared mapping: what udmabuf needs. */
  memfd: ProbeResult;
}

export interface NamedEntry {
  id: string;
  /** The `name` attribute; undefined if the driver sets none. */
  name: string | undefined;
}

export interface ProbePaths {
  sysfs: string;
  dev: string;
}

async function attempt(fn: () => Promise<string> | string): Promise<ProbeResult> {
  try {
    return { ok: true, detail: await fn() };
  } catch (e) {
    const error = e as Error & { code?: string };
    return { ok: false, code: error.code ?? error.name, message: error.message };
  }
}

/** Runs `use` with `fd` and closes it whatever happens. */
async function using<T>(port: KernelPort, fd: number, use: (fd: number) => T | Promise<T>): Promise<T> {
  try {
    return await use(fd);
  } finally {
    port.close(fd);
  }
}

/** Maps the whole of `fd`, writes to it and unmaps it: CPU access works. */
function mapAndTouch(port: KernelPort, fd: number, what = 'DMABUF'): string {
  const size = port.lseek(fd, 0, SEEK_END);
  const mapping = port.mmap(fd, size, PROT_READ | PROT_WRITE, MAP_SHARED);
  mapping[0] = 1;
  port.munmap(mapping);
  return `${size}-byte ${what} allocated and mapped`;
}

async function allocFromHeap(port: KernelPort, heapPath: string): Promise<string> {
  return using(port, await dmabufFromHeap(port, heapPath, port.pageSize), (dmabuf) => mapAndTouch(port, dmabuf));
}

async function createUdmabuf(port: KernelPort, devPath: string): Promise<string> {
  return using(port, await dmabufFromUdmabuf(port, `${devPath}/udmabuf`, port.pageSize), (dmabuf) => mapAndTouch(port, dmabuf));
}

export async function probeKernel(port: KernelPort, paths: ProbePaths = { sysfs: '/sys', dev: '/dev' }): Promise<KernelReport> {
  const devices: NamedEntry[] = [];
  const triggers: NamedEntry[] = [];
  const iio = await attempt(async () => {
    const dir = `${paths.sysfs}/bus/iio/devices`;
    for (const { name: id } of await port.readdir(dir)) {
      const list = id.startsWith('iio:device') ? devices : /^trigger\d+$/.test(id) ? triggers : undefined;
      if (list === undefined) continue;
      const name = await port.readText(`${dir}/${id}/name`).then((t) => t.trim(), () => undefined);
      list.push({ id, name });
    }
    const byNumber = (a: NamedEntry, b: NamedEntry) => Number(/\d+$/.exec(a.id)![0]) - Number(/\d+$/.exec(b.id)![0]);
    devices.sort(byNumber);
    triggers.sort(byNumber);
    return `${devices.length} device(s), ${triggers.length} trigger(s)`;
  });

  const heaps: Array<{ name: string; alloc: ProbeResult }> = [];
  const dmaHeaps = await attempt(async () => {
    for (const { name } of await port.readdir(`${paths.dev}/dma_heap`)) {
      heaps.push({ name, alloc: await attempt(() => allocFromHeap(port, `${paths.dev}/dma_heap/${name}`)) });
    }
    return heaps.map((h) => h.name).join(', ') || 'no heaps';
  });

  return {
    iio: { ...iio, devices, triggers },
    dmaHeaps: { ...dmaHeaps, heaps },
    udmabuf: await attempt(() => createUdmabuf(port, paths.dev)),
    memfd: await attempt(() => using(port, sealedMemfd(port, port.pageSize, 'iiojs-probe'), (fd) => mapAndTouch(port, fd, 'sealed memfd'))),
  };
}
