// The device directory's own attributes (industrialio-core.c; kernel-abi §6.1, §6.2): name,
// label, dev, uevent, subsystem, current_timestamp_clock, sampling_frequency(_available), the
// driver's extra attributes, each channel's info attributes (raw, scale, offset, label, ...)
// named by how widely they are shared, and trigger/current_trigger for triggered devices.
import { inRange, isAvailable, parseAvailableText } from '../../../format/available.js';
import { kerr } from '../errno.js';
import { nowMs } from '../clock.js';
import type { IioDevice } from './device.js';
import { IIO_MAJOR } from './device.js';
import { kstrtoint, parseIioValue, withoutNewline } from './kstrto.js';
import { formatAttrValue, formatIioValue, separateName, sharedByTypeName } from './naming.js';
import { TIMESTAMP_CLOCKS, type TimestampClock } from './timestamps.js';
import { installCurrentTrigger } from './trigger.js';

/**
 * A read-write attribute holding a value the driver keeps (written values are stored as given).
 * With a `<file>_available` beside it, it takes only what that shows, as drivers check.
 */
function valueAttr(device: IioDevice, path: string, initial: string | number): void {
  let value = formatAttrValue(initial);
  const numeric = typeof initial === 'number';
  device.ctx.vfs.attr(path, {
    mode: 0o644,
    show: () => `${value}\n`,
    store: (text) => {
      const written = numeric ? parseIioValue(text) : withoutNewline(text);
      checkAvailable(device, path, written, text);
      value = formatAttrValue(written);
    },
  });
}

/** EINVAL unless `value` (written as `text`) is in the list or range `<path>_available` shows, if there is one. */
function checkAvailable(device: IioDevice, path: string, value: string | number, text: string): void {
  const listing = `${path}_available`;
  if (!device.ctx.vfs.exists(listing)) return;
  const shown = device.ctx.vfs.readText(listing).trim();
  const available = parseAvailableText(shown);
  if (available === undefined || !isAvailable(available, value)) {
    throw kerr('EINVAL', `${JSON.stringify(withoutNewline(text))} is not in ${listing.slice(listing.lastIndexOf('/') + 1)}: ${shown}`);
  }
}

function readOnly(device: IioDevice, path: string, show: () => string): void {
  device.ctx.vfs.attr(path, { mode: 0o444, show });
}

function relativeToSys(dir: string, target: string): string {
  const depth = dir.split('/').filter((p) => p !== '').length - 1; // below /sys
  return `${'../'.repeat(depth)}${target}`;
}

export function installDeviceSysfs(device: IioDevice): void {
  const { spec, sysfsDir: dir, ctx } = device;
  const vfs = ctx.vfs;
  readOnly(device, `${dir}/name`, () => `${spec.name}\n`);
  if (spec.label !== undefined) readOnly(device, `${dir}/label`, () => `${spec.label}\n`);
  vfs.symlink(`${dir}/subsystem`, relativeToSys(dir, 'bus/iio'));
  const uevent = device.hasChardev ? `MAJOR=${IIO_MAJOR}\nMINOR=${device.minor}\nDEVNAME=${device.devName}\nDEVTYPE=iio_device\n` : 'DEVTYPE=iio_device\n';
  vfs.attr(`${dir}/uevent`, { mode: 0o644, show: () => uevent, store: () => undefined });
  if (device.hasChardev) readOnly(device, `${dir}/dev`, () => `${IIO_MAJOR}:${device.minor}\n`);

  if (spec.channels.some((c) => c.type === 'timestamp') || device.events !== undefined) {
    vfs.attr(`${dir}/current_timestamp_clock`, {
      mode: 0o644,
      show: () => `${device.timestampClock}\n`,
      store: (text) => {
        const name = withoutNewline(text) as TimestampClock;
        if (!TIMESTAMP_CLOCKS.includes(name)) throw kerr('EINVAL');
        if (device.activeBuffers.length > 0 || device.events?.open === true) throw kerr('EBUSY');
        device.timestampClock = name;
      },
    });
  }

  if (spec.samplingFrequency !== undefined) {
    vfs.attr(`${dir}/sampling_frequency`, {
      mode: 0o644,
      show: () => `${formatIioValue(device.samplingFrequency!)}\n`,
      store: (text) => {
        const hz = parseIioValue(text);
        const available = spec.samplingFrequencyAvailable;
        const ok = available === undefined ? hz > 0 : Array.isArray(available) ? available.includes(hz) : inRange(hz, available);
        if (!ok) throw kerr('EINVAL', `${hz} Hz is not available`);
        if (device.activeBuffers.length > 0) throw kerr('EBUSY');
        device.samplingFrequency = hz;
      },
    });
    const available = spec.samplingFrequencyAvailable;
    if (available !== undefined) {
      const text = Array.isArray(available)
        ? available.map(formatIioValue).join(' ')
        : `[${formatIioValue(available.min)} ${formatIioValue(available.step)} ${formatIioValue(available.max)}]`;
      readOnly(device, `${dir}/sampling_frequency_available`, () => `${text}\n`);
    }
  }

  for (const [name, initial] of Object.entries(spec.attributes ?? {})) {
    if (typeof initial === 'object') {
      if (initial.readOnly === true) readOnly(device, `${dir}/${name}`, () => `${formatAttrValue(initial.value)}\n`);
      else valueAttr(device, `${dir}/${name}`, initial.value);
    } else {
      valueAttr(device, `${dir}/${name}`, initial);
    }
  }

  installChannelAttrs(device);
  if (spec.triggered === true) installCurrentTrigger(device, device.host.triggers);
}

function installChannelAttrs(device: IioDevice): void {
  const dir = device.sysfsDir;
  const vfs = device.ctx.vfs;
  const shared = new Set<string>();
  for (const channel of device.channels) {
    const ch = channel.spec;
    if (channel.isTimestamp) continue;
    const extra = ch.attributes ?? {};
    if (ch.raw !== false && (ch.raw !== undefined || !('input' in extra))) {
      vfs.attr(`${dir}/${separateName(ch, 'raw')}`, {
        mode: 0o644,
        show: () => {
          device.checkAlive();
          if (channel.direction === 'in' && device.activeBuffers.length > 0) throw kerr('EBUSY');
          if (typeof ch.raw === 'number') return `${ch.raw}\n`;
          const rate = device.rateHz ?? 1;
          return `${channel.rawNow(rate, Math.floor((nowMs() / 1000) * rate))}\n`;
        },
        store: (text) => {
          if (channel.direction === 'in') throw kerr('EINVAL');
          channel.outRaw = kstrtoint(text);
          channel.played = [channel.outRaw];
          channel.playedVersion++;
        },
      });
    }
    for (const postfix of ['scale', 'offset'] as const) {
      const value = ch[postfix];
      if (value === undefined) continue;
      const name = ch.shared === 'type' ? sharedByTypeName(ch, postfix) : separateName(ch, postfix);
      if (shared.has(name)) continue;
      shared.add(name);
      valueAttr(device, `${dir}/${name}`, value);
    }
    if (ch.label !== undefined) readOnly(device, `${dir}/${separateName(ch, 'label')}`, () => `${ch.label}\n`);
    for (const [postfix, value] of Object.entries(extra)) valueAttr(device, `${dir}/${separateName(ch, postfix)}`, value);
  }
}
