// The part of /proc/sys/kernel that says which kernel this is (what uname(2) reports), so
// userspace can name the kernel it runs on, e.g. libiio's `local,kernel` context attribute.
import type { Vfs } from './vfs.js';

/** The release the simulated kernel reports: the ABI it models (kernel-abi.md §0.1). */
export const SIM_OSRELEASE = '6.12.0-iiojs-sim';

export function installProcSysKernel(vfs: Vfs): void {
  const values: Record<string, string> = {
    ostype: 'Linux',
    hostname: 'iiojs-sim',
    osrelease: SIM_OSRELEASE,
    version: '#1 SMP PREEMPT_DYNAMIC (simulated)',
  };
  vfs.mkdir('/proc/sys/kernel');
  for (const [name, value] of Object.entries(values)) {
    vfs.attr(`/proc/sys/kernel/${name}`, { mode: 0o444, show: () => `${value}\n` });
  }
}
