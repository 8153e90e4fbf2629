// The figures of one meta-step, as the learner returns them and metrics.jsonl stores them.
// Dependency-free, so the extension's chart code and the webview can read the keys too.
import { formatPercent } from '../formats/display';
import type { StepMetrics } from '../formats/run';

/** Metrics of one task (or the mean over a meta-batch), declared with metrics.jsonl in src/formats/run.ts. */
export type { StepMetrics };

/** Every StepMetrics key, for code that copies or averages them. */
export const STEP_METRIC_KEYS = [
  'loss',
  'ceLoss',
  'agreementLoss',
  'cleanAcc',
  'robustAcc',
  'cleanAccBefore',
  'innerShift',
  'encoderCosine',
] as const satisfies readonly (keyof StepMetrics)[];

/** The figures of a step as readers see them: null where one was not finite, absent where a run predates it. */
export type StepFigures = { readonly [K in (typeof STEP_METRIC_KEYS)[number]]?: number | null };

/** Mean of the last `n` finite values of a metric, or null when there are none. */
export function recentMean(lines: readonly StepFigures[], pick: (l: StepFigures) => number | null | undefined, n = 20): number | null {
  let sum = 0;
  let count = 0;
  for (let i = lines.length - 1; i >= 0 && count < n; i--) {
    const v = pick(lines[i]);
    if (v !== null && v !== undefined && Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }
  return count ? sum / count : null;
}

/** Whether, and how much, the inner loop adapts: recent training means. */
export interface AdaptationSummary {
  /** Query accuracy before and after the inner loop; null where the method has none. */
  before: number | null;
  after: number | null;
  /** Under the training attack. */
  robust: number | null;
  /** mavrl: cosine of the two adapted encoders' features. */
  encoderCosine: number | null;
  innerShift: number | null;
}

/** The adaptation figures over the last `n` steps. */
export function adaptationSummary(lines: readonly StepFigures[], n = 50): AdaptationSummary {
  return {
    before: recentMean(lines, (l) => l.cleanAccBefore, n),
    after: recentMean(lines, (l) => l.cleanAcc, n),
    robust: recentMean(lines, (l) => l.robustAcc, n),
    encoderCosine: recentMean(lines, (l) => l.encoderCosine, n),
    innerShift: recentMean(lines, (l) => l.innerShift, n),
  };
}

/**
 * One line for people: "query accuracy 20.4% before adaptation -> 63.5% after, 61.7% under
 * attack; inner loop moves the encoder 3.4%; adapted encoders' feature cosine 0.985".
 */
export function formatAdaptation(a: AdaptationSummary): string {
  const pct = formatPercent;
  const parts: string[] = [];
  if (a.after !== null)
    parts.push(`query accuracy ${a.before !== null ? `${pct(a.before)} before adaptation -> ` : ''}${pct(a.after)}${a.before !== null ? ' after' : ''}`);
  if (a.robust !== null) parts.push(`${pct(a.robust)} under the training attack`);
  if (a.innerShift !== null) parts.push(`inner loop moves the encoder ${pct(a.innerShift)}`);
  if (a.encoderCosine !== null) parts.push(`adapted encoders' feature cosine ${a.encoderCosine.toFixed(3)}`);
  return parts.join('; ');
}
