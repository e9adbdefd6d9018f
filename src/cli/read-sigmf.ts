// `iio read -f sigmf -o NAME`: the capture as a SigMF pair, of the channels asked for (all of the
// buffer's but timestamps when none are: SigMF has no 64-bit integers; `read` still captures the
// timestamp to see overruns by); a gap starts a new capture segment (sigmf/writer.ts).
import type { BufferStream } from '../core/buffer-stream.js';
import type { Channel } from '../core/channel.js';
import type { Context } from '../core/context.js';
import type { StreamBlock } from '../core/stream-block.js';
import { recordedChannels, recordingInfo, SigmfFiles, SigmfRecording, StreamRecorder } from '../sigmf/index.js';

export interface SigmfCapture {
  /** Records the first `n` scans of `block`; resolves with the bytes written. */
  write(block: StreamBlock, n: number): Promise<number>;
  /** Writes the meta; the recording is complete. */
  finish(): Promise<void>;
}

export async function sigmfCapture(ctx: Context, stream: BufferStream, asked: readonly Channel[] | undefined, name: string): Promise<SigmfCapture> {
  const channels = asked ?? stream.channels.filter((c) => c.scanElement?.timestamp !== true);
  const device = stream.buffer.device;
  const recording = new SigmfRecording(await recordedChannels(channels), await recordingInfo(ctx, device, channels, 'in', new Date()));
  const recorder = new StreamRecorder(stream, recording);
  const files = await SigmfFiles.create(name);
  let finished = false;
  return {
    async write(block, n) {
      let bytes = 0;
      for (const chunk of recorder.encode(block, n)) {
        await files.write(chunk);
        bytes += chunk.length;
      }
      return bytes;
    },
    async finish() {
      if (finished) return;
      finished = true;
      recorder.detach();
      await files.finish(recording);
    },
  };
}
