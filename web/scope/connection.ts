// The page's end of the WebSocket: requests answered by id, and what the server pushes — frames
// (binary: header length, JSON header, Float32 arrays; see src/scope/protocol.ts), status and
// recordings finished.

export interface Frame {
  header: Record<string, any>;
  arrays: Float32Array[];
}

type Handler = (message: Record<string, any>) => void;

export class Connection {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (m: Record<string, any>) => void; reject: (e: Error) => void }>();
  readonly #handlers = new Map<string, Handler[]>();
  onFrame: (frame: Frame) => void = () => undefined;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.#ws.binaryType = 'arraybuffer';
    this.opened = new Promise((resolve, reject) => {
      this.#ws.addEventListener('open', () => resolve(), { once: true });
      this.#ws.addEventListener('error', () => reject(new Error('the scope refused the connection')), { once: true });
    });
    this.#ws.addEventListener('message', (e) => {
      if (e.data instanceof ArrayBuffer) return this.onFrame(decodeFrame(e.data));
      const message = JSON.parse(String(e.data)) as Record<string, any>;
      if (message.type === 'reply' && this.#pending.has(message.id)) {
        const p = this.#pending.get(message.id)!;
        this.#pending.delete(message.id);
        if (message.ok) p.resolve(message);
        else p.reject(Object.assign(new Error(message.error?.message ?? 'refused'), { code: message.error?.code }));
        return;
      }
      for (const h of this.#handlers.get(message.type) ?? []) h(message);
    });
    this.#ws.addEventListener('close', () => {
      for (const h of this.#handlers.get('closed') ?? []) h({});
    });
  }

  on(type: string, handler: Handler): void {
    this.#handlers.set(type, [...(this.#handlers.get(type) ?? []), handler]);
  }

  request(op: string, body: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, op, ...body }));
    });
  }

  /** A message that needs no answer (acks). */
  tell(op: string, body: Record<string, unknown> = {}): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify({ op, ...body }));
  }
}

export function decodeFrame(buffer: ArrayBuffer): Frame {
  const view = new DataView(buffer);
  const length = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length))) as Record<string, any>;
  let at = (4 + length + 3) & ~3;
  const arrays = (header.arrays as number[]).map((n) => {
    const a = new Float32Array(buffer, at, n);
    at += n * 4;
    return a;
  });
  return { header, arrays };
}
