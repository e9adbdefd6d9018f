// What iio tells a user about the failures it can explain: the advice follows the error in its
// one line, and `iio doctor` gives the same words for the same cause.
import type { Context } from '../core/context.js';
import type { Device } from '../core/device.js';
import { isSystemError, type SystemError } from '../errors.js';

/** Why a kernel shows no IIO, and what to do: doctor's IIO line and every command opening one. */
export const NO_IIO_ADVICE = 'no IIO devices: load a driver, or try the simulated devices (-u sim:)';

/** `e` with the advice when it says the kernel has no IIO bus (listing /sys/bus/iio/devices: ENOENT). */
export function explainOpenError(e: unknown): unknown {
  const noIio = isSystemError(e, 'ENOENT') && e.syscall === 'scandir' && e.path?.endsWith('/bus/iio/devices') === true;
  return noIio ? advised(e, NO_IIO_ADVICE) : e;
}

/**
 * `e` with the advice when it is the kernel refusing to start the buffer of a device that has
 * no trigger (EINVAL: a triggered buffer needs one): pass -t, one of the context's triggers.
 */
export async function explainStreamError(e: unknown, device: Device, ctx: Context): Promise<unknown> {
  if (!isSystemError(e, 'EINVAL') || device.triggerSupport === false) return e;
  const trigger = await device.getTrigger().catch(() => undefined);
  if (trigger !== null) return e;
  const names = ctx.triggers.map((t) => t.name ?? t.id);
  return advised(e, names.length === 0
    ? 'the device has no trigger, and the context has none to pass with -t'
    : `the device has no trigger: pass -t <trigger>, one of ${names.join(', ')}`);
}

/** `e` told what to do: its code, errno, syscall and path kept, `advice` after its message. */
function advised(e: SystemError, advice: string): SystemError {
  const error = new Error(`${e.message}; ${advice}`, { cause: e }) as SystemError;
  error.code = e.code;
  error.errno = e.errno;
  error.syscall = e.syscall;
  if (e.path !== undefined) error.path = e.path;
  return error;
}
