// The ioctl argument rules of the native addon (native/iiojs_kernel.c), in TypeScript, for the
// sim port: a request of src/abi given the wrong kind of argument, bytes that do not cover what
// the kernel touches, or pointer fields it does not have, is refused with the same TypeError or
// RangeError as on Linux, so code written against the sim does not break there. (The addon also
// refuses requests it does not know; the sim models the kernel's answer to those instead.)
import { ioctlArgRules, usbdevfsUrbStruct, USBDEVFS_URB_TYPE_ISO, type IoctlArgRule } from '../abi/index.js';
import type { PointerFields } from './port.js';

const isLittleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
const rules: ReadonlyMap<number, IoctlArgRule> = ioctlArgRules();

const hex = (request: number) => `0x${(request >>> 0).toString(16).padStart(8, '0')}`;

function typeError(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

function rangeError(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}

function bytesOf(arg: unknown): Uint8Array | undefined {
  if (arg instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && arg instanceof SharedArrayBuffer)) {
    return new Uint8Array(arg);
  }
  if (ArrayBuffer.isView(arg)) return new Uint8Array(arg.buffer, arg.byteOffset, arg.byteLength);
  return undefined;
}

/** The rule of a request of src/abi, or undefined for others. */
export function ioctlArgRule(request: number): IoctlArgRule | undefined {
  return rules.get(request >>> 0);
}

/** Throws as the addon does if `arg` and `pointers` do not fit the rule of `request`. */
export function checkIoctlArg(request: number, arg: unknown, pointers: PointerFields | undefined): void {
  const rule = rules.get(request >>> 0);
  if (rule === undefined) return;
  const hasPointer = rule.kind === 'pointer' || rule.kind === 'urb';
  if (pointers !== undefined && !hasPointer) throw typeError(`ioctl request ${hex(request)} has no pointer fields`);
  if (rule.kind === 'none') {
    if (arg !== undefined) throw typeError(`ioctl request ${hex(request)} takes no argument`);
    return;
  }
  if (rule.kind === 'value') {
    if (typeof arg !== 'number') throw typeError('ioctl argument must be a number');
    return;
  }
  const bytes = bytesOf(arg);
  if (bytes === undefined) {
    throw typeError(`ioctl request ${hex(request)} takes its argument by address: an ArrayBuffer or ArrayBufferView`);
  }
  // DISCARDURB names a URB by the bytes given to SUBMITURB; which URB they are is the kernel's to answer.
  if (rule.kind === 'urb-discard') return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let need = rule.size;
  if (rule.kind === 'string') {
    const nul = bytes.subarray(0, rule.size).indexOf(0);
    if (nul >= 0) need = nul + 1;
    else if (bytes.length < rule.size) {
      throw rangeError(`ioctl argument holds ${bytes.length} bytes without a NUL but request ${hex(request)} reads up to ${rule.size}`);
    }
  }
  const tooShort = () => rangeError(`ioctl argument holds ${bytes.length} bytes but request ${hex(request)} needs ${need}`);
  if (bytes.length < need) throw tooShort();
  if (rule.kind === 'flex') {
    need += view.getUint32(rule.countOffset, isLittleEndian) * rule.elemSize;
    if (bytes.length < need) throw tooShort();
  }
  if (rule.kind === 'urb' && bytes[usbdevfsUrbStruct.fields.type.offset] === USBDEVFS_URB_TYPE_ISO) {
    // its frame descriptors follow the struct: the kernel would read (and, at reap, write) past it
    throw rangeError('isochronous URBs (type 0) are not supported: their frame descriptors follow the urb');
  }
  if (!hasPointer || pointers === undefined) return;
  if (!Array.isArray(pointers)) throw typeError('pointers must be an array of [offset, bytes] pairs');
  if (pointers.length > 1) throw rangeError(`ioctl request ${hex(request)} has 1 pointer field, not ${pointers.length}`);
  if (pointers.length === 0) return;
  const pair: unknown = pointers[0];
  if (!Array.isArray(pair)) throw typeError('pointers must be an array of [offset, bytes] pairs');
  const [offset, target] = pair as unknown[];
  if (typeof offset !== 'number') throw typeError('pointer offset must be a number');
  if (!Number.isInteger(offset) || offset < 0 || offset > 0xffffffff) {
    throw rangeError('pointer offset must be an integer in [0, 4294967295]');
  }
  if (offset !== rule.pointerOffset) {
    throw rangeError(`the pointer field of request ${hex(request)} is at offset ${rule.pointerOffset}, not ${offset}`);
  }
  const into = bytesOf(target);
  if (into === undefined) throw typeError('pointer target must be an ArrayBuffer or ArrayBufferView');
  // A negative URB buffer_length needs no bytes here: the kernel refuses it (EINVAL).
  const count = rule.kind === 'urb'
    ? Math.max(0, view.getInt32(rule.countOffset, isLittleEndian))
    : rule.countSize === 2 ? view.getUint16(rule.countOffset, isLittleEndian) : view.getUint32(rule.countOffset, isLittleEndian);
  if (into.length < count * rule.elemSize) {
    throw rangeError(
      `pointer target holds ${into.length} bytes but request ${hex(request)} writes ${count} × ${rule.elemSize} = ${count * rule.elemSize}`,
    );
  }
}
