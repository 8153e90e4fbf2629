// Every message between a parent (the CLI or the extension host) and the worker process, declared
// once, by direction, with a version. The worker sends plain numbers and small images, never
// tensors. Names follow '<area>/<event>'.
import type { Config } from '../core/config';
import type { MetricLine, RunState, SampleSet } from './runFormat';

export const PROTOCOL_VERSION = 1;

/** What a worker is asked to do. */
export type Job =
  | { kind: 'train'; runDir: string; config: Config; resume: boolean }
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
  | { v: number; type: 'log'; level: 'info' | 'warn'; message: string }
  /** userError: the message is for the user as it stands (no stack). */
  | { v: number; type: 'error'; message: string; userError: boolean }
  | { v: number; type: 'job/done'; state: RunState };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && (m as { v?: unknown }).v === PROTOCOL_VERSION && typeof (m as { type?: unknown }).type === 'string';
}

export function isParentMessage(m: unknown): m is ParentMessage {
  return isWorkerMessage(m);
}
