// A kernel oops, modelled. On Linux 6.12.117 a read() on a buffer fd whose DMA buffer has
// DMABUFs attached dereferences a NULL file I/O block in iio_dma_buffer_dequeue: the task is
// killed with the queue lock held, and a later disable can deadlock the machine (kernel-abi
// §1.3, probe scenario read_nonblock_after_attach). The sim cannot kill the caller, so it throws
// this error instead (code ENOTRECOVERABLE, errno -131, deliberately not an errno the real call
// could return) and wedges the buffer: every later operation on it throws the same way. It is
// not a KernelError, so the port passes it through untranslated.
export class KernelOops extends Error {
  readonly code = 'ENOTRECOVERABLE';
  readonly errno = -131;

  constructor(
    readonly syscall: string,
    readonly where: string,
    consequence = 'this buffer is wedged',
  ) {
    super(`ENOTRECOVERABLE: kernel oops: BUG: kernel NULL pointer dereference in ${where}, ${syscall} (the real kernel kills the task; ${consequence})`);
    this.name = 'KernelOops';
  }
}
