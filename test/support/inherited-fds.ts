// Starts a Node script with an eventfd, a socketpair and two pipes already open, so the
// readiness tests cover fd kinds Node itself cannot create. python3 makes the fds and execs
// Node with them inherited (numbers passed as JSON in argv[2]).
import { spawnSync } from 'node:child_process';

const makeFds = `
import os, socket, sys
fds = [os.eventfd(0, os.EFD_NONBLOCK)]
a, b = socket.socketpair()
fds += [a.detach(), b.detach()]
for _ in range(2):
    fds += list(os.pipe())
for fd in fds:
    os.set_inheritable(fd, True)
os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], str(fds).replace(' ', '')])
`;

export function runWithInheritedFds(script: string, timeoutMs = 20_000): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('python3', ['-c', makeFds, process.execPath, script], {
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
