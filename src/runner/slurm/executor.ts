// The Slurm executor (runner/executor.ts's interface): each job (formats/worker.ts: Job) is written
// to a job file and run on a compute node as `robust-meta job <file> --json`, whose stdout is the
// worker's event stream; when the task ends, its events are read back into the same JobResult a
// local worker gives. Jobs started in the same turn of the event loop (an experiment's phase: its
// training runs, or its evaluations) go out as one job array. The caller (the experiment) stays
// here, on the login node, and waits, as it does locally.
import * as fs from 'fs';
import * as path from 'path';
import type { SlurmOptions } from '../../formats/slurm';
import { Executor, JobResult, JobResultCollector, JobRunOptions, RunningJob } from '../executor';
import { isWorkerMessage, Job } from '../protocol';
import { readExits, recordSubmission, slurmDir } from './records';
import { batchScript, BatchTask } from './script';
import { cancel, isFinished, queryJobs, submit } from './scheduler';
import { robustMetaArgv } from './train';

interface Queued {
  job: Job;
  opts: JobRunOptions;
  /** The job file, its events (the task's stdout) and its log (stderr). */
  jobFile: string;
  events: string;
  log: string;
  resolve(r: JobResult): void;
  /** Set once submitted: "12" or "12_3". */
  taskId?: string;
  /** Polls in which the scheduler said the task had ended but no exit record was there. */
  missing: number;
  /** Cancelled before it was submitted. */
  cancelled?: boolean;
}

export interface SlurmExecutorOptions {
  /** Folder whose slurm/ gets the scripts, job files and the job record (the experiment folder). */
  folder: string;
  options: SlurmOptions;
  /** Directory the jobs run in (relative paths in them resolve from there). */
  workDir: string;
  /** Name prefix of the jobs. */
  name: string;
  log: (line: string) => void;
  pollMs?: number;
}

export interface SlurmExecutor extends Executor {
  /** Cancels every job it submitted that may still run (Ctrl-C of the experiment). */
  cancelAll(): void;
}

export function slurmExecutor(o: SlurmExecutorOptions): SlurmExecutor {
  let queue: Queued[] = [];
  let flushing = false;
  const open = new Map<string, Queued>();
  const jobIds: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let counter = 0;
  const dir = slurmDir(o.folder);
  const tasksDir = path.join(dir, 'tasks');

  const finish = (q: Queued, exitCode: number | null, why?: string) => {
    if (q.taskId) open.delete(q.taskId);
    const collector = new JobResultCollector();
    let text = '';
    try {
      text = fs.readFileSync(q.events, 'utf8');
    } catch {
      // The task never ran (cancelled while pending): no events.
    }
    const events: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      let m: unknown;
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      if (!isWorkerMessage(m)) continue;
      collector.observe(m);
      q.opts.onEvent?.(m);
      events.push(line);
    }
    // As the local executor does: the job's events in its log, beside what it printed.
    if (q.opts.logFile) fs.appendFileSync(q.opts.logFile, events.join('\n') + (events.length ? '\n' : '') + (why ? `${why}\n` : ''));
    q.resolve(collector.result(exitCode, null, why));
  };

  const poll = () => {
    const list = [...open.values()];
    const ids = [...new Set(list.map((q) => q.taskId!.split('_')[0]))];
    const exits = new Map(ids.map((id) => [id, readExits(o.folder, id)]));
    let states: ReturnType<typeof queryJobs> | undefined;
    for (const q of list) {
      const id = q.taskId!;
      const jobId = id.split('_')[0];
      const exit = exits.get(jobId)?.get(id);
      if (exit && !exit.requeued) {
        finish(q, exit.exitCode, exit.exitCode === 0 ? undefined : `Slurm task ${id} exited with code ${exit.exitCode}`);
        continue;
      }
      states ??= queryJobs(ids);
      const known = states.get(jobId);
      const mine = known?.find((s) => s.jobId === id);
      // Pending array tasks are listed together ("12_[3-5]"): only a task's own ended state counts.
      const ended = mine ? isFinished(mine.state) : known === undefined;
      if (!ended) {
        q.missing = 0;
        continue;
      }
      // The exit record may land just after the scheduler's state changes: wait a few polls.
      if (++q.missing >= 3) {
        const how = mine
          ? `${mine.state.toLowerCase()}${mine.reason ? ` (${mine.reason})` : ''}${mine.exitCode ? `, exit ${mine.exitCode}` : ''}`
          : 'gone from the scheduler without an exit record';
        finish(q, null, `Slurm task ${id} ended ${how}`);
      }
    }
    if (!open.size && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  const submitArray = (kind: string, group: Queued[]) => {
    const n = ++counter;
    const base = `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${n}-${kind}`;
    const tasks: BatchTask[] = group.map((q) => ({
      argv: [...robustMetaArgv(), 'job', q.jobFile, '--json'],
      exitDir: dir,
      stdout: q.events,
      stderr: q.log,
      freshStdout: true,
    }));
    const file = path.join(dir, `${base}.sh`);
    fs.writeFileSync(
      file,
      batchScript({
        jobName: `${o.name}-${kind}`,
        description: `robust-meta: ${group.length} ${kind} job(s) of ${o.folder}; each case below is one array task, running a job file of slurm/tasks/.`,
        options: o.options,
        output: path.join(dir, group.length > 1 ? `${base}-%A_%a.log` : `${base}-%j.log`),
        workDir: o.workDir,
        tasks,
        // A requeued task runs its job file again from the start (a fresh run folder for training).
        maxRequeues: 3,
      }),
      { mode: 0o755 },
    );
    const jobId = submit(file, { cwd: o.workDir });
    jobIds.push(jobId);
    recordSubmission(o.folder, 'experiment', {
      jobId,
      submittedAt: new Date().toISOString(),
      script: path.relative(o.folder, file),
      label: `${kind} (${group.length})`,
    });
    o.log(`submitted Slurm job ${jobId}${group.length > 1 ? ` (array of ${group.length})` : ''}: ${kind}`);
    group.forEach((q, i) => {
      q.taskId = group.length > 1 ? `${jobId}_${i}` : jobId;
      open.set(q.taskId, q);
    });
  };

  const flush = () => {
    flushing = false;
    const queued = queue.filter((q) => !q.cancelled);
    queue = [];
    const byKind = new Map<string, Queued[]>();
    for (const q of queued) byKind.set(q.job.kind, [...(byKind.get(q.job.kind) ?? []), q]);
    for (const [kind, group] of byKind) {
      try {
        submitArray(kind, group);
      } catch (e) {
        for (const q of group) q.resolve(new JobResultCollector().result(null, null, (e as Error).message));
      }
    }
    if (open.size && !timer) timer = setInterval(poll, o.pollMs ?? 3000);
  };

  return {
    name: 'slurm',
    start(job: Job, opts: JobRunOptions = {}): RunningJob {
      fs.mkdirSync(tasksDir, { recursive: true });
      const stem = opts.logFile ? path.basename(opts.logFile).replace(/\.log$/, '') : `${job.kind}-${Date.now()}-${counter}`;
      let q!: Queued;
      const done = new Promise<JobResult>((resolve) => {
        q = {
          job,
          opts,
          jobFile: path.join(tasksDir, `${stem}.json`),
          events: path.join(tasksDir, `${stem}.events.jsonl`),
          log: opts.logFile ?? path.join(tasksDir, `${stem}.log`),
          resolve,
          missing: 0,
        };
      });
      fs.writeFileSync(q.jobFile, JSON.stringify(job, null, 2) + '\n');
      queue.push(q);
      if (!flushing) {
        flushing = true;
        setImmediate(flush);
      }
      const stop = () => {
        if (q.taskId) cancel([q.taskId]);
        else if (!q.cancelled) {
          q.cancelled = true;
          q.resolve(new JobResultCollector().result(null, null, 'cancelled before it was submitted'));
        }
      };
      return { done, cancel: stop, kill: stop };
    },
    cancelAll: () => cancel(jobIds),
  };
}
