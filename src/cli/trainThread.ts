// `robust-meta train` runs the same train() as the worker, but in a thread of its own: one step
// can hold a thread for seconds (tfjs computes synchronously), and a signal handler only runs when
// its thread is free. With the loop here, the CLI's main thread answers Ctrl-C at once: the first
// asks the loop to stop after a checkpoint, the second quits without waiting for the step.
// This file is both sides: startTrainThread() for the CLI, and the thread's entry below.
import { isMainThread, parentPort, Worker, workerData } from 'worker_threads';
import { isUserError, UserError } from '../core/errors';
import { isSetupError, SetupError, train, TrainController, TrainHooks, TrainOptions, TrainOutcome } from '../runner/train';

/** What the thread is given: TrainOptions without the controller and hooks, which stay in the CLI. */
export type ThreadTrainOptions = Pick<TrainOptions, 'runDir' | 'config' | 'resume' | 'overrides' | 'cacheDir'>;

/** The hooks relayed from the thread (the CLI uses no others; samples carry whole PNGs). */
const RELAYED = ['onStarted', 'onProgress', 'onMetric', 'onCheckpoint', 'onLog'] as const;
type RelayedHook = (typeof RELAYED)[number];

type FromThread =
  | { type: 'hook'; name: RelayedHook; args: unknown[] }
  | { type: 'done'; outcome: TrainOutcome }
  | { type: 'error'; message: string; user: boolean; setup: boolean; stack?: string };

const THREAD_TAG = 'robust-meta-train-thread';

export interface TrainThread {
  readonly outcome: Promise<TrainOutcome>;
  /** Stop after the current step and a checkpoint (the loop's TrainController.cancel). */
  cancel(): void;
}

/** Starts train() in a thread; hooks are called on this thread, errors keep their kind (UserError, SetupError). */
export function startTrainThread(opts: ThreadTrainOptions, hooks: TrainHooks): TrainThread {
  const worker = new Worker(__filename, { workerData: { tag: THREAD_TAG, opts } });
  const outcome = new Promise<TrainOutcome>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: FromThread) => {
      if (m.type === 'hook') (hooks[m.name] as ((...a: unknown[]) => void) | undefined)?.(...m.args);
      else if (m.type === 'done') {
        settled = true;
        resolve(m.outcome);
      } else {
        settled = true;
        const e = m.setup ? new SetupError(m.message) : m.user ? new UserError(m.message) : new Error(m.message);
        if (!m.user && m.stack) e.stack = m.stack;
        reject(e);
      }
    });
    worker.on('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`the training thread ended (code ${code}) without a result`));
    });
  });
  return { outcome, cancel: () => worker.postMessage('cancel') };
}

async function runThread(opts: ThreadTrainOptions): Promise<void> {
  const port = parentPort!;
  const controller = new TrainController();
  port.on('message', (m) => {
    if (m === 'cancel') controller.cancel();
  });
  const hooks: TrainHooks = {};
  for (const name of RELAYED) (hooks as Record<string, unknown>)[name] = (...args: unknown[]) => port.postMessage({ type: 'hook', name, args } satisfies FromThread);
  try {
    const outcome = await train({ ...opts, controller, hooks });
    port.postMessage({ type: 'done', outcome } satisfies FromThread);
  } catch (e) {
    const err = e as Error;
    port.postMessage({ type: 'error', message: err?.message ?? String(e), user: isUserError(e), setup: isSetupError(e), stack: err?.stack } satisfies FromThread);
  } finally {
    port.close();
  }
}

if (!isMainThread && (workerData as { tag?: string } | null)?.tag === THREAD_TAG) {
  void runThread((workerData as { opts: ThreadTrainOptions }).opts);
}
