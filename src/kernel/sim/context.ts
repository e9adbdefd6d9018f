// What every simulated kernel component shares: the file tree, the fd table, the hardware event
// queue, fault injection and the time mode.
import type { Faults } from './faults.js';
import type { FdTable } from './file.js';
import type { Scheduler } from './scheduler.js';
import type { Vfs } from './vfs.js';

/**
 * `realtime`: simulated devices produce and consume samples at their configured rates.
 * `fast`: as fast as the CPU allows (for throughput tests); completions still arrive
 * asynchronously, after the call that started them returns.
 */
export type TimeMode = 'realtime' | 'fast';

export interface SimContext {
  readonly vfs: Vfs;
  readonly fds: FdTable;
  readonly scheduler: Scheduler;
  readonly faults: Faults;
  readonly pageSize: number;
  readonly timeMode: TimeMode;
}
