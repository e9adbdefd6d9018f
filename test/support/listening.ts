// Waiting for a server started in another process (iiod, iio serve) to accept connections.
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * Resolves once something accepts connections on 127.0.0.1:`port`; rejects after `ms`, or as
 * soon as `child` (the server's process) has exited. `log` is added to the error.
 */
export async function waitForListening(port: number, ms: number, child?: ChildProcess, log: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before listening on port ${port}${log() ? `; its output:\n${log()}` : ''}`);
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on port ${port} within ${ms} ms${log() ? `; the server's output:\n${log()}` : ''}`);
    await sleep(50);
  }
}
