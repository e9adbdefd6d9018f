// Node stream adapters for a BufferStream. Backpressure comes from the streams themselves: the
// Readable pulls the next block only when its consumer wants more, and the Writable's callback
// waits until the block is queued (which waits for a free block).
import { Readable, Writable } from 'node:stream';
import type { BufferStream } from './buffer-stream.js';

export interface ReadableOptions {
  /** Blocks to read, then end (default: until the stream fails or is destroyed). */
  blocks?: number;
  highWaterMark?: number;
}

export interface WritableOptions {
  highWaterMark?: number;
  /** Wait until everything is played on end (default true). */
  flushOnEnd?: boolean;
}

export function readableOf(stream: BufferStream, options: ReadableOptions = {}): Readable {
  const limit = options.blocks ?? Infinity;
  async function* chunks(): AsyncGenerator<Buffer> {
    let n = 0;
    if (n >= limit) return;
    for await (const block of stream) {
      yield Buffer.from(block.bytes); // a copy: the block goes back to the hardware next
      if (++n >= limit) return;
    }
  }
  return Readable.from(chunks(), { objectMode: false, ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }) });
}

export function writableOf(stream: BufferStream, options: WritableOptions = {}): Writable {
  const blockBytes = stream.blockSize * stream.layout.scanBytes;
  const scanBytes = stream.layout.scanBytes;
  let pending: Buffer = Buffer.alloc(0);
  return new Writable({
    ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    write(chunk: Buffer, _encoding, callback) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      (async () => {
        while (pending.length >= blockBytes) {
          await stream.write(pending.subarray(0, blockBytes));
          pending = pending.subarray(blockBytes);
        }
      })().then(() => callback(), callback);
    },
    final(callback) {
      (async () => {
        const whole = pending.length - (pending.length % scanBytes);
        if (whole > 0) await stream.write(pending.subarray(0, whole));
        pending = Buffer.alloc(0);
        if (options.flushOnEnd !== false) await stream.flush();
      })().then(() => callback(), callback);
    },
  });
}
