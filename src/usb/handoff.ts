// Moving a stream's blocks between IIO and a FunctionFS endpoint, for any protocol over bulk
// endpoints (iiod's own server uses the same pieces through its pipes): a capture stream's
// blocks go to an IN endpoint, an OUT endpoint's transfers land in a playback stream's blocks.
// Where both sides take DMABUFs, each block is attached to the endpoint once and moved by
// FUNCTIONFS_DMABUF_TRANSFER, never mapped nor copied, and goes back to IIO only once the USB
// transfer's fence has signalled; where either refuses (a UDC without scatter-gather, a file I/O
// buffer), the bytes are written or read by the CPU instead, and the result says why. Open the
// stream with `cpuAccess: 'on-touch'` so that blocks moved by DMABUF are not synced either.
import type { BufferStream } from '../core/buffer-stream.js';
import { abortError, errnoOf, systemError } from '../errors.js';
import { FfsDmabufEndpoint, FfsDmabufRefusedError } from './ffs-dmabuf.js';

export interface HandoffOptions {
  /**
   * Stops the hand-off: a capture stream is stopped, a transfer in flight is waited for no
   * longer (it stays queued, its block attached, until the endpoint file is closed).
   */
  signal?: AbortSignal;
  /** Blocks to move (default: capture, until the stream ends; playback, until aborted). */
  blocks?: number;
  /** Bound of each USB transfer once queued, ms (default: none). */
  timeoutMs?: number;
}

export interface PlaybackHandoffOptions extends HandoffOptions {
  /**
   * Bytes each block receives (default: a whole block). On the DMABUF path the host must send
   * exactly this much per block: a transfer's fence tells that it ended, not how long it was.
   */
  bytes?: number;
}

export interface HandoffResult {
  blocks: number;
  /** Bytes moved by DMABUF transfer. */
  dmabufBytes: number;
  /** Bytes the CPU wrote or read instead. */
  copiedBytes: number;
  /** Why the bytes were copied, when they were. */
  copied: string | undefined;
}

/** Attaches every block of `stream` to `endpoint`; the reason for copying instead, if any. */
function attachAll(stream: BufferStream, endpoint: FfsDmabufEndpoint): string | undefined {
  if (stream.mode !== 'dmabuf') return `${stream.buffer.toString()} takes no DMABUFs (file I/O)`;
  try {
    for (const block of stream.blocks) endpoint.attach(block.dmabufFd!);
    return undefined;
  } catch (e) {
    if (e instanceof FfsDmabufRefusedError) return e.message;
    throw e;
  }
}

/**
 * Detaches the stream's blocks once the hand-off ended well. After a failure they stay attached
 * until the endpoint file is closed (which drops them): the failure may be the gadget's unbind,
 * after which a DETACH dereferences the gone gadget (an oops on 6.12, found in the lab).
 */
function detachAll(stream: BufferStream, endpoint: FfsDmabufEndpoint): void {
  for (const block of stream.blocks) if (block.dmabufFd !== undefined) endpoint.detach(block.dmabufFd);
}

/** Sends each captured block, in order, to the IN endpoint `endpoint`; resolves once the last went. */
export async function captureToUsb(stream: BufferStream, endpoint: FfsDmabufEndpoint, options: HandoffOptions = {}): Promise<HandoffResult> {
  if (endpoint.direction !== 'in') throw new TypeError(`${endpoint.path} is an OUT endpoint: captured blocks go to an IN one`);
  if (stream.buffer.output) throw new TypeError(`${stream.toString()} is a playback stream: use usbToPlayback()`);
  const { signal } = options;
  const aborted = (): boolean => signal?.aborted === true;
  if (aborted()) throw abortError(signal!);
  const result: HandoffResult = { blocks: 0, dmabufBytes: 0, copiedBytes: 0, copied: attachAll(stream, endpoint) };
  const stop = (): void => void stream.stop().catch(() => undefined);
  signal?.addEventListener('abort', stop, { once: true });
  let ended = false;
  try {
    for await (const block of stream) {
      if (aborted()) break;
      if (result.copied === undefined) {
        await endpoint.transfer(block.dmabufFd!, block.bytesUsed, options);
        result.dmabufBytes += block.bytesUsed;
      } else {
        const bytes = block.bytes;
        for (let done = 0; done < bytes.length;) done += await endpoint.kernel.writeBlocking(endpoint.fd, bytes.subarray(done), signal === undefined ? {} : { signal });
        result.copiedBytes += bytes.length;
      }
      if (++result.blocks === options.blocks) break;
    }
    ended = true;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (ended && result.copied === undefined) detachAll(stream, endpoint);
  }
  if (aborted()) throw abortError(signal!);
  return result;
}

/** Receives the OUT endpoint's transfers into `stream`'s blocks and queues each one to IIO. */
export async function usbToPlayback(endpoint: FfsDmabufEndpoint, stream: BufferStream, options: PlaybackHandoffOptions = {}): Promise<HandoffResult> {
  if (endpoint.direction !== 'out') throw new TypeError(`${endpoint.path} is an IN endpoint: playback blocks come from an OUT one`);
  if (!stream.buffer.output) throw new TypeError(`${stream.toString()} is a capture stream: use captureToUsb()`);
  const blockBytes = stream.blockSize * stream.layout.scanBytes;
  const bytes = options.bytes ?? blockBytes;
  if (!(Number.isSafeInteger(bytes) && bytes > 0 && bytes <= blockBytes && bytes % stream.layout.scanBytes === 0)) {
    throw new RangeError(`${stream.toString()}: bytes must be 1 to ${stream.blockSize} whole ${stream.layout.scanBytes}-byte scans, got ${bytes}`);
  }
  const { signal } = options;
  const result: HandoffResult = { blocks: 0, dmabufBytes: 0, copiedBytes: 0, copied: attachAll(stream, endpoint) };
  let ended = false;
  try {
    while (result.blocks !== options.blocks) {
      if (signal?.aborted === true) throw abortError(signal);
      await stream.writeWith(async (block) => {
        if (result.copied === undefined) {
          await endpoint.transfer(block.dmabufFd!, bytes, options);
          result.dmabufBytes += bytes;
          return bytes;
        }
        const n = await endpoint.kernel.readBlocking(endpoint.fd, block.data.subarray(0, bytes), signal === undefined ? {} : { signal });
        result.copiedBytes += n;
        if (n === 0 || n % stream.layout.scanBytes !== 0) {
          throw systemError(errnoOf('EPROTO'), 'read', endpoint.path, `a ${n}-byte transfer is not whole ${stream.layout.scanBytes}-byte scans of ${stream.toString()}`);
        }
        return n;
      });
      result.blocks++;
    }
    ended = true;
  } finally {
    if (ended && result.copied === undefined) detachAll(stream, endpoint);
  }
  return result;
}
