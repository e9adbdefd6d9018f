// Samples: demux/mux of capture and playback blocks, zero-copy views, physical units.
export { BlockLayout } from './block-layout.js';
export { ScanLayoutView } from './layout.js';
export type { FieldPlan, LayoutChannel, SampleChannelSpec } from './layout.js';
export { HOST_LITTLE_ENDIAN, allocateSamples, sampleArrayKind } from './kinds.js';
export type { BigIntSampleArray, NumberSampleArray, SampleArray, SampleArrayKind, SampleInput } from './kinds.js';
export { physicalDecimals, physicalToRaw, rawToPhysical } from './units.js';
export type { ChannelConversion, PhysicalArray } from './units.js';
export type { StridedView, ViewArray } from './views.js';
