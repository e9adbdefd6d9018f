// iiojs public API. The library layers (contexts, devices, buffers, streams) build on what is
// exported here: the kernel ABI, the scan-format grammar and the Kernel port.
export * from './abi/index.js';
export * from './format/index.js';
export * from './samples/index.js';
export type { DirEntry, EntryKind, FileStat, KernelPort, PointerFields, WaitOptions } from './kernel/port.js';
export { abortError, errnoOf, isSystemError, systemError, type SystemError } from './errors.js';
export { LinuxKernel } from './kernel/linux/index.js';
export { probeKernel, type KernelReport, type ProbePaths, type ProbeResult } from './kernel/probe.js';
export { openKernel } from './kernel/open.js';
export { SimKernel, type SimKernelOptions } from './kernel/sim/index.js';
export type { TimeMode } from './kernel/sim/context.js';
export { defaultScenario, loadScenario, parseScenario, ScenarioError } from './kernel/sim/scenario.js';
export type * from './kernel/sim/scenario-types.js';
export { KernelOops, type BufferControl, type BufferStats, type DeviceControl, type IioControl } from './kernel/sim/iio/index.js';
// The library: contexts over a Backend (local:, sim: and ip:).
export * from './core/index.js';
export { openContext, type OpenContextOptions } from './open.js';
export type * from './backends/backend.js';
export { UnsupportedError, type Feature } from './backends/errors.js';
export { openBackend, type OpenOptions } from './backends/open.js';
export { LocalBackend, type LocalBackendOptions } from './backends/local/backend.js';
export { NetworkBackend, type NetworkBackendOptions } from './backends/network/backend.js';
export { IIOJS_VERSION } from './version.js';
// The iiod server: any Context to libiio 0.2x clients over TCP and USB.
export {
  DEFAULT_USB_IDS, IIOD_LIMITS, IIOD_PORT, serve, type IiodServer, type ServeOptions, type ServerLog, type UsbServeOptions,
  type UsbServing, type UsbTraffic,
} from './server/iiod/index.js';
// USB gadgets and FunctionFS from userspace, and IIO ↔ USB hand-off by DMABUF.
export * from './iiod/usb.js';
export { createFfsGadget, onlyUdc, removeStaleGadget, type FfsGadget, type FfsGadgetOptions } from './usb/configfs-gadget.js';
export { FfsFunction, type FfsFunctionHandlers } from './usb/ffs-function.js';
export { FfsDmabufEndpoint, FfsDmabufRefusedError, type FfsTransferOptions } from './usb/ffs-dmabuf.js';
export { captureToUsb, usbToPlayback, type HandoffOptions, type HandoffResult, type PlaybackHandoffOptions } from './usb/handoff.js';
