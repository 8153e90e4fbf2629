// The worker: runs one job (train, eval or bench) and speaks the protocol of src/formats/worker.ts
// to its parent. The same code runs as a child process (started by client.ts with
// child_process.fork: the extension, the experiment's local executor) and as a thread of the CLI
// (worker_threads: `robust-meta train` and `job`, which must die with the CLI's own process).
// Errors a user can act on arrive as their message alone; anything else also carries its stack.
//
// Exit codes (EXIT_CODES): 0 the job finished or was cancelled cleanly, 1 it failed, 2 its config
// or data was at fault, 130 SIGINT, 143 SIGTERM. Cancel, SIGINT, SIGTERM and the parent going away
// all stop a training run after its checkpoint (status.json: stopped); a second signal ends the
// worker at once.
import { isMainThread, parentPort, workerData } from 'worker_threads';
import { isUserError } from '../core/errors';
import { runBench, runEvalBench } from './bench';
import { runEvalJob } from './evalJob';
import { EXIT_CODES, isParentMessage, Job, signalExitCode, WORKER_THREAD_TAG, WorkerMessageBody, workerMessage } from './protocol';
import { isSetupError, train, TrainController } from './train';
import { backendLabel, currentBackend } from '../core/backend';

/** Sends a message to the parent; `then` runs once it is out (or could not be sent). */
type Send = (m: WorkerMessageBody, then?: () => void) => void;

/** The backend in use with its adapter, for worker/ready. */
function readyBackend(): string {
  const b = currentBackend();
  return b ? backendLabel(b) : 'unknown';
}

/** One job in one worker: its messages in, its events out, its exit code at the end. */
class JobRunner {
  readonly controller = new TrainController();
  started = false;
  /** The signal that asked the job to stop, if one did. */
  signalled: NodeJS.Signals | undefined;
  private jobAbort: AbortController | undefined;
  private readySent = false;

  constructor(
    private readonly send: Send,
    private readonly exit: (code: number) => void,
  ) {}

  private ready(backend = readyBackend()): void {
    if (this.readySent) return;
    this.readySent = true;
    this.send({ type: 'worker/ready', backend, pid: process.pid });
  }

  stop(): void {
    this.controller.cancel();
    this.jobAbort?.abort(new Error('cancelled'));
  }

  async onMessage(raw: unknown): Promise<void> {
    if (!isParentMessage(raw)) {
      this.send({ type: 'log', level: 'warn', message: `worker ignored a message it does not understand: ${JSON.stringify(raw)?.slice(0, 200)}` });
      return;
    }
    switch (raw.type) {
      case 'job/start':
        if (this.started) {
          this.send({ type: 'log', level: 'warn', message: 'worker ignored a second job/start: one worker runs one job' });
          return;
        }
        this.started = true;
        await this.execute(raw.job);
        return;
      case 'job/cancel':
        this.stop();
        return;
      case 'job/pause':
        this.controller.pause();
        return;
      case 'job/resume':
        this.controller.resume();
        return;
    }
  }

  private async execute(job: Job): Promise<void> {
    let code: number = EXIT_CODES.ok;
    try {
      const done = await this.run(job);
      this.send(done);
      if (this.signalled) code = signalExitCode(this.signalled);
    } catch (e) {
      const err = e as Error;
      const user = isUserError(e);
      code = this.signalled ? signalExitCode(this.signalled) : user && isSetupError(e) ? EXIT_CODES.usage : EXIT_CODES.failure;
      this.send({
        type: 'error',
        message: user ? err.message : `unexpected error: ${err.message}`,
        userError: user,
        exitCode: code,
        ...(user ? {} : { stack: err.stack }),
      });
      if (!user) process.stderr.write(`${err.stack ?? err}\n`);
      this.send({ type: 'job/done', state: job.kind === 'train' && this.controller.cancelled ? 'stopped' : 'failed' });
    }
    this.send({ type: 'log', level: 'info', message: `worker exiting with code ${code}` }, () => this.exit(code));
  }

  private run(job: Job): Promise<WorkerMessageBody & { type: 'job/done' }> {
    switch (job.kind) {
      case 'train':
        return this.train(job);
      case 'eval':
        return this.evaluate(job);
      case 'bench':
        return this.bench(job);
      default:
        throw new Error(`unknown job kind ${JSON.stringify((job as { kind?: unknown }).kind)}`);
    }
  }

  private async train(job: Extract<Job, { kind: 'train' }>): Promise<WorkerMessageBody & { type: 'job/done' }> {
    const send = this.send;
    const out = await train({
      runDir: job.runDir,
      config: job.config,
      resume: job.resume,
      overrides: job.overrides,
      cacheDir: job.cacheDir,
      controller: this.controller,
      hooks: {
        onStarted: (i) => {
          this.ready(i.backend);
          send({ type: 'run/started', runDir: i.runDir, step: i.step, totalSteps: i.totalSteps, backend: i.backend, resumedFrom: i.resumedFrom ?? null });
        },
        onProgress: (p) =>
          send({ type: 'run/progress', step: p.step, totalSteps: p.totalSteps, etaSeconds: p.etaSeconds, msPerStep: p.msPerStep, loss: p.loss }),
        onMetric: (metric) => send({ type: 'run/metric', metric }),
        onCheckpoint: (step, path) => send({ type: 'run/checkpoint', step, path }),
        onSamples: (samplesDir, samples) => send({ type: 'run/samples', samplesDir, samples }),
        onLog: (level, message) => send({ type: 'log', level, message }),
        onPaused: (paused) => send({ type: 'run/paused', paused }),
      },
    });
    return {
      type: 'job/done',
      state: out.state,
      runDir: out.runDir,
      step: out.step,
      totalSteps: out.totalSteps,
      checkpoint: out.checkpoint ?? null,
      seconds: out.seconds,
    };
  }

  private async evaluate(job: Extract<Job, { kind: 'eval' }>): Promise<WorkerMessageBody & { type: 'job/done' }> {
    this.jobAbort = new AbortController();
    const out = await runEvalJob(job.args, {
      onProgress: (p) => {
        this.ready();
        this.send({
          type: 'run/progress',
          step: p.episodesDone,
          totalSteps: p.episodes,
          etaSeconds: p.etaSeconds,
          msPerStep: (p.elapsedSeconds * 1000) / p.episodesDone,
          label: 'episodes',
        });
      },
      onLog: (level, message) => this.send({ type: 'log', level, message }),
      signal: this.jobAbort.signal,
    });
    this.send({ type: 'run/result', path: out.path });
    return { type: 'job/done', state: 'done' };
  }

  private async bench(job: Extract<Job, { kind: 'bench' }>): Promise<WorkerMessageBody & { type: 'job/done' }> {
    const args = job.args as Record<string, never>;
    const result = job.eval
      ? await runEvalBench(
          args,
          job.eval.episodes,
          (done, total, etaSeconds) => {
            this.ready();
            this.send({ type: 'run/progress', step: done, totalSteps: total, etaSeconds, msPerStep: 0, label: 'episodes' });
          },
          job.eval.curve === true,
        )
      : await runBench(args, (done, total, ms) => {
          this.ready();
          this.send({
            type: 'run/progress',
            step: done,
            totalSteps: total,
            etaSeconds: ((total - done) * ms) / 1000,
            msPerStep: ms,
            label: done === 0 ? 'warm-up' : 'steps',
          });
        });
    this.send({ type: 'bench/result', result });
    return { type: 'job/done', state: 'done' };
  }
}

/**
 * Sends to the parent process if it is still there. The parent may go away at any moment (closed,
 * crashed, killed): a send then fails, synchronously or later with EPIPE, and without the
 * callback that failure would be an uncaught 'error' that kills the worker before its checkpoint.
 * The 'disconnect' handler in main() does the stopping.
 */
const sendToProcess: Send = (m, then) => {
  const done = () => then?.();
  if (!process.connected || !process.send) return done();
  try {
    process.send(workerMessage(m), undefined, {}, () => done());
  } catch {
    done();
  }
};

/** The worker as a child process: IPC messages, signals and the parent going away. */
export function main(): void {
  if (!process.send) {
    process.stderr.write(
      'robust-meta worker: this is the worker process of robust-meta; it is started by the CLI or the extension (child_process.fork), not by hand\n',
    );
    process.exit(EXIT_CODES.usage);
  }
  const runner = new JobRunner(sendToProcess, (code) => {
    if (process.connected) process.disconnect();
    process.exit(code);
  });
  process.on('message', (m) => {
    runner.onMessage(m).catch((e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(EXIT_CODES.failure);
    });
  });
  // The parent went away (closed, crashed): stop cleanly, keeping a checkpoint.
  process.on('disconnect', () => {
    if (runner.started) runner.stop();
    else process.exit(EXIT_CODES.ok);
  });
  // An IPC failure that slips past send()'s callback must not kill the worker before its checkpoint.
  process.on('error', () => {
    if (runner.started) runner.stop();
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!runner.started || runner.signalled) process.exit(signalExitCode(sig));
    runner.signalled = sig;
    runner.stop();
    // A second signal must end the worker at once, even in the middle of a long step, when no
    // JavaScript handler could run: without a listener the signal's default action does that.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** The worker as a thread: messages over its port; process.exit ends the thread alone. Signals stay with the parent thread. */
function threadMain(): void {
  const port = parentPort!;
  const runner = new JobRunner(
    (m, then) => {
      // As JSON, like the IPC channel of a worker process: the same message either way (NaN as null).
      port.postMessage(JSON.parse(JSON.stringify(workerMessage(m))));
      then?.();
    },
    (code) => process.exit(code),
  );
  port.on('message', (m) => {
    runner.onMessage(m).catch((e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(EXIT_CODES.failure);
    });
  });
}

// A thread's require.main is its own script too: the tag tells the two apart.
if (!isMainThread && (workerData as { tag?: string } | null)?.tag === WORKER_THREAD_TAG) threadMain();
else if (require.main === module) main();
