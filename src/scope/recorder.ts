// The page's recorder: N samples (or until stopped) of the channels chosen, taken from the shared
// capture's blocks at full rate, kept in memory as a SigMF pair the browser then downloads. A
// recording is bounded (MAX_RECORDING_BYTES): reaching the bound ends it, and says so. A restart
// of the capture (channels or attributes changed) ends it too: what follows would not be the same
// stream of samples.
import type { Context } from '../core/context.js';
import type { StreamBlock } from '../core/stream-block.js';
import { recordedChannels, recordingInfo, SigmfRecording, StreamRecorder } from '../sigmf/index.js';
import type { DeviceCapture } from './capture.js';

export const MAX_RECORDING_BYTES = 256 * 1024 * 1024;

export interface RecordingResult {
  id: string;
  name: string;
  scans: number;
  bytes: number;
  /** Why it ended: 'done' (N samples), 'stopped', or what cut it short. */
  reason: string;
  meta: Record<string, unknown>;
}

export class ScopeRecorder {
  readonly id: string;
  readonly name: string;
  readonly #capture: DeviceCapture;
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;
  #recorder: StreamRecorder | undefined;
  #recording: SigmfRecording | undefined;
  #result: RecordingResult | undefined;
  readonly #finished: Promise<RecordingResult>;
  #finish!: (r: RecordingResult) => void;
  readonly #onBlock = (block: StreamBlock, n: number): void => this.#take(block, n);
  readonly #onRestart = (why: string): void => this.#end(`the capture restarted (${why})`);

  constructor(id: string, name: string, capture: DeviceCapture, samples: number) {
    this.id = id;
    this.name = name;
    this.#capture = capture;
    this.#limit = samples;
    this.#finished = new Promise((resolve) => { this.#finish = resolve; });
  }

  /** Resolves when the recording ended, with what it holds. */
  get finished(): Promise<RecordingResult> {
    return this.#finished;
  }

  get data(): readonly Uint8Array[] {
    return this.#chunks;
  }

  get result(): RecordingResult | undefined {
    return this.#result;
  }

  /** Starts with the channels `ids`, capturing them if they are not yet. */
  async start(ctx: Context, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) throw new RangeError('choose the channels to record');
    await this.#capture.want(this, ids);
    const stream = this.#capture.stream;
    if (stream === undefined) throw new Error(`${this.#capture.device.toString()} is not capturing: ${this.#capture.stats.error ?? 'it did not start'}`);
    const device = this.#capture.device;
    const channels = ids.map((id) => device.channel(id, 'in'));
    this.#recording = new SigmfRecording(await recordedChannels(channels), await recordingInfo(ctx, device, channels, 'in', new Date()));
    this.#recorder = new StreamRecorder(stream, this.#recording);
    this.#capture.on('block', this.#onBlock);
    this.#capture.on('restart', this.#onRestart);
  }

  stop(): void {
    this.#end('stopped');
  }

  #take(block: StreamBlock, n: number): void {
    const recording = this.#recording!;
    const room = Math.floor((MAX_RECORDING_BYTES - this.#bytes) / recording.scanBytes);
    const want = this.#limit === 0 ? n : Math.min(n, this.#limit - recording.scans);
    const take = Math.min(want, room);
    for (const chunk of this.#recorder!.encode(block, take)) {
      this.#chunks.push(chunk);
      this.#bytes += chunk.length;
    }
    if (take < want) this.#end(`the recording reached its bound of ${MAX_RECORDING_BYTES} bytes`);
    else if (this.#limit !== 0 && recording.scans >= this.#limit) this.#end('done');
  }

  #end(reason: string): void {
    if (this.#result !== undefined || this.#recording === undefined) return;
    this.#capture.off('block', this.#onBlock);
    this.#capture.off('restart', this.#onRestart);
    this.#recorder!.detach();
    this.#result = { id: this.id, name: this.name, scans: this.#recording.scans, bytes: this.#bytes, reason, meta: this.#recording.meta() };
    void this.#capture.want(this, []).catch(() => undefined);
    this.#finish(this.#result);
  }
}
