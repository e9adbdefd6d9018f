// Runs readiness scenarios on fds this process inherited from inherited-fds.ts (an eventfd, a
// socketpair and two pipes, which Node cannot create itself) and prints what it observed as
// JSON. It ends by itself: if an idle poll handle kept the event loop alive, it would hang.
import { closeSync, readSync, writeSync } from 'node:fs';
import { loadAddon } from '../../src/kernel/linux/addon.js';
import { LinuxKernel } from '../../src/kernel/linux/index.js';

const [eventFd, sockA, sockB, pipeRead, pipeWrite, pipe2Read, pipe2Write] = (
  JSON.parse(process.argv[2]!) as number[]
) as [number, number, number, number, number, number, number];
const { POLLIN, POLLOUT } = loadAddon().constants;
const kernel = new LinuxKernel();
const observed: Record<string, unknown> = {};

/** Whether a promise is still pending after the event loop had a chance to run. */
async function pendingAfterTick(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  await new Promise((r) => setTimeout(r, 20));
  return !settled;
}

async function outcome(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    return { resolved: await p };
  } catch (e) {
    const err = e as Error & { code?: string; errno?: number; syscall?: string };
    return { name: err.name, code: err.code, errno: err.errno, syscall: err.syscall, message: err.message };
  }
}

// eventfd: not readable until the counter is written; always writable.
const eventWait = kernel.poll(eventFd, POLLIN);
observed['eventfdPendingBeforeWrite'] = await pendingAfterTick(eventWait);
const one = Buffer.alloc(8);
one.writeBigUInt64LE(1n);
writeSync(eventFd, one);
observed['eventfdReadable'] = await eventWait;
observed['eventfdWritable'] = await kernel.poll(eventFd, POLLOUT);

// socketpair: two waiters with different events on one fd share one watcher.
const sockIn = kernel.poll(sockA, POLLIN);
const sockOut = kernel.poll(sockA, POLLOUT);
observed['socketWritableAtOnce'] = await sockOut;
observed['socketReadPendingBeforeData'] = await pendingAfterTick(sockIn);
writeSync(sockB, Buffer.from('x'));
observed['socketReadable'] = await sockIn;
readSync(sockA, Buffer.alloc(1));
const hangupWait = kernel.poll(sockA, POLLIN);
observed['socketPendingWithPeer'] = await pendingAfterTick(hangupWait);
closeSync(sockB);
observed['socketPeerClosed'] = await hangupWait;

// Cancellation: an aborted wait rejects; later waits on the same fd still work.
const controller = new AbortController();
const aborted = kernel.poll(pipeRead, POLLIN, { signal: controller.signal });
controller.abort(new Error('test abort'));
observed['abortedWait'] = await outcome(aborted);
observed['alreadyAbortedWait'] = await outcome(kernel.poll(pipeRead, POLLIN, { signal: controller.signal }));
observed['timedOutWait'] = await outcome(kernel.poll(pipeRead, POLLIN, { signal: AbortSignal.timeout(30) }));

// Pipe: data wakes the reader; the reader sees the hang-up when the writer goes away.
const dataWait = kernel.poll(pipeRead, POLLIN);
writeSync(pipeWrite, Buffer.from('data'));
observed['pipeData'] = await dataWait;
readSync(pipeRead, Buffer.alloc(4));
const hupWait = kernel.poll(pipeRead, POLLIN);
observed['pipePendingWithWriter'] = await pendingAfterTick(hupWait);
closeSync(pipeWrite);
observed['pipeWriterClosed'] = await hupWait;

// POLLERR: the write end of a pipe whose reader is gone.
closeSync(pipe2Read);
observed['pipeReaderClosed'] = await kernel.poll(pipe2Write, POLLOUT);

// Close while waiting: the wait rejects with ECANCELED; a wait on a closed fd fails at once.
readSync(eventFd, Buffer.alloc(8)); // drain the counter: not readable any more
const closing = kernel.poll(eventFd, POLLIN);
observed['eventfdPendingAfterDrain'] = await pendingAfterTick(closing);
kernel.close(eventFd);
observed['closedWhileWaiting'] = await outcome(closing);
observed['waitOnClosedFd'] = await outcome(kernel.poll(eventFd, POLLIN));

process.stdout.write(JSON.stringify(observed));
