// The CLI's way to run a job: in a worker (a thread of this process by default, so that killing
// the CLI kills the job as it always did), its events passed on as they come, Ctrl-C and SIGTERM
// relayed as cancel. The first signal asks the job to stop (a training run after a checkpoint);
// a second one quits at once.
import { UserError } from '../core/errors';
import { Executor, JobResult, localExecutor } from '../runner/executor';
import { Job, WorkerMessage } from '../runner/protocol';
import { SetupError } from '../runner/train';

export interface CliJobOptions {
  /** Every event of the job, in order. */
  onEvent?(m: WorkerMessage): void;
  /** Called on the first signal, after cancel was sent. */
  onStop?(sig: NodeJS.Signals): void;
  /** Called on the second signal, just before the process exits with the signal's code. */
  onQuit?(sig: NodeJS.Signals): void;
  /** Where the job runs; default a worker thread of this process. */
  executor?: Executor;
  /** The job cannot stop half-way (bench): the first signal ends it and the command at once. */
  quitAtOnce?: boolean;
}

export interface CliJobOutcome {
  result: JobResult;
  /** The signal that asked the job to stop, if one did. */
  signalled?: NodeJS.Signals;
}

const threadExecutor = localExecutor({ thread: true });

export async function runCliJob(job: Job, o: CliJobOptions = {}): Promise<CliJobOutcome> {
  const running = (o.executor ?? threadExecutor).start(job, { onEvent: o.onEvent });
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled || o.quitAtOnce) {
      o.onQuit?.(sig);
      running.kill();
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    signalled = sig;
    running.cancel();
    o.onStop?.(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return { result: await running.done, signalled };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A failed job's error as the kind the CLI reports (exit code 2 for a setup error, no stack for a user error). */
export function jobError(r: JobResult): Error {
  const message = r.message ?? `the job ended ${r.state}`;
  if (r.userError && r.exitCode === 2) return new SetupError(message);
  if (r.userError) return new UserError(message);
  return new Error(message.replace(/^unexpected error: /, ''));
}

/**
 * The `--json` stream of a job's events, one JSON line each, as the worker sent them. Its end
 * (job/done, or the error with the exit code) is written by the command, last; worker/ready
 * (the pid of a worker the reader never sees) and what the worker says after its end stay out.
 */
export function jsonEventWriter(write: (line: string) => void): (m: WorkerMessage) => void {
  let ended = false;
  return (m) => {
    if (m.type === 'error' || m.type === 'job/done') ended = true;
    if (!ended && m.type !== 'worker/ready') write(JSON.stringify(m) + '\n');
  };
}

/** A worker event as a line of the `--json` stream. */
export function jsonLine(m: WorkerMessage): string {
  return JSON.stringify(m) + '\n';
}
