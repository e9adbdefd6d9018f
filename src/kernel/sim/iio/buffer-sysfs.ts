// A buffer's sysfs group (industrialio-buffer.c; kernel-abi §6.1, §2.11): bufferY/ with length,
// enable, watermark, data_available, direction, [length_align_bytes] and the scan elements of
// the channels it carries; buffer 0 also appears as the legacy buffer/ and scan_elements/.
import { kerr } from '../errno.js';
import type { IioBuffer } from './buffer.js';
import type { IioDevice } from './device.js';
import { kstrtobool, kstrtouint } from './kstrto.js';
import { separateName } from './naming.js';
import { availableMasks, maskMatches, setBufferEnabled } from './update.js';
import { formatScanType } from '../../../format/index.js';

type Attr = { mode: number; show?: () => string; store?: (text: string) => void };

/** Stores on a buffer's attributes fail like everything else once an oops wedged it. */
function guarded(buffer: IioBuffer, store: (text: string) => void): (text: string) => void {
  return (text) => {
    buffer.checkWedged();
    store(text);
  };
}

function bufferAttrs(device: IioDevice, buffer: IioBuffer): Map<string, Attr> {
  const attrs = new Map<string, Attr>();
  attrs.set('length', {
    mode: 0o644,
    show: () => `${buffer.length}\n`,
    store: guarded(buffer, (text) => {
      const n = kstrtouint(text);
      if (n === buffer.length) return;
      if (buffer.active) throw kerr('EBUSY');
      buffer.setLength(n);
      if (buffer.length !== 0 && buffer.length < buffer.watermark) buffer.watermark = buffer.length;
    }),
  });
  attrs.set('enable', {
    mode: 0o644,
    show: () => `${buffer.active ? 1 : 0}\n`,
    store: guarded(buffer, (text) => setBufferEnabled(device, buffer, kstrtobool(text))),
  });
  attrs.set('watermark', buffer.fixedWatermark
    ? { mode: 0o444, show: () => `${buffer.watermark}\n` }
    : {
      mode: 0o644,
      show: () => `${buffer.watermark}\n`,
      store: guarded(buffer, (text) => {
        const n = kstrtouint(text);
        if (n === 0 || n > buffer.length) throw kerr('EINVAL');
        if (buffer.active) throw kerr('EBUSY');
        buffer.watermark = n;
      }),
    });
  attrs.set('data_available', { mode: 0o444, show: () => `${buffer.dataAvailable()}\n` });
  attrs.set('direction', { mode: 0o444, show: () => `${buffer.direction}\n` });
  if (buffer.spec.lengthAlignBytes !== undefined) {
    const align = buffer.spec.lengthAlignBytes;
    attrs.set('length_align_bytes', { mode: 0o444, show: () => `${align}\n` });
  }
  return attrs;
}

function scanElementAttrs(device: IioDevice, buffer: IioBuffer): Map<string, Attr> {
  const attrs = new Map<string, Attr>();
  for (const channel of device.channels) {
    const ch = channel.spec;
    if (channel.scanIndex === undefined || channel.scanType === undefined || channel.scanIndex < 0) continue;
    const carried = ch.buffers ?? device.buffers.filter((b) => b.direction === channel.direction).map((b) => b.index);
    if (!carried.includes(buffer.index)) continue;
    const index = channel.scanIndex;
    const type = `${formatScanType(channel.scanType)}\n`;
    attrs.set(separateName(ch, 'index'), { mode: 0o444, show: () => `${index}\n` });
    attrs.set(separateName(ch, 'type'), { mode: 0o444, show: () => type });
    attrs.set(separateName(ch, 'en'), channel.isTimestamp
      ? {
        mode: 0o644,
        show: () => `${buffer.scanTimestamp ? 1 : 0}\n`,
        store: guarded(buffer, (text) => {
          const on = kstrtobool(text);
          if (buffer.active) throw kerr('EBUSY');
          buffer.scanTimestamp = on;
        }),
      }
      : {
        mode: 0o644,
        show: () => `${buffer.scanMask.has(index) ? 1 : 0}\n`,
        store: guarded(buffer, (text) => {
          const on = kstrtobool(text);
          if (buffer.active) throw kerr('EBUSY');
          if (!on) {
            buffer.scanMask.delete(index);
            return;
          }
          if (buffer.scanMask.has(index)) return;
          const trial = new Set(buffer.scanMask).add(index);
          const masks = availableMasks([buffer]);
          if (masks !== undefined && !maskMatches(masks, trial, false)) throw kerr('EINVAL', 'no available scan mask has these channels');
          buffer.scanMask.add(index);
        }),
      });
  }
  return attrs;
}

export function installBufferSysfs(device: IioDevice, buffer: IioBuffer): void {
  const vfs = device.ctx.vfs;
  const groups: Array<[string, Map<string, Attr>]> = [];
  const own = bufferAttrs(device, buffer);
  const scan = scanElementAttrs(device, buffer);
  groups.push([`buffer${buffer.index}`, new Map([...own, ...scan])]);
  if (buffer.index === 0) {
    groups.push(['buffer', own]);
    groups.push(['scan_elements', scan]);
  }
  for (const [group, attrs] of groups) {
    vfs.mkdir(`${device.sysfsDir}/${group}`);
    for (const [name, attr] of attrs) vfs.attr(`${device.sysfsDir}/${group}/${name}`, attr);
  }
}
