// The sim's kernel-side controls for IIO (what the real-kernel lab does with module parameters,
// rmmod and fault hooks): remove a device, pace, stall or fail its DMA, force a kfifo overflow,
// and read what the hardware did (bytes, blocks, checksum, last playback data, lost scans).
import { nowMs } from '../clock.js';
import { kerr } from '../errno.js';
import type { IioBuffer } from './buffer.js';
import type { IioDevice, UnplugOptions } from './device.js';
import { DmaBuffer } from './dma-buffer.js';
import type { DmaMode, DmaStats } from './dma-engine.js';
import { KfifoBuffer } from './kfifo.js';

export interface BufferStats extends DmaStats {
  /** Scans the hardware had to drop (kfifo full, realtime DMA capture with no block queued, or an output underrun). */
  lost: number;
  /** DMA: blocks waiting for enable, and blocks with the engine. */
  queued: number;
  active: number;
}

export interface BufferControl {
  readonly index: number;
  /** Per-block DMA delay in ms (the probe module's delay_us / 1000). */
  delayMs: number;
  /** 'pattern' moves data; 'null' completes blocks without touching memory. */
  dmaMode: DmaMode;
  /** Blocks stop completing until resume(). */
  stall(): void;
  resume(): void;
  /** The driver refuses the next submitted block with this errno (e.g. 'EIO'): its fence fails at once and the block stays stuck ACTIVE, as on 6.12. */
  failNext(code?: string): void;
  /** kfifo: `scans` scans arrive at once (those that do not fit are lost). */
  burst(scans: number): void;
  readonly stats: BufferStats;
}

export interface DeviceControl {
  readonly name: string;
  /** iio:deviceN */
  readonly devName: string;
  readonly gone: boolean;
  /** Removes the device (kernel-abi §2.10); `likeRmmod` fails with EAGAIN while its /dev node is open. */
  unplug(options?: UnplugOptions): void;
  buffer(index?: number): BufferControl;
}

export interface IioControl {
  /** Device names, in iio:deviceN order. */
  readonly devices: readonly string[];
  /** A device by name or by iio:deviceN. */
  device(name: string): DeviceControl;
  /**
   * Binds the driver of an unplugged device again (insmod after rmmod), with new sysfs nodes,
   * under the lowest free iio:deviceN and dev minor: its old one unless a file of the removed
   * device is still open (the IDA frees an id when its iio_dev's last reference goes).
   */
  reprobe(name: string): DeviceControl;
}

function bufferControl(device: IioDevice, buffer: IioBuffer): BufferControl {
  const dma = buffer instanceof DmaBuffer ? buffer : undefined;
  const needDma = (): DmaBuffer => {
    if (dma === undefined) throw kerr('EOPNOTSUPP', `buffer${buffer.index} of ${device.spec.name} is not a DMA buffer`);
    return dma;
  };
  return {
    index: buffer.index,
    get delayMs() {
      return dma?.engine.delayMs ?? 0;
    },
    set delayMs(ms: number) {
      needDma().engine.delayMs = ms;
    },
    get dmaMode() {
      return dma?.engine.mode ?? 'pattern';
    },
    set dmaMode(mode: DmaMode) {
      needDma().engine.mode = mode;
    },
    stall: () => needDma().engine.stall(),
    resume: () => needDma().engine.resume(),
    failNext: (code = 'EIO') => needDma().engine.failNext(code),
    burst: (scans: number) => {
      if (!(buffer instanceof KfifoBuffer)) throw kerr('EOPNOTSUPP', 'burst is for kfifo buffers');
      device.catchUp();
      const now = nowMs();
      device.pushScans(scans, () => now);
    },
    get stats(): BufferStats {
      const s = dma?.engine.stats;
      return {
        lost: buffer.lost,
        blocks: s?.blocks ?? 0,
        bytes: s?.bytes ?? 0,
        checksum: s?.checksum ?? 0,
        last: s?.last,
        failed: s?.failed ?? 0,
        aborted: s?.aborted ?? 0,
        queued: dma?.queuedBlocks ?? 0,
        active: dma?.engine.inflight ?? 0,
      };
    },
  };
}

export function deviceControl(device: IioDevice): DeviceControl {
  return {
    name: device.spec.name,
    devName: device.devName,
    get gone() {
      return device.gone;
    },
    unplug: (options) => device.unplug(options),
    buffer: (index = 0) => {
      const buffer = device.buffers[index];
      if (buffer === undefined) throw new RangeError(`${device.spec.name} has no buffer${index}`);
      return bufferControl(device, buffer);
    },
  };
}
