// A backend from a URI: `local:` (the real kernel), `sim:` and `sim:<scenario.json>` (the local
// backend over the simulated kernel). `ip:` (the iiod client) comes with the network backend.
import type { TimeMode } from '../kernel/sim/context.js';
import { openKernel } from '../kernel/open.js';
import type { Backend } from './backend.js';
import { LocalBackend, type LocalBackendOptions } from './local/backend.js';

export interface OpenOptions extends Omit<LocalBackendOptions, 'uri'> {
  /** The simulated kernel's options (`sim:` URIs). */
  sim?: { timeMode?: TimeMode; pageSize?: number };
}

export function openBackend(uri: string, options: OpenOptions = {}): Backend {
  const { sim, ...local } = options;
  return new LocalBackend(openKernel(uri, sim ?? {}), { ...local, uri });
}
