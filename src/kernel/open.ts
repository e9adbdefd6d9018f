// Picks a Kernel port from a URI: `local:` is the real kernel; `sim:` the simulated kernel with
// its built-in scenario, `sim:<file.json>` with a scenario file.
import { LinuxKernel } from './linux/index.js';
import type { KernelPort } from './port.js';
import { SimKernel, type SimKernelOptions } from './sim/index.js';
import { loadScenario } from './sim/scenario.js';

export function openKernel(uri: string, simOptions: Omit<SimKernelOptions, 'scenario'> = {}): KernelPort {
  if (uri === 'local:') return new LinuxKernel();
  if (uri === 'sim:') return new SimKernel(simOptions);
  if (uri.startsWith('sim:')) return new SimKernel({ ...simOptions, scenario: loadScenario(uri.slice('sim:'.length)) });
  const error = new Error(`unsupported URI ${JSON.stringify(uri)}: use local:, sim: or sim:<scenario.json>`) as Error & { code: string };
  error.code = 'ERR_INVALID_URI';
  throw error;
}
