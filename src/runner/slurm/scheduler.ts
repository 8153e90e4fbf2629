// The Slurm commands the executor uses: sbatch to submit, scontrol/squeue (and sacct where the
// cluster keeps accounting) for job states, scancel to cancel. Nothing here reads run folders:
// the scheduler only knows a job's state and its reason.
import { spawnSync } from 'child_process';
import { UserError } from '../../core/errors';

/** A job's state as the scheduler tells it; `state` in Slurm's words (PENDING, FAILED, ...). */
export interface SchedulerJob {
  /** "123", or "123_4" for a task of a job array. */
  jobId: string;
  state: string;
  /** Why it is pending or why it ended (Slurm's Reason: Priority, Dependency, NonZeroExitCode, ...). */
  reason?: string;
  /** "exit:signal" as Slurm gives it, e.g. "2:0". */
  exitCode?: string;
  restarts?: number;
  /** Where the answer came from. */
  source: 'scontrol' | 'sacct';
}

/** States after which a job runs no more (unless requeued). */
export const FINISHED_STATES = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'PREEMPTED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'DEADLINE'];

export function isFinished(state: string): boolean {
  return FINISHED_STATES.includes(state.split(' ')[0]);
}

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string; missing: boolean } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { ok: !r.error && r.status === 0, out: r.stdout ?? '', err: (r.stderr ?? '').trim() || (r.error?.message ?? ''), missing };
}

/** Why no Slurm cluster can take jobs from here, or undefined when one can. */
export function clusterProblem(): string | undefined {
  const r = run('sinfo', ['-h', '-o', '%T']);
  if (r.missing) return 'sinfo is not on PATH (no Slurm client here; scripts/slurm/setup-cluster.sh starts a single-node cluster)';
  if (!r.ok) return `sinfo failed: ${r.err}`;
  const states = r.out
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!states.some((s) => /^(idle|mixed|allocated|completing)/.test(s))) return `no node is up (sinfo: ${states.join(', ') || 'no nodes'})`;
  return undefined;
}

/** Submits a batch script; returns the job id. `dependency` is sbatch's, e.g. "afterok:12". */
export function submit(scriptFile: string, o: { dependency?: string; cwd: string }): string {
  const args = ['--parsable', ...(o.dependency ? [`--dependency=${o.dependency}`, '--kill-on-invalid-dep=yes'] : []), scriptFile];
  const r = spawnSync('sbatch', args, { encoding: 'utf8', cwd: o.cwd, timeout: 60_000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new UserError("sbatch is not on PATH: --executor slurm needs a Slurm client (run it on the cluster's login node)");
  if (r.status !== 0) throw new UserError(`sbatch refused ${scriptFile}: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
  // --parsable prints "id" or "id;cluster".
  const id = r.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new UserError(`sbatch gave no job id for ${scriptFile}: ${r.stdout.trim()}`);
  return id;
}

/** Cancels jobs (whole arrays for an array's id); a job already gone is not an error. */
export function cancel(jobIds: string[]): void {
  if (!jobIds.length) return;
  const r = run('scancel', jobIds);
  if (!r.ok && !/Invalid job id|already completing or completed/i.test(r.err)) throw new UserError(`scancel ${jobIds.join(' ')} failed: ${r.err}`);
}

/** Key=Value fields of one line of `scontrol show job -o`. */
function fields(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of line.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && !m.has(part.slice(0, eq))) m.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return m;
}

/** Every job the controller still knows (pending, running, and finished within MinJobAge). */
function fromScontrol(): SchedulerJob[] {
  const r = run('scontrol', ['show', 'job', '-o']);
  if (!r.ok) return [];
  const jobs: SchedulerJob[] = [];
  for (const line of r.out.split('\n')) {
    if (!line.startsWith('JobId=')) continue;
    const f = fields(line);
    const arrayId = f.get('ArrayJobId');
    const task = f.get('ArrayTaskId');
    const id = arrayId && task !== undefined ? `${arrayId}_${task}` : f.get('JobId')!;
    const reason = f.get('Reason');
    jobs.push({
      jobId: id,
      state: f.get('JobState') ?? 'UNKNOWN',
      reason: reason && reason !== 'None' ? reason : undefined,
      exitCode: f.get('ExitCode'),
      restarts: Number(f.get('Restarts') ?? 0),
      source: 'scontrol',
    });
  }
  return jobs;
}

/** Jobs from accounting, for those the controller has forgotten; empty without slurmdbd. */
function fromSacct(ids: string[]): SchedulerJob[] {
  if (!ids.length) return [];
  const r = run('sacct', ['-X', '-n', '-P', '-j', ids.join(','), '-o', 'JobID,State,ExitCode,Reason']);
  if (!r.ok) return [];
  return r.out
    .split('\n')
    .filter((l) => l.includes('|'))
    .map((l) => {
      const [jobId, state, exitCode, reason] = l.split('|');
      return { jobId, state: state.split(' ')[0], exitCode, reason: reason && reason !== 'None' ? reason : undefined, source: 'sacct' as const };
    });
}

/**
 * The scheduler's view of these jobs (ids as submitted; an array's id stands for all its tasks),
 * by job id. Jobs the scheduler no longer knows are absent.
 */
export function queryJobs(ids: string[]): Map<string, SchedulerJob[]> {
  const wanted = new Set(ids);
  const byId = new Map<string, SchedulerJob[]>();
  const add = (j: SchedulerJob) => {
    const base = j.jobId.split('_')[0];
    if (!wanted.has(base)) return;
    const list = byId.get(base) ?? [];
    if (!list.some((x) => x.jobId === j.jobId)) list.push(j);
    byId.set(base, list);
  };
  fromScontrol().forEach(add);
  fromSacct(ids.filter((id) => !byId.has(id))).forEach(add);
  return byId;
}
