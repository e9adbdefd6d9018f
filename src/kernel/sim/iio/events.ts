// The event interface (industrialio-event.c; kernel-abi §1.1): events/<chan>_thresh_<dir>_en and
// _value attributes, and the event fd (anon_inode:iio:event, O_RDONLY|O_CLOEXEC, one at a time)
// that reads 16-byte iio_event_data records. While the fd is open, each enabled threshold
// watches its channel's signal (sampled at the device's rate, 100 Hz without one) and queues an
// event when the signal crosses the value: rising = from <= value to > value, falling = from
// >= value to < value. The queue is a kfifo of 16 events; when it is full, new events are
// dropped (counted in `lost`).
import { encodeIioEventId, iioEventDataStruct, O_RDONLY, POLLIN, POLLRDNORM } from '../../../abi/index.js';
import { nowMs } from '../clock.js';
import { kerr } from '../errno.js';
import { SimFile, type IoctlArg } from '../file.js';
import type { EventSpec } from '../scenario-types.js';
import { userBytes } from '../uaccess.js';
import { WaitQueue } from '../wait.js';
import type { IioDevice } from './device.js';
import { kstrtobool, kstrtoint } from './kstrto.js';
import { chanTypeNumber, modifierNumber, separateName } from './naming.js';
import { clockNsAt } from './timestamps.js';

const QUEUE_LENGTH = 16;
const CHECK_INTERVAL_MS = 20;
/** Most samples one check looks at (older ones are skipped after a long idle stretch). */
const MAX_SAMPLES_PER_CHECK = 100_000;
const DIRECTIONS = { either: 0, rising: 1, falling: 2 } as const;

interface Watch {
  spec: EventSpec;
  enabled: boolean;
  value: number;
  last: number | undefined;
}

export class EventInterface {
  readonly waitq = new WaitQueue();
  readonly #queue: Array<{ id: bigint; timestamp: bigint }> = [];
  readonly #watches: Watch[];
  /** An event fd is open (IIO_BUSY_BIT_POS of the event interface). */
  open = false;
  #lastSample = 0;
  #startMs = 0;
  #cancel: (() => void) | undefined;
  /** Events dropped because the queue was full (a sim counter). */
  lost = 0;

  constructor(
    private readonly device: IioDevice,
    specs: readonly EventSpec[],
  ) {
    this.#watches = specs.map((spec) => ({ spec, enabled: spec.enabled === true, value: spec.value, last: undefined }));
  }

  install(): void {
    const dir = `${this.device.sysfsDir}/events`;
    const vfs = this.device.ctx.vfs;
    vfs.mkdir(dir);
    for (const watch of this.#watches) {
      const channel = this.device.channels[watch.spec.channel]!;
      const base = separateName(channel.spec, `${watch.spec.type}_${watch.spec.direction}`);
      vfs.attr(`${dir}/${base}_en`, {
        mode: 0o644,
        show: () => `${watch.enabled ? 1 : 0}\n`,
        store: (text) => {
          watch.enabled = kstrtobool(text);
          watch.last = undefined;
          this.#arm();
        },
      });
      vfs.attr(`${dir}/${base}_value`, {
        mode: 0o644,
        show: () => `${watch.value}\n`,
        store: (text) => {
          watch.value = kstrtoint(text);
        },
      });
    }
  }

  /** IIO_GET_EVENT_FD_IOCTL: EBUSY while one is open. */
  getFd(arg: IoctlArg): number {
    const bytes = userBytes(arg, 4);
    if (this.open) throw kerr('EBUSY', 'an event fd is already open');
    this.open = true;
    this.device.holders++;
    this.#queue.length = 0;
    const fd = this.device.ctx.fds.install(new EventFile(this), true);
    new DataView(bytes.buffer, bytes.byteOffset, 4).setInt32(0, fd, true);
    this.#startMs = nowMs();
    this.#lastSample = 0;
    for (const w of this.#watches) w.last = undefined;
    this.#arm();
    return 0;
  }

  get gone(): boolean {
    return this.device.gone;
  }

  get pending(): number {
    this.#check();
    return this.#queue.length;
  }

  /** Takes up to `max` queued events. */
  take(max: number): Array<{ id: bigint; timestamp: bigint }> {
    return this.#queue.splice(0, max);
  }

  /** iio_push_event: queued only while the fd is open; dropped when the queue is full. */
  push(id: bigint, timestamp: bigint): void {
    if (!this.open) return;
    if (this.#queue.length >= QUEUE_LENGTH) {
      this.lost++;
      return;
    }
    this.#queue.push({ id, timestamp });
    this.waitq.wake();
  }

  closed(): void {
    this.open = false;
    this.device.holders--;
    this.#queue.length = 0;
    this.stop();
  }

  wake(): void {
    this.waitq.wake();
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #arm(): void {
    if (!this.open || this.device.gone || this.#cancel !== undefined || !this.#watches.some((w) => w.enabled)) return;
    this.#cancel = this.device.ctx.scheduler.at(nowMs() + CHECK_INTERVAL_MS, () => {
      this.#cancel = undefined;
      this.#check();
      this.#arm();
    });
  }

  #eventId(watch: Watch): bigint {
    const ch = this.device.channels[watch.spec.channel]!.spec;
    return encodeIioEventId({
      chanType: chanTypeNumber(ch.type),
      channel: ch.index ?? 0,
      channel2: ch.differential ?? 0,
      modifier: modifierNumber(ch.modifier),
      direction: DIRECTIONS[watch.spec.direction],
      type: 0, // IIO_EV_TYPE_THRESH
      differential: ch.differential !== undefined,
    });
  }

  /** Looks at the samples taken since the last check for threshold crossings. */
  #check(): void {
    if (!this.open || this.device.gone) return;
    const rate = this.device.rateHz ?? 100;
    const now = Math.floor(((nowMs() - this.#startMs) / 1000) * rate);
    const from = Math.max(this.#lastSample, now - MAX_SAMPLES_PER_CHECK);
    this.#lastSample = now;
    for (const watch of this.#watches) {
      if (!watch.enabled) continue;
      const signal = this.device.channels[watch.spec.channel]!.signal(rate);
      for (let n = from; n < now; n++) {
        const v = Number(signal.at(n));
        const prev = watch.last;
        watch.last = v;
        if (prev === undefined) continue;
        const rising = prev <= watch.value && v > watch.value;
        const falling = prev >= watch.value && v < watch.value;
        const hit = watch.spec.direction === 'rising' ? rising : watch.spec.direction === 'falling' ? falling : rising || falling;
        if (hit) this.push(this.#eventId(watch), clockNsAt(this.device.timestampClock, this.#startMs + (n / rate) * 1000));
      }
    }
  }
}

/** anon_inode:iio:event. */
export class EventFile extends SimFile {
  readonly name = 'anon_inode:iio:event';
  readonly #unsubscribe: () => void;

  constructor(private readonly events: EventInterface) {
    super(O_RDONLY);
    this.#unsubscribe = events.waitq.add(() => this.waitQueue.wake());
  }

  override async read(into: Uint8Array): Promise<number> {
    const size = iioEventDataStruct.size;
    if (this.events.gone) throw kerr('ENODEV');
    if (into.length < size) throw kerr('EINVAL');
    while (this.events.pending === 0) {
      if (this.events.gone) throw kerr('ENODEV');
      if (this.nonblocking) throw kerr('EAGAIN');
      await new Promise<void>((resolve) => {
        const keepAlive = setInterval(() => undefined, 1 << 30);
        const remove = this.events.waitq.add(() => {
          remove();
          clearInterval(keepAlive);
          resolve();
        });
      });
    }
    const events = this.events.take(Math.floor(into.length / size));
    events.forEach((e, i) => iioEventDataStruct.encode({ id: e.id, timestamp: e.timestamp }, into.subarray(i * size, (i + 1) * size)));
    return events.length * size;
  }

  override poll(_events: number): number {
    if (this.events.gone) return 0;
    return this.events.pending > 0 ? POLLIN | POLLRDNORM : 0;
  }

  protected override release(): void {
    this.#unsubscribe();
    this.events.closed();
  }
}
