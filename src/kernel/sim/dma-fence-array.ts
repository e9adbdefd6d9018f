// dma_fence_array and the unwrap/merge helpers (kernel-abi §2.9, §4.6): what a sync_file holds
// when it stands for several fences. A DMABUF export with more than one unsignalled fence, and
// SYNC_IOC_MERGE, wrap them in one array fence (driver "dma_fence_array", timeline "unbound", a
// fresh fence context, seqno 1). SYNC_IOC_FILE_INFO and IMPORT_SYNC_FILE look through it at the
// components ("unwrap"), signalled ones included.
//
// Status of the array (kernel-abi Appendix B leaves the rule unverified): it signals once every
// component has signalled, with the error of the first component to signal with one (in time
// order), else 0. So a sync_file over [failed, still running] reports status 0 until the second
// one is done, then the first one's error.
import { DmaFence, FenceTimeline, stubFence } from './dma-fence.js';

const COMPONENTS = new WeakMap<DmaFence, readonly DmaFence[]>();

/** An array fence over `fences` (flattened if any is an array itself). */
export function fenceArray(fences: readonly DmaFence[]): DmaFence {
  const components = fences.flatMap(unwrapFences);
  const array = new FenceTimeline('dma_fence_array', 'unbound').create(); // context alloc'd, seqno 1
  COMPONENTS.set(array, components);
  let pending = components.length;
  let firstError = 0;
  for (const fence of components) {
    fence.onSignal((done) => {
      if (done.error < 0 && firstError === 0) firstError = done.error;
      if (--pending === 0) array.signal(firstError);
    });
  }
  return array;
}

/** The fences behind `fence`: the components of an array, or the fence itself. */
export function unwrapFences(fence: DmaFence): readonly DmaFence[] {
  return COMPONENTS.get(fence) ?? [fence];
}

/**
 * dma_fence_unwrap_merge: the unsignalled fences behind `fences`, one per context (the later
 * seqno wins), ordered by context. None left → a signalled stub; one → that fence; more → an
 * array.
 */
export function mergeFences(fences: readonly DmaFence[]): DmaFence {
  const latest = new Map<number, DmaFence>();
  for (const fence of fences.flatMap(unwrapFences)) {
    if (fence.signaled) continue;
    const seen = latest.get(fence.context);
    if (seen === undefined || fence.seqno > seen.seqno) latest.set(fence.context, fence);
  }
  const kept = [...latest.values()].sort((a, b) => a.context - b.context);
  if (kept.length === 0) return stubFence();
  if (kept.length === 1) return kept[0]!;
  return fenceArray(kept);
}
