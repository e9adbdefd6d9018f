// Child process for the CLI tests: several `iio` commands run through the iio dispatcher
// (runIio, what the binary runs) in one process, on one context. Each run of the binary boots
// its own simulated kernel, so what one command does to a sim device (playing samples, writing
// a register) can only be seen by another command of the same process. An input whose waveform
// is a `loopback` hears what an output channel played last: `iio read` shows what `iio write`
// delivered.
// argv[2]: a JSON Session. stdout: JSON { background, steps: [{ status, stdout (base64), stderr }] }.
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalBackend } from '../../src/backends/local/backend.js';
import { Context } from '../../src/core/context.js';
import { openKernel } from '../../src/kernel/open.js';
import { openContext } from '../../src/open.js';
import type { CliEnv } from '../../src/cli/env.js';
import { runIio } from '../../src/cli/run.js';

export interface Session {
  /** The context every command gets (their -u must name it too). */
  uri: string;
  /**
   * A command started first and interrupted (as by Ctrl-C) after the steps, e.g. a cyclic
   * `iio write`; the steps start once the output buffer of `device` is enabled.
   */
  background?: { argv: string[]; stdin?: string; device: string };
  /** Commands run one after the other; stdin in base64. */
  steps: Array<{ argv: string[]; stdin?: string }>;
  /**
   * The channel position the "kernel" enables in every buffer besides the asked ones, as a driver
   * that forces a channel on (the local backend, asked for more).
   */
  alsoEnable?: number;
}

/** A local backend whose buffers also enable channel `position`. */
class ForcingBackend extends LocalBackend {
  constructor(uri: string, private readonly position: number) {
    super(openKernel(uri), { uri });
  }

  override openBuffer(...[device, index, mask, options]: Parameters<LocalBackend['openBuffer']>): ReturnType<LocalBackend['openBuffer']> {
    return super.openBuffer(device, index, [...new Set([this.position, ...mask])].sort((a, b) => a - b), options);
  }
}

const session = JSON.parse(process.argv[2]!) as Session;

/** The shared context; each command's close() leaves it open for the next. */
function shared(ctx: Context): Context {
  return new Proxy(ctx, {
    get(target, key) {
      if (key === 'close' || key === Symbol.asyncDispose) return async () => undefined;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function collector(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write(chunk: Buffer, _encoding, callback) { chunks.push(Buffer.from(chunk)); callback(); } });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

const ctx = session.alsoEnable === undefined ? await openContext(session.uri) : await Context.open(new ForcingBackend(session.uri, session.alsoEnable));
function env(stdin: string | undefined, stdout: Writable, stderr: Writable, interrupt: AbortSignal): CliEnv {
  return { stdin: Readable.from([Buffer.from(stdin ?? '', 'base64')]), stdout, stderr, interrupt, openContext: async () => shared(ctx) };
}

const stopBackground = new AbortController();
const background = session.background;
const backgroundErrors = collector();
const running = background === undefined ? undefined
  : runIio(background.argv, env(background.stdin, collector().stream, backgroundErrors.stream, stopBackground.signal));
if (background !== undefined) {
  const enable = ctx.device(background.device).buffers.find((b) => b.output)!.attr('enable');
  for (let i = 0; (await enable.read()) !== '1'; i++) {
    if (i === 500) throw new Error(`the output buffer of ${background.device} was never enabled: ${backgroundErrors.bytes().toString()}`);
    await sleep(10);
  }
}
const steps = [];
for (const step of session.steps) {
  const out = collector();
  const err = collector();
  const status = await runIio(step.argv, env(step.stdin, out.stream, err.stream, new AbortController().signal));
  steps.push({ status, stdout: out.bytes().toString('base64'), stderr: err.bytes().toString() });
}
stopBackground.abort('SIGINT');
const backgroundStatus = running === undefined ? undefined : { status: await running, stderr: backgroundErrors.bytes().toString() };
await ctx.close();
process.stdout.write(JSON.stringify({ background: backgroundStatus, steps }));
