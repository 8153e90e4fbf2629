// The worker process: started by client.ts (child_process.fork) from the CLI or the extension,
// it runs one job (train, eval or bench) and speaks protocol.ts over the IPC channel. Errors a
// user can act on arrive as their message alone; anything else also carries its stack.
//
// Exit codes (EXIT_CODES): 0 the job finished or was cancelled cleanly, 1 it failed, 2 its config
// or data was at fault, 130 SIGINT, 143 SIGTERM. Cancel, SIGINT, SIGTERM and the parent going away
// all stop a training run after its checkpoint (status.json: stopped); a second signal ends the
// worker at once.
import { isUserError } from '../core/errors';
import { runBench } from './bench';
import { runEvalJob } from './evalJob';
import { EXIT_CODES, isParentMessage, Job, ParentMessage, signalExitCode, WorkerMessageBody, workerMessage } from './protocol';
import { RunState } from './runFormat';
import { isSetupError, train, TrainController } from './train';
import { backendLabel, currentBackend } from '../core/backend';

/** The backend in use with its adapter, for worker/ready. */
function readyBackend(): string {
  const b = currentBackend();
  return b ? backendLabel(b) : 'unknown';
}

/**
 * Sends to the parent if it is still there. The parent may go away at any moment (closed, crashed,
 * killed): a send then fails, synchronously or later with EPIPE, and without the callback that
 * failure would be an uncaught 'error' that kills the worker before its checkpoint. The
 * 'disconnect' handler in main() does the stopping.
 */
function send(m: WorkerMessageBody, then?: () => void): void {
  const done = () => then?.();
  if (!process.connected || !process.send) return done();
  try {
    process.send(workerMessage(m), undefined, {}, () => done());
  } catch {
    done();
  }
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
    if (signalled) code = signalExitCode(signalled);
  } catch (e) {
    const err = e as Error;
    const user = isUserError(e);
    send({ type: 'error', message: user ? err.message : `unexpected error: ${err.message}`, userError: user, ...(user ? {} : { stack: err.stack }) });
    if (!user) process.stderr.write(`${err.stack ?? err}\n`);
    send({ type: 'job/done', state: job.kind === 'train' && controller.cancelled ? 'stopped' : 'failed' });
    code = signalled ? signalExitCode(signalled) : user ? (isSetupError(e) ? EXIT_CODES.usage : EXIT_CODES.failure) : EXIT_CODES.failure;
  }
  exitAfterFlush(code);
}

/** Exits once queued IPC messages are out (process.send is asynchronous), or at once without a parent. */
function exitAfterFlush(code: number): void {
  send({ type: 'log', level: 'info', message: `worker exiting with code ${code}` }, () => {
    if (process.connected) process.disconnect();
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
  // An IPC failure that slips past send()'s callback must not kill the worker before its checkpoint.
  process.on('error', () => {
    if (started) stop();
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!started || signalled) process.exit(signalExitCode(sig));
    signalled = sig;
    stop();
    // A second signal must end the worker at once, even in the middle of a long step, when no
    // JavaScript handler could run: without a listener the signal's default action does that.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

if (require.main === module) main();
