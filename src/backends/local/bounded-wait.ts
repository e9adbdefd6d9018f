// A readiness wait that cannot hang: bounded by an optional timeout, cancelled by a signal, and
// abandoned with ENODEV when the device's sysfs directory disappears (a removed device's buffer
// fd does not always say so: kernel-abi §2.10).
import { abortError, errnoOf, isSystemError, systemError } from '../../kernel/errors.js';
import type { KernelPort } from '../../kernel/port.js';
import { checkTimeout } from '../waits.js';

const LIVENESS_MS = 250;

export interface BoundedWaitOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** poll(fd, events) under the bounds above; `name` names the buffer in errors. */
export async function boundedPoll(port: KernelPort, fd: number, events: number, deviceDir: string, name: string, options: BoundedWaitOptions = {}): Promise<number> {
  const signal = options.signal;
  if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs);
  if (isAborted(signal)) throw abortError(signal);
  const stop = new AbortController();
  const signals = [stop.signal];
  if (options.signal) signals.push(options.signal);
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => stop.abort(systemError(errnoOf('ETIMEDOUT'), 'poll', name, `no data within ${options.timeoutMs} ms`)), options.timeoutMs);
  const liveness = setInterval(() => {
    port.stat(deviceDir).catch((e: unknown) => {
      if (isSystemError(e, 'ENOENT')) stop.abort(systemError(errnoOf('ENODEV'), 'poll', name, 'the device was removed'));
    });
  }, LIVENESS_MS);
  try {
    return await port.poll(fd, events, { signal: AbortSignal.any(signals) });
  } catch (e) {
    if ((e as Error).name === 'AbortError') {
      if (isAborted(signal)) throw abortError(signal);
      throw stop.signal.reason as Error;
    }
    throw e;
  } finally {
    clearTimeout(timer);
    clearInterval(liveness);
  }
}

/** A function, so TypeScript does not narrow `aborted` across awaits. */
function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}
