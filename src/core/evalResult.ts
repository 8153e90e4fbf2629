// The evaluation result, as written to results/<name>.json and read by the CLI table, the HTML
// report and the extension's result panel. Versioned: bump EVAL_RESULT_FORMAT on any change that
// breaks a reader, and teach readers the old one or make them say it is too old.

export const EVAL_RESULT_FORMAT = 1;

/** Added to a model's name for its frozen-encoder prototype-head entry beside its own adaptation. */
export const PROTOTYPE_SUFFIX = '[prototype]';

/** A mean over episodes with its 95% confidence interval half-width (1.96 * std / sqrt(n)). */
export interface Estimate {
  mean: number;
  ci95: number;
}

export interface CurvePoint {
  /** Attack radius in [0,1] pixel units (e.g. 8/255). */
  eps: number;
  accuracy: Estimate;
}

/** One model on one dataset and episode setting. */
export interface ModelEval {
  /** Display name, e.g. 'mavrl (runs/2026-11-26-1)'. */
  model: string;
  method: string;
  checkpoint: string;
  /** How the model was adapted: its inner loop ('finetune') or the frozen-encoder 'prototype' head. */
  head: 'finetune' | 'prototype';
  clean: Estimate;
  robust: Estimate;
  /** Robust accuracy over eps on the same episodes. */
  curve: CurvePoint[];
  /** Relative paths (from the result file) of sample perturbation PNGs, if written. */
  samples?: { clean: string; perturbation: string; adversarial: string; trueLabel: string; cleanPred: string; adversarialPred: string }[];
  seconds: number;
  /** How the model was adapted (finetune: its inner loop; prototype: none). */
  adaptation?: { steps: number; lr: number; update: 'all' | 'body' };
  /** Gradient-masking checks. */
  checks?: EvalChecks;
  /** Whether the figures mean anything: chance level, confidence, collapse (absent in older results). */
  diagnostics?: EvalDiagnostics;
  /**
   * Accuracy of each episode, clean and robust, so results on the same episodes can be compared
   * pairwise later (absent in older results).
   */
  perEpisode?: { clean: number[]; robust: number[] };
}

/**
 * What a reader needs before calling a model robust: its chance level, how confident and how
 * spread its clean predictions are, and how much of what it gets right survives the attack.
 */
export interface EvalDiagnostics {
  /** 1 / ways. */
  chance: number;
  /** Mean over queries of the largest softmax probability, clean (uniform predictions: chance). */
  meanMaxSoftmax: Estimate;
  /** Share of an episode's queries given to its most predicted class, clean (balanced: chance). */
  topClassShare: Estimate;
  /** Robust accuracy among the queries classified correctly when clean (pooled over episodes); null when none was. */
  robustGivenClean: number | null;
  /** Clean accuracy within its 95% CI of chance. */
  atChance: boolean;
  /** Predictions collapse onto one class (topClassShare at or above COLLAPSE_SHARE of the way count). */
  collapsed: boolean;
  /** Sentences for the reader, empty when the model is neither at chance nor collapsed. */
  warnings: string[];
}

/** A paired difference a - b of two models on the same episodes and attack randomness. */
export interface PairedComparison {
  a: string;
  b: string;
  metric: 'clean' | 'robust';
  /** Mean per-episode difference a - b. */
  mean: number;
  /** Bootstrap 95% interval of the mean difference (percentile, over episodes). */
  low: number;
  high: number;
}

/** Outcome of one gradient-masking check; the message says what was found, also when ok. */
export interface EvalCheck {
  ok: boolean;
  message: string;
}

export interface EvalChecks {
  /** Robust accuracy does not rise with eps beyond the CI (when the curve has two or more points). */
  curveMonotone?: EvalCheck;
  /** Clean accuracy is not below robust accuracy beyond the CI. */
  cleanAboveRobust: EvalCheck;
  /**
   * The stronger attack (EvalSetting.strongAttack: each restart a separate run, an image robust only
   * if correct under every one) lowers robust accuracy by no more than the CI.
   */
  strongerAttack?: EvalCheck & { robust: Estimate };
}

export interface EvalSetting {
  dataset: string;
  /** The data folder or IDX folder. */
  dataPath: string;
  split: 'train' | 'val' | 'test';
  ways: number;
  shots: number;
  queries: number;
  episodes: number;
  seed: number;
  attack: { norm: 'linf' | 'l2'; eps: number; steps: number; stepSize: number; restarts: number };
  innerStepsTest: number;
  /** The stronger attack compared with the standard one at eps, when asked for. */
  strongAttack?: { steps: number; stepSize: number; restarts: number; loss?: 'ce' | 'margin'; episodes?: number };
  /** tfjs backend the evaluation ran on. */
  backend?: string;
  /** Worker threads that shared the episodes, when more than one. */
  threads?: number;
}

export interface EvalResultFile {
  format: number;
  createdAt: string;
  setting: EvalSetting;
  models: ModelEval[];
  /** Paired differences between models evaluated with the same head (absent in older results). */
  comparisons?: PairedComparison[];
}
