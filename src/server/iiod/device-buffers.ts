// The server's hardware buffers: one CaptureShare per input buffer (any number of readers) and
// at most one writer per output buffer. Shares live as long as the server (one per buffer of
// the context, so bounded); a share with no client has no stream open.
import type { IioBuffer } from '../../core/buffer.js';
import type { Device } from '../../core/device.js';
import { errnoOf, systemError } from '../../errors.js';
import { CaptureShare, type CaptureConfig } from './capture-share.js';
import { Playback } from './playback.js';
import type { BlockSource } from './transport.js';

export class DeviceBuffers {
  readonly #captures = new Map<IioBuffer, CaptureShare>();
  /** Output buffers with a writer (reserved before the open completes). */
  readonly #writing = new Set<IioBuffer>();
  /** Writers closing: the next writer of that buffer waits for the close instead of EBUSY. */
  readonly #closing = new Map<IioBuffer, Promise<void>>();

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
  async openPlayback(buffer: IioBuffer, config: CaptureConfig, cyclic: boolean, source?: BlockSource): Promise<Playback> {
    await this.#closing.get(buffer);
    if (this.#writing.has(buffer)) throw systemError(errnoOf('EBUSY'), 'open', undefined, `${buffer.toString()} already has a writer`);
    this.#writing.add(buffer);
    try {
      return await Playback.open(buffer, config, cyclic, source);
    } catch (e) {
      this.#writing.delete(buffer);
      throw e;
    }
  }

  closePlayback(playback: Playback, flush: boolean, timeoutMs: number): Promise<void> {
    const closed = playback.close(flush, timeoutMs).finally(() => {
      this.#writing.delete(playback.buffer);
      this.#closing.delete(playback.buffer);
    });
    this.#closing.set(playback.buffer, closed.catch(() => undefined));
    return closed;
  }
}
