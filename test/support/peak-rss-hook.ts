// Loaded with `node --import` into a child whose memory a test bounds: on exit, the process's
// peak resident set (getrusage's ru_maxrss, KiB) goes to fd 3, a pipe of the test's.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  try {
    writeSync(3, `${process.resourceUsage().maxRSS}\n`);
  } catch {
    // no fd 3: started without a measuring parent
  }
});
