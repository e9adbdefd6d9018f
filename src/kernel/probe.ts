// Feature detection through a Kernel port: what this kernel offers for IIO streaming. Each
// feature is detected by trying it (kernel-abi §7 item 18), never by parsing a version.
import {
  DMA_HEAP_IOCTL_ALLOC, dmaHeapAllocationDataStruct, F_ADD_SEALS, F_SEAL_SHRINK, MAP_SHARED,
  MFD_ALLOW_SEALING, MFD_CLOEXEC, O_CLOEXEC, O_RDWR, PROT_READ, PROT_WRITE, SEEK_END,
  UDMABUF_CREATE, UDMABUF_FLAGS_CLOEXEC, udmabufCreateStruct,
} from '../abi/index.js';
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

function sealedMemfd(port: KernelPort): number {
  const fd = port.memfdCreate('iiojs-probe', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  try {
    port.ftruncate(fd, port.pageSize);
    port.fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK);
    return fd;
  } catch (e) {
    port.close(fd);
    throw e;
  }
}

function allocFromHeap(port: KernelPort, heapPath: string): Promise<string> {
  return port.open(heapPath, O_RDWR).then((heap) =>
    using(port, heap, () => {
      const arg = dmaHeapAllocationDataStruct.encode({ len: port.pageSize, fdFlags: O_RDWR | O_CLOEXEC });
      port.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, arg);
      return using(port, dmaHeapAllocationDataStruct.decode(arg).fd, (dmabuf) => mapAndTouch(port, dmabuf));
    }),
  );
}

function createUdmabuf(port: KernelPort, devPath: string): Promise<string> {
  return port.open(`${devPath}/udmabuf`, O_RDWR).then((dev) =>
    using(port, dev, () =>
      using(port, sealedMemfd(port), (memfd) => {
        const arg = udmabufCreateStruct.encode({ memfd, flags: UDMABUF_FLAGS_CLOEXEC, size: port.pageSize });
        return using(port, port.ioctl(dev, UDMABUF_CREATE, arg), (dmabuf) => mapAndTouch(port, dmabuf));
      }),
    ),
  );
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
    memfd: await attempt(() => using(port, sealedMemfd(port), (fd) => mapAndTouch(port, fd, 'sealed memfd'))),
  };
}
