// The text protocol's commands as the client sends them (iiod-protocol.md §4a), and the framing
// of the replies that carry a payload: `<len>\n` + len bytes + `\n`. Names go on the command
// line as tokens, so anything that could end or split the line is refused before it is sent.
import { errnoOf, systemError } from '../../errors.js';
import type { AttrRef } from '../backend.js';
import type { Wire } from './connection.js';

/**
 * Attribute values are sysfs pages in practice: 4 KiB, 64 KiB on kernels with 64 KiB pages (the
 * largest a sysfs attribute can be). A server sending more is refused: a client reading many
 * attributes keeps every value.
 */
export const ATTR_VALUE_LIMIT = 64 * 1024;
/** The context XML: hundreds of KiB for the largest boards. */
export const XML_LIMIT = 16 * 1024 * 1024;
/**
 * Elements of the context XML: the largest boards have thousands. Each costs the XML parser about
 * 2 KiB and 20 µs, so this bounds PRINT's memory (about 200 MiB) and time (the parse cannot be
 * interrupted by the context's timeout).
 */
export const XML_ELEMENT_LIMIT = 100_000;
/** The errno range a status line may carry (the kernel's MAX_ERRNO): below it, no errno. */
export const MAX_ERRNO = 4095;
/** A trigger name (GETTRIG). */
export const NAME_LIMIT = 1024;

/** A device, channel or attribute name as a command token; EINVAL for one that is not. */
export function token(text: string, what: string): string {
  if (text === '' || /[\s\x00-\x1f\x7f]/.test(text)) {
    throw systemError(errnoOf('EINVAL'), 'send', undefined, `${what} ${JSON.stringify(text)} cannot be sent to iiod (empty, or holds whitespace or control characters)`);
  }
  return text;
}

/** `<dev> [DEBUG|BUFFER|INPUT <chn>|OUTPUT <chn>] <attr>`: where an attribute is, for READ and WRITE. */
export function attrPath(ref: Exclude<AttrRef, { kind: 'context' | 'event' }>): string {
  const dev = token(ref.device, 'device');
  const attr = token(ref.name, 'attribute');
  switch (ref.kind) {
    case 'device':
      return `${dev} ${attr}`;
    case 'debug':
      return `${dev} DEBUG ${attr}`;
    case 'buffer':
      return `${dev} BUFFER ${attr}`;
    case 'channel':
      return `${dev} ${ref.output ? 'OUTPUT' : 'INPUT'} ${token(ref.channel, 'channel')} ${attr}`;
  }
}

/** What a payload read allocates before its bytes arrive; it grows (doubling) as they do. */
const PAYLOAD_FIRST_BYTES = 64 * 1024;

/**
 * Reads the payload announced by a positive status: `length` bytes and the `\n` after them.
 * Lengths beyond `limit` are refused before anything is allocated, and memory follows the bytes
 * that came, not the length the server claims.
 */
export async function readPayload(wire: Wire, length: number, limit: number): Promise<Uint8Array> {
  if (length > limit) throw wire.malformed(`a payload of ${length} bytes exceeds the limit of ${limit}`);
  const total = length + 1;
  let payload = new Uint8Array(Math.min(total, PAYLOAD_FIRST_BYTES));
  await wire.readInto(payload);
  while (payload.length < total) {
    const grown = new Uint8Array(Math.min(total, payload.length * 2));
    grown.set(payload);
    await wire.readInto(grown.subarray(payload.length));
    payload = grown;
  }
  if (payload[length] !== 0x0a) throw wire.malformed(`the ${length}-byte payload is not followed by a newline`);
  return payload.subarray(0, length);
}

/**
 * An attribute's text: libiio 0.24's iiod replaces sysfs's trailing newline with a NUL and
 * counts it (`5\n1000\0\n`); other servers send the text as it is. Either way, without them.
 */
export function attrText(payload: Uint8Array): string {
  let end = payload.length;
  if (end > 0 && payload[end - 1] === 0) end--;
  if (end > 0 && payload[end - 1] === 0x0a) end--;
  return Buffer.from(payload.buffer, payload.byteOffset, end).toString('utf8');
}

/** What WRITE sends for a value: its bytes and a NUL, as libiio 0.24 does (strlen + 1). */
export function attrBytes(value: string): Uint8Array {
  const bytes = Buffer.from(`${value}\0`, 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
