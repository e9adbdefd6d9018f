// One browser's WebSocket: its requests (tree, attributes, writes, view, generator, recorder)
// and its frames. Frames go out on the session's own timer and only while the browser keeps up
// — fewer than MAX_UNACKED frames not yet acknowledged and little in the socket's buffer —
// otherwise the frame is dropped (counted), never queued: a slow or throttled tab sees fewer
// frames while the capture runs on at full rate.
import type { WebSocket } from 'ws';
import { errorInfo, contextTree, type AttrTarget } from './attributes.js';
import type { DeviceCapture } from './capture.js';
import { FFT_SIZES } from './fft.js';
import { FrameBuilder } from './frames.js';
import type { ScopeHub } from './hub.js';
import { encodeFrame, type ViewConfig } from './protocol.js';
import type { GeneratorSource } from './generator.js';

const FRAME_MS = 16;
const STATUS_MS = 500;
const MAX_UNACKED = 2;
const MAX_BUFFERED_BYTES = 1 << 20;
const MAX_SAMPLES = 1 << 18;
const MAX_COLUMNS = 8192;

type Request = { id?: number; op: string } & Record<string, unknown>;

function checkView(v: ViewConfig): ViewConfig {
  if (!['time', 'spectrum', 'xy'].includes(v.view)) throw new RangeError(`view must be time, spectrum or xy, got ${JSON.stringify(v.view)}`);
  if (!Array.isArray(v.channels) || v.channels.some((c) => typeof c !== 'string')) throw new RangeError('channels must be a list of channel ids');
  if (!(Number.isSafeInteger(v.samples) && v.samples >= 2 && v.samples <= MAX_SAMPLES)) throw new RangeError(`samples must be 2…${MAX_SAMPLES}, got ${v.samples}`);
  if (!(Number.isSafeInteger(v.columns) && v.columns >= 16 && v.columns <= MAX_COLUMNS)) throw new RangeError(`columns must be 16…${MAX_COLUMNS}, got ${v.columns}`);
  if (!FFT_SIZES.includes(v.fft?.size)) throw new RangeError(`FFT size must be one of ${FFT_SIZES.join(', ')}, got ${v.fft?.size}`);
  return v;
}

export class ScopeSession {
  readonly #hub: ScopeHub;
  readonly #ws: WebSocket;
  readonly #timer: NodeJS.Timeout;
  readonly #statusTimer: NodeJS.Timeout;
  #capture: DeviceCapture | undefined;
  #builder: FrameBuilder | undefined;
  #seq = 0;
  #acked = 0;
  #sent = 0;
  #dropped = 0;
  /** The capture's newest block when a drop was last counted. */
  #lastDropCheck = 0;
  #closed = false;
  readonly #onCaptureError = (e: Error): void => this.#send({ type: 'error', message: e.message, code: errorInfo(e).code });

  constructor(hub: ScopeHub, ws: WebSocket) {
    this.#hub = hub;
    this.#ws = ws;
    ws.on('message', (data, binary) => {
      if (binary) return this.#send({ type: 'error', message: 'binary messages are not requests' });
      void this.#request(String(data));
    });
    ws.on('close', () => void this.close());
    ws.on('error', () => void this.close());
    this.#timer = setInterval(() => this.#tick(), FRAME_MS).unref();
    this.#statusTimer = setInterval(() => this.#status(), STATUS_MS).unref();
  }

  #send(message: Record<string, unknown>): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(JSON.stringify(message));
  }

  async #request(text: string): Promise<void> {
    let req: Request;
    try {
      req = JSON.parse(text) as Request;
      if (typeof req !== 'object' || req === null || typeof req.op !== 'string') throw new TypeError('a request is an object with an "op"');
    } catch (e) {
      this.#send({ type: 'error', message: `bad request: ${(e as Error).message}` });
      return;
    }
    try {
      const result = await this.#handle(req);
      if (req.id !== undefined) this.#send({ type: 'reply', id: req.id, ok: true, ...result });
    } catch (e) {
      this.#send({ type: 'reply', id: req.id, ok: false, error: errorInfo(e) });
    }
  }

  async #handle(req: Request): Promise<Record<string, unknown>> {
    const hub = this.#hub;
    switch (req.op) {
      case 'hello':
        return { tree: await contextTree(hub.ctx), readOnly: hub.readOnly, fftSizes: FFT_SIZES };
      case 'attrs':
        return { attrs: await hub.readAttrs(req.target as AttrTarget) };
      case 'attr.write':
        return { attr: await hub.writeAttr(req.target as AttrTarget, String(req.name), String(req.value)) };
      case 'trigger.set':
        await hub.setTrigger(String(req.device), req.trigger === null ? null : String(req.trigger));
        return {};
      case 'view':
        await this.#view(req.view === null ? null : checkView(req.view as ViewConfig));
        return {};
      case 'ack':
        this.#acked = Math.max(this.#acked, Number(req.seq));
        return {};
      case 'generator.start':
        return { generator: await hub.startGenerator(String(req.device), { channels: (req.channels as string[]) ?? [], mode: req.mode === 'streamed' ? 'streamed' : 'cyclic', source: req.source as GeneratorSource }) };
      case 'generator.stop':
        await hub.stopGenerator(String(req.device));
        return {};
      case 'record.start': {
        const recorder = await hub.startRecording(String(req.device), req.channels as string[], Number(req.samples ?? 0));
        void recorder.finished.then((r) => this.#send({ type: 'recorded', id: r.id, name: r.name, scans: r.scans, bytes: r.bytes, reason: r.reason }));
        return { recording: recorder.id };
      }
      case 'record.stop':
        hub.recordings.get(String(req.recording))?.stop();
        return {};
      default:
        throw new RangeError(`unknown op ${JSON.stringify(req.op)}`);
    }
  }

  /** Follows the view asked for: the capture of its device with its channels (and the trigger's). */
  async #view(config: ViewConfig | null): Promise<void> {
    const capture = config === null ? undefined : this.#hub.capture(config.device);
    if (this.#capture !== undefined && this.#capture !== capture) {
      this.#capture.off('error', this.#onCaptureError);
      await this.#capture.want(this, []);
    }
    this.#builder = undefined;
    this.#capture = capture;
    if (config === null || capture === undefined) return;
    capture.off('error', this.#onCaptureError);
    capture.on('error', this.#onCaptureError);
    const ids = new Set(config.channels);
    if (config.trigger !== null) ids.add(config.trigger.channel);
    await capture.want(this, config.run === 'stop' ? [] : ids);
    this.#builder = new FrameBuilder(capture, config);
  }

  #tick(): void {
    const builder = this.#builder;
    if (builder === undefined || builder.config.run === 'stop') return;
    const slow = this.#seq - this.#acked >= MAX_UNACKED || this.#ws.bufferedAmount > MAX_BUFFERED_BYTES;
    if (slow) {
      // Count a drop only when there was something new to show.
      if (this.#capture?.lastBlockAt !== this.#lastDropCheck) {
        this.#lastDropCheck = this.#capture?.lastBlockAt ?? 0;
        this.#dropped++;
      }
      return;
    }
    let frame;
    try {
      frame = builder.build();
    } catch (e) {
      this.#send({ type: 'error', message: (e as Error).message });
      this.#builder = undefined;
      return;
    }
    if (frame === undefined) return;
    frame.header.seq = ++this.#seq;
    frame.header.sentAt = Date.now();
    this.#ws.send(encodeFrame(frame.header, frame.arrays));
    this.#sent++;
    if (builder.config.run === 'single') builder.config.run = 'stop';
  }

  #status(): void {
    this.#send({
      type: 'status', frames: { sent: this.#sent, dropped: this.#dropped },
      captures: this.#hub.captures.map((c) => c.stats), generators: this.#hub.generators,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#statusTimer);
    this.#builder = undefined;
    this.#capture?.off('error', this.#onCaptureError);
    await this.#capture?.want(this, []).catch(() => undefined);
    this.#ws.terminate();
  }
}
