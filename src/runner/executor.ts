// Where a job runs. A job is a description that survives JSON (formats/worker.ts: Job), its
// progress is the worker's events, and its end is a JobResult folded from those events and the
// exit code. `local` runs it in a worker process on this machine; another executor (a cluster's
// scheduler) may run the same job elsewhere as `robust-meta job <job.json> --json`, whose stdout
// is the same event stream, and write the same run folder.
import * as fs from 'fs';
import { startWorker, StartWorkerOptions } from './client';
import { Job, WorkerEvent, WorkerMessage } from './protocol';
import { RunState } from './runFormat';

export interface JobResult {
  /** How the job ended: job/done's state, or 'failed' when the worker died without one. */
  state: RunState;
  /** The worker's exit code (EXIT_CODES), null when it was killed by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The worker ended without reporting job/done (killed, crashed, out of memory). */
  crashed: boolean;
  /** The job's error, or what happened to its worker, for the user. */
  message?: string;
  /** The message is a UserError's (no stack needed). */
  userError?: boolean;
  /** A training job's end: where it stopped and its newest checkpoint. */
  done?: WorkerEvent<'job/done'>;
  /** An eval job's result file. */
  resultPath?: string;
  /** A bench job's result. */
  bench?: WorkerEvent<'bench/result'>['result'];
}

export interface JobRunOptions {
  /** Every event of the job, in order. */
  onEvent?(m: WorkerMessage): void;
  /** Appends the job's events (as JSON lines) and its worker's output to this file. */
  logFile?: string;
}

export interface RunningJob {
  readonly done: Promise<JobResult>;
  /** Stop after the next checkpoint (train) or episode (eval). */
  cancel(): void;
  /** End the job now; a training run keeps its last checkpoint. */
  kill(): void;
}

export interface Executor {
  readonly name: string;
  start(job: Job, opts?: JobRunOptions): RunningJob;
}

/** Folds a job's events into its result; an executor feeds it every event, then the exit. */
export class JobResultCollector {
  private doneEvent?: WorkerEvent<'job/done'>;
  private error?: WorkerEvent<'error'>;
  private resultPath?: string;
  private bench?: JobResult['bench'];

  observe(m: WorkerMessage): void {
    if (m.type === 'job/done') this.doneEvent = m;
    else if (m.type === 'error') this.error = m;
    else if (m.type === 'run/result') this.resultPath = m.path;
    else if (m.type === 'bench/result') this.bench = m.result;
  }

  /** The result once the worker has exited; `what` says how a worker that reported no end went. */
  result(exitCode: number | null, signal: NodeJS.Signals | null, what?: string): JobResult {
    const crashed = this.doneEvent === undefined;
    const message = crashed && what ? what : this.error?.message;
    return {
      state: this.doneEvent?.state ?? 'failed',
      exitCode,
      signal,
      crashed,
      message,
      userError: crashed ? false : this.error?.userError,
      done: this.doneEvent,
      resultPath: this.resultPath,
      bench: this.bench,
    };
  }
}

/** Runs each job in a worker process on this machine (client.ts). */
export function localExecutor(workerOptions: StartWorkerOptions = {}): Executor {
  return {
    name: 'local',
    start(job, opts = {}) {
      const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
      const collector = new JobResultCollector();
      const handle = startWorker(
        job,
        {
          message: (m) => {
            collector.observe(m);
            log?.write(JSON.stringify(m) + '\n');
            opts.onEvent?.(m);
          },
          stdout: (t) => log?.write(t),
          stderr: (t) => log?.write(t),
        },
        { ...workerOptions, pipe: log !== undefined || workerOptions.pipe },
      );
      const done = handle.done.then(
        (exit) =>
          new Promise<JobResult>((resolve) => {
            const result = collector.result(exit.code, exit.signal, exit.message);
            if (log) log.end(() => resolve(result));
            else resolve(result);
          }),
      );
      return { done, cancel: () => handle.cancel(), kill: () => handle.kill() };
    },
  };
}
