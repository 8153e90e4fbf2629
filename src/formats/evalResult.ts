// The evaluation result, as written to results/<name>.json and read by the CLI table, the HTML
// report, the experiment and the extension's result panel. Versioned: bump EVAL_RESULT_FORMAT on
// any change that breaks a reader, and teach readers the old one or make them say it is too old.
// Dependency-free (no tfjs, no node imports).
import { Type, type Static } from '@sinclair/typebox';
import { FormatVersion, SampleImageSchema } from './run';

export const EVAL_RESULT_FORMAT = 1;

/** Added to a model's name for its frozen-encoder prototype-head entry beside its own adaptation. */
export const PROTOTYPE_SUFFIX = '[prototype]';

/** A mean over episodes with its 95% confidence interval half-width (1.96 * std / sqrt(n)). */
export const EstimateSchema = Type.Object({ mean: Type.Number(), ci95: Type.Number() });
export type Estimate = Static<typeof EstimateSchema>;

export const CurvePointSchema = Type.Object({
  /** Attack radius in [0,1] pixel units (e.g. 8/255). */
  eps: Type.Number(),
  accuracy: EstimateSchema,
});
export type CurvePoint = Static<typeof CurvePointSchema>;

/** Outcome of one gradient-masking check; the message says what was found, also when ok. */
export const EvalCheckSchema = Type.Object({ ok: Type.Boolean(), message: Type.String() });
export type EvalCheck = Static<typeof EvalCheckSchema>;

export const EvalChecksSchema = Type.Object({
  /** Robust accuracy does not rise with eps beyond the CI (when the curve has two or more points). */
  curveMonotone: Type.Optional(EvalCheckSchema),
  /** Clean accuracy is not below robust accuracy beyond the CI. */
  cleanAboveRobust: EvalCheckSchema,
  /**
   * The stronger attack (EvalSetting.strongAttack: each restart a separate run, an image robust only
   * if correct under every one) lowers robust accuracy by no more than the CI.
   */
  strongerAttack: Type.Optional(Type.Composite([EvalCheckSchema, Type.Object({ robust: EstimateSchema })])),
});
export type EvalChecks = Static<typeof EvalChecksSchema>;

/**
 * What a reader needs before calling a model robust: its chance level, how confident and how
 * spread its clean predictions are, and how much of what it gets right survives the attack.
 */
export const EvalDiagnosticsSchema = Type.Object({
  /** 1 / ways. */
  chance: Type.Number(),
  /** Mean over queries of the largest softmax probability, clean (uniform predictions: chance). */
  meanMaxSoftmax: EstimateSchema,
  /** Share of an episode's queries given to its most predicted class, clean (balanced: chance). */
  topClassShare: EstimateSchema,
  /** Robust accuracy among the queries classified correctly when clean (pooled over episodes); null when none was. */
  robustGivenClean: Type.Union([Type.Number(), Type.Null()]),
  /** Clean accuracy within its 95% CI of chance. */
  atChance: Type.Boolean(),
  /** Predictions collapse onto one class (topClassShare at or above COLLAPSE_SHARE of the way count). */
  collapsed: Type.Boolean(),
  /** Sentences for the reader, empty when the model is neither at chance nor collapsed. */
  warnings: Type.Array(Type.String()),
});
export type EvalDiagnostics = Static<typeof EvalDiagnosticsSchema>;

/** One model on one dataset and episode setting. */
export const ModelEvalSchema = Type.Object({
  /** Display name, e.g. 'mavrl (runs/2026-11-26-1)'. */
  model: Type.String(),
  method: Type.String(),
  checkpoint: Type.String(),
  /** How the model was adapted: its inner loop ('finetune') or the frozen-encoder 'prototype' head. */
  head: Type.Union([Type.Literal('finetune'), Type.Literal('prototype')]),
  clean: EstimateSchema,
  robust: EstimateSchema,
  /** Robust accuracy over eps on the same episodes. */
  curve: Type.Array(CurvePointSchema),
  /** Relative paths (from the result file) of sample perturbation PNGs, if written. */
  samples: Type.Optional(Type.Array(SampleImageSchema)),
  seconds: Type.Number(),
  /** How the model was adapted (finetune: its inner loop; prototype: none). */
  adaptation: Type.Optional(Type.Object({ steps: Type.Number(), lr: Type.Number(), update: Type.Union([Type.Literal('all'), Type.Literal('body')]) })),
  /** Gradient-masking checks. */
  checks: Type.Optional(EvalChecksSchema),
  /** Whether the figures mean anything: chance level, confidence, collapse (absent in older results). */
  diagnostics: Type.Optional(EvalDiagnosticsSchema),
  /**
   * Accuracy of each episode, clean and robust, so results on the same episodes can be compared
   * pairwise later (absent in older results).
   */
  perEpisode: Type.Optional(Type.Object({ clean: Type.Array(Type.Number()), robust: Type.Array(Type.Number()) })),
});
export type ModelEval = Static<typeof ModelEvalSchema>;

/** A paired difference a - b of two models on the same episodes and attack randomness. */
export const PairedComparisonSchema = Type.Object({
  a: Type.String(),
  b: Type.String(),
  metric: Type.Union([Type.Literal('clean'), Type.Literal('robust')]),
  /** Mean per-episode difference a - b. */
  mean: Type.Number(),
  /** Bootstrap 95% interval of the mean difference (percentile, over episodes). */
  low: Type.Number(),
  high: Type.Number(),
});
export type PairedComparison = Static<typeof PairedComparisonSchema>;

const AttackNorm = Type.Union([Type.Literal('linf'), Type.Literal('l2')]);

export const EvalSettingSchema = Type.Object({
  dataset: Type.String(),
  /** The data folder or IDX folder. */
  dataPath: Type.String(),
  split: Type.Union([Type.Literal('train'), Type.Literal('val'), Type.Literal('test')]),
  ways: Type.Integer(),
  shots: Type.Integer(),
  queries: Type.Integer(),
  episodes: Type.Integer(),
  seed: Type.Integer(),
  attack: Type.Object({ norm: AttackNorm, eps: Type.Number(), steps: Type.Integer(), stepSize: Type.Number(), restarts: Type.Integer() }),
  innerStepsTest: Type.Integer(),
  /** The stronger attack compared with the standard one at eps, when asked for. */
  strongAttack: Type.Optional(
    Type.Object({
      steps: Type.Integer(),
      stepSize: Type.Number(),
      restarts: Type.Integer(),
      loss: Type.Optional(Type.Union([Type.Literal('ce'), Type.Literal('margin')])),
      episodes: Type.Optional(Type.Integer()),
    }),
  ),
  /** tfjs backend the evaluation ran on. */
  backend: Type.Optional(Type.String()),
  /** Worker threads that shared the episodes, when more than one. */
  threads: Type.Optional(Type.Integer()),
});
export type EvalSetting = Static<typeof EvalSettingSchema>;

/** results/<name>.json. */
export const EvalResultFileSchema = Type.Object(
  {
    format: FormatVersion,
    createdAt: Type.String(),
    setting: EvalSettingSchema,
    models: Type.Array(ModelEvalSchema),
    /** Paired differences between models evaluated with the same head (absent in older results). */
    comparisons: Type.Optional(Type.Array(PairedComparisonSchema)),
  },
  { title: 'robust-meta evaluation result' },
);
export type EvalResultFile = Static<typeof EvalResultFileSchema>;
