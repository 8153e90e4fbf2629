// The run folder, runs/<id>/: the source of truth that the worker writes and the CLI, the
// extension's tree and its panels read. Every file is declared here once, as a TypeBox schema
// that gives its type and its validator (check/parseJson in ./validate.ts); readers go through
// it and give a clear error naming the file when it is corrupt or of an unknown format version.
//
//   config.json        RunConfigFile    every value used, seed, backend and versions
//   status.json        RunStatusFile    state, step, updatedAt (rewritten atomically)
//   metrics.jsonl      MetricLine       one line per meta-step, append-only (a torn last line is ignored)
//   checkpoints/       step-NNNNNNNN.ckpt (binary, see ./checkpoint.ts), written to a temp name then renamed
//   samples/           step-NNNNNNNN.json (SampleSet) with PNGs beside it
//   results/           <name>.json (EvalResultFile, see ./evalResult.ts)
//
// Dependency-free (no tfjs, no node imports): the webview reads these types too.
import { Type, type Static } from '@sinclair/typebox';
import { ConfigSchema } from './config';

export const RUN_FORMAT_VERSION = 1;

/** A format version number: a whole number >= 1 (readers compare it with the version they read). */
export const FormatVersion = Type.Integer({ minimum: 1, description: 'Format version of the file.' });

export const RUN_STATES = ['running', 'done', 'failed', 'stopped'] as const;
export const RunStateSchema = Type.Union(RUN_STATES.map((s) => Type.Literal(s)));
export type RunState = Static<typeof RunStateSchema>;

/** A webgpu adapter, as a run records it (see core/webgpu.ts). */
export const GpuAdapterSchema = Type.Object({
  vendor: Type.String(),
  architecture: Type.String(),
  /** Device name, where the driver gives one. */
  device: Type.String(),
  /** Driver description, e.g. 'SwiftShader driver 5.0.0' or the NVIDIA driver version. */
  description: Type.String(),
  /** A CPU implementation of WebGPU (SwiftShader, lavapipe): correct, but slower than wasm. */
  software: Type.Boolean(),
});
export type GpuAdapter = Static<typeof GpuAdapterSchema>;

const VersionsSchema = Type.Object({ robustMeta: Type.String(), tfjs: Type.String(), node: Type.String() });

/** config.json of a run. */
export const RunConfigFileSchema = Type.Object({
  format: FormatVersion,
  id: Type.String(),
  createdAt: Type.String(),
  config: ConfigSchema,
  /** Backend used when the run started, e.g. 'wasm'. */
  backend: Type.String(),
  /** With wasm and SIMD: what ran the GEMM loops, 'native-avx512', 'native-avx2', 'wasm-simd-fma' or 'wasm-simd' (older runs lack it). */
  kernels: Type.Optional(Type.String()),
  /** webgpu only: the adapter it ran on (vendor, architecture, driver). */
  adapter: Type.Optional(GpuAdapterSchema),
  versions: VersionsSchema,
  /** The source dataset as loaded (config.data may be empty: the bundled default). */
  dataset: Type.Optional(Type.Object({ name: Type.String(), source: Type.String(), splitOrigin: Type.String(), trainClasses: Type.Array(Type.String()) })),
});
export type RunConfigFile = Static<typeof RunConfigFileSchema>;

/**
 * config.json as readers accept it: the config inside is any object (core/config.ts's
 * resolveConfig checks it like a user's config file and fills keys added since, the migration);
 * files of early versions may lack backend and versions.
 */
export const RunConfigFileOnDisk = Type.Composite([
  Type.Omit(RunConfigFileSchema, ['config', 'backend', 'versions']),
  Type.Object({
    config: Type.Record(Type.String(), Type.Unknown()),
    backend: Type.Optional(Type.String()),
    versions: Type.Optional(VersionsSchema),
  }),
]);

/** status.json of a run. */
export const RunStatusFileSchema = Type.Object({
  format: FormatVersion,
  state: RunStateSchema,
  /** Meta-steps completed. */
  step: Type.Integer({ minimum: 0 }),
  totalSteps: Type.Integer({ minimum: 0 }),
  updatedAt: Type.String(),
  /** Worker process id while running. */
  pid: Type.Optional(Type.Integer()),
  /** Step of the newest checkpoint, if any. */
  checkpointStep: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Why it failed or stopped, in words for the user. */
  message: Type.Optional(Type.String()),
  /** Seconds left, estimated from recent steps, while running. */
  etaSeconds: Type.Optional(Type.Number()),
  /** True while a running run is paused (job/pause). */
  paused: Type.Optional(Type.Boolean()),
});
export type RunStatusFile = Static<typeof RunStatusFileSchema>;

/** A figure of a step that a method may not have (null), or a run may predate (absent). */
const Figure = Type.Union([Type.Number(), Type.Null()]);
const OptionalFigure = Type.Optional(Figure);

/**
 * The figures of one meta-step (core/stepMetrics.ts), as the learner returns them and
 * metrics.jsonl stores them. null: the method has no such figure; absent: a run written before
 * the figure existed.
 */
export const StepMetricsSchema = Type.Object({
  loss: Type.Number(),
  /** Mean cross-entropy of the outer loss's supervised terms. */
  ceLoss: Figure,
  /** The adversarial-agreement loss between the two adversarial views (mavrl), or rocl's contrastive term. */
  agreementLoss: Figure,
  /** Query accuracy after the inner loop (clean query). */
  cleanAcc: Figure,
  robustAcc: Figure,
  /**
   * Query accuracy of the meta-parameters before the inner loop: with cleanAcc it shows whether
   * adaptation adapts (a zero head starts at chance by construction).
   */
  cleanAccBefore: OptionalFigure,
  /** Relative change of the encoder by the inner loop, |theta' - theta| / |theta|. */
  innerShift: OptionalFigure,
  /** mavrl: mean cosine of the two adapted encoders' features on the same query (1: one network). */
  encoderCosine: OptionalFigure,
});
export type StepMetrics = Static<typeof StepMetricsSchema>;

/** One line of metrics.jsonl, as the trainer writes it: the step's figures and its timing. */
export const MetricLineSchema = Type.Composite([
  StepMetricsSchema,
  Type.Object({
    step: Type.Integer({ minimum: 0 }),
    /** ISO time the step finished. */
    time: Type.String(),
    gradNorm: Type.Number(),
    msPerStep: Type.Number(),
  }),
]);
export type MetricLine = Static<typeof MetricLineSchema>;

/**
 * A line of metrics.jsonl as readers accept it: a whole-number step and a loss, null where a
 * step's figure was not finite (JSON has no NaN); figures a run's version did not write are absent.
 */
export const MetricLineOnDisk = Type.Object({
  step: Type.Integer(),
  loss: Figure,
  time: Type.Optional(Type.String()),
  gradNorm: OptionalFigure,
  msPerStep: OptionalFigure,
  ceLoss: OptionalFigure,
  agreementLoss: OptionalFigure,
  cleanAcc: OptionalFigure,
  robustAcc: OptionalFigure,
  cleanAccBefore: OptionalFigure,
  innerShift: OptionalFigure,
  encoderCosine: OptionalFigure,
});
export type MetricRow = Static<typeof MetricLineOnDisk>;

/** A query image, its perturbation and the adversarial image, with labels: one sample of a set. */
export const SampleImageSchema = Type.Object({
  /** File names, relative to the sample set's folder (in a view: webview URIs). */
  clean: Type.String(),
  perturbation: Type.String(),
  adversarial: Type.String(),
  trueLabel: Type.String({ default: '' }),
  cleanPred: Type.String({ default: '' }),
  adversarialPred: Type.String({ default: '' }),
});
export type SampleImage = Static<typeof SampleImageSchema>;

/**
 * samples/step-N.json: a few query images of a fixed episode, perturbed at that step. Readers fill
 * the defaults (checkWithDefaults) of what a hand-made or older set lacks.
 */
export const SampleSetSchema = Type.Object({
  format: Type.Integer({ minimum: 1, default: 1 }),
  step: Type.Integer({ minimum: 0, default: 0 }),
  eps: Type.Number({ default: 0 }),
  /** How much the perturbation image is amplified to be visible. */
  amplification: Type.Number({ default: 1 }),
  images: Type.Array(SampleImageSchema),
});
export type SampleSet = Static<typeof SampleSetSchema>;

/** Names of the step-N files of a run's sub-folders: checkpoints/step-N.ckpt, samples/step-N.json. */
export const STEP_FILE = {
  checkpoint: { re: /^step-(\d+)\.ckpt$/, ext: '.ckpt' },
  samples: { re: /^step-(\d+)\.json$/, ext: '.json' },
} as const;

/** step-00000042 (8 digits at least, so names sort by step). */
export function stepFileBase(step: number): string {
  return `step-${String(step).padStart(8, '0')}`;
}

/**
 * The run's lock file (runner/runLock.ts): which process trains the run. A file that does not
 * match is a damaged lock, which the lock's owner may replace.
 */
export const RunLockSchema = Type.Object({
  pid: Type.Integer({ minimum: 1 }),
  /** Start time of the process (clock ticks since boot, from /proc/<pid>/stat); null where unknown. */
  startTime: Type.Union([Type.String(), Type.Null()]),
  hostname: Type.String(),
  since: Type.String({ default: '' }),
});
export type RunLockInfo = Static<typeof RunLockSchema>;
