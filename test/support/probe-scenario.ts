// The hardware of the recorded probe (../shared/fixtures/linux-6.12-probe.txt and
// linux-6.12-iio-sysfs.txt) as a sim scenario:
// - iio:device0: an iio_dummy "dummy0" made through configfs (no parent device), with the
//   driver's channels and values, a kfifo buffer, triggered; trigger0 = hrtimer "t0",
//   trigger1 = "sysfstrig0" (iio_sysfs_trigger add_trigger 0).
// - iio:device1: "vadc-dma", the lab's test module: a platform device iio-vadc-dma with two
//   u16 channels and a DMA input buffer (industrialio-buffer-dma without the dmaengine
//   wrapper, so no length_align_bytes), no sampling_frequency, no raw attributes. Its "DMA"
//   writes a 16-bit counter that runs across blocks: word k of everything it ever produced
//   holds k mod 65536, i.e. channel 0 of scan n is 2n and channel 1 is 2n + 1.
import type { Scenario } from '../../src/kernel/sim/scenario-types.js';
import type { DeviceSpec } from '../../src/kernel/sim/scenario-types.js';

const dummy0: DeviceSpec = {
  name: 'dummy0',
  triggered: true,
  buffers: [{ direction: 'in', kind: 'kfifo' }],
  // iio_dummy shares its sampling frequency by direction: in_sampling_frequency.
  attributes: { in_sampling_frequency: 3.000000033 },
  channels: [
    // _raw reads what the driver's read_raw returns; the buffer carries its fakedata table
    // (iio_simple_dummy_buffer.c), as the real-kernel lab shows.
    { type: 'voltage', index: 0, scanIndex: 0, format: 'le:u13/16>>0', offset: 7, scale: 0.001333, raw: 73, waveform: { kind: 'constant', value: 7 } },
    { type: 'voltage', index: 1, differential: 2, scanIndex: 1, format: 'le:s12/16>>0', scale: 0.000001344, shared: 'type', raw: 33, waveform: { kind: 'constant', value: -33 } },
    { type: 'voltage', index: 3, differential: 4, scanIndex: 2, format: 'le:s11/16>>0', scale: 0.000001344, shared: 'type', raw: -34, waveform: { kind: 'constant', value: -2 } },
    { type: 'accel', modifier: 'x', scanIndex: 3, format: 'le:s16/16>>0', raw: 34, waveform: { kind: 'constant', value: 344 }, attributes: { calibbias: -7, calibscale: 0.0001 } },
    { type: 'timestamp', scanIndex: 4, format: 'le:s64/64>>0' },
    { type: 'voltage', direction: 'out', index: 0 },
    { type: 'activity', modifier: 'running', attributes: { input: 98 } },
    { type: 'activity', modifier: 'walking', attributes: { input: 4 } },
    { type: 'steps', attributes: { input: 47, en: 0, calibheight: 0 } },
  ],
};

const vadcDma: DeviceSpec = {
  name: 'vadc-dma',
  parent: 'platform/iio-vadc-dma',
  buffers: [{ direction: 'in', kind: 'dma' }],
  channels: [
    { type: 'voltage', index: 0, scanIndex: 0, format: 'le:u16/16>>0', raw: false, waveform: { kind: 'ramp', start: 0, step: 2 } },
    { type: 'voltage', index: 1, scanIndex: 1, format: 'le:u16/16>>0', raw: false, waveform: { kind: 'ramp', start: 1, step: 2 } },
  ],
};

export const probeScenario: Scenario = {
  description: 'the hardware of the Linux 6.12.117 probe: iio_dummy dummy0 and the vadc-dma test module',
  devices: [dummy0, vadcDma],
  triggers: [
    { name: 't0', kind: 'hrtimer', frequency: 100 },
    { name: 'sysfstrig0', kind: 'sysfs' },
  ],
  sysfsTrigger: true,
  dmaHeaps: ['system'],
  udmabuf: true,
};

// The lab module's two other devices (vm/module/iio_vadc_dma.c), so that tests written for them
// run on both kernels. lab-adc: scan n holds u16 n, s16 -(n mod 2^15), u32 3n, be:s12 n mod 2^11
// (the sim's timestamp is its clock, the module's is n). lab-dac: consumes blocks; what arrived
// is the sim's control stats, the module's received_bytes/checksum (test/support/linux-lab.ts).
const labAdc: DeviceSpec = {
  name: 'lab-adc',
  parent: 'platform/iio-vadc-dma',
  buffers: [{ direction: 'in', kind: 'dma' }],
  channels: [
    { type: 'voltage', index: 0, scanIndex: 0, format: 'le:u16/16>>0', raw: false, waveform: { kind: 'ramp', start: 0, step: 1 } },
    { type: 'voltage', index: 1, scanIndex: 1, format: 'le:s16/16>>0', raw: false, waveform: { kind: 'ramp', start: 0, step: -1, period: 32768 } },
    { type: 'voltage', index: 2, scanIndex: 2, format: 'le:u32/32>>0', raw: false, waveform: { kind: 'ramp', start: 0, step: 3 } },
    { type: 'voltage', index: 3, scanIndex: 3, format: 'be:s12/16>>4', raw: false, waveform: { kind: 'ramp', start: 0, step: 1, period: 2048 } },
    { type: 'timestamp', scanIndex: 4, format: 'le:s64/64>>0' },
  ],
};

const labDac: DeviceSpec = {
  name: 'lab-dac',
  parent: 'platform/iio-vadc-dma',
  buffers: [{ direction: 'out', kind: 'dma' }],
  channels: [
    { type: 'voltage', direction: 'out', index: 0, scanIndex: 0, format: 'le:u16/16>>0', raw: false },
    { type: 'voltage', direction: 'out', index: 1, scanIndex: 1, format: 'le:u16/16>>0', raw: false },
  ],
};

/** Every device the lab boots: the probe's, then lab-adc and lab-dac (same numbering as the lab). */
export const labScenario: Scenario = {
  ...probeScenario,
  description: 'the real-kernel lab: the probe\'s devices and the test module\'s lab-adc and lab-dac',
  devices: [dummy0, vadcDma, labAdc, labDac],
};

/** The devices by role, as the probe names them. */
export const DUMMY = { name: 'dummy0', dev: '/dev/iio:device0', sys: '/sys/bus/iio/devices/iio:device0' } as const;
export const VADC = { name: 'vadc-dma', dev: '/dev/iio:device1', sys: '/sys/bus/iio/devices/iio:device1' } as const;
