// The parent side of the worker protocol, for the extension, the CLI and the local executor:
// start a worker for one job, receive its messages as typed events, cancel, pause or resume it, and learn how it ended.
// A worker that dies without saying it is done (killed, crashed, out of memory) is reported with
// its exit code or signal, and its training run is marked failed in status.json; its checkpoints
// stay, so the run can be resumed.
import { ChildProcess, fork } from 'child_process';
import * as path from 'path';
import { Config } from '../core/config';
import { Worker } from 'worker_threads';
import { EXIT_CODES, isWorkerMessage, Job, ParentMessage, ParentMessageBody, parentMessage, WORKER_THREAD_TAG, WorkerMessage } from './protocol';
import { RunState } from './runFormat';
import { allocateRunDir, listCheckpointFiles, readMetrics, readStatus, writeStatus } from './runStore';

export type WorkerMessageHandlers = { [T in WorkerMessage['type']]?: (m: Extract<WorkerMessage, { type: T }>) => void };

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The state the worker reported with job/done; 'failed' when it died without one. */
  state: RunState;
  /** True when the process ended without reporting job/done. */
  crashed: boolean;
  /** The worker's error message, or what happened to the process, for the user. */
  message?: string;
  /** The message is a UserError's (no stack needed). */
  userError?: boolean;
}

export interface WorkerHandlers extends WorkerMessageHandlers {
  /** Every valid message, before its typed handler. */
  message?: (m: WorkerMessage) => void;
  /** Output of the worker when started with `pipe: true`. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  exit?: (e: WorkerExit) => void;
}

export interface StartWorkerOptions {
  /** The worker script; default worker.js beside this file (pass it when bundled). */
  workerPath?: string;
  /** Node executable, e.g. the extension host's (default process.execPath). */
  execPath?: string;
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Pipe the worker's stdout and stderr to the handlers instead of inheriting them (process only). */
  pipe?: boolean;
  /** Run the worker in a thread of this process instead of a child process (execPath, execArgv, env, cwd and pipe do not apply). */
  thread?: boolean;
}

export interface WorkerHandle {
  readonly pid: number | undefined;
  readonly job: Job;
  /** Resolves when the process has exited. */
  readonly done: Promise<WorkerExit>;
  /** Stop after the next checkpoint (train) or episode (eval). */
  cancel(): void;
  pause(): void;
  resume(): void;
  /** Ends the process now (default SIGKILL); a training run keeps its last checkpoint. */
  kill(signal?: NodeJS.Signals): void;
}

export function defaultWorkerPath(): string {
  return path.join(__dirname, 'worker.js');
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `was killed by ${signal}`;
  if (code === EXIT_CODES.interrupted) return 'was interrupted (exit code 130)';
  return `exited with code ${code}`;
}

/** Marks a training run failed after its worker died, unless it already says how it ended. */
function markRunFailed(runDir: string, message: string): void {
  try {
    const s = readStatus(runDir);
    if (s.state !== 'running') return;
    // status.json is rewritten at most once a second; the metrics have every finished step.
    let step = s.step;
    try {
      const m = readMetrics(runDir);
      if (m.length) step = Math.max(step, m[m.length - 1].step);
    } catch {
      // Keep the status's step.
    }
    // The checkpoints folder, not status.json, knows of a checkpoint written just before the end.
    const files = listCheckpointFiles(runDir);
    const checkpointStep = files.length ? files[files.length - 1].step : s.checkpointStep;
    const at = checkpointStep !== undefined ? `the last checkpoint (step ${checkpointStep}) is kept` : 'no checkpoint had been written';
    writeStatus(runDir, {
      state: 'failed',
      step,
      totalSteps: s.totalSteps,
      checkpointStep,
      message: `${message} at step ${step}; ${at}: resume with robust-meta train --resume ${runDir}`,
    });
  } catch {
    // No readable status: the run never started, and there is nothing to mark.
  }
}

/** The two ends a worker can run at: a child process or a thread of this process. */
interface Channel {
  readonly pid: number | undefined;
  post(m: ParentMessage): void;
  onMessage(h: (m: unknown) => void): void;
  onExit(h: (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => void): void;
  kill(signal: NodeJS.Signals): void;
}

function processChannel(opts: StartWorkerOptions, handlers: WorkerHandlers): Channel {
  const child: ChildProcess = fork(opts.workerPath ?? defaultWorkerPath(), [], {
    execPath: opts.execPath,
    execArgv: opts.execArgv ?? [],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: opts.pipe ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (opts.pipe) {
    child.stdout?.setEncoding('utf8').on('data', (t: string) => handlers.stdout?.(t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => handlers.stderr?.(t));
  }
  let spawnError: Error | undefined;
  child.on('error', (e) => {
    spawnError = e;
  });
  return {
    pid: child.pid,
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (h) => child.on('message', h),
    onExit: (h) => child.on('exit', (code, signal) => h(code, signal, spawnError)),
    kill: (signal) => child.kill(signal),
  };
}

/**
 * A worker thread dies with this process, as a loop run in the process itself would: the CLI runs
 * its jobs this way, so that killing the CLI kills the job (and a resume finds the run as a kill
 * left it). Its messages are the same; signals stay with this thread, which relays them as cancel.
 */
function threadChannel(opts: StartWorkerOptions): Channel {
  const worker = new Worker(opts.workerPath ?? defaultWorkerPath(), { workerData: { tag: WORKER_THREAD_TAG } });
  let terminated: NodeJS.Signals | null = null;
  return {
    pid: process.pid,
    post: (m) => worker.postMessage(m),
    onMessage: (h) => worker.on('message', h),
    onExit: (h) => {
      let error: Error | undefined;
      worker.on('error', (e) => {
        error = e;
      });
      worker.on('exit', (code) => h(terminated ? null : code, terminated, error));
    },
    kill: (signal) => {
      terminated = signal;
      void worker.terminate();
    },
  };
}

/** Starts a worker (a child process, or a thread with opts.thread), starts `job` in it and routes its messages to `handlers`. */
export function startWorker(job: Job, handlers: WorkerHandlers = {}, opts: StartWorkerOptions = {}): WorkerHandle {
  const channel = opts.thread ? threadChannel(opts) : processChannel(opts, handlers);
  let finalState: RunState | undefined;
  let error: { message: string; userError: boolean } | undefined;
  channel.onMessage((raw) => {
    if (!isWorkerMessage(raw)) return;
    if (raw.type === 'job/done') finalState = raw.state;
    if (raw.type === 'error') error = { message: raw.message, userError: raw.userError };
    handlers.message?.(raw);
    const h = handlers[raw.type] as ((m: WorkerMessage) => void) | undefined;
    h?.(raw);
  });
  const done = new Promise<WorkerExit>((resolve) => {
    channel.onExit((code, signal, spawnError) => {
      const crashed = finalState === undefined;
      let message = error?.message;
      if (crashed) {
        const what = `the worker ${opts.thread ? 'thread' : 'process'} (pid ${channel.pid}) ${describeExit(code, signal)}${spawnError ? ` (${spawnError.message})` : ''}`;
        message = message ? `${message}; ${what}` : what;
        if (job.kind === 'train') markRunFailed(job.runDir, what);
      }
      const exit: WorkerExit = { code, signal, state: finalState ?? 'failed', crashed, message, userError: crashed ? false : error?.userError };
      handlers.exit?.(exit);
      resolve(exit);
    });
  });
  const post = (m: ParentMessageBody) => channel.post(parentMessage(m));
  post({ type: 'job/start', job });
  return {
    pid: channel.pid,
    job,
    done,
    cancel: () => post({ type: 'job/cancel' }),
    pause: () => post({ type: 'job/pause' }),
    resume: () => post({ type: 'job/resume' }),
    kill: (signal: NodeJS.Signals = 'SIGKILL') => channel.kill(signal),
  };
}

/** A fresh training run: allocates runs/<id>/ under runsDir and starts its worker. */
export function startTraining(
  runsDir: string,
  config: Config,
  handlers: WorkerHandlers = {},
  opts: StartWorkerOptions = {},
): { runDir: string; id: string; handle: WorkerHandle } {
  const { id, dir } = allocateRunDir(runsDir, config.method);
  return { runDir: dir, id, handle: startWorker({ kind: 'train', runDir: dir, config, resume: false }, handlers, opts) };
}

/** Resumes a training run in its own worker. */
export function resumeTraining(runDir: string, overrides: Partial<Config> = {}, handlers: WorkerHandlers = {}, opts: StartWorkerOptions = {}): WorkerHandle {
  return startWorker({ kind: 'train', runDir: path.resolve(runDir), resume: true, overrides }, handlers, opts);
}
