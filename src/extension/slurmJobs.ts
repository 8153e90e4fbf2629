// The Slurm jobs of the runs folder for the extension, as plain data (no vscode import, so it is
// tested like treeModel.ts): each run folder's current job with the scheduler's state and reason,
// a short label for the tree's description, and the actions Stop (scancel, the job checkpoints)
// and Resume (resubmit, the run resumes from its newest checkpoint). Both act only in a trusted
// workspace: a Restricted Mode window submits and cancels nothing.
//
// Wiring: the tree (experimentsTree.ts) calls slurmJobsByRun(runsFolder) on refresh and shows
// slurmRunView(job) on the run node (treeModel.ts: description, tooltip, and `.slurmActive` in
// its context value, so that Stop is offered); the Stop and Resume commands (commands/training.ts)
// call stopSlurmJob / resumeSlurmJob after asking (Stop), passing vscode.workspace.isTrusted.
import * as path from 'path';
import type { SlurmRunView } from './runFolder';
import { JobView, listJobs } from '../runner/slurm/jobs';
import { cancel } from '../runner/slurm/scheduler';
import { resubmitRun, TrainSubmission } from '../runner/slurm/train';

/** The current Slurm job of each run folder that was submitted with --executor slurm, by folder. */
export function slurmJobsByRun(runsFolder: string): Map<string, JobView> {
  const out = new Map<string, JobView>();
  for (const v of listJobs([runsFolder])) if (v.kind === 'train') out.set(path.resolve(v.folder), v);
  return out;
}

/** "slurm 1234 pending (Priority)", "slurm 1234 failed: exit 2:0". */
export function slurmDescription(v: JobView): string {
  const state = v.state.toLowerCase();
  const why =
    v.finished && v.state !== 'COMPLETED' && v.exitCode && v.exitCode !== '0:0' ? `: exit ${v.exitCode}` : v.reason && !v.finished ? ` (${v.reason})` : '';
  return `slurm ${v.jobId} ${state}${why}`;
}

/** A job as the tree's run node shows it (treeModel.ts): label, the reason or error, and whether Stop applies. */
export function slurmRunView(v: JobView): SlurmRunView {
  const detail = v.message ?? v.error ?? (v.reason && v.reason !== 'None' ? v.reason : undefined);
  return { label: slurmDescription(v), ...(detail ? { detail } : {}), active: !v.finished };
}

function requireTrust(trusted: boolean, what: string): void {
  if (!trusted) throw new Error(`${what} is not available in Restricted Mode: trust the workspace to submit or cancel Slurm jobs`);
}

/** Cancels the run's job (after the user said yes): robust-meta checkpoints before it ends. */
export function stopSlurmJob(v: JobView, trusted: boolean): void {
  requireTrust(trusted, 'Stopping a Slurm job');
  cancel([v.jobId]);
}

/** Submits the run again; it resumes from its newest checkpoint. */
export function resumeSlurmJob(runDir: string, trusted: boolean): TrainSubmission {
  requireTrust(trusted, 'Resubmitting a Slurm job');
  return resubmitRun(runDir, undefined, {});
}
