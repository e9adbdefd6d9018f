// Attribute values on the iiod wire (iiod-protocol.md §4a "Attribute value framing"). A value
// goes out as libiio 0.2x's local backend reads it: the text with a NUL where sysfs has its
// trailing newline, counted in the length (`1000` → `5\n1000\0\n`). "Read all" and "write all"
// carry every attribute of a target in XML order, each as a 4-byte big-endian signed length
// (or -errno) followed by the value padded to a multiple of 4 bytes.
import { roundUp } from '../../format/scan-layout.js';

/**
 * A reply of a length line and a payload ending in `\n`, as the two writes iiod makes of it
 * (over USB two transfers: libiio reads the line, then exactly the payload and its `\n`).
 */
export type SizedReply = readonly [Buffer, Buffer];

/** The reply to READ of one attribute. */
export function valueReply(text: string): SizedReply {
  const value = Buffer.from(`${text}\0\n`, 'utf8');
  return [Buffer.from(`${value.length - 1}\n`, 'latin1'), value];
}

const NEWLINE = Buffer.from('\n', 'latin1');

/** The payload of "read all": one entry per attribute, a value or a negative errno. */
export function encodeAll(entries: ReadonlyArray<string | number>): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const head = Buffer.alloc(4);
    if (typeof entry === 'number') {
      head.writeInt32BE(entry);
      parts.push(head);
      continue;
    }
    const value = Buffer.from(`${entry}\0`, 'utf8');
    head.writeInt32BE(value.length);
    parts.push(head, value, Buffer.alloc(roundUp(value.length, 4) - value.length));
  }
  return Buffer.concat(parts);
}

/** The reply to READ of every attribute: `<len>\n<payload>\n`. */
export function allReply(entries: ReadonlyArray<string | number>): SizedReply {
  const payload = encodeAll(entries);
  return [Buffer.from(`${payload.length}\n`, 'latin1'), Buffer.concat([payload, NEWLINE])];
}

/**
 * The values of a "write all" payload for `count` attributes, in order; undefined where the
 * client sent no value (length ≤ 0). Throws RangeError when the payload does not hold exactly
 * `count` well-formed entries.
 */
export function decodeAll(payload: Buffer, count: number): Array<string | undefined> {
  const values: Array<string | undefined> = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > payload.length) throw new RangeError(`write-all payload ends at attribute ${i} of ${count}`);
    const length = payload.readInt32BE(at);
    at += 4;
    if (length <= 0) {
      values.push(undefined);
      continue;
    }
    if (at + length > payload.length) throw new RangeError(`write-all value ${i} (${length} bytes) runs past the payload`);
    values.push(valueText(payload.subarray(at, at + length)));
    at += roundUp(length, 4);
  }
  if (at < payload.length) throw new RangeError(`write-all payload has ${payload.length - at} bytes after its ${count} attributes`);
  return values;
}

/** A written value as text: v0 clients send strlen+1 bytes, the NUL included. */
export function valueText(bytes: Buffer): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return bytes.toString('utf8', 0, end);
}
