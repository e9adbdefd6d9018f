// What the scope's browsers share: the context, one capture per input device (whoever watches
// it), one generator per output device, the recordings waiting to be downloaded, and the rule
// that --read-only refuses every write and every output.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../core/context.js';
import { errnoOf, systemError } from '../errors.js';
import { attrsOf, readAttrs, writeAttr, type AttrEntry, type AttrTarget } from './attributes.js';
import { DeviceCapture } from './capture.js';
import { Generator, type GeneratorRequest, type GeneratorStatus } from './generator.js';
import { ScopeRecorder } from './recorder.js';

/** Finished recordings kept for download (the oldest goes first). */
const KEPT_RECORDINGS = 8;

/** How long a write waits for a stopped buffer to be released (see writeReleased). */
const RELEASE_MS = 2000;
const RELEASE_POLL_MS = 50;

/**
 * `write`, retried while it meets EBUSY for up to RELEASE_MS: over ip:, a capture stopped in the
 * middle of a READBUF ends by closing its connection (iiod has no other way to stop one), and the
 * server disables the buffer when it sees that, a moment later.
 */
async function writeReleased<T>(write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RELEASE_MS;
  for (;;) {
    try {
      return await write();
    } catch (e) {
      if ((e as { code?: string }).code !== 'EBUSY' || Date.now() > deadline) throw e;
      await sleep(RELEASE_POLL_MS);
    }
  }
}

export class ScopeHub {
  readonly ctx: Context;
  readonly readOnly: boolean;
  readonly #captures = new Map<string, DeviceCapture>();
  readonly #generators = new Map<string, Generator>();
  readonly recordings = new Map<string, ScopeRecorder>();
  #nextRecording = 1;

  constructor(ctx: Context, readOnly: boolean) {
    this.ctx = ctx;
    this.readOnly = readOnly;
  }

  /** EACCES for what a read-only scope refuses. */
  checkWritable(what: string): void {
    if (this.readOnly) throw systemError(errnoOf('EACCES'), what, undefined, 'the scope is read-only (--read-only): it refuses every write and every output');
  }

  capture(deviceKey: string): DeviceCapture {
    const device = this.ctx.device(deviceKey);
    let capture = this.#captures.get(device.id);
    if (capture === undefined) {
      capture = new DeviceCapture(device);
      this.#captures.set(device.id, capture);
    }
    return capture;
  }

  get captures(): DeviceCapture[] {
    return [...this.#captures.values()];
  }

  readAttrs(target: AttrTarget): Promise<AttrEntry[]> {
    return readAttrs(this.ctx, target);
  }

  /**
   * Writes and reads back. A device that is capturing is stopped for the write and started
   * again, with its rate and scales read anew: drivers refuse some writes while a buffer runs
   * (EBUSY), and the frames must follow what changed.
   */
  async writeAttr(target: AttrTarget, name: string, value: string): Promise<AttrEntry> {
    this.checkWritable('write');
    attrsOf(this.ctx, target); // the target exists, before anything stops
    const capture = target.kind === 'context' ? undefined : this.#captures.get(this.ctx.device(target.device).id);
    if (capture?.running !== true) return writeAttr(this.ctx, target, name, value);
    return capture.suspended(`${name} was written`, () => writeReleased(() => writeAttr(this.ctx, target, name, value)));
  }

  async setTrigger(deviceKey: string, trigger: string | null): Promise<void> {
    this.checkWritable('setTrigger');
    const device = this.ctx.device(deviceKey);
    const capture = this.#captures.get(device.id);
    const set = (): Promise<void> => writeReleased(() => device.setTrigger(trigger));
    await (capture?.running === true ? capture.suspended('the trigger changed', set) : set());
  }

  async startGenerator(deviceKey: string, request: GeneratorRequest): Promise<GeneratorStatus> {
    this.checkWritable('generate');
    const device = this.ctx.device(deviceKey);
    await this.stopGenerator(device.id);
    const rate = await device.attrs.get('sampling_frequency')?.readNumber().catch(() => undefined);
    const generator = await Generator.start(device, request, rate);
    this.#generators.set(device.id, generator);
    generator.done.catch(() => undefined).finally(() => {
      if (this.#generators.get(device.id) === generator) this.#generators.delete(device.id);
    });
    return generator.status;
  }

  async stopGenerator(deviceKey: string): Promise<void> {
    const id = this.ctx.device(deviceKey).id;
    const generator = this.#generators.get(id);
    this.#generators.delete(id);
    await generator?.stop();
  }

  get generators(): GeneratorStatus[] {
    return [...this.#generators.values()].map((g) => g.status);
  }

  async startRecording(deviceKey: string, channels: readonly string[], samples: number): Promise<ScopeRecorder> {
    if (!(Number.isSafeInteger(samples) && samples >= 0)) throw new RangeError(`samples must be a whole number (0: until stopped), got ${samples}`);
    const capture = this.capture(deviceKey);
    const id = String(this.#nextRecording++);
    const name = `${capture.device.label ?? capture.device.name ?? capture.device.id}-${new Date().toISOString().replace(/[:.]/g, '-')}`.replace(/[^\w.-]/g, '_');
    const recorder = new ScopeRecorder(id, name, capture, samples);
    await recorder.start(this.ctx, channels);
    this.recordings.set(id, recorder);
    for (const old of this.recordings.keys()) {
      if (this.recordings.size <= KEPT_RECORDINGS) break;
      this.recordings.get(old)!.stop();
      this.recordings.delete(old);
    }
    return recorder;
  }

  async close(): Promise<void> {
    for (const r of this.recordings.values()) r.stop();
    await Promise.allSettled([...this.#generators.keys()].map((id) => this.stopGenerator(id)));
    await Promise.allSettled(this.captures.map((c) => c.close()));
  }
}
