// The one place the extension starts a worker: the runner's client (startWorker), adapted to what
// the sessions need. The worker runs under the extension host's own Node (Electron run as Node),
// with none of the host's flags, and its output goes to the log rather than the host's stdout.
import { startWorker } from '../runner/client';
import type { Job, WorkerMessage } from '../runner/protocol';
import type { RunState } from '../runner/runFormat';

export interface WorkerCallbacks {
  onMessage(msg: WorkerMessage): void;
  onOutput?(text: string): void;
}

export interface WorkerHandle {
  /** job/cancel: a training run stops after writing a checkpoint; an evaluation after its episode. */
  cancel(): void;
  /** Ends the process at once (after cancel() timed out); the last checkpoint stays. */
  kill(): void;
  /** How it ended; `message` says why when it failed or died. */
  readonly finished: Promise<{ state: RunState; crashed: boolean; message?: string }>;
}

export function launchWorker(job: Job, cb: WorkerCallbacks): WorkerHandle {
  const handle = startWorker(
    job,
    { message: cb.onMessage, stdout: cb.onOutput, stderr: cb.onOutput },
    { pipe: true, execArgv: [], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } },
  );
  return {
    cancel: () => handle.cancel(),
    kill: () => handle.kill(),
    finished: handle.done.then((e) => ({ state: e.state, crashed: e.crashed, message: e.message })),
  };
}
