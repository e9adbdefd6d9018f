// Child process for test/cli-write.test.ts: `iio write` then `iio read` through the iio
// dispatcher (runIio, what the binary runs) in one process, on one simulated kernel — the sim
// lives inside the process, so two runs of the binary never share devices. An input whose
// waveform is a `loopback` hears what an output channel played last, so what `iio read` captures
// shows what `iio write` delivered.
//   node cli-loopback-child.js <mode> <uri> <dac> <adc> [<write options>...]
// `iio write -u <uri> <write options> <dac>` plays stdin; `iio read -u <uri> -s 4096 <adc>`
// captures — while the write runs (mode `cyclic`: the write is then interrupted), or after it
// (mode `after`: it hears the last block played).
// stdout: JSON { write, read (exit statuses), stderr, captured (base64) }.
import { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../../src/core/context.js';
import { openContext } from '../../src/open.js';
import type { CliEnv } from '../../src/cli/env.js';
import { runIio } from '../../src/cli/run.js';

const [mode, uri, dac, adc, ...writeOptions] = process.argv.slice(2) as ['cyclic' | 'after', string, string, string, ...string[]];

/** The context every command gets; their own close() leaves it open for the next command. */
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

const input: Buffer[] = [];
for await (const chunk of process.stdin) input.push(chunk as Buffer);

const ctx = await openContext(uri);
const errors = collector();
function env(stdin: Buffer, stdout: Writable, interrupt: AbortSignal): CliEnv {
  return { stdin: Readable.from([stdin]), stdout, stderr: errors.stream, interrupt, openContext: async () => shared(ctx) };
}

const stopWriter = new AbortController();
const never = new AbortController().signal;
const output = collector();
const writing = runIio(['write', '-u', uri, ...writeOptions, dac], env(Buffer.concat(input), collector().stream, stopWriter.signal));
let write: number | undefined;
if (mode === 'cyclic') {
  // The cyclic block is playing once the transmit buffer is enabled.
  const enable = ctx.device(dac).buffers.find((b) => b.output)!.attr('enable');
  for (let i = 0; (await enable.read()) !== '1'; i++) {
    if (i === 500) throw new Error('the transmit buffer was never enabled');
    await sleep(10);
  }
} else write = await writing;
const read = await runIio(['read', '-u', uri, '-s', '4096', adc], env(Buffer.alloc(0), output.stream, never));
if (mode === 'cyclic') {
  stopWriter.abort('SIGINT');
  write = await writing;
}
await ctx.close();
process.stdout.write(JSON.stringify({ write, read, stderr: errors.bytes().toString(), captured: output.bytes().toString('base64') }));
