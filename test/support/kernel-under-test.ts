// The kernel a conformance test runs against. The suite is written once against the Kernel
// port; it runs on the simulated kernel in `npm test` and, unchanged, on a real Linux kernel in
// the real-kernel lab (IIOJS_KERNEL=linux). Each case is named after the scenario of
// ../shared/fixtures/linux-6.12-probe.txt it reproduces.
import { test, type TestContext } from 'node:test';
import { LinuxKernel } from '../../src/kernel/linux/index.js';
import type { KernelPort } from '../../src/kernel/port.js';
import { SimKernel, type SimKernelOptions } from '../../src/kernel/sim/index.js';
import type { IioControl } from '../../src/kernel/sim/iio/index.js';
import { linuxLabControls, resetLinuxLab } from './linux-lab.js';

export type KernelKind = 'sim' | 'linux';

/** Which kernel this run targets. */
export const KERNEL: KernelKind = process.env['IIOJS_KERNEL'] === 'linux' ? 'linux' : 'sim';

/** A fresh kernel for one test: a new simulated kernel, or the one real kernel. */
export function kernelUnderTest(options: SimKernelOptions = {}): KernelPort {
  return KERNEL === 'linux' ? new LinuxKernel() : new SimKernel(options);
}

/** A kernel and its kernel-side IIO controls (unplug, DMA pacing and faults, counters). */
export interface Lab {
  kernel: KernelPort;
  iio: IioControl;
}

/**
 * A freshly booted kernel with its controls: a new simulated kernel with `options.scenario`, or
 * on real Linux (inside vm/run-guest.sh) the probe's devices made afresh, with the controls
 * mapped to the test module's parameters and rmmod (test/support/linux-lab.ts).
 */
export function bootUnderTest(options: SimKernelOptions = {}): Lab {
  if (KERNEL === 'sim') {
    const sim = new SimKernel(options);
    return { kernel: sim, iio: sim.iio };
  }
  const kernel = new LinuxKernel();
  resetLinuxLab(kernel);
  return { kernel, iio: linuxLabControls() };
}

/**
 * A conformance case named after a probe scenario (e.g. `getfd_twice_same_index`), so the test
 * and the recording can be held side by side.
 */
export function scenario(name: string, body: (t: TestContext) => Promise<void> | void): void {
  test(name, body);
}
