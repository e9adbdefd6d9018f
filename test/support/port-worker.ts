// Exercises the Linux port inside a worker thread: the addon must load per thread (no global
// state) and a wait still pending when the worker is terminated must not crash the process.
import { parentPort, workerData } from 'node:worker_threads';
import { loadAddon } from '../../src/kernel/linux/addon.js';
import { LinuxKernel } from '../../src/kernel/linux/index.js';

const { fifo, cycles } = workerData as { fifo: string; cycles: number };
const c = loadAddon().constants;
const kernel = new LinuxKernel();

const fd = kernel.memfdCreate('iiojs-worker', c.MFD_CLOEXEC | c.MFD_ALLOW_SEALING);
kernel.ftruncate(fd, kernel.pageSize);
let sum = 0;
for (let i = 0; i < cycles; i++) {
  const mapping = kernel.mmap(fd, kernel.pageSize, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED);
  const bytes = mapping;
  bytes[i % bytes.length] = (bytes[i % bytes.length]! + 1) & 0xff;
  sum += bytes[i % bytes.length]!;
  kernel.munmap(mapping);
}
kernel.close(fd);

// A FIFO opened read-write never blocks the open and is writable but not readable.
const fifoFd = await kernel.open(fifo, c.O_RDWR | c.O_NONBLOCK);
const writable = await kernel.poll(fifoFd, c.POLLOUT);
kernel.poll(fifoFd, c.POLLIN).catch(() => undefined); // left pending on purpose
parentPort!.postMessage({ sum, writable });
