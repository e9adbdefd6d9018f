// The device the sim benchmarks stream from: 4 × le:s16 ramps at 10 MS/s, one DMA input buffer
// (8-byte scans, so 1 MiB blocks are 131,072 samples).
import { IIO_BUFFER_GET_FD_IOCTL, O_RDWR } from '../src/abi/index.js';
import type { KernelPort } from '../src/kernel/port.js';
import type { Scenario } from '../src/kernel/sim/scenario-types.js';

export const benchAdcScenario: Scenario = {
  devices: [{
    name: 'bench-adc',
    samplingFrequency: 10_000_000,
    buffers: [{ direction: 'in', kind: 'dma' }],
    channels: [0, 1, 2, 3].map((i) => ({ type: 'voltage', index: i, scanIndex: i, format: 'le:s16/16>>0', waveform: { kind: 'ramp' as const } })),
  }],
};

/** bench-adc's sysfs directory and node (the only device of the sims these benchmarks boot). */
export const BENCH_ADC_SYSFS = '/sys/bus/iio/devices/iio:device0';

/** Its four scan elements enabled and buffer0's fd, as the library gets it (GET_FD on the node). */
export async function benchBufferFd(kernel: KernelPort): Promise<number> {
  for (let i = 0; i < 4; i++) await kernel.writeText(`${BENCH_ADC_SYSFS}/buffer0/in_voltage${i}_en`, '1');
  const devfd = await kernel.open('/dev/iio:device0', O_RDWR);
  try {
    const arg = Int32Array.of(0);
    kernel.ioctl(devfd, IIO_BUFFER_GET_FD_IOCTL, arg);
    return arg[0]!;
  } finally {
    kernel.close(devfd);
  }
}
