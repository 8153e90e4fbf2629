// The worker process: started by client.ts (child_process.fork) from the CLI or the extension,
// it runs one job (train, eval or bench) and speaks protocol.ts over the IPC channel. Errors a
// user can act on arrive as their message alone; anything else also carries its stack.
//
// Exit codes (EXIT_CODES): 0 the job finished or was cancelled cleanly, 1 it failed, 2 its config
// or data was at fault, 130 SIGINT. Cancel, SIGINT, SIGTERM and the parent going away all stop
// a training run after its checkpoint.
import { isUserError } from '../core/errors';
import { runBench } from './bench';
import { runEvalJob } from './evalJob';
import { EXIT_CODES, isParentMessage, Job, ParentMessage, WorkerMessageBody, workerMessage } from './protocol';
import { RunState } from './runFormat';
import { isSetupError, train, TrainController } from './train';
import { backendLabel, currentBackend } from '../core/backend';

/** The backend in use with its adapter, for worker/ready. */
function readyBackend(): string {
  const b = currentBackend();
  return b ? backendLabel(b) : 'unknown';
}

function send(m: WorkerMessageBody): void {
  if (process.connected) process.send!(workerMessage(m));
}

const controller = new TrainController();
let started = false;
let readySent = false;
/** The signal that asked the job to stop, if one did. */
let signalled: NodeJS.Signals | undefined;
let jobAbort: AbortController | undefined;

async function runJob(job: Job): Promise<RunState> {
  switch (job.kind) {
    case 'train': {
      const out = await train({
        runDir: job.runDir,
        config: job.config,
        resume: job.resume,
        overrides: job.overrides,
        cacheDir: job.cacheDir,
        controller,
        hooks: {
          onStarted: (i) => {
            send({ type: 'worker/ready', backend: i.backend, pid: process.pid });
            send({ type: 'run/started', runDir: i.runDir, step: i.step, totalSteps: i.totalSteps });
          },
          onProgress: (p) => send({ type: 'run/progress', step: p.step, totalSteps: p.totalSteps, etaSeconds: p.etaSeconds, msPerStep: p.msPerStep }),
          onMetric: (metric) => send({ type: 'run/metric', metric }),
          onCheckpoint: (step, path) => send({ type: 'run/checkpoint', step, path }),
          onSamples: (samplesDir, samples) => send({ type: 'run/samples', samplesDir, samples }),
          onLog: (level, message) => send({ type: 'log', level, message }),
          onPaused: (paused) => send({ type: 'run/paused', paused }),
        },
      });
      return out.state;
    }
    case 'eval': {
      jobAbort = new AbortController();
      const out = await runEvalJob(job.args, {
        onProgress: (p) => {
          if (!readySent) {
            readySent = true;
            send({ type: 'worker/ready', backend: readyBackend(), pid: process.pid });
          }
          send({ type: 'run/progress', step: p.episodesDone, totalSteps: p.episodes, etaSeconds: p.etaSeconds, msPerStep: (p.elapsedSeconds * 1000) / p.episodesDone, label: 'episodes' });
        },
        onLog: (level, message) => send({ type: 'log', level, message }),
        signal: jobAbort.signal,
      });
      send({ type: 'run/result', path: out.path });
      return 'done';
    }
    case 'bench': {
      const result = await runBench(job.args as Record<string, never>, (done, total, ms) => {
        if (done === 0) send({ type: 'worker/ready', backend: readyBackend(), pid: process.pid });
        send({ type: 'run/progress', step: done, totalSteps: total, etaSeconds: null, msPerStep: ms, label: done === 0 ? 'warm-up' : 'steps' });
      });
      send({ type: 'bench/result', result });
      return 'done';
    }
    default:
      throw new Error(`unknown job kind ${JSON.stringify((job as { kind?: unknown }).kind)}`);
  }
}

function stop(): void {
  controller.cancel();
  jobAbort?.abort(new Error('cancelled'));
}

async function onMessage(raw: unknown): Promise<void> {
  if (!isParentMessage(raw)) {
    send({ type: 'log', level: 'warn', message: `worker ignored a message it does not understand: ${JSON.stringify(raw).slice(0, 200)}` });
    return;
  }
  const m = raw as ParentMessage;
  switch (m.type) {
    case 'job/start':
      if (started) {
        send({ type: 'log', level: 'warn', message: 'worker ignored a second job/start: one worker runs one job' });
        return;
      }
      started = true;
      await execute(m.job);
      return;
    case 'job/cancel':
      stop();
      return;
    case 'job/pause':
      controller.pause();
      return;
    case 'job/resume':
      controller.resume();
      return;
  }
}

async function execute(job: Job): Promise<void> {
  let code: number = EXIT_CODES.ok;
  try {
    const state = await runJob(job);
    send({ type: 'job/done', state });
    if (signalled) code = signalCode(signalled);
  } catch (e) {
    const err = e as Error;
    const user = isUserError(e);
    send({ type: 'error', message: user ? err.message : `unexpected error: ${err.message}`, userError: user, ...(user ? {} : { stack: err.stack }) });
    if (!user) process.stderr.write(`${err.stack ?? err}\n`);
    send({ type: 'job/done', state: job.kind === 'train' && controller.cancelled ? 'stopped' : 'failed' });
    code = signalled ? signalCode(signalled) : user ? (isSetupError(e) ? EXIT_CODES.usage : EXIT_CODES.failure) : EXIT_CODES.failure;
  }
  exitAfterFlush(code);
}

/** 130 after SIGINT, 143 after SIGTERM: 128 + the signal number, as shells report it. */
function signalCode(sig: NodeJS.Signals): number {
  return sig === 'SIGINT' ? EXIT_CODES.interrupted : 128 + 15;
}

/** Exits once queued IPC messages are out (process.send is asynchronous). */
function exitAfterFlush(code: number): void {
  if (!process.connected) process.exit(code);
  process.send!(workerMessage({ type: 'log', level: 'info', message: `worker exiting with code ${code}` }), () => {
    process.disconnect();
    process.exit(code);
  });
}

export function main(): void {
  if (!process.send) {
    process.stderr.write('robust-meta worker: this is the worker process of robust-meta; it is started by the CLI or the extension (child_process.fork), not by hand\n');
    process.exit(EXIT_CODES.usage);
  }
  process.on('message', (m) => {
    onMessage(m).catch((e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(EXIT_CODES.failure);
    });
  });
  // The parent went away (closed, crashed): stop cleanly, keeping a checkpoint.
  process.on('disconnect', () => {
    if (started) stop();
    else process.exit(EXIT_CODES.ok);
  });
  const onSignal = (sig: NodeJS.Signals) => {
    // A second signal, or one before any job: leave now.
    if (signalled || !started) process.exit(signalCode(sig));
    signalled = sig;
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (require.main === module) main();
