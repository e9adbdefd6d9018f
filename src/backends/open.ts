// A backend from a URI: `local:` (the real kernel), `sim:` and `sim:<scenario.json>` (the local
// backend over the simulated kernel), `ip:host[:port]` (an iiod client).
import { IIOD_PORT } from '../iiod/port.js';
import type { TimeMode } from '../kernel/sim/context.js';
import { KERNEL_URIS, openKernel, unsupportedUri, type UriForm } from '../kernel/open.js';
import type { Backend } from './backend.js';
import { LocalBackend, type LocalBackendOptions } from './local/backend.js';
import { NetworkBackend } from './network/backend.js';

export interface OpenOptions extends Omit<LocalBackendOptions, 'uri'> {
  /** The simulated kernel's options (`sim:` URIs). */
  sim?: { timeMode?: TimeMode; pageSize?: number };
}

/** Every URI form a context opens from. */
export const CONTEXT_URIS: readonly UriForm[] = [...KERNEL_URIS, { form: 'ip:<host>[:port]', opens: `an iiod server (port ${IIOD_PORT} by default)` }];

export function openBackend(uri: string, options: OpenOptions = {}): Backend {
  if (uri.startsWith('ip:')) return new NetworkBackend(uri, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  if (uri !== 'local:' && !uri.startsWith('sim:')) throw unsupportedUri(uri, CONTEXT_URIS);
  const { sim, ...local } = options;
  return new LocalBackend(openKernel(uri, sim ?? {}), { ...local, uri });
}
