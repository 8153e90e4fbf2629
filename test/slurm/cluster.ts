// Shared by the Slurm tests: they run against a REAL cluster (scripts/slurm/setup-cluster.sh
// starts a single-node one) and are skipped, saying why, where none is running.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { clusterProblem } from '../../src/runner/slurm/scheduler';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'robust-meta.js');

const problem = clusterProblem();
/** A skip reason for node:test, or false when a cluster can take jobs. */
export const SKIP: string | false = problem ? `no Slurm cluster here: ${problem}` : false;

export function cli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs: number, everyMs = 500): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
