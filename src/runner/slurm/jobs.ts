// This project's Slurm jobs and their states, for `robust-meta jobs` and the extension: the
// scheduler's state and reason while it knows the job, else the exit the batch script recorded.
// Progress is not the scheduler's business: it is read from the run folder.
import * as fs from 'fs';
import * as path from 'path';
import { readStatus, RUN_FILES } from '../runStore';
import { findJobFolders, readExits, slurmDir } from './records';
import { isFinished, queryJobs, SchedulerJob } from './scheduler';

export interface JobTaskView {
  jobId: string;
  state: string;
  reason?: string;
  exitCode?: string;
}

export interface JobView {
  folder: string;
  kind: 'train' | 'experiment';
  jobId: string;
  label?: string;
  submittedAt: string;
  script: string;
  /** Slurm's state (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, ...), or UNKNOWN. */
  state: string;
  reason?: string;
  /** "exit:signal" as Slurm writes it. */
  exitCode?: string;
  finished: boolean;
  /** Where the state came from: the scheduler, or the exit record the job wrote. */
  source: 'scontrol' | 'sacct' | 'exit record' | 'none';
  /** A job array's tasks. */
  tasks?: JobTaskView[];
  /** The run's own progress (run folders only). */
  run?: { state: string; step: number; totalSteps: number };
  /** A failed job's error, as robust-meta printed it in the job's output. */
  message?: string;
  /** Submissions before this one (a run resubmitted after a stop). */
  earlier: number;
  /** A folder whose record could not be read. */
  error?: string;
}

/** The order in which one task's state stands for a whole array. */
const PRECEDENCE = [
  'RUNNING',
  'COMPLETING',
  'CONFIGURING',
  'PENDING',
  'REQUEUED',
  'SUSPENDED',
  'FAILED',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'TIMEOUT',
  'PREEMPTED',
  'CANCELLED',
  'BOOT_FAIL',
  'DEADLINE',
  'COMPLETED',
];

function arrayState(tasks: JobTaskView[]): JobTaskView {
  const rank = (s: string) => {
    const i = PRECEDENCE.indexOf(s.split(' ')[0]);
    return i < 0 ? PRECEDENCE.length : i;
  };
  return [...tasks].sort((a, b) => rank(a.state) - rank(b.state))[0];
}

/** The last error robust-meta printed in a job's output ("robust-meta train: ..."). */
export function jobErrorMessage(logFile: string): string | undefined {
  let text: string;
  try {
    const fd = fs.openSync(logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, 16_384));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => /^robust-meta( \w+)?: /.test(l));
  return lines.length ? lines[lines.length - 1] : undefined;
}

/** The log of a train job (the batch script's --output). */
export function trainJobLog(runDir: string, jobId: string): string {
  return path.join(slurmDir(runDir), `job-${jobId}.log`);
}

function fromExits(folder: string, jobId: string): { tasks: JobTaskView[] } {
  const tasks: JobTaskView[] = [];
  for (const [id, e] of readExits(folder, jobId)) {
    tasks.push({
      jobId: id,
      state: e.requeued ? 'REQUEUED' : e.exitCode === 0 ? 'COMPLETED' : 'FAILED',
      reason: e.exitCode === 0 ? undefined : 'NonZeroExitCode',
      exitCode: `${e.exitCode}:0`,
    });
  }
  return { tasks };
}

/** Every job recorded under these folders (run folders, experiment folders, or their parents). */
export function listJobs(roots: string[]): JobView[] {
  const found = findJobFolders(roots);
  const wanted = found.flatMap((f) => (f.record ? (f.record.kind === 'train' ? f.record.submissions.slice(-1) : f.record.submissions) : []));
  const scheduler = wanted.length ? queryJobs(wanted.map((s) => s.jobId)) : new Map<string, SchedulerJob[]>();
  const views: JobView[] = [];
  for (const f of found) {
    if (!f.record) {
      views.push({
        folder: f.folder,
        kind: 'train',
        jobId: '?',
        submittedAt: '',
        script: '',
        state: 'UNKNOWN',
        finished: true,
        source: 'none',
        earlier: 0,
        error: f.error,
      });
      continue;
    }
    const subs = f.record.kind === 'train' ? f.record.submissions.slice(-1) : f.record.submissions;
    for (const s of subs) {
      const known = scheduler.get(s.jobId);
      let tasks: JobTaskView[];
      let source: JobView['source'];
      if (known?.length) {
        tasks = known.map((k) => ({ jobId: k.jobId, state: k.state, reason: k.reason, exitCode: k.exitCode }));
        source = known[0].source;
      } else {
        tasks = fromExits(f.folder, s.jobId).tasks;
        source = tasks.length ? 'exit record' : 'none';
      }
      const head = tasks.length
        ? arrayState(tasks)
        : {
            jobId: s.jobId,
            state: 'UNKNOWN',
            reason: 'the scheduler no longer knows this job and it recorded no exit (killed before it ran, or its node failed)',
          };
      const view: JobView = {
        folder: f.folder,
        kind: f.record.kind,
        jobId: s.jobId,
        label: s.label,
        submittedAt: s.submittedAt,
        script: path.join(f.folder, s.script),
        state: head.state,
        reason: head.reason,
        exitCode: head.exitCode,
        finished: tasks.length ? tasks.every((t) => isFinished(t.state)) : true,
        source,
        ...(tasks.length > 1 || tasks.some((t) => t.jobId.includes('_')) ? { tasks } : {}),
        earlier: f.record.kind === 'train' ? f.record.submissions.length - 1 : 0,
      };
      if (f.record.kind === 'train') {
        if (fs.existsSync(path.join(f.folder, RUN_FILES.status))) {
          try {
            const st = readStatus(f.folder);
            view.run = { state: st.state, step: st.step, totalSteps: st.totalSteps };
          } catch {
            // A damaged status.json is `robust-meta show`'s to report; the job state stands.
          }
        }
        if (view.finished && !['COMPLETED', 'CANCELLED'].includes(view.state.split(' ')[0])) view.message = jobErrorMessage(trainJobLog(f.folder, s.jobId));
      }
      views.push(view);
    }
  }
  return views;
}
