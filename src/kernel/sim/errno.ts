// Errors raised inside the simulated kernel: just an errno code, like a negative return value in
// C. The port (index.ts) turns them into Node-style system errors naming the syscall and file.
export class KernelError extends Error {
  constructor(
    readonly code: string,
    detail?: string,
  ) {
    super(detail === undefined ? code : `${code}: ${detail}`);
    this.name = 'KernelError';
  }
}

/** Returns a KernelError to throw: `throw kerr('EBUSY')`. */
export function kerr(code: string, detail?: string): KernelError {
  return new KernelError(code, detail);
}
