#!/usr/bin/env node
// The `iio` command: this process's streams and signals, handed to the dispatcher (run.ts).
import { processEnv } from './env.js';
import { runIio } from './run.js';

// A reader that goes away (`iio info | head -1`) is not an error: exit as SIGPIPE would have.
let brokenPipe = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') brokenPipe = true;
  else {
    process.stderr.write(`iio: writing stdout: ${e.message}\n`);
    process.exitCode = 1;
  }
});

runIio(process.argv.slice(2), processEnv()).then((status) => {
  process.exitCode = brokenPipe && status === 0 ? 141 : status;
});
