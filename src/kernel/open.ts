// Picks a Kernel port from a URI: `local:` is the real kernel; `sim:` the simulated kernel with
// its built-in scenario, `sim:<file.json>` with a scenario file. The URI forms are listed once,
// here (and in src/backends/open.ts for contexts), for error messages and help texts.
import { LinuxKernel } from './linux/index.js';
import type { KernelPort } from './port.js';
import { SimKernel, type SimKernelOptions } from './sim/index.js';
import { loadScenario } from './sim/scenario.js';

/** A form of URI and what it opens. */
export interface UriForm {
  form: string;
  opens: string;
}

export const KERNEL_URIS: readonly UriForm[] = [
  { form: 'local:', opens: "this machine's kernel" },
  { form: 'sim:', opens: "the simulated kernel's built-in devices" },
  { form: 'sim:<scenario.json>', opens: 'the simulated kernel, devices from a file' },
];

/** The error (code ERR_INVALID_URI) of a URI none of `forms` takes, listing them. */
export function unsupportedUri(uri: string, forms: readonly UriForm[]): Error & { code: string } {
  const names = forms.map((f) => f.form);
  const error = new Error(`unsupported URI ${JSON.stringify(uri)}: use ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`) as Error & { code: string };
  error.code = 'ERR_INVALID_URI';
  return error;
}

export function openKernel(uri: string, simOptions: Omit<SimKernelOptions, 'scenario'> = {}): KernelPort {
  if (uri === 'local:') return new LinuxKernel();
  if (uri === 'sim:') return new SimKernel(simOptions);
  if (uri.startsWith('sim:')) return new SimKernel({ ...simOptions, scenario: loadScenario(uri.slice('sim:'.length)) });
  throw unsupportedUri(uri, KERNEL_URIS);
}
