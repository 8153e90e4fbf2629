// The per-episode figures of an evaluation as episodes finish (in any order, from any thread),
// and what they add up to per model: estimates with CIs, the curve, the checks, the diagnostics.
import type { EvalChecks, ModelEval } from '../evalResult';
import { correctUnderAll, diagnose, RobustGivenClean, topClassShare } from './diagnostics';
import type { EvalEntry } from './entries';
import type { AttackPlan, EpisodePredictions } from './episode';
import type { ResolvedEvalOptions } from './options';
import { accuracyOf, checkCleanAboveRobust, checkCurveMonotone, checkStrongerAttack, curveFrom, estimate } from './stats';

/** Per-episode accuracies of one model, for paired comparisons and tests. */
export interface EpisodeAccuracies {
  clean: Float64Array;
  robust: Float64Array;
  /** One series per curve point. */
  curve: Float64Array[];
  strong?: Float64Array;
}

export class EvalTally {
  private readonly clean: Float64Array[];
  private readonly attacked: Float64Array[][];
  private readonly strongAll: Float64Array[];
  private readonly maxSoftmax: Float64Array[];
  private readonly topShare: Float64Array[];
  private readonly keptRobust: RobustGivenClean[];
  readonly seconds: number[];
  private readonly robustPlan: number;
  private readonly strongPlans: number[];
  private readonly nq: number;

  constructor(
    private readonly entries: readonly EvalEntry[],
    private readonly plans: readonly AttackPlan[],
    private readonly o: ResolvedEvalOptions,
  ) {
    const series = () => entries.map(() => new Float64Array(o.episodes));
    this.clean = series();
    this.attacked = entries.map(() => plans.map(() => new Float64Array(o.episodes)));
    this.strongAll = series();
    this.maxSoftmax = series();
    this.topShare = series();
    this.keptRobust = entries.map(() => new RobustGivenClean());
    this.seconds = entries.map(() => 0);
    this.robustPlan = plans.findIndex((p) => p.kind === 0 && p.opts.eps === o.attack.eps);
    this.strongPlans = plans.map((p, i) => (p.kind >= 1 ? i : -1)).filter((i) => i >= 0);
    this.nq = o.ways * o.queries;
  }

  /** Entry i's predictions on episode e, whose query labels are y. */
  record(i: number, e: number, y: Int32Array, out: EpisodePredictions, secs: number): void {
    const nq = this.nq;
    const predsAt = (p: number) => out.preds.subarray((p + 1) * nq, (p + 2) * nq);
    const cleanPreds = out.preds.subarray(0, nq);
    this.clean[i][e] = accuracyOf(cleanPreds, y);
    this.plans.forEach((_, p) => (this.attacked[i][p][e] = accuracyOf(predsAt(p), y)));
    if (this.strongPlans.length) this.strongAll[i][e] = correctUnderAll(this.strongPlans.map(predsAt), y);
    this.maxSoftmax[i][e] = out.maxSoftmax;
    this.topShare[i][e] = topClassShare(cleanPreds, this.o.ways);
    if (this.robustPlan >= 0) this.keptRobust[i].add(cleanPreds, predsAt(this.robustPlan), y);
    this.seconds[i] += secs;
  }

  private seriesAt(i: number, eps: number): Float64Array {
    if (eps === 0) return this.clean[i];
    return this.attacked[i][this.plans.findIndex((p) => p.kind === 0 && p.opts.eps === eps)];
  }

  /** Entry i's per-episode series. */
  accuracies(i: number): EpisodeAccuracies {
    const o = this.o;
    return {
      clean: this.clean[i],
      robust: this.seriesAt(i, o.attack.eps),
      curve: o.curve.map((eps) => this.seriesAt(i, eps)),
      strong: o.strong ? (o.attack.eps > 0 ? this.strongAll[i] : this.clean[i]) : undefined,
    };
  }

  /** Entry i's figures for the result file; `steps` its inner-loop steps. */
  summary(i: number, steps: number): ModelEval {
    const { o } = this;
    const x = this.entries[i];
    const m = x.model;
    const acc = this.accuracies(i);
    const cleanEst = estimate(acc.clean);
    const robustEst = estimate(acc.robust);
    const curve = curveFrom(o.curve, acc.curve);
    const checks: EvalChecks = { cleanAboveRobust: checkCleanAboveRobust(cleanEst, robustEst) };
    if (curve.length >= 2) checks.curveMonotone = checkCurveMonotone(curve);
    if (acc.strong && o.strong) {
      const st = estimate(acc.strong);
      const name = `PGD-${o.strong.steps} x ${o.strong.restarts + 1} runs (${o.strong.loss === 'margin' ? 'margin' : 'CE'} loss)`;
      checks.strongerAttack = { ...checkStrongerAttack(robustEst, st, name), robust: st };
    }
    const out: ModelEval = {
      model: x.name,
      method: m.cfg.method,
      checkpoint: m.checkpoint ?? '',
      head: x.head,
      clean: cleanEst,
      robust: robustEst,
      curve,
      seconds: this.seconds[i],
      checks,
      diagnostics: diagnose(o.ways, cleanEst, this.maxSoftmax[i], this.topShare[i], this.keptRobust[i].value),
      perEpisode: { clean: rounded(acc.clean), robust: rounded(acc.robust) },
    };
    if (x.head === 'finetune') out.adaptation = { steps, lr: m.cfg.innerLr, update: m.cfg.innerUpdate };
    return out;
  }
}

/** Per-episode accuracies for the result file: six decimals keep every k/n exact enough and the file small. */
function rounded(xs: Float64Array): number[] {
  return Array.from(xs, (x) => Math.round(x * 1e6) / 1e6);
}
