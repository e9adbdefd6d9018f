// The library's object model over a Backend: Context, Device, Trigger, Channel, IioBuffer, Attr.
export { Attr } from './attr.js';
export type { AttrValue } from './attr-value.js';
export type { Available } from './available.js';
export { IioBuffer, type OpenStreamOptions } from './buffer.js';
export { BufferStream, type BufferStreamEvents, type PlaybackData } from './buffer-stream.js';
export type { Overrun, OverrunCheck, SampleCounter } from './overruns.js';
export { StreamBlock, type DequeueOptions, type EnqueueOptions } from './stream-block.js';
export type { ReadableOptions, WritableOptions } from './stream-adapters.js';
export { Channel, type ChannelScanElement } from './channel.js';
export { Context } from './context.js';
export { Device, Registers, Trigger } from './device.js';
export { AttrFormatError } from './errors.js';
export { CONTEXT_DTD, xmlScanFormat } from './xml.js';
