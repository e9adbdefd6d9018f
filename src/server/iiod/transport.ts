// What a session talks to its client through: a TCP socket, or a pipe of libiio's USB transport
// (usb-pipe.ts). Each write is one unit on the wire — on USB one bulk transfer, which libiio's
// reads depend on (a status line, a mask line and data are separate transfers, usb.md §A1), on
// TCP just bytes — so replies are written in the parts iiod writes them in.
import type { Socket } from 'node:net';
import type { StreamBlock } from '../../core/stream-block.js';
import { socketSource, type ChunkSource } from './inbox.js';

/** Capture blocks sent to the client straight from their DMABUF (no mapping, no copy). */
export interface BlockSink {
  /** Where the blocks go (an endpoint file), for messages. */
  readonly name: string;
  /** Why blocks cannot go by DMABUF here (the endpoint refused them), once known. */
  readonly refused: string | undefined;
  /** Whether `block` can go by DMABUF now (attached once); false when this path is refused. */
  accepts(block: StreamBlock): boolean;
  /** Writes `header`, then the first `bytes` of `block` by DMABUF; resolves once the transfer ended. */
  send(header: readonly string[], block: StreamBlock, bytes: number): Promise<void>;
  /** Forgets `blocks` (their stream is closing): detaches them before their fds are closed. */
  release(blocks: readonly StreamBlock[]): Promise<void>;
}

/** Playback blocks filled by the client straight into their DMABUF. */
export interface BlockSource {
  readonly name: string;
  readonly refused: string | undefined;
  accepts(block: StreamBlock): boolean;
  /** Receives the next `bytes` of input into `block` by DMABUF; resolves once they arrived. */
  receive(block: StreamBlock, bytes: number): Promise<void>;
  release(blocks: readonly StreamBlock[]): Promise<void>;
}

export interface Transport {
  /** The client, for log lines (an address, or the USB pipe). */
  readonly peer: string;
  readonly input: ChunkSource;
  /** Queues one part of a reply (dropped once the client is gone). */
  write(data: string | Uint8Array): void;
  /** Writes parts in order; resolves once the last is taken, rejects if the client went away. */
  send(parts: ReadonlyArray<string | Uint8Array>): Promise<void>;
  /** Resolves once what is queued is few enough to read the next command (or the client is gone). */
  drained(): Promise<void>;
  /** Closes after what is queued is written. */
  end(): void;
  /** Cuts the client off now. */
  destroy(): void;
  /** Called once, when the client is gone. */
  onClose(listener: () => void): void;
  /** Zero-copy paths, where the transport has them. */
  readonly sink?: BlockSink;
  readonly source?: BlockSource;
}

/** A TCP client: parts are corked into as few segments as possible. */
export function tcpTransport(socket: Socket): Transport {
  return {
    peer: socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`,
    input: socketSource(socket),
    write(data) {
      if (data.length > 0 && !socket.destroyed) socket.write(data);
    },
    send: (parts) => new Promise((resolve, reject) => {
      if (parts.length === 0) return resolve();
      socket.cork();
      parts.forEach((part, i) => {
        if (i < parts.length - 1) socket.write(part);
        else socket.write(part, (error) => (error ? reject(error) : resolve()));
      });
      socket.uncork();
    }),
    async drained() {
      if (!socket.writableNeedDrain || socket.destroyed) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    },
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
    onClose: (listener) => void socket.once('close', listener),
  };
}
