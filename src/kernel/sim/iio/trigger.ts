// IIO triggers (industrialio-trigger.c, iio-trig-hrtimer, iio-trig-sysfs; kernel-abi §6.6):
// triggerM directories with `name` (+ `sampling_frequency` for hrtimer triggers, `trigger_now`
// for sysfs triggers), iio_sysfs_trigger/add_trigger and remove_trigger, and each triggered
// device's trigger/current_trigger. A device in triggered mode takes one scan per firing.
import { nowMs } from '../clock.js';
import type { SimContext } from '../context.js';
import { kerr } from '../errno.js';
import type { TriggerSpec } from '../scenario-types.js';
import type { IioDevice } from './device.js';
import { kstrtouint, parseIioValue } from './kstrto.js';
import { SampleProducer } from './producer.js';

const SYSFS_TRIGGER_DIR = '/sys/devices/iio_sysfs_trigger';
const DEFAULT_HRTIMER_HZ = 100;

export class SimTrigger {
  /** Devices sampling on this trigger (attached poll functions). */
  readonly #consumers = new Set<IioDevice>();

  constructor(
    readonly name: string,
    readonly kind: 'hrtimer' | 'sysfs',
    /** triggerM. */
    readonly id: number,
    public frequency: number,
    /** /sys/devices/... directory. */
    readonly dir: string,
  ) {}

  attach(device: IioDevice): void {
    this.#consumers.add(device);
    if (this.kind === 'hrtimer') device.setProducer(new SampleProducer(device, this.frequency));
  }

  detach(device: IioDevice): void {
    if (this.#consumers.delete(device) && this.kind === 'hrtimer') device.setProducer(undefined);
  }

  /** sampling_frequency changed: running consumers continue at the new rate. */
  setFrequency(hz: number): void {
    this.frequency = hz;
    for (const d of this.#consumers) d.setProducer(new SampleProducer(d, hz));
  }

  /** trigger_now: every attached device takes one scan now. */
  fire(now: number): void {
    for (const d of this.#consumers) d.pushScans(1, () => now);
  }
}

function hrtimerFrequencyText(hz: number): string {
  const whole = Math.floor(hz);
  return `${whole}.${String(Math.round((hz - whole) * 1e6)).padStart(6, '0')}`;
}

export class TriggerRegistry {
  readonly #triggers = new Map<number, SimTrigger>();

  constructor(private readonly ctx: SimContext) {}

  byName(name: string): SimTrigger | undefined {
    return [...this.#triggers.values()].find((t) => t.name === name);
  }

  get all(): SimTrigger[] {
    return [...this.#triggers.values()];
  }

  #nextId(): number {
    let id = 0;
    while (this.#triggers.has(id)) id++;
    return id;
  }

  /** The iio_sysfs_trigger device with add_trigger / remove_trigger (write-only, 0200). */
  installSysfsTriggerDevice(): void {
    const vfs = this.ctx.vfs;
    vfs.mkdir(SYSFS_TRIGGER_DIR);
    vfs.symlink('/sys/bus/iio/devices/iio_sysfs_trigger', '../../../devices/iio_sysfs_trigger');
    vfs.symlink(`${SYSFS_TRIGGER_DIR}/subsystem`, '../../bus/iio');
    vfs.attr(`${SYSFS_TRIGGER_DIR}/uevent`, { mode: 0o644, show: () => '', store: () => undefined });
    vfs.attr(`${SYSFS_TRIGGER_DIR}/add_trigger`, {
      mode: 0o200,
      store: (text) => {
        const id = kstrtouint(text);
        if (this.byName(`sysfstrig${id}`) !== undefined) throw kerr('EINVAL', `sysfstrig${id} exists`);
        this.add({ name: `sysfstrig${id}`, kind: 'sysfs' });
      },
    });
    vfs.attr(`${SYSFS_TRIGGER_DIR}/remove_trigger`, {
      mode: 0o200,
      store: (text) => {
        const id = kstrtouint(text);
        const trigger = this.byName(`sysfstrig${id}`);
        if (trigger === undefined || trigger.kind !== 'sysfs') throw kerr('EINVAL', `no sysfstrig${id}`);
        this.remove(trigger);
      },
    });
  }

  /** Registers a trigger as triggerM (the lowest free M). */
  add(spec: TriggerSpec): SimTrigger {
    if (this.byName(spec.name) !== undefined) throw kerr('EEXIST', `trigger ${spec.name} exists`);
    const id = this.#nextId();
    const dir = spec.kind === 'sysfs' ? `${SYSFS_TRIGGER_DIR}/trigger${id}` : `/sys/devices/trigger${id}`;
    const trigger = new SimTrigger(spec.name, spec.kind, id, spec.frequency ?? DEFAULT_HRTIMER_HZ, dir);
    this.#triggers.set(id, trigger);
    const vfs = this.ctx.vfs;
    vfs.mkdir(dir);
    vfs.symlink(`/sys/bus/iio/devices/trigger${id}`, `../../..${dir.slice('/sys'.length)}`);
    vfs.symlink(`${dir}/subsystem`, spec.kind === 'sysfs' ? '../../../bus/iio' : '../../bus/iio');
    vfs.attr(`${dir}/uevent`, { mode: 0o644, show: () => '', store: () => undefined });
    vfs.attr(`${dir}/name`, { mode: 0o444, show: () => `${trigger.name}\n` });
    if (spec.kind === 'hrtimer') {
      vfs.attr(`${dir}/sampling_frequency`, {
        mode: 0o644,
        show: () => `${hrtimerFrequencyText(trigger.frequency)}\n`,
        store: (text) => {
          const hz = parseIioValue(text);
          if (!(hz > 0) || hz > 1e9) throw kerr('EINVAL');
          trigger.setFrequency(hz);
        },
      });
    } else {
      vfs.attr(`${dir}/trigger_now`, { mode: 0o200, store: () => trigger.fire(nowMs()) });
    }
    return trigger;
  }

  remove(trigger: SimTrigger): void {
    this.#triggers.delete(trigger.id);
    this.ctx.vfs.remove(trigger.dir);
    this.ctx.vfs.remove(`/sys/bus/iio/devices/trigger${trigger.id}`);
  }
}

/**
 * trigger/current_trigger (iio_trigger_write_current as recorded on 6.12): EBUSY in triggered
 * mode; a name (sysfs_streq: a trailing newline is fine) attaches that trigger; any other text,
 * "\n" included, detaches silently. A zero-length write never reaches the store (a no-op).
 */
export function installCurrentTrigger(device: IioDevice, registry: TriggerRegistry): void {
  device.ctx.vfs.attr(`${device.sysfsDir}/trigger/current_trigger`, {
    mode: 0o644,
    show: () => (device.trigger === undefined ? '' : `${device.trigger.name}\n`),
    store: (text) => {
      if (device.currentMode === 'triggered') throw kerr('EBUSY');
      const name = text.endsWith('\n') ? text.slice(0, -1) : text;
      device.trigger = registry.byName(name);
    },
  });
}
