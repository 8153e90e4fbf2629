// Chart and table view-models built from metric lines and evaluation results. Pure functions with
// no Node, DOM or vscode import: the webview bundle uses them to draw, the unit tests check them.
import type { MetricRow } from '../formats/run';
import { recentMean, STEP_METRIC_KEYS } from '../core/stepMetrics';
import type { Estimate, EvalResultFile } from '../core/evalResult';

export interface Point {
  x: number;
  y: number;
}

/** Most points a line chart draws; longer series are averaged in buckets. */
export const MAX_POINTS = 1500;

/** Averages consecutive points into at most `max` buckets; the last point is kept as it is. */
export function downsample(points: Point[], max = MAX_POINTS): Point[] {
  if (points.length <= max || max < 2) return points;
  const out: Point[] = [];
  const buckets = max - 1;
  const size = (points.length - 1) / buckets;
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size);
    const to = Math.max(from + 1, Math.floor((b + 1) * size));
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += points[i].x;
      sy += points[i].y;
    }
    out.push({ x: sx / (to - from), y: sy / (to - from) });
  }
  out.push(points[points.length - 1]);
  return out;
}

/**
 * Merges newly arrived metric lines into a step-ordered list. The same step can arrive twice
 * (from the worker and from the file) and a resumed run repeats the steps after its checkpoint:
 * a line replaces every line at or after its step. Returns the same array, changed in place.
 */
export function mergeMetrics(into: MetricRow[], incoming: readonly MetricRow[]): MetricRow[] {
  for (const line of incoming) {
    const last = into.length ? into[into.length - 1].step : -Infinity;
    if (line.step > last) {
      into.push(line);
      continue;
    }
    let lo = 0;
    let hi = into.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (into[mid].step < line.step) lo = mid + 1;
      else hi = mid;
    }
    into.splice(lo, into.length - lo, line);
  }
  return into;
}

/**
 * At most `max` lines, each the mean of a run of consecutive lines (its step the run's last), so
 * that a long run's history reaches a panel in one small message; shorter lists are returned as
 * they are. A metric a method does not have stays null.
 */
export function thinMetrics(lines: readonly MetricRow[], max: number): MetricRow[] {
  if (lines.length <= max || max < 1) return lines as MetricRow[];
  const out: MetricRow[] = [];
  const size = lines.length / max;
  const mean = (group: readonly MetricRow[], pick: (l: MetricRow) => number | null): number | null => {
    let sum = 0;
    let n = 0;
    for (const l of group) {
      const v = pick(l);
      if (v !== null && Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    return n ? sum / n : null;
  };
  for (let b = 0; b < max; b++) {
    const group = lines.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!group.length) continue;
    const last = group[group.length - 1];
    const means = Object.fromEntries(STEP_METRIC_KEYS.map((k) => [k, mean(group, (l) => l[k] ?? null)]));
    out.push({ ...last, ...means, loss: mean(group, (l) => l.loss) ?? NaN });
  }
  return out;
}

export interface TrainingSeries {
  /** The adversarial-agreement loss (mavrl), or rocl's contrastive term. */
  agreement: Point[];
  /** Mean cross-entropy of the outer loss's supervised terms. */
  ce: Point[];
  /** The whole outer loss. */
  loss: Point[];
  /** Query accuracy after the inner loop, clean and under the training attack, in percent. */
  clean: Point[];
  robust: Point[];
  /** Query accuracy before the inner loop, in percent: beside `clean`, whether adaptation adapts. */
  before: Point[];
  /** mavrl: cosine of the two adapted encoders' features (1: one network). */
  encoderCosine: Point[];
  /** Relative change of the encoder by the inner loop, in percent. */
  innerShift: Point[];
}

function series(lines: readonly MetricRow[], pick: (l: MetricRow) => number | null, scale = 1): Point[] {
  const out: Point[] = [];
  for (const l of lines) {
    const v = pick(l);
    if (v !== null && Number.isFinite(v)) out.push({ x: l.step, y: v * scale });
  }
  return out;
}

/** The dashboard's training charts; metrics a method does not have (null) give empty series. */
export function trainingSeries(lines: readonly MetricRow[], max = MAX_POINTS): TrainingSeries {
  return {
    agreement: downsample(
      series(lines, (l) => l.agreementLoss ?? null),
      max,
    ),
    ce: downsample(
      series(lines, (l) => l.ceLoss ?? null),
      max,
    ),
    loss: downsample(
      series(lines, (l) => l.loss),
      max,
    ),
    clean: downsample(
      series(lines, (l) => l.cleanAcc ?? null, 100),
      max,
    ),
    robust: downsample(
      series(lines, (l) => l.robustAcc ?? null, 100),
      max,
    ),
    before: downsample(
      series(lines, (l) => l.cleanAccBefore ?? null, 100),
      max,
    ),
    encoderCosine: downsample(
      series(lines, (l) => l.encoderCosine ?? null),
      max,
    ),
    innerShift: downsample(
      series(lines, (l) => l.innerShift ?? null, 100),
      max,
    ),
  };
}

export { recentMean } from '../core/stepMetrics';

// ---------------------------------------------------------------------------------------------
// Evaluation results

export interface CurveSeries {
  label: string;
  /** x: eps in 1/255 units; y: robust accuracy in percent; ci: its 95% half-width in percent. */
  points: { x: number; y: number; ci: number }[];
}

export interface ResultRow {
  /** Which result file the row comes from (compare view), else ''. */
  source: string;
  model: string;
  method: string;
  head: string;
  dataset: string;
  setting: string;
  episodes: number;
  clean: Estimate;
  robust: Estimate;
  /** What the figures are worth: chance level, and why they mean nothing when they do not. */
  chance: number;
  /** At chance or collapsed: its robust accuracy is not robustness. */
  flagged: boolean;
  warnings: string[];
}

/** One row per model of a result: clean and robust accuracy with their 95% CI. */
export function resultRows(result: EvalResultFile, source = ''): ResultRow[] {
  const s = result.setting;
  return result.models.map((m) => ({
    source,
    model: m.model,
    method: m.method,
    head: m.head,
    dataset: s.dataset,
    setting: `${s.ways}-way ${s.shots}-shot`,
    episodes: s.episodes,
    clean: m.clean,
    robust: m.robust,
    chance: m.diagnostics?.chance ?? 1 / s.ways,
    flagged: !!m.diagnostics && (m.diagnostics.atChance || m.diagnostics.collapsed),
    warnings: m.diagnostics?.warnings ?? [],
  }));
}

/** The robustness curve of each model (robust accuracy over eps). */
export function curveSeries(result: EvalResultFile, prefix = ''): CurveSeries[] {
  const s = result.setting;
  return result.models
    .filter((m) => m.curve.length > 0)
    .map((m) => ({
      label: `${prefix}${m.model} · ${s.dataset} ${s.ways}w${s.shots}s`,
      points: [...m.curve].sort((a, b) => a.eps - b.eps).map((p) => ({ x: p.eps * 255, y: p.accuracy.mean * 100, ci: p.accuracy.ci95 * 100 })),
    }));
}

// ---------------------------------------------------------------------------------------------
// Compare view

export interface RunSummaryRow {
  run: string;
  method: string;
  state: string;
  step: number;
  /** Means of the last 20 logged steps; null when the method has no such figure. */
  cleanAcc: number | null;
  robustAcc: number | null;
  agreementLoss: number | null;
}

export function runSummaryRow(run: { id: string; method: string; state: string; step: number }, lines: readonly MetricRow[]): RunSummaryRow {
  return {
    run: run.id,
    method: run.method,
    state: run.state,
    step: lines.length ? lines[lines.length - 1].step : run.step,
    cleanAcc: recentMean(lines, (l) => l.cleanAcc),
    robustAcc: recentMean(lines, (l) => l.robustAcc),
    agreementLoss: recentMean(lines, (l) => l.agreementLoss),
  };
}
