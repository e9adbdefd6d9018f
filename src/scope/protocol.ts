// What goes over the scope's WebSocket. Text messages are JSON both ways; frames (traces,
// spectra, XY points) are binary: a little-endian u32 header length, the JSON header, padding
// to 4 bytes, then the header's Float32 arrays one after another.

/** A view of the page, as it asks for it. */
export interface ViewConfig {
  view: 'time' | 'spectrum' | 'xy';
  device: string;
  channels: string[];
  /** Samples per time window (and XY points). */
  samples: number;
  /** Pixel columns of the plot. */
  columns: number;
  units: 'raw' | 'physical';
  run: 'run' | 'single' | 'stop';
  /** Time view: scroll as samples come instead of waiting for a whole window. */
  rolling: boolean;
  trigger: { channel: string; edge: 'rising' | 'falling'; level: number } | null;
  fft: { size: number; window: string; average: number; peakHold: boolean; markers: number; complex: boolean };
}

export function encodeFrame(header: Record<string, unknown>, arrays: readonly Float32Array[]): Buffer {
  const json = Buffer.from(JSON.stringify({ ...header, arrays: arrays.map((a) => a.length) }));
  const headerBytes = 4 + json.length;
  const padded = (headerBytes + 3) & ~3;
  const total = padded + arrays.reduce((n, a) => n + a.byteLength, 0);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let at = padded;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, at);
    at += a.byteLength;
  }
  return out;
}
