// One client after `BINARY` (iiod-protocol.md §4b, libiio main 4e3cfe61): reads frames one at
// a time and answers each on the client id it came on. Served: PRINT, TIMEOUT, every READ/WRITE
// attribute kind (event attributes included), GETTRIG/SETTRIG, REG_READ/REG_WRITE,
// REFRESH_FORMAT and NOP. Buffers, blocks and event streams are not served yet: their opcodes
// are answered -ENOSYS, with their payloads read so the stream stays framed — which is why
// serve() answers BINARY only when asked to (`binary: true`). Memory is bounded as in the text
// protocol: a payload larger than the limits, or one whose size cannot be known, ends the
// session after its error is answered.
import type { Attr } from '../../core/attr.js';
import { decodeHeader, encodeHeader, HEADER_BYTES, Op, opName, splitCode, V1_PRINT_LIMIT, type FrameHeader } from '../../iiod/binary-protocol.js';
import { valueText } from './attr-framing.js';
import { bufferAttrs, type BinaryIndex, type IndexedDevice } from './binary-index.js';
import { refusal, wireErrno } from './errno.js';
import type { Inbox } from './inbox.js';
import type { SessionShared } from './session.js';
import type { Transport } from './transport.js';

/** Largest WRITE_* value (as the text protocol's WRITE). */
const ATTR_PAYLOAD_LIMIT = 1 << 20;

/** Why a session must end: its input can no longer be framed. */
class Unframeable extends Error {
  readonly code = 'EINVAL';
  readonly errno = 22;
}

export class BinarySession {
  readonly #transport: Transport;
  readonly #inbox: Inbox;
  readonly #shared: SessionShared;
  readonly #index: BinaryIndex;
  readonly #peer: string;
  /** The text session's wait for a request, which disconnects idle clients (`idleTimeoutMs`). */
  readonly #awaitRequest: <T>(input: Promise<T>) => Promise<T>;

  constructor(transport: Transport, inbox: Inbox, shared: SessionShared, index: BinaryIndex, awaitRequest: <T>(input: Promise<T>) => Promise<T>) {
    this.#awaitRequest = awaitRequest;
    this.#transport = transport;
    this.#inbox = inbox;
    this.#shared = shared;
    this.#index = index;
    this.#peer = transport.peer;
  }

  /** Serves frames until the client leaves or sends one that cannot be framed. */
  async run(): Promise<void> {
    for (;;) {
      const header = await this.#awaitRequest(this.#read(HEADER_BYTES));
      if (header === null) return;
      const h = decodeHeader(header);
      try {
        await this.#dispatch(h);
      } catch (e) {
        this.#respond(h, this.#failure(h, e));
        if (e instanceof Unframeable) return;
      }
      await this.#transport.drained();
    }
  }

  async #dispatch(h: FrameHeader): Promise<void> {
    switch (h.op) {
      case Op.PRINT:
        return this.#print(h);
      case Op.TIMEOUT: // it bounds block transfers, which are not served yet
        return this.#respond(h, 0);
      case Op.NOP:
        return this.#respond(h, 0);
      case Op.READ_ATTR:
      case Op.READ_DBG_ATTR:
      case Op.READ_BUF_ATTR:
      case Op.READ_CHN_ATTR:
      case Op.READ_DEV_EVT_ATTR:
      case Op.READ_CHN_EVT_ATTR: {
        const value = Buffer.from(`${await this.#attr(h).read()}\0`);
        return this.#respond(h, value.length, value);
      }
      case Op.WRITE_ATTR:
      case Op.WRITE_DBG_ATTR:
      case Op.WRITE_BUF_ATTR:
      case Op.WRITE_CHN_ATTR:
      case Op.WRITE_DEV_EVT_ATTR:
      case Op.WRITE_CHN_EVT_ATTR:
        return this.#writeAttr(h);
      case Op.GETTRIG: {
        const trigger = await this.#device(h).device.getTrigger().catch((e: unknown) => {
          // v1 tells a device that takes no trigger (ENOENT) from one with none set (ENODEV).
          throw (e as { code?: unknown }).code === 'ERR_IIOJS_UNSUPPORTED' ? refusal('ENOENT', 'GETTRIG', (e as Error).message) : e;
        });
        if (trigger === null) throw refusal('ENODEV', 'GETTRIG', 'no trigger set');
        return this.#respond(h, this.#index.indexOf(trigger.id));
      }
      case Op.SETTRIG: {
        const device = this.#device(h).device;
        if (this.#shared.readOnly) throw refusal('EACCES', 'SETTRIG', 'the server is read-only');
        const trigger = h.code < 0 ? null : this.#index.devices[h.code]?.device;
        if (trigger === undefined) throw refusal('ENODEV', 'SETTRIG', `no device of index ${h.code}`);
        await device.setTrigger(trigger === null ? null : trigger.id);
        return this.#respond(h, 0);
      }
      case Op.REG_READ: {
        const value = await this.#device(h).device.registers.read(h.code >>> 0);
        const payload = Buffer.alloc(4);
        payload.writeUInt32LE(value >>> 0);
        return this.#respond(h, 4, payload);
      }
      case Op.REG_WRITE: {
        const payload = await this.#payload(4);
        const device = this.#device(h).device;
        if (this.#shared.readOnly) throw refusal('EACCES', 'REG_WRITE', 'the server is read-only');
        await device.registers.write(h.code >>> 0, payload.readUInt32LE(0));
        return this.#respond(h, 0);
      }
      case Op.REFRESH_FORMAT: {
        const indexed = this.#device(h);
        const channel = indexed.channels[h.code];
        if (channel?.scanElement === undefined) throw refusal('EINVAL', 'REFRESH_FORMAT', `${indexed.device.toString()} has no scanned channel of index ${h.code}`);
        // As v1 iiod prints it: lower-case sign whatever the bits, and no NUL.
        const t = channel.scanElement.type;
        const format = Buffer.from(`${t.endianness === 'be' ? 'b' : 'l'}e:${t.signed ? 's' : 'u'}${t.realBits}/${t.storageBits}${t.repeat > 1 ? `X${t.repeat}` : ''}>>${t.shift}`);
        return this.#respond(h, format.length, format);
      }
      case Op.OPEN_BUFFER: {
        // Its payload is the mask, one u32 per 32 channels of the device: read to stay framed.
        const indexed = this.#index.devices[h.dev];
        if (indexed === undefined) throw new Unframeable(`no device of index ${h.dev}: the mask's size is unknown`);
        await this.#payload(Math.ceil(indexed.channels.length / 32) * 4);
        throw refusal('ENOSYS', 'OPEN_BUFFER', 'buffers are not served over BINARY yet');
      }
      case Op.CREATE_BLOCK:
        await this.#payload(8);
        throw refusal('ENOSYS', 'CREATE_BLOCK', 'blocks are not served over BINARY yet');
      case Op.TRANSFER_BLOCK:
      case Op.ENQUEUE_BLOCK_CYCLIC:
        // The data's size is that of a block, and no block exists.
        throw new Unframeable(`${opName(h.op)} of a block that was never created`);
      case Op.CLOSE_BUFFER:
      case Op.ENABLE_BUFFER:
      case Op.DISABLE_BUFFER:
      case Op.FREE_BLOCK:
      case Op.RETRY_DEQUEUE_BLOCK:
      case Op.CREATE_EVSTREAM:
      case Op.FREE_EVSTREAM:
      case Op.READ_EVENT:
        throw refusal('ENOSYS', opName(h.op), 'buffers and event streams are not served over BINARY yet');
      default:
        // A request with an unknown opcode carries a payload of unknown size.
        throw new Unframeable(`${opName(h.op)} is no opcode of libiio 4e3cfe61`);
    }
  }

  #print(h: FrameHeader): void {
    const xml = this.#shared.xml;
    // A v1 client overruns its 64 KiB buffer on a bigger uncompressed XML (§4b): refuse rather than crash it.
    if (xml.length > V1_PRINT_LIMIT) throw refusal('E2BIG', 'PRINT', `the ${xml.length}-byte XML is more than the ${V1_PRINT_LIMIT} a v1 client reads uncompressed`);
    this.#respond(h, xml.length, xml);
  }

  #device(h: FrameHeader): IndexedDevice {
    const indexed = this.#index.devices[h.dev];
    if (indexed === undefined) throw refusal('ENODEV', opName(h.op), `no device of index ${h.dev}`);
    return indexed;
  }

  /** The attribute a READ_* or WRITE_* names: `code` packs its index (high) and its channel or buffer (low). */
  #attr(h: FrameHeader): Attr {
    const indexed = this.#device(h);
    const { hi: attrIndex, lo: owner } = splitCode(h.code);
    let list: readonly Attr[] | undefined;
    switch (h.op) {
      case Op.READ_ATTR: case Op.WRITE_ATTR: list = indexed.attrs; break;
      case Op.READ_DBG_ATTR: case Op.WRITE_DBG_ATTR: list = indexed.debugAttrs; break;
      case Op.READ_DEV_EVT_ATTR: case Op.WRITE_DEV_EVT_ATTR: list = indexed.eventAttrs; break;
      case Op.READ_BUF_ATTR: case Op.WRITE_BUF_ATTR: list = bufferAttrs(indexed.device, owner); break;
      case Op.READ_CHN_ATTR: case Op.WRITE_CHN_ATTR: list = indexed.channelAttrs[owner]; break;
      default: list = indexed.channelEventAttrs[owner]; break;
    }
    const attr = list?.[attrIndex];
    if (attr === undefined) throw refusal('EINVAL', opName(h.op), `${indexed.device.toString()} has no attribute ${attrIndex} there (code ${h.code})`);
    return attr;
  }

  /** WRITE_*: the u64 length and the value are read first, whatever fails, so the stream stays framed. */
  async #writeAttr(h: FrameHeader): Promise<void> {
    const length = (await this.#payload(8)).readBigUInt64LE(0);
    if (length > BigInt(ATTR_PAYLOAD_LIMIT)) throw new Unframeable(`a ${length}-byte value is more than ${ATTR_PAYLOAD_LIMIT}: disconnecting`);
    const value = await this.#payload(Number(length));
    const attr = this.#attr(h);
    if (this.#shared.readOnly) throw refusal('EACCES', opName(h.op), 'the server is read-only');
    await attr.write(valueText(value));
    this.#respond(h, value.length);
  }

  /** `n` bytes of input in one buffer, or null at the end of input. */
  async #read(n: number): Promise<Buffer | null> {
    const chunks = await this.#inbox.bytes(n);
    if (chunks === null) return null;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
  }

  /** A request's payload; the session ends if the input ends first. */
  async #payload(n: number): Promise<Buffer> {
    const b = await this.#read(n);
    if (b === null) throw new Unframeable('the input ended inside a payload');
    return b;
  }

  #respond(h: FrameHeader, code: number, payload?: Buffer): void {
    this.#transport.write(encodeHeader({ clientId: h.clientId, op: Op.RESPONSE, dev: 0, code }));
    if (payload !== undefined) this.#transport.write(payload);
  }

  #failure(h: FrameHeader, e: unknown): number {
    const errno = wireErrno(e);
    const expected = errno === -38 || (h.op === Op.GETTRIG && errno === -2); // the opcodes not served yet; no trigger
    this.#shared.log[expected ? 'info' : 'error'](`${this.#peer}: ${opName(h.op)} dev ${h.dev} code ${h.code}: ${errno}: ${(e as Error).message}`);
    return errno;
  }
}
