// Whether an evaluation's figures mean anything, as pure functions over per-episode numbers: a
// model at chance, or one that sends most queries to one class, has a "robust accuracy" that
// measures nothing, and two models are compared by the paired difference on the same episodes.
import type { EvalDiagnostics, Estimate, ModelEval, PairedComparison } from '../evalResult';
import { Rng } from '../rng';
import { estimate } from './stats';

/**
 * The top-class share from which predictions count as collapsed: halfway and a bit more between a
 * balanced episode (1/N) and every query in one class (1), 1/N + 0.375 (1 - 1/N): 50% of the
 * queries in one class for 5-way tasks, 69% for 2-way.
 */
export function collapseShare(ways: number): number {
  return 1 / ways + 0.375 * (1 - 1 / ways);
}

/** Share of the predictions that go to the most predicted class. */
export function topClassShare(preds: ArrayLike<number>, ways: number): number {
  if (preds.length === 0) throw new Error('top-class share of no predictions');
  const counts = new Array<number>(ways).fill(0);
  for (let i = 0; i < preds.length; i++) counts[preds[i]]++;
  return Math.max(...counts) / preds.length;
}

/**
 * Fraction of queries classified correctly under every one of several attack runs: the strong
 * check's accuracy, where an image is robust only if no run fools the model.
 */
export function correctUnderAll(runs: readonly ArrayLike<number>[], labels: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (runs.every((r) => r[i] === labels[i])) right++;
  return right / labels.length;
}

/** Counts for robust accuracy among the queries right when clean, added up over episodes. */
export class RobustGivenClean {
  private right = 0;
  private kept = 0;

  add(clean: ArrayLike<number>, robust: ArrayLike<number>, labels: ArrayLike<number>): void {
    for (let i = 0; i < labels.length; i++) {
      if (clean[i] !== labels[i]) continue;
      this.right++;
      if (robust[i] === labels[i]) this.kept++;
    }
  }

  get value(): number | null {
    return this.right ? this.kept / this.right : null;
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The diagnostics of one model from its clean estimate and per-episode confidence and spread. */
export function diagnose(
  ways: number,
  clean: Estimate,
  maxSoftmax: ArrayLike<number>,
  topShare: ArrayLike<number>,
  robustGivenClean: number | null,
): EvalDiagnostics {
  const chance = 1 / ways;
  const meanMaxSoftmax = estimate(maxSoftmax);
  const top = estimate(topShare);
  const atChance = clean.mean - clean.ci95 <= chance;
  const collapsed = top.mean >= collapseShare(ways);
  const warnings: string[] = [];
  if (atChance) {
    warnings.push(
      `clean accuracy ${pct(clean.mean)} ± ${pct(clean.ci95)} is within its interval of chance (${pct(chance)}): the model has not learned these tasks, and its robust accuracy means nothing`,
    );
  }
  if (collapsed) {
    warnings.push(
      `predictions collapse: on average ${pct(top.mean)} of an episode's queries go to one class (balanced: ${pct(chance)}); its accuracies reflect that class, not robustness`,
    );
  }
  return { chance, meanMaxSoftmax, topClassShare: top, robustGivenClean, atChance, collapsed, warnings };
}

/** Whether a model's robust accuracy may be read as robustness: it is neither at chance nor collapsed. */
export function meaningful(d: EvalDiagnostics | undefined): boolean {
  return !d || (!d.atChance && !d.collapsed);
}

/**
 * Mean of the per-episode differences a - b with a percentile bootstrap 95% interval (episodes
 * resampled with replacement, `resamples` times, from a seeded stream).
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, seed = 0, resamples = 2000): { mean: number; low: number; high: number } {
  const n = a.length;
  if (n === 0 || b.length !== n) throw new Error(`paired difference needs two equal, non-empty series, got ${a.length} and ${b.length}`);
  const d = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const rng = new Rng([seed, 0xb007]);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))];
  return { mean, low: at(0.025), high: at(0.975) };
}

/**
 * Paired comparisons of every two models evaluated with the same head on the same episodes,
 * clean and robust (models without per-episode accuracies are left out).
 */
export function pairedComparisons(models: readonly Pick<ModelEval, 'model' | 'head' | 'perEpisode'>[], seed = 0): PairedComparison[] {
  const out: PairedComparison[] = [];
  for (let i = 0; i < models.length; i++) {
    for (let j = i + 1; j < models.length; j++) {
      const [x, y] = [models[i], models[j]];
      if (x.head !== y.head || !x.perEpisode || !y.perEpisode || x.perEpisode.clean.length !== y.perEpisode.clean.length) continue;
      for (const metric of ['clean', 'robust'] as const)
        out.push({ a: x.model, b: y.model, metric, ...pairedDifference(x.perEpisode[metric], y.perEpisode[metric], seed) });
    }
  }
  return out;
}

/**
 * The value of a hyper-parameter to keep from validation runs, by a rule that cannot reward a
 * model for collapsing: among the runs that are neither at chance nor collapsed and whose clean
 * accuracy is within `cleanSlack` (2 points) of the best such run's, the one with the highest
 * robust accuracy. A collapsed model's "robust accuracy" (its favourite class's share) never wins.
 * Undefined when every run is at chance or collapsed.
 */
export function chooseOnValidation<T extends Pick<ModelEval, 'clean' | 'robust' | 'diagnostics'>>(runs: readonly T[], cleanSlack = 0.02): T | undefined {
  const usable = runs.filter((r) => meaningful(r.diagnostics));
  if (!usable.length) return undefined;
  const bestClean = Math.max(...usable.map((r) => r.clean.mean));
  return usable.filter((r) => r.clean.mean >= bestClean - cleanSlack).reduce((a, b) => (b.robust.mean > a.robust.mean ? b : a));
}
