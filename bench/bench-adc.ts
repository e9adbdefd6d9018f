// The device the sim benchmarks stream from: 4 × le:s16 ramps at 10 MS/s, one DMA input buffer
// (8-byte scans, so 1 MiB blocks are 131,072 samples).
import type { Scenario } from '../src/kernel/sim/scenario-types.js';

export const benchAdcScenario: Scenario = {
  devices: [{
    name: 'bench-adc',
    samplingFrequency: 10_000_000,
    buffers: [{ direction: 'in', kind: 'dma' }],
    channels: [0, 1, 2, 3].map((i) => ({ type: 'voltage', index: i, scanIndex: i, format: 'le:s16/16>>0', waveform: { kind: 'ramp' as const } })),
  }],
};
