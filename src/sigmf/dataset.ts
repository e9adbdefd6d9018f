// Reading a SigMF recording back (`iio write` plays one): the meta's required fields, the
// datatype, and the dataset's samples decoded, chunk by chunk, into one array per channel
// (complex samples as their I and Q channels).
import { open, readFile } from 'node:fs/promises';
import { systemError, errnoOf } from '../errors.js';
import { parseSigmfDatatype } from './datatype.js';

export interface SigmfDataset {
  /** The `.sigmf-meta` and `.sigmf-data` paths. */
  metaPath: string;
  dataPath: string;
  meta: { global: Record<string, unknown>; captures: unknown[]; annotations: unknown[] };
  datatype: ReturnType<typeof parseSigmfDatatype>;
  /** Real channels: num_channels, twice that for complex samples. */
  width: number;
  /** Bytes per scan (one sample of every channel). */
  scanBytes: number;
  sampleRate: number | undefined;
}

/** `NAME`, `NAME.sigmf-meta` or `NAME.sigmf-data` → the pair's paths. */
export function sigmfPaths(name: string): { meta: string; data: string; base: string } {
  const base = name.replace(/\.sigmf-(meta|data)$/, '');
  return { meta: `${base}.sigmf-meta`, data: `${base}.sigmf-data`, base };
}

function invalid(path: string, why: string): Error {
  return systemError(errnoOf('EINVAL'), 'open', path, `${path} is not a SigMF recording iio can play: ${why}`);
}

export async function openSigmf(name: string): Promise<SigmfDataset> {
  const paths = sigmfPaths(name);
  let meta: SigmfDataset['meta'];
  try {
    meta = JSON.parse(await readFile(paths.meta, 'utf8')) as SigmfDataset['meta'];
  } catch (e) {
    if (e instanceof SyntaxError) throw invalid(paths.meta, `its JSON does not parse (${e.message})`);
    throw e;
  }
  if (typeof meta !== 'object' || meta === null || typeof meta.global !== 'object' || meta.global === null) throw invalid(paths.meta, 'it has no "global" object');
  const g = meta.global;
  if (typeof g['core:datatype'] !== 'string') throw invalid(paths.meta, 'global has no "core:datatype"');
  let datatype: SigmfDataset['datatype'];
  try {
    datatype = parseSigmfDatatype(g['core:datatype']);
  } catch (e) {
    throw invalid(paths.meta, (e as Error).message);
  }
  const channels = g['core:num_channels'] ?? 1;
  if (!Number.isSafeInteger(channels) || (channels as number) < 1) throw invalid(paths.meta, `"core:num_channels" is ${JSON.stringify(channels)}, not a positive integer`);
  if (typeof g['core:dataset'] === 'string' || g['core:metadata_only'] === true) throw invalid(paths.meta, 'it has no conforming .sigmf-data (core:dataset or core:metadata_only)');
  const width = (channels as number) * (datatype.complex ? 2 : 1);
  const rate = g['core:sample_rate'];
  return {
    metaPath: paths.meta, dataPath: paths.data, meta, datatype, width,
    scanBytes: (width * datatype.bits) / 8,
    sampleRate: typeof rate === 'number' && rate > 0 ? rate : undefined,
  };
}

/** The dataset's scans, `scans` at a time, as one Float64Array per real channel. */
export async function* sigmfScans(dataset: SigmfDataset, scans: number): AsyncGenerator<Float64Array[]> {
  const file = await open(dataset.dataPath, 'r');
  try {
    const chunk = Buffer.alloc(scans * dataset.scanBytes);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const { bits, float, signed, littleEndian } = dataset.datatype;
    const bytes = bits / 8;
    const get = float
      ? (bits === 32 ? (o: number) => view.getFloat32(o, littleEndian) : (o: number) => view.getFloat64(o, littleEndian))
      : bits === 8 ? (signed ? (o: number) => view.getInt8(o) : (o: number) => view.getUint8(o))
        : bits === 16 ? (signed ? (o: number) => view.getInt16(o, littleEndian) : (o: number) => view.getUint16(o, littleEndian))
          : (signed ? (o: number) => view.getInt32(o, littleEndian) : (o: number) => view.getUint32(o, littleEndian));
    let position = 0;
    for (;;) {
      // Fill the chunk (a read may return less), then decode its whole scans.
      let filled = 0;
      while (filled < chunk.length) {
        const { bytesRead } = await file.read(chunk, filled, chunk.length - filled, position);
        if (bytesRead === 0) break;
        filled += bytesRead;
        position += bytesRead;
      }
      const n = Math.floor(filled / dataset.scanBytes);
      if (n > 0) {
        const columns = Array.from({ length: dataset.width }, () => new Float64Array(n));
        for (let i = 0; i < n; i++) {
          for (let c = 0; c < dataset.width; c++) columns[c]![i] = get((i * dataset.width + c) * bytes);
        }
        yield columns;
      }
      if (filled < chunk.length) {
        const left = filled - n * dataset.scanBytes;
        if (left !== 0) throw systemError(errnoOf('EINVAL'), 'read', dataset.dataPath, `${dataset.dataPath} ends inside a sample: its last ${left} bytes are not a whole ${dataset.scanBytes}-byte scan of ${dataset.meta.global['core:datatype'] as string} × ${dataset.width / (dataset.datatype.complex ? 2 : 1)}`);
        return;
      }
    }
  } finally {
    await file.close();
  }
}
