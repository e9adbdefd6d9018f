// How an open buffer notices that its device was removed (docs/lifecycle.md, "Removal"): a
// removed device's queued fences never signal and its buffer fd's ioctls do not say so
// (kernel-abi §2.10), so while anyone waits, the device's identity is checked every 250 ms:
// its `dev` (major:minor) and its sysfs directory's inode, read at open. Gone or different,
// it is removed for good.
import { errnoOf, isSystemError, systemError, type SystemError } from '../../errors.js';
import type { KernelPort } from '../../kernel/port.js';
import { withContext } from '../errors.js';

const CHECK_MS = 250;

export class DeviceWatch {
  readonly #listeners = new Set<(removed: SystemError) => void>();
  #timer: NodeJS.Timeout | undefined;
  #removed: SystemError | undefined;

  private constructor(
    private readonly port: KernelPort,
    private readonly deviceDir: string,
    private readonly name: string,
    private readonly identity: string,
  ) {}

  /** Records the identity of the device at `deviceDir`; `name` names the buffer in errors. */
  static async open(port: KernelPort, deviceDir: string, name: string): Promise<DeviceWatch> {
    const identity = await readIdentity(port, deviceDir).catch((e: unknown) => { throw withContext(e, `opening ${name}`); });
    return new DeviceWatch(port, deviceDir, name, identity);
  }

  /** The ENODEV error once the device was seen removed (or replaced), for good. */
  get removed(): SystemError | undefined {
    return this.#removed;
  }

  /** Looks now; resolves with the removal error if the device is gone or replaced. */
  async check(): Promise<SystemError | undefined> {
    if (this.#removed !== undefined) return this.#removed;
    if (await identityOf(this.port, this.deviceDir) === this.identity) return undefined;
    this.#removed ??= systemError(errnoOf('ENODEV'), 'poll', this.name, 'the device was removed');
    for (const listener of [...this.#listeners]) listener(this.#removed);
    this.#listeners.clear();
    this.#stop();
    return this.#removed;
  }

  /**
   * Calls `onRemoved` once if the device goes while subscribed (at once if it is gone already);
   * returns the unsubscribe. The check runs only while someone is subscribed, on an unref'd
   * timer: a wait keeps the process alive, the watch never does.
   */
  subscribe(onRemoved: (removed: SystemError) => void): () => void {
    if (this.#removed !== undefined) {
      onRemoved(this.#removed);
      return () => undefined;
    }
    this.#listeners.add(onRemoved);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.check().catch(() => undefined), CHECK_MS);
      this.#timer.unref();
    }
    return () => {
      this.#listeners.delete(onRemoved);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** `<dev>@<inode>`. */
async function readIdentity(port: KernelPort, deviceDir: string): Promise<string> {
  const [dir, dev] = await Promise.all([port.stat(deviceDir), port.readText(`${deviceDir}/dev`)]);
  return `${dev.trim()}@${dir.ino}`;
}

/** The identity, or undefined when the directory is gone. */
async function identityOf(port: KernelPort, deviceDir: string): Promise<string | undefined> {
  try {
    return await readIdentity(port, deviceDir);
  } catch (e) {
    if (isSystemError(e, 'ENOENT', 'ENODEV')) return undefined;
    throw e;
  }
}
