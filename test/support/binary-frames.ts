// Frames of libiio v1's binary protocol (iiod-protocol.md §4b) as recorded by record-proxy.ts:
// the byte streams of each direction cut into frames, each described, for the fixtures in
// test/fixtures/libiio-v1-binary.json and the tests that replay them. Run as a script
// (node dist/test/support/binary-frames.js <name>=<recording.json>... > fixture.json) to turn
// recordings into that fixture.
import { decodeHeader, HEADER_BYTES, Op, opName, splitCode } from '../../src/iiod/binary-protocol.js';
import type { RecordedChunk } from './record-proxy.js';

export interface Frame {
  from: 'c' | 's';
  hex: string;
  what: string;
}

/** The payload bytes a request of `op` carries after its header, knowing the bytes that follow. */
function requestPayload(op: number, rest: Buffer): number {
  if (op >= Op.WRITE_ATTR && op <= Op.WRITE_CHN_EVT_ATTR) return 8 + Number(rest.readBigUInt64LE(0));
  if (op === Op.REG_WRITE) return 4;
  if (op === Op.CREATE_BLOCK) return 8;
  if (op === Op.RESPONSE || op > Op.NOP || op === Op.OPEN_BUFFER || op === Op.TRANSFER_BLOCK || op === Op.ENQUEUE_BLOCK_CYCLIC) {
    throw new Error(`${opName(op)}: the recording's frames cannot be cut without the context`);
  }
  return 0;
}

function describe(from: 'c' | 's', frame: Buffer): string {
  const h = decodeHeader(frame);
  if (from === 's') {
    const payload = frame.subarray(HEADER_BYTES);
    if (h.code <= 0) return `response to client ${h.clientId}: ${h.code}`;
    const text = payload.subarray(0, 4).toString('hex') === '28b52ffd' ? 'zstd-compressed XML' : JSON.stringify(payload.toString('latin1'));
    return `response to client ${h.clientId}: ${h.code} bytes, ${text.length > 60 ? `${text.slice(0, 57)}..."` : text}`;
  }
  const { hi, lo } = splitCode(h.code);
  const parts = [`${opName(h.op)} client ${h.clientId} dev ${h.dev} code ${h.code} (${hi}<<16|${lo})`];
  if (frame.length > HEADER_BYTES) parts.push(`payload ${frame.subarray(HEADER_BYTES).toString('hex')}`);
  return parts.join(', ');
}

/** Responses whose positive code is a payload's length (for the others it is a count or an index). */
const SIZED_RESPONSES: ReadonlySet<number> = new Set([
  Op.PRINT, Op.READ_ATTR, Op.READ_DBG_ATTR, Op.READ_BUF_ATTR, Op.READ_CHN_ATTR, Op.READ_DEV_EVT_ATTR, Op.READ_CHN_EVT_ATTR,
  Op.REG_READ, Op.REFRESH_FORMAT, Op.READ_EVENT,
]);

function frame(from: 'c' | 's', bytes: Buffer, at: number, size: number): Frame {
  const f = bytes.subarray(at, at + size);
  if (f.length < size) throw new Error(`a frame cut short at byte ${at}`);
  return { from, hex: f.toString('hex'), what: describe(from, f) };
}

/**
 * A recording's frames, each request followed by its response. These recordings have one
 * request in flight at a time (v1's tools without buffers), so a response's framing follows
 * from the request before it.
 */
export function framesOf(chunks: readonly RecordedChunk[]): Frame[] {
  const preamble = { c: Buffer.from('BINARY\r\n'), s: Buffer.from('0\n') };
  const joined = (side: 'c' | 's'): Buffer => Buffer.concat(chunks.filter((c) => c.from === side).map((c) => Buffer.from(c.hex, 'hex')));
  const streams = { c: joined('c'), s: joined('s') };
  for (const side of ['c', 's'] as const) {
    if (!streams[side].subarray(0, preamble[side].length).equals(preamble[side])) throw new Error(`the ${side === 'c' ? 'client' : 'server'} did not start with the BINARY exchange`);
  }
  const frames: Frame[] = [];
  let c = preamble.c.length;
  let s = preamble.s.length;
  while (c < streams.c.length) {
    const request = decodeHeader(streams.c, c);
    const size = HEADER_BYTES + requestPayload(request.op, streams.c.subarray(c + HEADER_BYTES));
    frames.push(frame('c', streams.c, c, size));
    c += size;
    if (s >= streams.s.length) break; // the client left before an answer
    const code = decodeHeader(streams.s, s).code;
    const answer = HEADER_BYTES + (SIZED_RESPONSES.has(request.op) && code > 0 ? code : 0);
    frames.push(frame('s', streams.s, s, answer));
    s += answer;
  }
  if (s !== streams.s.length) throw new Error(`${streams.s.length - s} bytes of responses left over`);
  return frames;
}

if (process.argv[1]?.endsWith('binary-frames.js')) {
  const { readFileSync } = await import('node:fs');
  const recordings: Record<string, Frame[]> = {};
  for (const arg of process.argv.slice(2)) {
    const [name, file] = arg.split('=') as [string, string];
    recordings[name] = framesOf(JSON.parse(readFileSync(file, 'utf8')) as RecordedChunk[]);
  }
  process.stdout.write(`${JSON.stringify(recordings, null, 1)}\n`);
}
