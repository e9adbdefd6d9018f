// An attribute of a context, device, channel, buffer, debugfs or events (libiio's iio_attr):
// found once, then read and written as text or typed values.
import type { AttrDescription, AttrKind, AttrRef, AttrSharing, OpOptions } from '../backends/backend.js';
import { UnsupportedError, attrLabel } from '../backends/errors.js';
import { decodeBigInt, decodeBoolean, decodeNumber, encodeAttrValue, type AttrValue } from './attr-value.js';
import { parseAvailable, type Available } from './available.js';
import type { Session } from './session.js';

export class Attr {
  readonly kind: AttrKind;
  /** The short name: `raw`, `scale`, `sampling_frequency`. */
  readonly name: string;
  /** The file behind it (`in_voltage_scale`), as libiio's iio_attr_get_filename; the name for context attributes. */
  readonly filename: string;
  /** From the file mode; undefined when the backend cannot tell. */
  readonly readable: boolean | undefined;
  readonly writable: boolean | undefined;
  /** Channel attributes: how widely the kernel shares the file (kernel-abi §6.2). */
  readonly shared: AttrSharing | undefined;
  /** Context attributes: their fixed value (libiio's iio_attr_get_static_value). */
  readonly staticValue: string | undefined;
  readonly #session: Session;
  readonly #ref: AttrRef;
  readonly #label: string;
  readonly #siblings: () => ReadonlyMap<string, Attr>;

  /** @internal Built by the context from its description. */
  constructor(
    session: Session,
    ref: AttrRef,
    description: AttrDescription | { name: string; value: string },
    deviceName: string | undefined,
    siblings: () => ReadonlyMap<string, Attr>,
  ) {
    this.#session = session;
    this.#ref = ref;
    this.#siblings = siblings;
    this.kind = ref.kind;
    this.name = description.name;
    this.#label = attrLabel(ref, deviceName);
    if ('value' in description) {
      this.filename = description.name;
      this.readable = true;
      this.writable = false;
      this.shared = undefined;
      this.staticValue = description.value;
    } else {
      this.filename = description.filename;
      this.readable = description.readable;
      this.writable = description.writable;
      this.shared = description.shared;
      this.staticValue = undefined;
    }
  }

  /** The text, without the kernel's trailing newline. */
  async read(options?: OpOptions): Promise<string> {
    this.#session.check(options);
    return this.#session.backend.readAttr(this.#ref, options);
  }

  /** A number (`0.001333`, `-7`, `0x1f`; a trailing unit such as `dB` is ignored). */
  async readNumber(options?: OpOptions): Promise<number> {
    return decodeNumber(await this.read(options), this.#label);
  }

  /** An integer of any size. */
  async readBigInt(options?: OpOptions): Promise<bigint> {
    return decodeBigInt(await this.read(options), this.#label);
  }

  /** An integer (non-zero is true) or y/n, true/false, on/off. */
  async readBoolean(options?: OpOptions): Promise<boolean> {
    return decodeBoolean(await this.read(options), this.#label);
  }

  /**
   * Writes a value: strings as they are, integers and bigints in decimal, fractions in plain
   * decimal notation, booleans as 1/0.
   */
  async write(value: AttrValue, options?: OpOptions): Promise<void> {
    const text = encodeAttrValue(value);
    this.#session.check(options);
    await this.#session.backend.writeAttr(this.#ref, text, options);
  }

  /** The `<name>_available` attribute next to this one, if there is one. */
  get availableAttr(): Attr | undefined {
    return this.#siblings().get(`${this.name}_available`);
  }

  /** The values the attribute takes: a list, or a `[min step max]` range. */
  async available(options?: OpOptions): Promise<Available> {
    const attr = this.availableAttr;
    if (attr === undefined) throw new UnsupportedError('available', this.#label, `no ${this.name}_available attribute lists its values`);
    return parseAvailable(await attr.read(options), attr.toString());
  }

  /** The attribute in words, e.g. `attribute "raw" of input channel voltage0 of iio:device0 (adc4)`. */
  toString(): string {
    return this.#label;
  }
}

/** A name → Attr map in description order. */
export function attrMap(build: (siblings: () => ReadonlyMap<string, Attr>) => Attr[]): ReadonlyMap<string, Attr> {
  const map = new Map<string, Attr>();
  for (const attr of build(() => map)) if (!map.has(attr.name)) map.set(attr.name, attr);
  return map;
}
