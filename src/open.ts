// openContext: a URI to a Context. It sits outside src/core because picking a backend pulls in
// the kernels (node:fs, the addon), which the core never imports.
import { openBackend, type OpenOptions } from './backends/open.js';
import { Context } from './core/context.js';

export type OpenContextOptions = OpenOptions & { signal?: AbortSignal };

/**
 * Opens `local:` (this machine's kernel), `sim:` (the simulated kernel's built-in devices),
 * `sim:<scenario.json>` or `ip:host[:port]` (an iiod server). Options: `sim.timeMode`,
 * `timeoutMs` (for `ip:`, the limit of each reply and block transfer; default 5000), and for
 * tests the `sysfs`, `debugfs` and `procfs` roots.
 */
export async function openContext(uri: string, options: OpenContextOptions = {}): Promise<Context> {
  const { signal, ...open } = options;
  return Context.open(openBackend(uri, open), signal === undefined ? undefined : { signal });
}
