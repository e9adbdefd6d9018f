// What a SigMF recording says about where its samples came from, read from the device: the
// rate (`sampling_frequency`, the device's or a channel's), the center frequency (the LO of the
// path: an `altvoltage` channel labelled or named RX_LO/TX_LO, on the device, or for I/Q data
// on its PHY in the same context, as an AD936x's data path and PHY are two devices), the hardware, and each channel's scan format, scale and offset.
import type { Channel } from '../core/channel.js';
import type { Context } from '../core/context.js';
import type { Device } from '../core/device.js';
import { isIqPairs, type RecordedChannel, type RecordingInfo } from './recording.js';

async function readNumber(attr: { readNumber(): Promise<number> } | undefined): Promise<number | undefined> {
  const n = await attr?.readNumber().catch(() => undefined);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

/** The LO frequency for `device`'s direction, if the context has one. */
async function loFrequency(ctx: Context, device: Device, direction: 'in' | 'out', iq: boolean): Promise<number | undefined> {
  const want = direction === 'in' ? 'RX_LO' : 'TX_LO';
  const isLo = (c: Channel): boolean => c.type === 'altvoltage' && (c.label === want || c.name === want) && c.attrs.has('frequency');
  const lo = device.channels.find(isLo) ?? (iq ? ctx.devices.flatMap((d) => d.channels).find(isLo) : undefined);
  return readNumber(lo?.attrs.get('frequency'));
}

/** The channels' scan formats, and their scale and offset as they read now. */
export async function recordedChannels(channels: readonly Channel[]): Promise<RecordedChannel[]> {
  return Promise.all(channels.map(async (c) => {
    if (c.scanElement === undefined) throw new RangeError(`${c.id} of ${c.device.toString()} is not a scan element: it cannot be recorded`);
    const scale = (await readNumber(c.attrs.get('scale'))) ?? c.scanElement.scale;
    const offset = (await readNumber(c.attrs.get('offset'))) ?? c.scanElement.offset;
    return { id: c.id, type: c.scanElement.type, ...(scale === undefined ? {} : { scale }), ...(offset === undefined ? {} : { offset }) };
  }));
}

export async function recordingInfo(ctx: Context, device: Device, channels: readonly Channel[], direction: 'in' | 'out', datetime: Date): Promise<RecordingInfo> {
  const rate = (await readNumber(device.attrs.get('sampling_frequency'))) ?? (await readNumber(channels[0]?.attrs.get('sampling_frequency')));
  const frequency = await loFrequency(ctx, device, direction, isIqPairs(channels.map((c) => c.id)));
  const who = device.label === undefined ? device.name ?? device.id : `${device.name ?? device.id} (${device.label})`;
  return {
    ...(rate === undefined ? {} : { sampleRate: rate }),
    ...(frequency === undefined ? {} : { frequency }),
    hw: `${who}, ${device.id} of ${ctx.description || ctx.name}`,
    datetime,
    device: device.id,
    uri: ctx.uri,
  };
}
