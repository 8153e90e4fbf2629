// Processes the harness started: no code-server or browser outlives the test process.
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';

export const liveServers = new Set<ChildProcess>();
export const liveBrowsers = new Set<Browser>();

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // whole process group: server, extension host, pty hosts
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}

// Whatever happens (test timeout, uncaught error, Ctrl-C), no code-server outlives the test process.
process.on('exit', () => {
  for (const c of liveServers) killGroup(c, 'SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    for (const c of liveServers) killGroup(c, 'SIGKILL');
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

export async function closeBrowser(b: Browser): Promise<void> {
  liveBrowsers.delete(b);
  await Promise.race([b.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
}

export async function stopServer(child: ChildProcess): Promise<void> {
  liveServers.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) {
    killGroup(child, 'SIGKILL'); // its children may linger
    return;
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killGroup(child, 'SIGTERM');
  const t = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 8_000).unref())]);
  clearTimeout(t);
  killGroup(child, 'SIGKILL');
}
