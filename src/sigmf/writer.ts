// Writes a capture stream's blocks as a SigMF pair: `.sigmf-data` as blocks come, the
// `.sigmf-meta` at the end (it holds the capture segments that overruns start). The blocks'
// overrun events say where in a block a gap falls, so a segment starts at the right sample.
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import type { BufferStream } from '../core/buffer-stream.js';
import type { Overrun } from '../core/overruns.js';
import type { StreamBlock } from '../core/stream-block.js';
import { sigmfPaths } from './dataset.js';
import type { SigmfRecording } from './recording.js';

/** A recording's blocks in memory or on disk: what encode() gives, in order. */
export interface RecordingSink {
  write(bytes: Uint8Array): Promise<void>;
}

/** Feeds `recording` from a capture stream's blocks, splitting them where the stream saw gaps. */
export class StreamRecorder {
  readonly recording: SigmfRecording;
  readonly #gaps: Overrun[] = [];
  readonly #stream: BufferStream;
  readonly #onOverrun = (o: Overrun): void => void this.#gaps.push(o);

  constructor(stream: BufferStream, recording: SigmfRecording) {
    this.#stream = stream;
    this.recording = recording;
    stream.on('overrun', this.#onOverrun);
  }

  /** The first `n` scans of `block`, encoded (with a capture segment at each gap in them). */
  encode(block: StreamBlock, n: number): Uint8Array[] {
    const samples = Object.fromEntries(this.recording.channels.map((c) => [c.id, block.samples(c.id)]));
    const gaps = this.#gaps.filter((g) => g.block === block);
    this.#gaps.length = 0;
    const out: Uint8Array[] = [];
    let from = 0;
    for (const gap of gaps) {
      const at = Math.min(gap.scan, n);
      if (at > from) out.push(this.recording.encode(samples, from, at));
      this.recording.gap(gap.samples);
      from = at;
    }
    if (n > from) out.push(this.recording.encode(samples, from, n));
    return out;
  }

  detach(): void {
    this.#stream.off('overrun', this.#onOverrun);
  }
}

/** The `.sigmf-data` file of `name`, written as the recording goes; finish() adds the meta. */
export class SigmfFiles implements RecordingSink {
  readonly paths: ReturnType<typeof sigmfPaths>;
  readonly #file: FileHandle;

  private constructor(paths: ReturnType<typeof sigmfPaths>, file: FileHandle) {
    this.paths = paths;
    this.#file = file;
  }

  static async create(name: string): Promise<SigmfFiles> {
    const paths = sigmfPaths(name);
    return new SigmfFiles(paths, await open(paths.data, 'w'));
  }

  async write(bytes: Uint8Array): Promise<void> {
    await this.#file.write(bytes);
  }

  /** Closes the data and writes the meta (whatever the recording holds). */
  async finish(recording: SigmfRecording): Promise<void> {
    await this.#file.close();
    await writeFile(this.paths.meta, `${JSON.stringify(recording.meta(), null, 2)}\n`);
  }

  async close(): Promise<void> {
    await this.#file.close().catch(() => undefined);
  }
}
