// The server's hardware buffers: one CaptureShare per input buffer (any number of readers) and
// at most one writer per output buffer. Shares live as long as the server (one per buffer of
// the context, so bounded); a share with no client has no stream open.
import type { IioBuffer } from '../../core/buffer.js';
import type { Device } from '../../core/device.js';
import { errnoOf, systemError } from '../../errors.js';
import { CaptureShare, type CaptureConfig } from './capture-share.js';
import { Playback } from './playback.js';

export class DeviceBuffers {
  readonly #captures = new Map<IioBuffer, CaptureShare>();
  /** Output buffers with a writer (reserved before the open completes). */
  readonly #writing = new Set<IioBuffer>();

  /** The buffer of `device` that carries every channel of `positions`, if one does. */
  static carrying(device: Device, positions: readonly number[]): IioBuffer | undefined {
    return device.buffers.find((b) => positions.every((p) => b.channels.some((c) => c.position === p)));
  }

  capture(buffer: IioBuffer): CaptureShare {
    let share = this.#captures.get(buffer);
    if (share === undefined) {
      share = new CaptureShare(buffer);
      this.#captures.set(buffer, share);
    }
    return share;
  }

  /** Opens `buffer` for its one writer; EBUSY while another client writes to it. */
  async openPlayback(buffer: IioBuffer, config: CaptureConfig, cyclic: boolean): Promise<Playback> {
    if (this.#writing.has(buffer)) throw systemError(errnoOf('EBUSY'), 'open', undefined, `${buffer.toString()} already has a writer`);
    this.#writing.add(buffer);
    try {
      return await Playback.open(buffer, config, cyclic);
    } catch (e) {
      this.#writing.delete(buffer);
      throw e;
    }
  }

  async closePlayback(playback: Playback, flush: boolean, timeoutMs: number): Promise<void> {
    try {
      await playback.close(flush, timeoutMs);
    } finally {
      this.#writing.delete(playback.buffer);
    }
  }
}
