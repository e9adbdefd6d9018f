// WebAssembly SIMD (de)interleaving of packed layouts: N channels (N = 2, 4, 8 or 16) of
// W-byte storage (W = 1, 2, 4 or 8), no padding, repeat 1 — e.g. 4 × int16 from an SDR.
// Deinterleaving also decodes each channel in the vector (byte swap, shift, mask or sign
// extension: `le:s12/16>>4`, `be:u14/16>>2`, ...) into W-byte lanes, which `TypedArray.set`
// then copies (or converts exactly) into the caller's arrays. Interleaving writes natural
// values only, from integer arrays whose every value fits (no clamping needed); otherwise the
// callers use the JS paths, which clamp.
// Plain JS tops out near 0.6× of a C loop here (every typed-array access reloads the array's
// base and length and checks bounds); 16-byte shuffles in wasm beat the C loop even with a copy
// into and out of wasm memory.
//
// The kernels are assembled here, per (direction, W, N, decode steps), as tiny wasm modules:
// per group of N vectors (16/W scans), log2(N) rounds of two-vector shuffles that unzip (or
// zip) W-byte elements, then per channel an optional byte-reversing shuffle and two lane
// shifts. The shuffle network is checked by simulating it on byte labels before use.
// Blocks are processed in chunks through a fixed 128 KiB wasm memory, so allocation is a few
// view objects per 64 KiB chunk, never per sample. Without wasm SIMD (e.g. --jitless) the
// callers fall back to the per-channel JS paths.

/** The parts of the WebAssembly API used here (the project's lib settings do not declare it). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => { buffer: ArrayBuffer };
}

type Run = (interleaved: number, groups: number, ...planar: number[]) => void;

/** What a kernel does to one slot: reverse its bytes, shift left then right, reverse again. */
interface KernelStep {
  swapIn: boolean;
  left: number;
  right: number;
  signed: boolean;
  swapOut: boolean;
}
const NATURAL: KernelStep = { swapIn: false, left: 0, right: 0, signed: false, swapOut: false };

/**
 * How one slot's value is decoded from its W-byte word: the field's byte order, then a shift left
 * by `left` and right by `right` (arithmetic when `signed`). Natural when both shifts are 0 and
 * the field is in the host's order. This says what the field is, not how the kernel gets there:
 * wasm linear memory is always little-endian, so the byte swaps a kernel needs depend on the
 * host as well (see `slotSwaps`).
 */
export interface SlotDecode {
  littleEndian: boolean;
  left: number;
  right: number;
  signed: boolean;
}

/** The decode steps for a W-byte field: realbits at `shift`, in the given byte order. */
export function slotDecode(width: number, realBits: number, shift: number, signed: boolean, littleEndian: boolean): SlotDecode {
  const bits = 8 * width;
  return { littleEndian, left: bits - shift - realBits, right: bits - realBits, signed };
}

// Wasm lane shifts read a lane as little-endian whatever the host (the spec fixes linear memory
// as little-endian), while the callers' typed arrays over wasm memory read host order. So a
// kernel swaps each lane into little-endian before shifting it and into host order before
// storing it; with no shift the two swaps fold into one (field order to host order). On a
// little-endian host that is: swap big-endian fields only. On a big-endian host: swap
// little-endian fields when there is no shift; swap big-endian ones in and every one out when
// there is. Tests force the big-endian choice on a little-endian machine with
// `assumeHostEndianForTesting(false)`, which then also makes the copies in and out of wasm
// memory byte-swap each lane, as a big-endian host's typed arrays would read them.
let hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const REAL_HOST_LITTLE_ENDIAN = hostLittleEndian;

/** Internal, for tests: take the code paths of a host of the given byte order (undefined: the real one). */
export function assumeHostEndianForTesting(littleEndian: boolean | undefined): void {
  hostLittleEndian = littleEndian ?? REAL_HOST_LITTLE_ENDIAN;
}

/** Whether a kernel reverses a slot's bytes before its shifts (`in`) and before its store (`out`). */
export function slotSwaps(width: number, d: SlotDecode, host = hostLittleEndian): { in: boolean; out: boolean } {
  if (width === 1) return { in: false, out: false };
  if (d.left === 0 && d.right === 0) return { in: d.littleEndian !== host, out: false };
  return { in: !d.littleEndian, out: !host };
}

/** Byte-reverses `count` W-byte lanes of wasm memory from byte `at` (only when emulating a host). */
function reverseLanes(bytes: Uint8Array, at: number, count: number, width: number): void {
  if (width === 1) return;
  for (let i = at, end = at + count * width; i < end; i += width) bytes.subarray(i, i + width).reverse();
}

type CopyArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
/** Arrays the copies go to or come from: numeric typed arrays for W < 8, bigint ones for W = 8. */
export type LaneArray = CopyArray | Uint8ClampedArray | Float32Array | Float64Array;
type CopyConstructor = new (buffer: ArrayBuffer) => CopyArray;

/** Input bytes per chunk; the planar side takes as much again. */
const CHUNK = 65536;
const PAGES = (2 * CHUNK) / 65536;
const WIDTHS = [1, 2, 4, 8];
const COUNTS = [2, 4, 8, 16];

const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
let memory: { buffer: ArrayBuffer } | undefined;
let memoryBytes: Uint8Array | undefined;
const kernels = new Map<string, Run | null>();
const memoryViews = new Map<CopyConstructor, CopyArray>();
const SIGNED_LANES: Readonly<Record<number, CopyConstructor>> = { 1: Int8Array, 2: Int16Array, 4: Int32Array, 8: BigInt64Array };
const UNSIGNED_LANES: Readonly<Record<number, CopyConstructor>> = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array, 8: BigUint64Array };

/** True when (W, N) is a layout these kernels handle. */
export function simdShape(width: number, channels: number): boolean {
  return WIDTHS.includes(width) && COUNTS.includes(channels);
}

/** Scans per kernel iteration: one 16-byte vector per channel. */
export function simdGroup(width: number): number {
  return 16 / width;
}

/**
 * Deinterleaves the first whole groups of `scans` scans of `block` (N slots of W bytes each)
 * into `outs[slot]` (undefined skips a slot; values land at their scan index), decoding slot s
 * by `decode[s]`. Each out must hold every value of its slot (typed arrays; bigint ones for
 * W = 8). Returns the scans done (a multiple of the group size), 0 when SIMD is unavailable.
 */
export function simdDeinterleave(
  block: Uint8Array, width: number, outs: readonly (LaneArray | undefined)[], scans: number, decode: readonly SlotDecode[],
): number {
  const channels = outs.length;
  const run = kernel('unzip', width, channels, decode);
  if (run === null) return 0;
  const { total, perChunk, region, scanBytes, bytes } = plan(width, channels, scans);
  const planar = planarOffsets(channels, region);
  const emulated = hostLittleEndian !== REAL_HOST_LITTLE_ENDIAN;
  for (let done = 0; done < total; done += perChunk) {
    const count = Math.min(perChunk, total - done);
    bytes.set(block.subarray(done * scanBytes, (done + count) * scanBytes), 0);
    run(0, (count * width) / 16, ...planar);
    for (let s = 0; s < channels; s++) {
      const out = outs[s];
      if (out === undefined) continue;
      if (emulated) reverseLanes(bytes, planar[s]!, count, width);
      const from = planar[s]! / width;
      (out as Uint8Array).set(laneView(width, decode[s]!.signed).subarray(from, from + count) as Uint8Array, done);
    }
  }
  return total;
}

/** Where each channel's planar lane starts in wasm memory, after the interleaved chunk. */
function planarOffsets(channels: number, region: number): number[] {
  return Array.from({ length: channels }, (_, s) => CHUNK + s * region);
}

/**
 * The inverse for unshifted slots: interleaves `sources[slot]` (integer typed arrays whose every
 * value fits the slot, so no clamping is needed) into the first whole groups of `scans` scans,
 * in each slot's byte order.
 */
export function simdInterleave(
  block: Uint8Array, width: number, sources: readonly LaneArray[], scans: number, decode: readonly SlotDecode[],
): number {
  const channels = sources.length;
  const run = kernel('zip', width, channels, decode);
  if (run === null) return 0;
  const { total, perChunk, region, scanBytes, bytes } = plan(width, channels, scans);
  const planar = planarOffsets(channels, region);
  const emulated = hostLittleEndian !== REAL_HOST_LITTLE_ENDIAN;
  for (let done = 0; done < total; done += perChunk) {
    const count = Math.min(perChunk, total - done);
    for (let s = 0; s < channels; s++) {
      const source = sources[s]!;
      (laneView(width, decode[s]!.signed) as Uint8Array).set(source.subarray(done, done + count) as Uint8Array, planar[s]! / width);
      if (emulated) reverseLanes(bytes, planar[s]!, count, width);
    }
    run(0, (count * width) / 16, ...planar);
    block.set(bytes.subarray(0, count * scanBytes), done * scanBytes);
  }
  return total;
}

function plan(width: number, channels: number, scans: number) {
  const group = 16 / width;
  const scanBytes = width * channels;
  return {
    scanBytes,
    total: Math.floor(scans / group) * group,
    perChunk: Math.floor(CHUNK / scanBytes / group) * group,
    region: CHUNK / channels,
    bytes: (memoryBytes ??= new Uint8Array(memory!.buffer)),
  };
}

/**
 * A view of wasm memory whose elements are W-byte lanes of the given signedness. `set` between
 * it and a caller's array converts element by element (a memcpy when the types match), which
 * is exact because callers only pass arrays that hold every value of the channel.
 */
function laneView(width: number, signed: boolean): CopyArray {
  const Ctor = (signed ? SIGNED_LANES : UNSIGNED_LANES)[width]!;
  let view = memoryViews.get(Ctor);
  if (view === undefined) memoryViews.set(Ctor, view = new Ctor(memory!.buffer));
  return view;
}

/**
 * The kernel for (direction, W, N, decode), assembled and instantiated on first use; null without
 * SIMD. Zip writes unshifted values only: its decode gives each slot's byte order.
 */
export function kernel(direction: 'unzip' | 'zip', width: number, channels: number, decode?: readonly SlotDecode[]): Run | null {
  const steps = decode?.map((d): KernelStep => {
    const swaps = slotSwaps(width, direction === 'zip' ? { ...d, left: 0, right: 0 } : d);
    return direction === 'zip'
      ? { swapIn: swaps.in, left: 0, right: 0, signed: false, swapOut: false }
      : { swapIn: swaps.in, left: d.left, right: d.right, signed: d.signed, swapOut: swaps.out };
  });
  const plain = steps === undefined || steps.every((t) => !t.swapIn && !t.swapOut && t.left === 0 && t.right === 0);
  const key = `${direction}:${width}:${channels}${plain ? '' : JSON.stringify(steps)}`;
  let run = kernels.get(key);
  if (run !== undefined) return run;
  run = null;
  if (wasm !== undefined && simdShape(width, channels)) {
    try {
      const bytes = assemble(direction, width, channels, plain ? undefined : steps);
      if (wasm.validate(bytes)) {
        memory ??= new wasm.Memory({ initial: PAGES, maximum: PAGES });
        const instance = new wasm.Instance(new wasm.Module(bytes), { m: { memory } });
        run = instance.exports['run'] as Run;
      }
    } catch {
      run = null; // wasm disabled or SIMD unsupported: the JS paths remain
    }
  }
  kernels.set(key, run);
  return run;
}

// --- The shuffle network ---------------------------------------------------------------------

/** A vector register: which byte of the interleaved group each of its 16 lanes holds. */
interface Register {
  local: number;
  lanes: number[];
}

interface Shuffle {
  a: Register;
  b: Register;
  lanes: number[];
  out: Register;
}

/**
 * The rounds of shuffles for N channels of W bytes. Lanes are labelled by their position in
 * the interleaved group (16N bytes = 16/W scans). Unzip starts from the interleaved vectors
 * and ends with one vector per channel; zip the reverse. Returns the shuffles and, for each
 * final register, the channel (unzip) or the 16-byte row of the group (zip) it holds.
 */
export function shuffleNetwork(direction: 'unzip' | 'zip', width: number, channels: number, firstLocal: number) {
  const scanBytes = width * channels;
  // Interleaved position of byte `b` of channel `c`'s vector (its b/W-th scan).
  const planarPos = (c: number, b: number) => Math.floor(b / width) * scanBytes + c * width + (b % width);
  let regs: Register[] = [];
  for (let j = 0; j < channels; j++) {
    const lanes = Array.from({ length: 16 }, (_, b) => (direction === 'unzip' ? 16 * j + b : planarPos(j, b)));
    regs.push({ local: firstLocal + j, lanes });
  }
  const shuffles: Shuffle[] = [];
  const elements = 16 / width;
  let bank = channels;
  for (let round = 1; round < channels; round *= 2) {
    const next: Register[] = new Array<Register>(channels);
    let k = 0;
    const emit = (a: Register, b: Register, pick: number[]): Register => {
      const lanes: number[] = [];
      for (const e of pick) for (let y = 0; y < width; y++) lanes.push(e * width + y);
      const out = { local: firstLocal + bank + k++, lanes: lanes.map((l) => (l < 16 ? a.lanes[l]! : b.lanes[l - 16]!)) };
      shuffles.push({ a, b, lanes, out });
      return out;
    };
    const half = channels / 2;
    for (let p = 0; p < half; p++) {
      if (direction === 'unzip') {
        // Pair (2p, 2p+1): even elements to the first half of the list, odd to the second.
        const a = regs[2 * p]!;
        const b = regs[2 * p + 1]!;
        const even: number[] = [];
        const odd: number[] = [];
        for (let e = 0; e < 2 * elements; e += 2) {
          even.push(e);
          odd.push(e + 1);
        }
        next[p] = emit(a, b, even);
        next[half + p] = emit(a, b, odd);
      } else {
        // Pair (p, p + N/2): interleave the low halves, then the high halves (the inverse).
        const a = regs[p]!;
        const b = regs[half + p]!;
        const low: number[] = [];
        const high: number[] = [];
        for (let e = 0; e < elements / 2; e++) {
          low.push(e, elements + e);
          high.push(elements / 2 + e, elements + elements / 2 + e);
        }
        next[2 * p] = emit(a, b, low);
        next[2 * p + 1] = emit(a, b, high);
      }
    }
    regs = next;
    bank = bank === 0 ? channels : 0;
  }
  const targets = regs.map((reg) => {
    if (direction === 'unzip') {
      const c = (reg.lanes[0]! % scanBytes) / width;
      reg.lanes.forEach((l, b) => {
        if (l !== planarPos(c, b)) throw new Error(`simd: unzip network is wrong (W=${width}, N=${channels})`);
      });
      return c;
    }
    const row = reg.lanes[0]! / 16;
    reg.lanes.forEach((l, b) => {
      if (l !== 16 * row + b) throw new Error(`simd: zip network is wrong (W=${width}, N=${channels})`);
    });
    return row;
  });
  return { shuffles, registers: regs, targets };
}

// --- Assembling the module ---------------------------------------------------------------------

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Lane shift opcodes (after the 0xfd prefix) for W-byte lanes: i8x16, i16x8, i32x4, i64x2. */
const LANE_OPS: Readonly<Record<number, { shl: number; shrS: number; shrU: number }>> = {
  1: { shl: 0x6b, shrS: 0x6c, shrU: 0x6d },
  2: { shl: 0x8b, shrS: 0x8c, shrU: 0x8d },
  4: { shl: 0xab, shrS: 0xac, shrU: 0xad },
  8: { shl: 0xcb, shrS: 0xcc, shrU: 0xcd },
};

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b], brIf: 0x0d,
  get: 0x20, set: 0x21, tee: 0x22, i32const: 0x41, i32eqz: 0x45, i32add: 0x6a, i32sub: 0x6b,
  load: [0xfd, 0x00], store: [0xfd, 0x0b], shuffle: [0xfd, 0x0d],
};

/**
 * The module: imports `m.memory`, exports `run(interleaved, groups, planar0..planarN-1)`, which
 * processes `groups` groups of 16N bytes, advancing every pointer as it goes.
 */
function assemble(direction: 'unzip' | 'zip', width: number, channels: number, decode?: readonly KernelStep[]): Uint8Array {
  const params = 2 + channels; // 0: interleaved pointer, 1: groups, 2 + c: channel c's pointer
  const { shuffles, registers, targets } = shuffleNetwork(direction, width, channels, params);
  const code: number[] = [];
  const get = (i: number) => code.push(op.get, ...uleb(i));
  const set = (i: number) => code.push(op.set, ...uleb(i));
  const memarg = (offset: number) => [0x00, ...uleb(offset)];
  const scratchLocal = params + 2 * channels; // after the two banks of shuffle registers

  // Reverse the bytes within each W-byte element of the vector on top of the stack.
  const reverse = () => {
    code.push(...op.shuffle, ...Array.from({ length: 16 }, (_, b) => b - (b % width) + width - 1 - (b % width)));
  };
  code.push(...op.block, op.get, 1, op.i32eqz, op.brIf, 0, ...op.loop);
  for (let j = 0; j < channels; j++) {
    get(direction === 'unzip' ? 0 : 2 + j);
    code.push(...op.load, ...memarg(direction === 'unzip' ? 16 * j : 0));
    if (direction === 'zip' && decode?.[j]?.swapIn === true) {
      // Zip moves whole elements, so channel j's byte order can be set before the shuffles.
      code.push(op.tee, ...uleb(params + j));
      get(params + j);
      reverse();
    }
    set(params + j);
  }
  for (const s of shuffles) {
    get(s.a.local);
    get(s.b.local);
    code.push(...op.shuffle, ...s.lanes);
    set(s.out.local);
  }
  const lanes = LANE_OPS[width]!;
  registers.forEach((reg, j) => {
    const target = targets[j]!;
    get(direction === 'unzip' ? 2 + target : 0);
    get(reg.local);
    // Unzip decodes channel `target` here; zip's registers are rows of the group, done already.
    const d = (direction === 'unzip' ? decode?.[target] : undefined) ?? NATURAL;
    if (d.swapIn) {
      get(reg.local);
      reverse();
    }
    if (d.left !== 0) code.push(op.i32const, ...sleb(d.left), 0xfd, ...uleb(lanes.shl));
    if (d.right !== 0) code.push(op.i32const, ...sleb(d.right), 0xfd, ...uleb(d.signed ? lanes.shrS : lanes.shrU));
    if (d.swapOut) {
      // i8x16.shuffle takes two vectors: the value, and itself again (its lanes 16..31 are unused).
      code.push(op.tee, ...uleb(scratchLocal));
      get(scratchLocal);
      reverse();
    }
    code.push(...op.store, ...memarg(direction === 'unzip' ? 0 : 16 * target));
  });
  for (let c = 0; c < channels; c++) {
    get(2 + c);
    code.push(op.i32const, ...sleb(16), op.i32add);
    set(2 + c);
  }
  get(0);
  code.push(op.i32const, ...sleb(16 * channels), op.i32add);
  set(0);
  get(1);
  code.push(op.i32const, ...sleb(1), op.i32sub, op.tee, 1, op.brIf, 0, ...op.end, ...op.end, ...op.end);

  const body = [...vec([[...uleb(2 * channels + 1), V128]]), ...code];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec(new Array<number[]>(params).fill([I32])), 0x00]])),
    ...section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x01, ...uleb(PAGES), ...uleb(PAGES)]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...name('run'), 0x00, 0x00]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}
