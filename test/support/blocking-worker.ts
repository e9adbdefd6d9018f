// Leaves blocking reads pending in a worker thread (test/kernel-linux.test.ts terminates it
// mid-read: the environment's teardown must interrupt the reads' threads).
import { parentPort, workerData } from 'node:worker_threads';
import { loadAddon } from '../../src/kernel/linux/addon.js';
import { LinuxKernel } from '../../src/kernel/linux/index.js';

const { fifo, reads } = workerData as { fifo: string; reads: number };
const kernel = new LinuxKernel();
const fd = await kernel.open(fifo, loadAddon().constants.O_RDWR);
for (let i = 0; i < reads; i++) void kernel.readBlocking(fd, new Uint8Array(16));
parentPort!.postMessage('pending');
