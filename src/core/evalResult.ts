// The evaluation result, as written to results/<name>.json and read by the CLI table, the HTML
// report and the extension's result panel. Versioned: bump EVAL_RESULT_FORMAT on any change that
// breaks a reader, and teach readers the old one or make them say it is too old.

export const EVAL_RESULT_FORMAT = 1;

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
  /** The stronger attack (EvalSetting.strongAttack) lowers robust accuracy by no more than the CI. */
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
  strongAttack?: { steps: number; stepSize: number; restarts: number };
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
}
