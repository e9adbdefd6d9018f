// The Backend: libiio's backend operations, promise-based. The core (src/core) talks to nothing
// else; a backend answers for one context. `local` works over a Kernel port (the real kernel or
// the sim); `network` (`ip:`, an iiod client) speaks the iiod protocol, whose commands these
// operations mirror one for one: PRINT → describe, READ/WRITE → readAttr/writeAttr,
// GETTRIG/SETTRIG → getTrigger/setTrigger, TIMEOUT → setTimeout, register access through the
// debug attribute `direct_reg_access`.
//
// Objects are named the way the iiod protocol names them, so a network backend passes them on
// as they are: devices by id (`iio:device0`, `trigger1`), channels by id and direction
// (`voltage0` input), attributes by their short name (`raw`, not `in_voltage0_raw`), buffers
// by index.
//
// Buffers and blocks: `openBuffer(device, index, mask, options)` returns a BufferHandle —
// libiio's open_buffer/create_block/enqueue_block/dequeue_block. Blocks are created with the
// buffer (`options.blocks` of `options.blockBytes`), because DMABUF blocks must all be attached
// before any is queued (kernel-abi §2.4) and the transfer mode is only known once one has been
// attached. The mask is a set of channel positions (`ChannelDescription` order: bit i is
// `channels[i]`), which is also the iiod mask order (iiod-protocol.md §4a).
//
// Optional operations: a backend that lacks one leaves the member out and the core tests for it
// (raising UnsupportedError, src/backends/errors.ts, where the operation is required), so every
// backend keeps compiling as the interface grows.
//  - `openBuffer`: both backends; `probeDmabuf`: the local backend (DMABUFs do not cross iiod).
//  - `openEvents(device, options)`, an EventHandle of 16-byte records: the local backend only
//    (the iiod 0.2x protocol the network backend speaks has no events).
// Not in the interface yet: batch attribute I/O (iiod's "read all" / "write all", the server
// side has it in src/server/iiod/attributes.ts).
import type { IioEventId } from '../abi/iio.js';
import type { ScanType } from '../format/scan-type.js';
import type { KernelPort } from '../kernel/port.js';

/** Cancels one operation; it then rejects with an AbortError. */
export interface OpOptions {
  signal?: AbortSignal;
}

/** A context as the backend sees it: plain, serialisable data the core turns into objects. */
export interface ContextDescription {
  /** The backend's name in the XML: `local`, `network`, ... */
  name: string;
  /** Free text, e.g. the kernel's uname for `local`. */
  description: string;
  /** The version of the software behind the backend (XML `version-major/minor/git`). */
  version: { major: number; minor: number; git: string };
  /** Context attributes (static values), in order: `local,kernel`, `uri`, ... */
  attributes: Array<{ name: string; value: string }>;
  /** IIO devices, then triggers; the order is the context's (XML, binary-protocol indices). */
  devices: DeviceDescription[];
}

export interface DeviceDescription {
  /** `iio:deviceN` or `triggerN`. */
  id: string;
  name?: string;
  label?: string;
  /** A trigger (`triggerN`) rather than an IIO device. */
  trigger: boolean;
  /**
   * Channels in mask order: scan elements by scan index (ties by shift), then the others
   * (iiod-protocol.md §4a). A channel's position here is its bit in a channels mask.
   */
  channels: ChannelDescription[];
  attributes: AttrDescription[];
  /** debugfs attributes (`direct_reg_access`, ...). */
  debugAttributes: AttrDescription[];
  /** events/ attributes that belong to no channel. */
  eventAttributes: AttrDescription[];
  buffers: BufferDescription[];
  /** The device can take a trigger (has `trigger/current_trigger`); undefined when unknown. */
  triggerSupport?: boolean;
}

/** How widely the kernel shares an attribute (kernel-abi §6.2). */
export type AttrSharing = 'separate' | 'type' | 'direction' | 'all';

export interface AttrDescription {
  /** The short name: `raw`, `scale`, `sampling_frequency`, `thresh_rising_en`. */
  name: string;
  /** The file behind it, in its directory: `in_voltage_scale`, `length` (of bufferY/), `direct_reg_access`. */
  filename: string;
  /** From the file mode; undefined when the backend cannot tell (network). */
  readable?: boolean;
  writable?: boolean;
  /** Channel attributes: the sharing level the file name shows. */
  shared?: AttrSharing;
}

export interface ScanElementDescription {
  /** The scan index (`_index`): the channel's place in a scan. */
  index: number;
  /** The `_type` format. */
  type: ScanType;
  /** `scale` and `offset` as read when the context was described (libiio's data format). */
  scale?: number;
  offset?: number;
}

export interface ChannelDescription {
  /** libiio's id: `voltage0`, `voltage1-voltage2`, `accel_x`, `timestamp`. */
  id: string;
  /** The driver's extend name (`RX_LO` in `out_altvoltage0_RX_LO_frequency`), libiio's channel name. */
  name?: string;
  /** The `label` attribute's value. */
  label?: string;
  output: boolean;
  /** The sysfs type name: `voltage`, `accel`, `timestamp`, ... */
  type: string;
  /** The sysfs modifier name: `x`, `i`, `running`, ... */
  modifier?: string;
  /** The channel number (`voltage0` → 0); undefined for unindexed channels. */
  index?: number;
  /** The second channel of a differential pair (`voltage1-voltage2` → 2). */
  channel2?: number;
  scan?: ScanElementDescription;
  attributes: AttrDescription[];
  eventAttributes: AttrDescription[];
}

export interface BufferDescription {
  index: number;
  direction: 'in' | 'out';
  /** length, enable, watermark, data_available, direction, [length_align_bytes], ... */
  attributes: AttrDescription[];
  /** Positions (in the device's `channels`) of the scan elements this buffer carries. */
  channels: number[];
}

/** Where an attribute lives; names follow the iiod protocol (see the header). */
export type AttrRef =
  | { kind: 'context'; name: string }
  | { kind: 'device'; device: string; name: string }
  | { kind: 'debug'; device: string; name: string }
  | { kind: 'channel'; device: string; channel: string; output: boolean; name: string }
  | { kind: 'buffer'; device: string; buffer: number; name: string }
  | { kind: 'event'; device: string; channel?: { id: string; output: boolean }; name: string };

export type AttrKind = AttrRef['kind'];

/** The trigger a device uses: its name, and its id when the backend can find it. */
export interface TriggerRef {
  name: string;
  id?: string;
}

/** How blocks move: zero-copy DMABUFs, or read()/write() on the buffer fd. */
export type TransferMode = 'dmabuf' | 'fileio';

export interface OpenBufferOptions extends OpOptions {
  /** 'auto' (default): DMABUF when the buffer takes one, file I/O otherwise. */
  mode?: TransferMode | 'auto';
  /** Bytes per block (a whole number of scans). */
  blockBytes: number;
  /** How many blocks (at least 1). */
  blocks: number;
  /** Bytes per scan for the effective mask, for the kernel buffer's `length` in file I/O. */
  scanBytes: number;
  /** DMABUF mode: read each transfer's fence status (default true; see OpenStreamOptions). */
  checkTransfers?: boolean;
}

/** Cancels and bounds one wait. */
export interface WaitBlockOptions extends OpOptions {
  /** Milliseconds; then ETIMEDOUT. */
  timeoutMs?: number;
}

/** A block's memory, valid until the buffer is closed. */
export interface BlockHandle {
  /**
   * The block's bytes: the mapped DMABUF, or plain memory in file I/O mode. A DMABUF is mapped
   * when this is first read: a block only handed on by its fd is never mapped.
   */
  readonly data: Uint8Array;
  /** The block's size in bytes (data.length, without touching the memory). */
  readonly size: number;
  /** The DMABUF fd (DMABUF mode only), for zero-copy hand-off. */
  readonly dmabufFd?: number;
}

/** An open hardware buffer (backend side of IioBuffer.open). */
export interface BufferHandle {
  readonly mode: TransferMode;
  /** The channel positions the kernel actually enabled (read back from `_en`). */
  readonly mask: readonly number[];
  readonly blocks: readonly BlockHandle[];
  /** `iio:device1/buffer0`, for messages. */
  readonly name: string;
  enable(options?: OpOptions): Promise<void>;
  disable(options?: OpOptions): Promise<void>;
  /**
   * Hands block `i` to the hardware: `bytesUsed` of it (cyclic: repeated, output only). Resolves
   * once the kernel took it; `options` bound the only wait there may be (a DMABUF another
   * importer still holds).
   */
  enqueue(i: number, bytesUsed: number, cyclic: boolean, options?: WaitBlockOptions): Promise<void>;
  /** Waits until the hardware is done with block `i`; resolves with the bytes it holds. */
  dequeue(i: number, options?: WaitBlockOptions): Promise<number>;
  /** Whether block `i` is with the hardware. */
  queued(i: number): boolean;
  /** Brackets CPU access to block `i` (DMA_BUF_IOCTL_SYNC; a no-op in file I/O mode). */
  cpuAccess(i: number, phase: 'start' | 'end', access: 'read' | 'write' | 'rw'): void;
  /**
   * Best-effort synchronous release for process exit: disables the buffer and closes the
   * buffer fd (which detaches every DMABUF).
   */
  releaseSync(): void;
  /** disable → wait fences (bounded) → detach → close. Idempotent. */
  close(): Promise<void>;
}

/** One event from a device's event fd: `iio_event_data` with its id decoded (kernel-abi §1.1). */
export interface IioEvent extends IioEventId {
  readonly id: bigint;
  /** The kernel's timestamp, ns. */
  readonly timestamp: bigint;
}

/** A device's open event fd (IIO_GET_EVENT_FD_IOCTL: one per device at a time, else EBUSY). */
export interface EventHandle {
  /** The next event; waits for one (AbortSignal to cancel). */
  read(options?: OpOptions): Promise<IioEvent>;
  close(): void;
}

/** A buffer's DMABUF support: yes (with the allocator that worked), or why not. */
export type DmabufSupport = { supported: true; source: 'heap' | 'udmabuf' } | { supported: false; reason: string };

export interface Backend {
  /** The URI this backend was opened with (`local:`, `sim:`, `ip:host`). */
  readonly uri: string;

  /** The Kernel port under a local backend (whose fds its DMABUFs are); none for a remote one. */
  readonly kernel?: KernelPort;

  /** Describes the context (libiio's scan at context creation / iiod's PRINT). */
  describe(options?: OpOptions): Promise<ContextDescription>;

  /** An attribute's text, without the kernel's trailing newline. */
  readAttr(ref: AttrRef, options?: OpOptions): Promise<string>;
  /** Writes `value` in one write, as sysfs requires. */
  writeAttr(ref: AttrRef, value: string, options?: OpOptions): Promise<void>;

  /** The device's current trigger, or null when none is attached. */
  getTrigger(device: string, options?: OpOptions): Promise<TriggerRef | null>;
  /**
   * Attaches trigger `trigger` (an id such as `trigger0`; or the name of a trigger the
   * description does not have yet), or detaches with null.
   */
  setTrigger(device: string, trigger: string | null, options?: OpOptions): Promise<void>;

  /** A 32-bit register through debugfs `direct_reg_access`. */
  readRegister(device: string, address: number, options?: OpOptions): Promise<number>;
  writeRegister(device: string, address: number, value: number, options?: OpOptions): Promise<void>;

  /** Opens buffer `index` of `device` with the channels of `mask` (positions) enabled. */
  openBuffer?(device: string, index: number, mask: readonly number[], options: OpenBufferOptions): Promise<BufferHandle>;

  /** Opens the device's event fd. */
  openEvents?(device: string, options?: OpOptions): Promise<EventHandle>;

  /** Whether buffer `index` of `device` takes DMABUF blocks, leaving the buffer as it was. */
  probeDmabuf?(device: string, index: number, options?: OpOptions): Promise<DmabufSupport>;

  /** The time limit of blocking operations in ms (0: none), as libiio's set_timeout. */
  setTimeout(ms: number): void;
  /** The limit setTimeout() set (or the backend's default). */
  readonly timeoutMs: number;

  /** Releases the backend; later operations reject with ERR_IIOJS_CLOSED. Idempotent. */
  close(): Promise<void>;
}
