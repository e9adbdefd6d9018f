// The software edge trigger (IIO Oscilloscope's trigger_channel / trigger_falling_edge /
// trigger_value): the newest crossing of `level` on the trigger channel whose window is complete,
// so a periodic signal lands at the same place every frame.
import type { SampleRing } from './ring.js';

export interface EdgeTrigger {
  channel: string;
  edge: 'rising' | 'falling';
  /** In the units the frame shows (raw, or physical through `toRaw`). */
  level: number;
}

/**
 * The position of the newest edge at or before `latest` (and after `earliest`), where the
 * sample before is on one side of `level` and the sample at it on the other; undefined if none.
 */
export function findEdge(ring: SampleRing, edge: 'rising' | 'falling', rawLevel: number, earliest: number, latest: number): number | undefined {
  const lowest = Math.max(ring.start + 1, earliest);
  for (let p = latest; p >= lowest; p--) {
    const before = ring.at(p - 1);
    const now = ring.at(p);
    if (edge === 'rising' ? before < rawLevel && now >= rawLevel : before > rawLevel && now <= rawLevel) return p;
  }
  return undefined;
}
