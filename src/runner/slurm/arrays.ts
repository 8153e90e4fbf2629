// Runs an experiment's jobs on Slurm: the commands started in the same turn of the event loop
// (a phase: its training runs, or its evaluations) go out as one job array, and each command's
// promise settles when its task has ended, with the task's stdout, as a local child process's
// would. The experiment's own process stays here (the login node), waits, and goes on with the
// next phase, as it does locally.
import * as fs from 'fs';
import * as path from 'path';
import { UserError } from '../../core/errors';
import type { SlurmOptions } from '../../formats/slurm';
import { readExits, recordSubmission, slurmDir } from './records';
import { batchScript, BatchTask } from './script';
import { cancel, isFinished, queryJobs, submit } from './scheduler';

interface Queued {
  label: string;
  argv: string[];
  logFile: string;
  resolve(stdout: string): void;
  reject(e: Error): void;
}

interface Task extends Queued {
  taskId: string;
  stdout: string;
  /** Polls in which the scheduler said the task had ended but no exit record was there. */
  missing: number;
}

export interface SlurmArraysOptions {
  /** The experiment folder: slurm/ there gets the scripts and the job record. */
  folder: string;
  options: SlurmOptions;
  workDir: string;
  /** Name prefix of the jobs. */
  name: string;
  log: (line: string) => void;
  pollMs?: number;
}

export class SlurmArrays {
  private queue: Queued[] = [];
  private flushing = false;
  private readonly tasks = new Map<string, Task>();
  private readonly jobIds: string[] = [];
  private timer?: NodeJS.Timeout;
  private counter = 0;

  constructor(private readonly o: SlurmArraysOptions) {}

  /** Runs `argv` as a task of this turn's job array; resolves with its stdout when it exits 0. */
  run(label: string, argv: string[], logFile: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ label, argv, logFile, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Cancels every job this experiment submitted that may still run. */
  cancelAll(): void {
    cancel(this.jobIds);
  }

  private flush(): void {
    this.flushing = false;
    const queued = this.queue;
    this.queue = [];
    const byLabel = new Map<string, Queued[]>();
    for (const q of queued) byLabel.set(q.label, [...(byLabel.get(q.label) ?? []), q]);
    for (const [label, group] of byLabel) {
      try {
        this.submitArray(label, group);
      } catch (e) {
        for (const q of group) q.reject(e as Error);
      }
    }
    if (this.tasks.size && !this.timer) this.timer = setInterval(() => this.poll(), this.o.pollMs ?? 3000);
  }

  private submitArray(label: string, group: Queued[]): void {
    const dir = slurmDir(this.o.folder);
    fs.mkdirSync(dir, { recursive: true });
    const n = ++this.counter;
    const stdoutOf = (q: Queued) => q.logFile.replace(/(\.log)?$/, '.out');
    const tasks: BatchTask[] = group.map((q) => ({ argv: q.argv, exitDir: dir, stdout: stdoutOf(q), stderr: q.logFile, freshStdout: true }));
    const file = path.join(dir, `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${n}-${label}.sh`);
    fs.writeFileSync(
      file,
      batchScript({
        jobName: `${this.o.name}-${label}`,
        description: `robust-meta experiment ${this.o.folder}: ${label}, ${group.length} job(s); each line of the case below is one array task.`,
        options: this.o.options,
        output: path.join(dir, group.length > 1 ? `${path.basename(file, '.sh')}-%A_%a.log` : `${path.basename(file, '.sh')}-%j.log`),
        workDir: this.o.workDir,
        tasks,
        // An experiment's training is not resumed inside a job: a requeued task starts over.
        maxRequeues: 3,
      }),
      { mode: 0o755 },
    );
    const jobId = submit(file, { cwd: this.o.workDir });
    this.jobIds.push(jobId);
    recordSubmission(this.o.folder, 'experiment', { jobId, submittedAt: new Date().toISOString(), script: path.relative(this.o.folder, file), label: `${label} (${group.length})` });
    this.o.log(`submitted Slurm job ${jobId}${group.length > 1 ? ` (array of ${group.length})` : ''}: ${label}`);
    group.forEach((q, i) => {
      const taskId = group.length > 1 ? `${jobId}_${i}` : jobId;
      this.tasks.set(taskId, { ...q, taskId, stdout: stdoutOf(q), missing: 0 });
    });
  }

  private settle(t: Task, error?: string): void {
    this.tasks.delete(t.taskId);
    if (error) t.reject(new UserError(`${error}; see ${t.logFile}`));
    else t.resolve(fs.readFileSync(t.stdout, 'utf8'));
  }

  private poll(): void {
    const open = [...this.tasks.values()];
    const jobIds = [...new Set(open.map((t) => t.taskId.split('_')[0]))];
    const exits = new Map<string, ReturnType<typeof readExits>>();
    for (const id of jobIds) exits.set(id, readExits(this.o.folder, id));
    let states: ReturnType<typeof queryJobs> | undefined;
    for (const t of open) {
      const jobId = t.taskId.split('_')[0];
      const exit = exits.get(jobId)?.get(t.taskId);
      if (exit && !exit.requeued) {
        this.settle(t, exit.exitCode === 0 ? undefined : `Slurm task ${t.taskId} (${t.label}) exited with code ${exit.exitCode}`);
        continue;
      }
      states ??= queryJobs(jobIds);
      const known = states.get(jobId);
      const mine = known?.find((s) => s.jobId === t.taskId);
      // Pending array tasks are listed together ("12_[3-5]"): only a task's own ended state counts.
      const ended = mine ? isFinished(mine.state) : known === undefined;
      if (!ended) {
        t.missing = 0;
        continue;
      }
      // The exit record may land just after the scheduler's state changes: wait a few polls.
      if (++t.missing >= 3) {
        const how = mine ? `${mine.state.toLowerCase()}${mine.reason ? ` (${mine.reason})` : ''}${mine.exitCode ? `, exit ${mine.exitCode}` : ''}` : 'gone from the scheduler without an exit record';
        this.settle(t, `Slurm task ${t.taskId} (${t.label}) ended ${how}`);
      }
    }
    if (!this.tasks.size && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
