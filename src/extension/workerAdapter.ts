// The one place the extension starts a worker: the runner's client (startWorker), adapted to what
// the sessions need. The worker runs under the extension host's own Node (Electron run as Node),
// or under a real Node where its backend needs one (workerNode.ts), with none of the host's flags;
// its output goes to the log rather than the host's stdout.
import * as fs from 'fs';
import { startWorker } from '../runner/client';
import type { Job, WorkerMessage } from '../runner/protocol';
import type { RunState } from '../runner/runFormat';
import { readRunConfig } from '../runner/runStore';
import { nodePathSetting } from './settings';
import { jobBackend, RuntimeEnv, workerRuntime } from './workerNode';

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

export function hostRuntimeEnv(): RuntimeEnv {
  return {
    nodePathSetting: nodePathSetting(),
    electronPath: process.execPath,
    pathVariable: process.env.PATH ?? '',
    platform: process.platform,
    isExecutable: (file) => {
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return fs.statSync(file).isFile();
      } catch {
        return false;
      }
    },
  };
}

/** How to fork a child with the runtime chosen for `backend`; throws what to do when there is none. */
export function forkOptionsFor(backend: string): { execPath: string; env: NodeJS.ProcessEnv; why: string } {
  const rt = workerRuntime(backend, hostRuntimeEnv());
  if (!rt.ok) throw new Error(rt.message);
  const env = { ...process.env };
  if (rt.electron) env.ELECTRON_RUN_AS_NODE = '1';
  else delete env.ELECTRON_RUN_AS_NODE;
  return { execPath: rt.execPath, env, why: rt.why };
}

function runConfigBackend(runDir: string): string | undefined {
  try {
    return readRunConfig(runDir).config.backend;
  } catch {
    return undefined;
  }
}

/** Starts the job's worker; throws, saying what to do, when its backend needs a Node that is not there. */
export function launchWorker(job: Job, cb: WorkerCallbacks): WorkerHandle {
  const { execPath, env, why } = forkOptionsFor(jobBackend(job, runConfigBackend));
  cb.onOutput?.(`worker runs on ${execPath} (${why})`);
  const handle = startWorker(job, { message: cb.onMessage, stdout: cb.onOutput, stderr: cb.onOutput }, { pipe: true, execPath, execArgv: [], env });
  return {
    cancel: () => handle.cancel(),
    kill: () => handle.kill(),
    finished: handle.done.then((e) => ({ state: e.state, crashed: e.crashed, message: e.message })),
  };
}
