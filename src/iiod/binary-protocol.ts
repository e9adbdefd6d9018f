// libiio v1's binary iiod protocol (iiod-protocol.md §4b), as on libiio main at commit 4e3cfe61:
// after `BINARY\r\n` → `0\n`, both sides exchange frames of an 8-byte header (u16 client id,
// u8 opcode, u8 device index, i32 code; little-endian) and a payload whose size the opcode
// implies. The opcode numbers moved between v1 pre-releases (§4b, compatibility warning): a
// client and a server speak this only when both come from that snapshot.

/** The libiio commit whose opcode numbers these are. */
export const BINARY_PROTOCOL_COMMIT = '4e3cfe61';

export const Op = Object.freeze({
  RESPONSE: 0,
  PRINT: 1,
  TIMEOUT: 2,
  READ_ATTR: 3,
  READ_DBG_ATTR: 4,
  READ_BUF_ATTR: 5,
  READ_CHN_ATTR: 6,
  READ_DEV_EVT_ATTR: 7,
  READ_CHN_EVT_ATTR: 8,
  WRITE_ATTR: 9,
  WRITE_DBG_ATTR: 10,
  WRITE_BUF_ATTR: 11,
  WRITE_CHN_ATTR: 12,
  WRITE_DEV_EVT_ATTR: 13,
  WRITE_CHN_EVT_ATTR: 14,
  GETTRIG: 15,
  SETTRIG: 16,
  OPEN_BUFFER: 17,
  CLOSE_BUFFER: 18,
  ENABLE_BUFFER: 19,
  DISABLE_BUFFER: 20,
  CREATE_BLOCK: 21,
  FREE_BLOCK: 22,
  TRANSFER_BLOCK: 23,
  ENQUEUE_BLOCK_CYCLIC: 24,
  RETRY_DEQUEUE_BLOCK: 25,
  CREATE_EVSTREAM: 26,
  FREE_EVSTREAM: 27,
  READ_EVENT: 28,
  REG_READ: 29,
  REG_WRITE: 30,
  REFRESH_FORMAT: 31,
  NOP: 32,
});

const OP_NAMES: readonly string[] = Object.entries(Op).sort((a, b) => a[1] - b[1]).map(([name]) => name);

/** The opcode's name (`op 40` for a number no opcode has). */
export function opName(op: number): string {
  return OP_NAMES[op] ?? `op ${op}`;
}

export const HEADER_BYTES = 8;

export interface FrameHeader {
  clientId: number;
  op: number;
  dev: number;
  code: number;
}

export function encodeHeader(h: FrameHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_BYTES);
  b.writeUInt16LE(h.clientId, 0);
  b.writeUInt8(h.op, 2);
  b.writeUInt8(h.dev, 3);
  b.writeInt32LE(h.code, 4);
  return b;
}

export function decodeHeader(b: Buffer, at = 0): FrameHeader {
  return { clientId: b.readUInt16LE(at), op: b.readUInt8(at + 2), dev: b.readUInt8(at + 3), code: b.readInt32LE(at + 4) };
}

/** The two u16 a request's code packs (`hi << 16 | lo`): an attribute and its channel or buffer, a block and its buffer. */
export function splitCode(code: number): { hi: number; lo: number } {
  return { hi: (code >>> 16) & 0xffff, lo: code & 0xffff };
}

/** The largest uncompressed PRINT a v1 client reads without overrunning its 64 KiB buffer (§4b, PRINT). */
export const V1_PRINT_LIMIT = 65536;
