// Running a command in network and PID namespaces of its own (unshare(1): as root, or through a
// user namespace): its loopback is its own, so what it serves on a fixed port (libiio's 30431)
// meets nobody else's server on this machine; and when its time is up and it is killed, the
// namespace's first process dies and the kernel ends everything it started.
import { spawn } from 'node:child_process';

export interface SandboxRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SandboxOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Killed after this long; the result then says so in stderr. */
  timeoutMs: number;
}

/** `command args…` in a sandbox of its own, its loopback up, to completion or its time limit. */
export function runSandboxed(command: string, args: readonly string[], options: SandboxOptions): Promise<SandboxRun> {
  const unshare = ['--user', '--map-root-user', '--net', '--pid', '--fork', '--kill-child', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', command, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', unshare, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed: still running after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`unshare (util-linux) could not run ${command}: ${e.message}`));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}
