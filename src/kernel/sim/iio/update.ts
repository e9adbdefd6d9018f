// Enabling and disabling buffers (iio_verify_update, __iio_update_buffers; kernel-abi §2.11,
// §6.6): the device picks triggered mode when a kfifo buffer has a trigger, hardware mode for
// DMA buffers (one active buffer at most, scan mask matched exactly against the available
// masks), software mode for kfifo buffers of devices that sample on their own; otherwise EINVAL.
import { kerr } from '../errno.js';
import type { BufferMode, IioBuffer } from './buffer.js';
import type { IioDevice } from './device.js';
import { layoutScan } from './scan.js';

interface Config {
  mode: BufferMode;
  mask: Set<number>;
  timestamp: boolean;
}

function subset(a: ReadonlySet<number>, b: readonly number[]): boolean {
  return [...a].every((i) => b.includes(i));
}

function equal(a: ReadonlySet<number>, b: readonly number[]): boolean {
  return a.size === new Set(b).size && subset(a, b);
}

/** The available scan masks that apply to `buffers` (undefined when none declares any). */
export function availableMasks(buffers: readonly IioBuffer[]): number[][] | undefined {
  const masks = buffers.flatMap((b) => b.spec.availableScanMasks ?? []);
  return buffers.some((b) => b.spec.availableScanMasks !== undefined) ? masks : undefined;
}

/** iio_scan_mask_match: the first available mask equal to (strict) or containing `mask`. */
export function maskMatches(masks: readonly number[][], mask: ReadonlySet<number>, strict: boolean): boolean {
  if (mask.size === 0) return false;
  return masks.some((m) => (strict ? equal(mask, m) : subset(mask, m)));
}

function verify(device: IioDevice, insert: IioBuffer | undefined, remove: IioBuffer | undefined): Config | undefined {
  if (insert !== undefined && insert.scanMask.size === 0) throw kerr('EINVAL', 'at least one scan element must be enabled first');
  const others = device.activeBuffers.filter((b) => b !== remove);
  if (remove !== undefined && insert === undefined && device.activeBuffers.length === 1) return undefined;
  const buffers = insert === undefined ? others : [...others, insert];
  const modes = new Set([...device.modes].filter((m) => buffers.every((b) => b.modes.has(m))));
  let mode: BufferMode;
  let strict = false;
  if (modes.has('triggered') && device.trigger !== undefined) {
    mode = 'triggered';
  } else if (modes.has('hardware')) {
    if (insert !== undefined && device.activeBuffers.length > 0) throw kerr('EINVAL', 'only one buffer may be active in hardware mode');
    mode = 'hardware';
    strict = true;
  } else if (modes.has('software')) {
    mode = 'software';
  } else {
    throw kerr('EINVAL', device.modes.has('triggered') ? 'buffer not started: no trigger' : 'no mode fits these buffers');
  }
  const mask = new Set<number>();
  let timestamp = false;
  for (const b of buffers) {
    for (const i of b.scanMask) mask.add(i);
    timestamp ||= b.scanTimestamp;
  }
  const masks = availableMasks(buffers);
  if (masks !== undefined && !maskMatches(masks, mask, strict)) throw kerr('EINVAL', 'the scan mask matches no available scan mask');
  return { mode, mask, timestamp };
}

function disableAll(device: IioDevice): void {
  if (device.activeBuffers.length === 0) return;
  device.stopCapture();
  for (const b of device.activeBuffers) b.disable();
  device.currentMode = 'direct';
}

function enableAll(device: IioDevice, config: Config): void {
  device.currentMode = config.mode;
  device.activeScanMask = config.mask;
  try {
    for (const b of device.activeBuffers) b.enable();
    device.startCapture();
  } catch (e) {
    device.currentMode = 'direct';
    for (const b of device.activeBuffers) b.active = false;
    device.activeBuffers.length = 0;
    throw e;
  }
}

/** __iio_update_buffers: insert and/or remove one buffer, restarting the others around it. */
export function updateBuffers(device: IioDevice, insert: IioBuffer | undefined, remove: IioBuffer | undefined): void {
  const config = verify(device, insert, remove);
  if (insert !== undefined) {
    insert.setBytesPerDatum(layoutScan(device.channels, insert.scanMask, insert.scanTimestamp).scanBytes);
    insert.requestUpdate();
  }
  disableAll(device);
  if (remove !== undefined) {
    remove.active = false;
    device.activeBuffers.splice(device.activeBuffers.indexOf(remove), 1);
    remove.wake();
  }
  if (insert !== undefined) {
    insert.active = true;
    device.activeBuffers.unshift(insert);
  }
  if (device.activeBuffers.length === 0 || config === undefined) return;
  enableAll(device, config);
}

/** enable_store: writing the state it already has is a no-op. */
export function setBufferEnabled(device: IioDevice, buffer: IioBuffer, enable: boolean): void {
  if (buffer.active === enable) return;
  if (enable) updateBuffers(device, buffer, undefined);
  else updateBuffers(device, undefined, buffer);
}

/** iio_disable_all_buffers (device removal). */
export function disableAllBuffers(device: IioDevice): void {
  disableAll(device);
  for (const b of device.activeBuffers) {
    b.active = false;
    b.wake();
  }
  device.activeBuffers.length = 0;
}
