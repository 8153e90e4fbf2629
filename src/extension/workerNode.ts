// Which executable runs a worker. VS Code's extension host is Electron, which runs the worker as
// Node (ELECTRON_RUN_AS_NODE) well enough for the wasm and cpu backends; but Electron forbids the
// external array buffers Dawn's WebGPU binding hands out, and tfjs-node's addon is built for Node's
// ABI, not Electron's. Those backends need a real Node: robustMeta.nodePath, or `node` on PATH.
// Pure: the file system and PATH are passed in, so the decision has its own unit test.
import * as path from 'path';
import { NEEDS_REAL_NODE } from '../core/realNode';
import type { Job } from '../runner/protocol';

export interface RuntimeEnv {
  /** robustMeta.nodePath, trimmed; '' for "find node on PATH". */
  nodePathSetting: string;
  /** The extension host's executable (Electron). */
  electronPath: string;
  /** PATH as the extension host sees it. */
  pathVariable: string;
  platform: NodeJS.Platform;
  /** Whether a file exists and may be executed. */
  isExecutable(file: string): boolean;
}

export type WorkerRuntime = { ok: true; execPath: string; electron: boolean; why: string } | { ok: false; message: string };

/** The backend a job asks for; 'auto' where it leaves the choice to the worker. */
export function jobBackend(job: Job, runConfigBackend: (runDir: string) => string | undefined): string {
  if (job.kind === 'train') return job.overrides?.backend ?? job.config?.backend ?? (job.resume ? runConfigBackend(job.runDir) : undefined) ?? 'auto';
  const b = job.kind === 'eval' ? job.args.options.backend : job.args.backend;
  return typeof b === 'string' ? b : 'auto';
}

/** `node` on PATH, if any. */
export function findNodeOnPath(env: Pick<RuntimeEnv, 'pathVariable' | 'platform' | 'isExecutable'>): string | undefined {
  const exe = env.platform === 'win32' ? 'node.exe' : 'node';
  const sep = env.platform === 'win32' ? ';' : ':';
  for (const dir of env.pathVariable.split(sep)) {
    if (!dir) continue;
    const file = path.join(dir, exe);
    if (env.isExecutable(file)) return file;
  }
  return undefined;
}

/**
 * The executable for a worker on `backend`: a real Node where the backend needs one (an error
 * saying what to do when none is found); Electron for wasm and cpu, which need nothing installed.
 * 'auto' takes a real Node only when robustMeta.nodePath names one: a node found on PATH may be
 * too old for the worker, and auto must keep working where it did (under Electron it chooses
 * between wasm and cpu, and says why it passed over the others).
 */
export function workerRuntime(backend: string, env: RuntimeEnv): WorkerRuntime {
  const electron: WorkerRuntime = { ok: true, execPath: env.electronPath, electron: true, why: `the ${backend} backend runs in VS Code's own runtime` };
  const needs = NEEDS_REAL_NODE.includes(backend);
  if (!needs && (backend !== 'auto' || !env.nodePathSetting)) return electron;
  if (env.nodePathSetting) {
    if (!env.isExecutable(env.nodePathSetting)) {
      return {
        ok: false,
        message: `robustMeta.nodePath is '${env.nodePathSetting}', which is not an executable file: set it to a Node.js (>= 20.9) executable, or clear it to use node from PATH`,
      };
    }
    return { ok: true, execPath: env.nodePathSetting, electron: false, why: `robustMeta.nodePath, for the ${backend} backend` };
  }
  const node = findNodeOnPath(env);
  if (node) return { ok: true, execPath: node, electron: false, why: `node from PATH: the ${backend} backend cannot run in VS Code's Electron` };
  return {
    ok: false,
    message:
      `the ${backend} backend cannot run in VS Code's own runtime (Electron), and no Node.js was found on PATH: ` +
      `install Node.js >= 20.9, or set robustMeta.nodePath to its executable, or choose the wasm backend`,
  };
}
