// struct iio_dev with its driver: a simulated IIO device built from a DeviceSpec. It owns the
// channels and buffers, the sysfs directory (device-sysfs.ts, buffer-sysfs.ts), the
// /dev/iio:deviceN node (chardev.ts), events and debugfs, the current trigger, and the capture
// machinery of each mode. unplug() is iio_device_unregister followed by the driver's remove.
import type { SimContext } from '../context.js';
import { kerr } from '../errno.js';
import type { DeviceSpec } from '../scenario-types.js';
import type { BufferMode, IioBuffer } from './buffer.js';
import { SimChannel } from './channel.js';
import { DeviceFile } from './chardev.js';
import { installDebugfs } from './debugfs.js';
import { DmaBuffer } from './dma-buffer.js';
import { EventInterface } from './events.js';
import { installDeviceSysfs } from './device-sysfs.js';
import { installBufferSysfs } from './buffer-sysfs.js';
import { KfifoBuffer } from './kfifo.js';
import { SampleProducer } from './producer.js';
import { layoutScan, renderScan, decodeChannel, type ScanLayoutOf } from './scan.js';
import type { StreamPosition } from './stream.js';
import type { SimTrigger, TriggerRegistry } from './trigger.js';
import { clockNsAt, type TimestampClock } from './timestamps.js';
import { disableAllBuffers } from './update.js';

/** The dynamic major the "iio" chrdev region got on the recorded machine. */
export const IIO_MAJOR = 253;

/** What a device needs from the rest of the subsystem. */
export interface IioHost {
  readonly ctx: SimContext;
  readonly triggers: TriggerRegistry;
  findChannel(device: string, channel: number): SimChannel | undefined;
}

export interface UnplugOptions {
  /** Behave like rmmod of the driver module: EAGAIN while a /dev/iio:deviceN fd is open. */
  likeRmmod?: boolean;
}

export class IioDevice {
  readonly ctx: SimContext;
  readonly devName: string;
  /** /sys/devices/.../iio:deviceN */
  readonly sysfsDir: string;
  readonly busLink: string;
  readonly devNode: string;
  readonly channels: SimChannel[];
  readonly buffers: IioBuffer[];
  readonly events: EventInterface | undefined;
  /** The modes the driver supports (indio_dev->modes, buffer modes only). */
  readonly modes: ReadonlySet<BufferMode>;
  /** indio_dev->info == NULL: unregistered. */
  gone = false;
  /** The chardev's exclusive-open bit. */
  chardevBusy = false;
  /** Open /dev/iio:deviceN fds (they pin the driver module: rmmod fails with EAGAIN). */
  openDeviceFds = 0;
  /**
   * Open files holding the iio_dev (device, buffer and event fds: iio_device_get). Its id goes
   * back to the IDA only when the last one is released (iio_dev_release), so a device bound
   * again while one is open gets another iio:deviceN (seen in the lab).
   */
  holders = 0;
  currentMode: BufferMode | 'direct' = 'direct';
  activeScanMask: Set<number> = new Set();
  /** buffer_list: the active buffers, most recently enabled first. */
  readonly activeBuffers: IioBuffer[] = [];
  trigger: SimTrigger | undefined;
  samplingFrequency: number | undefined;
  timestampClock: TimestampClock = 'realtime';
  /** Where the capture stream of a DMA buffer stands (persists across enables). */
  readonly streamPosition: StreamPosition = { scan: 0, byte: 0 };
  #producer: SampleProducer | undefined;
  #layouts = new Map<IioBuffer, ScanLayoutOf>();
  /** Scans pushed in sample-at-a-time modes (the signals' sample number). */
  #samples = 0;

  constructor(
    readonly host: IioHost,
    readonly spec: DeviceSpec,
    readonly id: number,
  ) {
    this.ctx = host.ctx;
    this.devName = `iio:device${id}`;
    this.sysfsDir = `/sys/devices/${spec.parent === undefined ? '' : `${spec.parent}/`}${this.devName}`;
    this.busLink = `/sys/bus/iio/devices/${this.devName}`;
    this.devNode = `/dev/${this.devName}`;
    this.samplingFrequency = spec.samplingFrequency;
    this.channels = spec.channels.map((c, i) => new SimChannel(c, i, (d, ch) => host.findChannel(d, ch)));
    this.buffers = (spec.buffers ?? []).map((b, i) => (b.kind === 'dma' ? new DmaBuffer(this, i, b) : new KfifoBuffer(this, i, b)));
    this.events = spec.events !== undefined && spec.events.length > 0 ? new EventInterface(this, spec.events) : undefined;
    const modes = new Set<BufferMode>();
    for (const b of this.buffers) {
      if (b.kind === 'dma') modes.add('hardware');
      else modes.add(spec.triggered === true ? 'triggered' : 'software');
    }
    this.modes = modes;
  }

  /** A chardev exists only with a buffer or an event interface (kernel-abi §1.1). */
  get hasChardev(): boolean {
    return this.buffers.length > 0 || this.events !== undefined;
  }

  get minor(): number {
    return this.id;
  }

  /** The rate the signals are sampled at: sampling_frequency, or the trigger's in triggered mode. */
  get rateHz(): number | undefined {
    if (this.currentMode === 'triggered' && this.trigger?.kind === 'hrtimer') return this.trigger.frequency;
    return this.samplingFrequency;
  }

  /** Registers the device: sysfs, /dev node, debugfs (iio_device_register). */
  register(): void {
    const vfs = this.ctx.vfs;
    vfs.mkdir(this.sysfsDir);
    vfs.symlink(this.busLink, `../../..${this.sysfsDir.slice('/sys'.length)}`);
    installDeviceSysfs(this);
    for (const b of this.buffers) installBufferSysfs(this, b);
    this.events?.install();
    if (this.hasChardev) vfs.chardev(this.devNode, (flags) => DeviceFile.open(this, flags));
    if (this.spec.registers !== undefined) installDebugfs(this, this.spec.registers);
    if (this.spec.trigger !== undefined) this.trigger = this.host.triggers.byName(this.spec.trigger);
  }

  /** Throws ENODEV once unregistered. */
  checkAlive(): void {
    if (this.gone) throw kerr('ENODEV');
  }

  // ---- sample-at-a-time capture (kfifo buffers) ----------------------------------------------

  /** Called when the buffers go active (postenable / pollfunc attach). */
  startCapture(): void {
    this.#layouts.clear();
    for (const b of this.activeBuffers) this.#layouts.set(b, layoutScan(this.channels, b.scanMask, b.scanTimestamp));
    if (this.currentMode === 'triggered') {
      const trigger = this.trigger!;
      trigger.attach(this);
    } else if (this.currentMode === 'software') {
      this.#producer = new SampleProducer(this, this.samplingFrequency ?? 100);
    }
  }

  stopCapture(): void {
    this.#producer?.stop();
    this.#producer = undefined;
    this.trigger?.detach(this);
  }

  /** A periodic trigger feeding this device started or changed rate. */
  setProducer(producer: SampleProducer | undefined): void {
    this.#producer?.stop();
    this.#producer = producer;
  }

  catchUp(): void {
    this.#producer?.catchUp();
  }

  /** Arms a wake-up for when `scans` more scans will have arrived (lazy producers only). */
  armWake(scans: number): void {
    this.#producer?.armWake(scans);
  }

  wakeBuffers(): void {
    for (const b of this.buffers) b.wake();
  }

  /** Scans the active kfifo buffers can take (inputs) or give (outputs) right now. */
  captureRoom(): number {
    let room = 0;
    for (const b of this.activeBuffers) {
      if (!(b instanceof KfifoBuffer)) continue;
      room = Math.max(room, b.direction === 'in' ? b.room : b.level);
    }
    return room;
  }

  /** Takes `count` scans (scan i at monotonic time timeOf(i)) into every active kfifo buffer. */
  pushScans(count: number, timeOf: (i: number) => number): void {
    const first = this.#samples;
    this.#samples += count;
    const rate = this.rateHz ?? 1;
    for (const b of this.activeBuffers) {
      if (!(b instanceof KfifoBuffer)) continue;
      const layout = this.#layouts.get(b);
      if (layout === undefined) continue;
      if (b.direction === 'in') {
        const stored = Math.min(count, b.room);
        for (let i = 0; i < stored; i++) b.store((slot) => renderScan(slot, layout, first + i, rate, clockNsAt(this.timestampClock, timeOf(i))));
        b.lost += count - stored;
      } else {
        this.#play(b, layout, count);
      }
      if (count > 0) b.wake();
    }
  }

  /** An output kfifo's consumer: pops up to `count` scans; a shortfall is an underrun (`lost`). */
  #play(b: KfifoBuffer, layout: ScanLayoutOf, count: number): void {
    const scans: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const scan = b.remove();
      if (scan === undefined) break;
      scans.push(scan.slice());
    }
    b.lost += count - scans.length;
    if (scans.length === 0) return;
    const bytes = new Uint8Array(scans.length * layout.scanBytes);
    scans.forEach((s, i) => bytes.set(s, i * layout.scanBytes));
    for (const { channel } of layout.elements) {
      channel.played = decodeChannel(bytes, layout, channel);
      channel.playedVersion++;
    }
  }

  // ---- removal -------------------------------------------------------------------------------

  /** iio_device_unregister + the driver's remove (kernel-abi §2.10). */
  unplug(options: UnplugOptions = {}): void {
    if (this.gone) throw kerr('ENOENT', `${this.devName} is already gone`);
    if (options.likeRmmod === true && this.openDeviceFds > 0) throw kerr('EAGAIN', `/dev/${this.devName} is open: the module is in use`);
    const vfs = this.ctx.vfs;
    vfs.remove(`/sys/kernel/debug/iio/${this.devName}`);
    vfs.remove(this.devNode);
    vfs.remove(this.busLink);
    vfs.remove(this.sysfsDir);
    this.gone = true;
    this.events?.wake();
    this.wakeBuffers();
    disableAllBuffers(this);
    for (const b of this.buffers) b.exit();
    this.events?.stop();
  }
}
