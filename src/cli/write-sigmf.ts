// `iio write -f sigmf -i NAME`: plays a SigMF recording on an output buffer. Its real channels
// (complex samples: I then Q) go to the stream's channels in order, as many as there are; the
// values are played as they are (raw units), so a recording iio made of an input plays back the
// same samples. A rate that differs from the device's is said on stderr, not changed.
import type { BufferStream } from '../core/buffer-stream.js';
import type { Channel } from '../core/channel.js';
import { openSigmf, sigmfScans, type SigmfDataset } from '../sigmf/index.js';

/** The recording `name`, checked against the channels it will be played on. */
export async function sigmfSource(name: string, channels: readonly Channel[], where: string): Promise<SigmfDataset> {
  const dataset = await openSigmf(name);
  if (dataset.width !== channels.length) {
    const what = dataset.datatype.complex ? `${dataset.width / 2} complex channel(s), ${dataset.width} real` : `${dataset.width} channel(s)`;
    throw new Error(`${dataset.metaPath} holds ${what}; ${where} plays ${channels.length} (${channels.map((c) => c.id).join(', ')}): name as many channels`);
  }
  return dataset;
}

/** Plays every scan of `dataset` on `stream` (the channels `channels`), then waits until played. */
export async function playSigmf(stream: BufferStream, channels: readonly Channel[], dataset: SigmfDataset, signal: AbortSignal): Promise<number> {
  let played = 0;
  for await (const columns of sigmfScans(dataset, stream.blockSize)) {
    const data = Object.fromEntries(channels.map((c, i) => [c.id, columns[i]!]));
    await stream.write(data, { signal });
    played += columns[0]!.length;
  }
  if (played === 0) throw new Error(`nothing to play: ${dataset.dataPath} holds no samples`);
  await stream.flush({ signal });
  return played;
}

/** -c: the whole recording as one block, repeated until interrupted. */
export async function playSigmfCyclic(stream: BufferStream, channels: readonly Channel[], dataset: SigmfDataset, signal: AbortSignal): Promise<number> {
  const chunks = sigmfScans(dataset, stream.blockSize + 1);
  const first = await chunks.next();
  await chunks.return(undefined);
  const columns = first.done === true ? undefined : first.value;
  if (columns === undefined) throw new Error(`nothing to play: ${dataset.dataPath} holds no samples`);
  if (columns[0]!.length > stream.blockSize) throw new Error(`${dataset.dataPath} holds more than one cyclic block of ${stream.blockSize} samples: give -b with the recording's length`);
  await stream.writeCyclic(Object.fromEntries(channels.map((c, i) => [c.id, columns[i]!])), { signal });
  return columns[0]!.length;
}
