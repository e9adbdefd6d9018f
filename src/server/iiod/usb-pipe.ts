// One pipe of libiio's USB transport (usb.md §A1) as a session's transport: a bulk IN endpoint
// file for replies, a bulk OUT one for commands. FunctionFS endpoint files cannot be polled, so
// every read and write is a blocking call on a thread of its own (KernelPort.readBlocking), one
// at a time per direction. Each write is one USB transfer (a part larger than 1 MiB is cut at
// 1 MiB, a multiple of every wMaxPacketSize, as libiio's reads are); reads happen only when the
// session waits for input. Where the UDC takes DMABUFs, capture blocks are sent and playback
// blocks received by FUNCTIONFS_DMABUF_TRANSFER (src/usb/ffs-dmabuf.ts) instead.
import { O_RDONLY, O_WRONLY } from '../../abi/index.js';
import type { StreamBlock } from '../../core/stream-block.js';
import { IIOD_USB_MAX_TRANSFER, pipeEndpointFiles } from '../../iiod/usb.js';
import type { KernelPort } from '../../kernel/port.js';
import { FfsDmabufEndpoint, FfsDmabufRefusedError } from '../../usb/ffs-dmabuf.js';
import type { ChunkSource } from './inbox.js';
import type { BlockSink, BlockSource, Transport } from './transport.js';
import type { UsbTraffic } from './usb-server.js';

/** Input read at once when a command line is awaited (longest line and its `\r\n`, rounded up). */
const LINE_READ = 8192;

export interface UsbPipeOptions {
  kernel: KernelPort;
  /** The FunctionFS mount. */
  mountpoint: string;
  pipe: number;
  /** Try the DMABUF paths (default true); false keeps every byte on the copy path. */
  zeroCopy?: boolean;
  /** Where the bytes moved are counted (the server's totals). */
  traffic?: UsbTraffic;
}

/** One direction's DMABUF path: the endpoint, and why it cannot be used once that is known. */
class DmabufPath implements BlockSink, BlockSource {
  refused: string | undefined;
  readonly #pipe: UsbPipe;

  constructor(pipe: UsbPipe, readonly endpoint: FfsDmabufEndpoint, enabled: boolean) {
    this.#pipe = pipe;
    if (!enabled) this.refused = 'the server was told to copy (zero-copy off)';
  }

  get name(): string {
    return this.endpoint.path;
  }

  accepts(block: StreamBlock): boolean {
    if (this.refused !== undefined) return false;
    const fd = block.dmabufFd;
    if (fd === undefined) return false; // a file I/O stream: its blocks are plain memory
    try {
      this.endpoint.attach(fd);
      return true;
    } catch (e) {
      this.refused = e instanceof FfsDmabufRefusedError ? e.message : `${this.endpoint.path}: FUNCTIONFS_DMABUF_ATTACH failed: ${(e as Error).message}`;
      return false;
    }
  }

  send(header: readonly string[], block: StreamBlock, bytes: number): Promise<void> {
    for (const part of header) this.#pipe.write(part);
    return this.#pipe.after(async () => {
      await this.endpoint.transfer(block.dmabufFd!, bytes, { signal: this.#pipe.signal });
      this.#pipe.traffic.dmabufSent += bytes;
    });
  }

  async receive(block: StreamBlock, bytes: number): Promise<void> {
    await this.endpoint.transfer(block.dmabufFd!, bytes, { signal: this.#pipe.signal });
    this.#pipe.traffic.dmabufReceived += bytes;
  }

  async release(blocks: readonly StreamBlock[]): Promise<void> {
    // A closing pipe closes its endpoint files, which drops every attachment: no DETACH, which
    // would oops the kernel if the closing is an unbind's (UsbPipe.close).
    if (!this.#pipe.signal.aborted) this.endpoint.detachEach(blocks.flatMap((b) => (b.dmabufFd === undefined ? [] : [b.dmabufFd])));
  }
}

export class UsbPipe implements Transport {
  readonly peer: string;
  readonly input: ChunkSource;
  readonly sink: DmabufPath;
  readonly source: DmabufPath;
  readonly traffic: UsbTraffic;
  readonly #kernel: KernelPort;
  readonly #in: number;
  readonly #out: number;
  readonly #stop = new AbortController();
  /** The writes (and DMABUF sends) in order: each starts when the one before ended. */
  #writes: Promise<void> = Promise.resolve();
  #reading: Promise<void> | undefined;
  #onInput: ((data: Buffer) => void) | undefined;
  #onEnd: (() => void) | undefined;
  readonly #listeners: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  private constructor(o: UsbPipeOptions, inFd: number, outFd: number, files: { in: string; out: string }) {
    this.#kernel = o.kernel;
    this.#in = inFd;
    this.#out = outFd;
    this.peer = `usb pipe ${o.pipe}`;
    this.traffic = o.traffic ?? { written: 0, read: 0, dmabufSent: 0, dmabufReceived: 0 };
    const zeroCopy = o.zeroCopy !== false;
    this.sink = new DmabufPath(this, new FfsDmabufEndpoint(o.kernel, inFd, files.in, 'in'), zeroCopy);
    this.source = new DmabufPath(this, new FfsDmabufEndpoint(o.kernel, outFd, files.out, 'out'), zeroCopy);
    this.input = {
      start: (chunk, end) => {
        this.#onInput = chunk;
        this.#onEnd = end;
      },
      demand: (wanted) => this.#read(wanted),
      pause: () => undefined, // pulled: nothing is read unless asked for
      resume: () => undefined,
    };
  }

  /** Opens pipe `pipe`'s endpoint files: ep(2p+1) written, ep(2p+2) read. */
  static async open(o: UsbPipeOptions): Promise<UsbPipe> {
    const files = pipeEndpointFiles(o.mountpoint, o.pipe);
    const inFd = await o.kernel.open(files.in, O_WRONLY);
    let outFd: number;
    try {
      outFd = await o.kernel.open(files.out, O_RDONLY);
    } catch (e) {
      o.kernel.close(inFd);
      throw e;
    }
    return new UsbPipe(o, inFd, outFd, files);
  }

  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  write(data: string | Uint8Array): void {
    this.send([data]).catch(() => undefined);
  }

  send(parts: ReadonlyArray<string | Uint8Array>): Promise<void> {
    let last: Promise<void> = this.#writes;
    for (const part of parts) last = this.after(() => this.#writeAll(typeof part === 'string' ? Buffer.from(part) : part));
    return last;
  }

  /** Runs `work` after every write queued so far; a failure cuts the client off. */
  after(work: () => Promise<void>): Promise<void> {
    const run = this.#writes.then(() => {
      if (this.#stop.signal.aborted) throw this.#gone();
      return work();
    });
    this.#writes = run.catch((e: unknown) => {
      if (!this.#stop.signal.aborted) this.destroy();
      throw e;
    }).catch(() => undefined);
    return run;
  }

  drained(): Promise<void> {
    return this.#writes;
  }

  end(): void {
    void this.#writes.then(() => this.destroy());
  }

  destroy(): void {
    void this.close();
  }

  onClose(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Interrupts what is pending, closes both files (which drops every DMABUF attached); resolves once done. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await Promise.allSettled([this.#writes, this.#reading]);
      // Closing the files drops the attachments; DETACH after an unbind (which closes pipes) oopses 6.12.
      await Promise.allSettled([this.sink.endpoint.close({ detach: false }), this.source.endpoint.close({ detach: false })]);
      this.#kernel.close(this.#in);
      this.#kernel.close(this.#out);
      this.#onEnd?.();
      for (const listener of this.#listeners.splice(0)) listener();
    })();
    return this.#closing;
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    // An empty write would be a zero-length packet the host does not expect.
    for (let at = 0; at < data.length; at += IIOD_USB_MAX_TRANSFER) {
      const part = data.subarray(at, at + IIOD_USB_MAX_TRANSFER);
      let done = 0;
      while (done < part.length) done += await this.#kernel.writeBlocking(this.#in, part.subarray(done), { signal: this.#stop.signal });
      this.traffic.written += part.length;
    }
  }

  #read(wanted: number | undefined): void {
    if (this.#reading !== undefined || this.#stop.signal.aborted) return;
    // A payload is read for exactly what is left of it: a bulk OUT read ends on a short packet
    // or when full, and a payload of whole packets (4096 bytes) sent without a zero-length
    // packet, as libiio sends it, would leave a larger read waiting for the next transfer,
    // which the host sends only once this one is answered (found in the lab with dummy_hcd.sg=0).
    const into = Buffer.allocUnsafe(wanted === undefined ? LINE_READ : Math.min(wanted, IIOD_USB_MAX_TRANSFER));
    this.#reading = this.#kernel.readBlocking(this.#out, into, { signal: this.#stop.signal }).then((n) => {
      this.#reading = undefined;
      this.traffic.read += n;
      this.#onInput?.(into.subarray(0, n));
    }, () => {
      // The host went away, the gadget was unbound, or the pipe is closing: input ends.
      this.#reading = undefined;
      this.destroy();
    });
  }

  #gone(): Error {
    return Object.assign(new Error(`${this.peer} is closed`), { code: 'ERR_IIOJS_CLOSED' });
  }
}
