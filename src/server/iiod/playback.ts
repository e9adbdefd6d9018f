// The one client writing to an output buffer (iiod allows a single writer): WRITEBUF payloads go
// into the stream's blocks — copied once, from the socket's chunks into the block memory — and
// are queued for the DAC.
//
// `OPEN … CYCLIC` plays its single WRITEBUF until CLOSE. The mainline kernel stores the DMABUF
// CYCLIC flag but plays such a block once (kernel-abi §2.7), and file I/O has no cyclic mode, so
// the repetition is done here: the payload is copied into every block once, then the blocks go
// back to the hardware unchanged as each one completes (no further copies).
//
// Over a transport that receives into DMABUFs (a USB pipe, transport.ts BlockSource), the
// stream's DMABUFs are attached to it at OPEN and each WRITEBUF's samples go from the USB
// controller straight into a block, which is then queued: no mapping, no copy. Cyclic output
// stays on the copy path (its payload is copied into every block).
import type { BufferStream } from '../../core/buffer-stream.js';
import type { IioBuffer } from '../../core/buffer.js';
import type { CaptureConfig } from './capture-share.js';
import { refusal } from './errno.js';
import type { BlockSource } from './transport.js';

export class Playback {
  readonly buffer: IioBuffer;
  readonly #stream: BufferStream;
  readonly #cyclic: boolean;
  #written = 0;
  /** Cyclic: the loop that re-queues the blocks until close. */
  #repeating: Promise<void> | undefined;
  /** Receives payloads into the blocks' DMABUFs, when every block could be attached to it. */
  readonly #source: BlockSource | undefined;

  private constructor(buffer: IioBuffer, stream: BufferStream, cyclic: boolean, source: BlockSource | undefined, readonly path: string) {
    this.buffer = buffer;
    this.#stream = stream;
    this.#cyclic = cyclic;
    this.#source = source;
  }

  static async open(buffer: IioBuffer, config: CaptureConfig, cyclic: boolean, source?: BlockSource): Promise<Playback> {
    // Cyclic needs a second block queued while one plays, or the DAC underruns between them.
    const blocks = cyclic ? Math.max(2, config.blocks) : config.blocks;
    const direct = source !== undefined && !cyclic;
    const stream = await buffer.open({ mask: config.positions, blockSize: config.samples, blocks, cpuAccess: direct ? 'on-touch' : true });
    const attached = direct && stream.mode === 'dmabuf' && stream.blocks.every((b) => source.accepts(b));
    let path = `zero-copy: WRITEBUF samples land in its DMABUFs from ${source?.name} (FUNCTIONFS_DMABUF_TRANSFER)`;
    if (source === undefined) path = 'copied from the socket';
    else if (cyclic) path = 'copied: a cyclic block is copied into every block';
    else if (stream.mode !== 'dmabuf') path = 'copied: the IIO buffer takes no DMABUFs (file I/O)';
    else if (!attached) path = `copied: ${source.refused}`;
    return new Playback(buffer, stream, cyclic, attached ? source : undefined, path);
  }

  /** Whether WRITEBUF payloads arrive straight in the blocks' DMABUFs (receive()). */
  get zeroCopy(): boolean {
    return this.#source !== undefined;
  }

  /** Why WRITEBUF of `bytes` cannot be taken (answered before any payload), or undefined. */
  check(bytes: number): Error | undefined {
    if (this.#cyclic && this.#written > 0) return refusal('EBUSY', 'WRITEBUF', `${this.buffer.toString()} plays its cyclic block until CLOSE`);
    // At most one block of whole samples.
    const scan = this.#stream.layout.scanBytes;
    if (bytes === 0 || bytes > this.#stream.blockSize * scan || bytes % scan !== 0) {
      return refusal('EINVAL', 'WRITEBUF', `${bytes} bytes: a block takes 1 to ${this.#stream.blockSize} whole ${scan}-byte samples`);
    }
    return undefined;
  }

  /** Queues the payload (`chunks`, `bytes` in all) as one block; resolves once it is queued. */
  async write(chunks: readonly Uint8Array[], bytes: number): Promise<void> {
    this.#written++;
    const copies = this.#cyclic ? this.#stream.blocks.length : 1;
    for (let i = 0; i < copies; i++) {
      await this.#stream.write((block) => {
        let at = 0;
        for (const chunk of chunks) {
          block.set(chunk, at);
          at += chunk.length;
        }
        return bytes;
      });
    }
    if (this.#cyclic) this.#repeating = this.#repeat(bytes);
  }

  /** Receives the next payload (`bytes`) into a block's DMABUF and queues it; zeroCopy only. */
  async receive(bytes: number): Promise<void> {
    const source = this.#source;
    if (source === undefined) throw new Error(`${this.buffer.toString()}: payloads are copied (no DMABUF source)`);
    this.#written++;
    await this.#stream.writeWith(async (block) => {
      await source.receive(block, bytes);
      return bytes;
    });
  }

  /**
   * Re-queues each block as it completes, its bytes untouched, until the stream closes. Each
   * turn lets the event loop run first: a kernel that completes blocks at once (the sim in fast
   * mode, a null DMA) would otherwise keep this loop in microtasks and starve every client.
   */
  async #repeat(bytes: number): Promise<void> {
    try {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve));
        await this.#stream.write(() => bytes);
      }
    } catch {
      // closed (CLOSE, or the client left): the repetition ends
    }
  }

  /**
   * Stops the buffer. `flush` (a clean CLOSE) first plays what is queued, for at most
   * `timeoutMs`; a client that vanished gets no flush.
   */
  async close(flush: boolean, timeoutMs: number): Promise<void> {
    if (flush && !this.#cyclic && this.#written > 0) {
      await this.#stream.flush(timeoutMs > 0 ? { timeoutMs } : {}).catch(() => undefined);
    }
    await this.#source?.release(this.#stream.blocks).catch(() => undefined);
    await this.#stream.close();
    await this.#repeating;
  }
}
