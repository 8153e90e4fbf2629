// The statistics of an evaluation, as pure functions over per-episode numbers: accuracy of an
// episode from its predictions, the mean with its 95% confidence interval, and the checks that
// reveal gradient masking (a curve that rises with eps, robust above clean, a stronger attack
// that finds much more). Kept apart from tensors so they can be tested exactly.
import type { CurvePoint, Estimate, EvalCheck } from '../evalResult';

/** z of a two-sided 95% interval. */
export const Z95 = 1.96;

/**
 * Mean and 95% CI half-width of per-episode values: 1.96 * std / sqrt(n), with the population
 * standard deviation (divide by n), as the few-shot literature reports it.
 */
export function estimate(values: ArrayLike<number>): Estimate {
  const n = values.length;
  if (n === 0) throw new Error('an estimate needs at least one value');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i] - mean) ** 2;
  const std = Math.sqrt(sq / n);
  return { mean, ci95: (Z95 * std) / Math.sqrt(n) };
}

/** Fraction of predictions equal to their label. */
export function accuracyOf(predictions: ArrayLike<number>, labels: ArrayLike<number>): number {
  if (predictions.length !== labels.length) throw new Error(`${predictions.length} predictions for ${labels.length} labels`);
  if (labels.length === 0) throw new Error('accuracy of an empty set');
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) right++;
  return right / labels.length;
}

/** The curve from per-episode accuracies at each eps: accuracies[e][i] is episode i at eps[e]. */
export function curveFrom(eps: readonly number[], accuracies: readonly ArrayLike<number>[]): CurvePoint[] {
  if (eps.length !== accuracies.length) throw new Error(`${eps.length} eps values for ${accuracies.length} accuracy series`);
  return eps.map((e, i) => ({ eps: e, accuracy: estimate(accuracies[i]) }));
}

export type CheckOutcome = EvalCheck;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * Robust accuracy must not rise with eps: for every pair of points eps_i < eps_j the accuracy at
 * eps_j may exceed that at eps_i by at most the larger of their two CI half-widths (plus
 * `slack`). A larger rise means the attack fails at larger radii: a sign of gradient masking or
 * a broken attack.
 */
export function checkCurveMonotone(curve: readonly CurvePoint[], slack = 0): CheckOutcome {
  const pts = [...curve].sort((a, b) => a.eps - b.eps);
  let worst: { from: CurvePoint; to: CurvePoint; excess: number } | undefined;
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      if (pts[j].eps === pts[i].eps) continue;
      const rise = pts[j].accuracy.mean - pts[i].accuracy.mean;
      const excess = rise - Math.max(pts[i].accuracy.ci95, pts[j].accuracy.ci95) - slack;
      if (excess > 0 && (!worst || excess > worst.excess)) worst = { from: pts[i], to: pts[j], excess };
    }
  }
  if (!worst) return { ok: true, message: 'robust accuracy does not rise with eps (within the CI)' };
  const e255 = (e: number) => `${+(e * 255).toFixed(2)}/255`;
  return {
    ok: false,
    message:
      `robust accuracy rises from ${pct(worst.from.accuracy.mean)} at eps ${e255(worst.from.eps)} to ${pct(worst.to.accuracy.mean)} at eps ${e255(worst.to.eps)}, ` +
      `beyond the CI: the attack fails at the larger radius, a sign of gradient masking; try more attack steps and restarts`,
  };
}

/** Clean accuracy must be at least the robust one (within the larger CI, plus `slack`). */
export function checkCleanAboveRobust(clean: Estimate, robust: Estimate, slack = 0): CheckOutcome {
  const excess = robust.mean - clean.mean - Math.max(clean.ci95, robust.ci95) - slack;
  if (excess <= 0) return { ok: true, message: `clean ${pct(clean.mean)} >= robust ${pct(robust.mean)} (within the CI)` };
  return {
    ok: false,
    message: `robust accuracy ${pct(robust.mean)} is above clean ${pct(clean.mean)} beyond the CI: the attack makes the model better, so it is not finding adversarial examples (gradient masking or a broken attack)`,
  };
}

/**
 * A stronger attack (more steps, restarts) may lower robust accuracy by at most the larger CI
 * (plus `slack`). A larger drop means the standard attack overestimates robustness.
 */
export function checkStrongerAttack(standard: Estimate, stronger: Estimate, strongerName: string, slack = 0): CheckOutcome {
  const drop = standard.mean - stronger.mean;
  const excess = drop - Math.max(standard.ci95, stronger.ci95) - slack;
  if (excess <= 0) return { ok: true, message: `${strongerName} gives ${pct(stronger.mean)}, within the CI of ${pct(standard.mean)}` };
  return {
    ok: false,
    message: `${strongerName} lowers robust accuracy from ${pct(standard.mean)} to ${pct(stronger.mean)}, beyond the CI: the standard attack overestimates robustness (gradient masking?); report the stronger figure`,
  };
}
