// The run folder, runs/<id>/: the source of truth that the worker writes and the CLI, the
// extension's tree and its panels read. Every file is declared here once; readers validate and
// give a clear error naming the file when it is corrupt or from an unknown format version.
//
//   config.json        RunConfigFile    every value used, seed, backend and versions
//   status.json        RunStatusFile    state, step, updatedAt (rewritten atomically)
//   metrics.jsonl      MetricLine       one line per meta-step, append-only (a torn last line is ignored)
//   checkpoints/       step-NNNNNNNN.ckpt (binary, see checkpoint.ts), written to a temp name then renamed
//   samples/           step-NNNNNNNN.json (SampleSet) with PNGs beside it
//   results/           <name>.json (EvalResultFile, see src/core/evalResult.ts)
import type { Config } from '../core/config';
import type { StepMetrics } from '../core/stepMetrics';
import type { GpuAdapter } from '../core/webgpu';

export const RUN_FORMAT_VERSION = 1;

export type RunState = 'running' | 'done' | 'failed' | 'stopped';

export interface RunConfigFile {
  format: number;
  id: string;
  createdAt: string;
  config: Config;
  /** Backend used when the run started, e.g. 'wasm'. */
  backend: string;
  /** With wasm and SIMD: the build of our SIMD kernels it ran, 'wasm-simd-fma' or 'wasm-simd' (older runs lack it). */
  kernels?: string;
  /** webgpu only: the adapter it ran on (vendor, architecture, driver). */
  adapter?: GpuAdapter;
  versions: { robustMeta: string; tfjs: string; node: string };
  /** The source dataset as loaded (config.data may be empty: the bundled default). */
  dataset?: { name: string; source: string; splitOrigin: string; trainClasses: string[] };
}

export interface RunStatusFile {
  format: number;
  state: RunState;
  /** Meta-steps completed. */
  step: number;
  totalSteps: number;
  updatedAt: string;
  /** Worker process id while running. */
  pid?: number;
  /** Step of the newest checkpoint, if any. */
  checkpointStep?: number;
  /** Why it failed or stopped, in words for the user. */
  message?: string;
  /** Seconds left, estimated from recent steps, while running. */
  etaSeconds?: number;
  /** True while a running run is paused (job/pause). */
  paused?: boolean;
}

export interface MetricLine extends StepMetrics {
  step: number;
  /** ISO time the step finished. */
  time: string;
  gradNorm: number;
  msPerStep: number;
}

/** A few query images, their perturbation and the adversarial image, with labels. */
export interface SampleImage {
  /** File names, relative to samples/. */
  clean: string;
  perturbation: string;
  adversarial: string;
  trueLabel: string;
  cleanPred: string;
  adversarialPred: string;
}

export interface SampleSet {
  format: number;
  step: number;
  eps: number;
  /** How much the perturbation image is amplified to be visible. */
  amplification: number;
  images: SampleImage[];
}
