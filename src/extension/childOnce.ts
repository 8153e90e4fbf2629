// A short-lived child process that answers once over IPC and exits (Show Backend's probe, the
// dataset preview): its answer, or an error naming what went wrong (a timeout, an exit without
// an answer, with the end of its stderr).
import { fork } from 'child_process';

export function askChild<T>(
  script: string,
  args: string[],
  runtime: { execPath: string; env: NodeJS.ProcessEnv },
  what: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execPath: runtime.execPath, execArgv: [], env: runtime.env });
    let stderr = '';
    let answer: T | undefined;
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('message', (m) => (answer = m as T));
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${what} took more than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (answer !== undefined) resolve(answer);
      else reject(new Error(`${what} exited with code ${code}${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`));
    });
  });
}
