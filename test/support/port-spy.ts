// A Kernel port that forwards every call to the kernel under it, with the methods a test names
// replaced by wrappers around the originals (to record or count the syscalls a part makes).
import type { KernelPort } from '../../src/kernel/port.js';

type Methods = { [M in keyof KernelPort as KernelPort[M] extends (...args: never[]) => unknown ? M : never]: KernelPort[M] };

/** Each wrapper gets the original, bound to the kernel, and returns what callers get instead. */
export type PortWrappers = { [M in keyof Methods]?: (original: Methods[M]) => Methods[M] };

export function spyPort<K extends KernelPort>(kernel: K, wrappers: PortWrappers): K {
  const replaced = new Map<PropertyKey, unknown>();
  for (const [name, wrap] of Object.entries(wrappers) as Array<[keyof Methods, (original: unknown) => unknown]>) {
    replaced.set(name, wrap((kernel[name] as (...args: unknown[]) => unknown).bind(kernel)));
  }
  return new Proxy(kernel, {
    get(target, key) {
      if (replaced.has(key)) return replaced.get(key);
      const value = Reflect.get(target, key, target) as unknown;
      // bound: the sim's methods use private fields, which a Proxy receiver does not have
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
