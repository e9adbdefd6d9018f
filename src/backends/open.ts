// A backend from a URI: `local:` (the real kernel), `sim:` and `sim:<scenario.json>` (the local
// backend over the simulated kernel), `ip:host[:port]` (an iiod client).
import type { TimeMode } from '../kernel/sim/context.js';
import { openKernel } from '../kernel/open.js';
import type { Backend } from './backend.js';
import { LocalBackend, type LocalBackendOptions } from './local/backend.js';
import { NetworkBackend } from './network/backend.js';

export interface OpenOptions extends Omit<LocalBackendOptions, 'uri'> {
  /** The simulated kernel's options (`sim:` URIs). */
  sim?: { timeMode?: TimeMode; pageSize?: number };
}

export function openBackend(uri: string, options: OpenOptions = {}): Backend {
  if (uri.startsWith('ip:')) return new NetworkBackend(uri, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  if (uri !== 'local:' && !uri.startsWith('sim:')) {
    const error = new Error(`unsupported URI ${JSON.stringify(uri)}: use local:, sim:, sim:<scenario.json> or ip:host[:port]`) as Error & { code: string };
    error.code = 'ERR_INVALID_URI';
    throw error;
  }
  const { sim, ...local } = options;
  return new LocalBackend(openKernel(uri, sim ?? {}), { ...local, uri });
}
