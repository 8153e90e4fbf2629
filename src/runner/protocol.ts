// Every message between a parent (the CLI or the extension host) and the worker process, declared
// once, by direction, with a version. The worker sends plain numbers and small images, never
// tensors. Names follow '<area>/<event>'.
import type { Config } from '../core/config';
import type { BenchResult } from './bench';
import type { MetricLine, RunState, SampleSet } from './runFormat';

export const PROTOCOL_VERSION = 1;

/** How a worker (and the CLI) exits: 128 + the signal number after SIGINT (130) or SIGTERM (143), as shells report it. */
export const EXIT_CODES = { ok: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

/** The exit code of a process that stopped cleanly because of `sig`. */
export function signalExitCode(sig: NodeJS.Signals): number {
  return sig === 'SIGTERM' ? EXIT_CODES.terminated : EXIT_CODES.interrupted;
}

/**
 * What a worker is asked to do. train: a fresh run into runDir (absent or empty) with `config`,
 * or with resume: true the run in runDir from its newest checkpoint, its config changed only by
 * `overrides` (steps, checkpointEvery, backend, workers).
 */
export type Job =
  | { kind: 'train'; runDir: string; config?: Config; resume: boolean; overrides?: Partial<Config>; cacheDir?: string }
  | { kind: 'eval'; args: EvalJobArgs }
  | { kind: 'bench'; args: Record<string, string | number | boolean> };

export interface EvalJobArgs {
  /** Checkpoint files or run folders (the newest checkpoint is taken). */
  checkpoints: string[];
  data: string;
  /** Where the result JSON goes; also where samples are written. */
  out: string;
  options: Record<string, string | number | boolean>;
}

/** Parent -> worker. */
export type ParentMessage =
  | { v: number; type: 'job/start'; job: Job }
  /** Stop after writing a checkpoint. */
  | { v: number; type: 'job/cancel' }
  | { v: number; type: 'job/pause' }
  | { v: number; type: 'job/resume' };

/** Worker -> parent. */
export type WorkerMessage =
  | { v: number; type: 'worker/ready'; backend: string; pid: number }
  | { v: number; type: 'run/started'; runDir: string; step: number; totalSteps: number }
  | { v: number; type: 'run/progress'; step: number; totalSteps: number; etaSeconds: number | null; msPerStep: number; label?: string }
  | { v: number; type: 'run/metric'; metric: MetricLine }
  | { v: number; type: 'run/samples'; samplesDir: string; samples: SampleSet }
  | { v: number; type: 'run/checkpoint'; step: number; path: string }
  | { v: number; type: 'run/result'; path: string }
  | { v: number; type: 'run/paused'; paused: boolean }
  | { v: number; type: 'bench/result'; result: BenchResult }
  | { v: number; type: 'log'; level: 'info' | 'warn'; message: string }
  /** userError: the message is for the user as it stands (no stack). */
  | { v: number; type: 'error'; message: string; userError: boolean; stack?: string }
  | { v: number; type: 'job/done'; state: RunState };

/** Every message type, by direction; `satisfies` keeps the lists complete and exact. */
export const WORKER_MESSAGE_TYPES = [
  'worker/ready', 'run/started', 'run/progress', 'run/metric', 'run/samples', 'run/checkpoint', 'run/result', 'run/paused', 'bench/result', 'log', 'error', 'job/done',
] as const satisfies readonly WorkerMessage['type'][];
export const PARENT_MESSAGE_TYPES = ['job/start', 'job/cancel', 'job/pause', 'job/resume'] as const satisfies readonly ParentMessage['type'][];

type Missing<All, Listed> = Exclude<All, Listed>;
// Compile-time check that no message type is left out of the lists above.
const workerTypesComplete: Missing<WorkerMessage['type'], (typeof WORKER_MESSAGE_TYPES)[number]> extends never ? true : never = true;
const parentTypesComplete: Missing<ParentMessage['type'], (typeof PARENT_MESSAGE_TYPES)[number]> extends never ? true : never = true;
void workerTypesComplete;
void parentTypesComplete;

function hasVersionAndType(m: unknown, types: readonly string[]): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const { v, type } = m as { v?: unknown; type?: unknown };
  return v === PROTOCOL_VERSION && typeof type === 'string' && types.includes(type);
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return hasVersionAndType(m, WORKER_MESSAGE_TYPES);
}

export function isParentMessage(m: unknown): m is ParentMessage {
  return hasVersionAndType(m, PARENT_MESSAGE_TYPES);
}

/** Messages without their version field, as senders write them. */
type Unversioned<T> = T extends { v: number } ? Omit<T, 'v'> : never;
export type WorkerMessageBody = Unversioned<WorkerMessage>;
export type ParentMessageBody = Unversioned<ParentMessage>;

export function workerMessage(m: WorkerMessageBody): WorkerMessage {
  return { v: PROTOCOL_VERSION, ...m } as WorkerMessage;
}

export function parentMessage(m: ParentMessageBody): ParentMessage {
  return { v: PROTOCOL_VERSION, ...m } as ParentMessage;
}
