// How the panels' training charts are viewed: EMA smoothing (TensorBoard's debiased exponential
// moving average), step or wall-time x axis, log scale for losses. Pure functions with no Node,
// DOM or vscode import: the webview draws with them, the unit tests check them.
import type { Point } from './chartData';

export type XAxis = 'step' | 'time';

export interface ChartView {
  /** EMA weight in [0, 1): 0 draws the raw series only; 0.99 smooths the most. */
  smoothing: number;
  xAxis: XAxis;
  /** Loss charts on a logarithmic y axis. */
  logLosses: boolean;
}

export const DEFAULT_CHART_VIEW: ChartView = { smoothing: 0.6, xAxis: 'step', logLosses: false };
export const MAX_SMOOTHING = 0.99;

export function clampSmoothing(w: number): number {
  return Number.isFinite(w) ? Math.min(MAX_SMOOTHING, Math.max(0, w)) : 0;
}

/**
 * Debiased exponential moving average of y, as TensorBoard smooths scalars: the running average
 * starts at 0 and is divided by (1 - w^n), so the first points are not pulled towards zero.
 * A non-finite y is passed through and leaves the average as it was. Points keep their x.
 */
export function emaSmooth(points: readonly Point[], weight: number): Point[] {
  const w = clampSmoothing(weight);
  if (w === 0) return points.map((p) => ({ x: p.x, y: p.y }));
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return { x: p.x, y: p.y };
    last = last * w + (1 - w) * p.y;
    n++;
    return { x: p.x, y: last / (1 - Math.pow(w, n)) };
  });
}

/**
 * Seconds since the first step, as a function of a (possibly fractional, after downsampling)
 * step: linear between the steps whose finishing times are known. Lines with an unreadable time
 * are skipped; with no time at all the result is undefined (the axis stays on steps).
 */
export function elapsedAtStep(lines: readonly { step: number; time?: string }[]): ((step: number) => number) | undefined {
  const known: { step: number; t: number }[] = [];
  for (const l of lines) {
    const t = l.time === undefined ? NaN : Date.parse(l.time);
    if (Number.isFinite(t) && (!known.length || l.step > known[known.length - 1].step)) known.push({ step: l.step, t });
  }
  if (!known.length) return undefined;
  const t0 = known[0].t;
  return (step) => {
    if (step <= known[0].step) return 0;
    const last = known[known.length - 1];
    if (step >= last.step) return (last.t - t0) / 1000;
    let lo = 0;
    let hi = known.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (known[mid].step <= step) lo = mid;
      else hi = mid;
    }
    const a = known[lo];
    const b = known[hi];
    return (a.t - t0 + ((step - a.step) / (b.step - a.step)) * (b.t - a.t)) / 1000;
  };
}

export interface ViewedSeries {
  /** The series as measured; drawn faint behind `smoothed` when smoothing is on. */
  raw: Point[];
  /** The smoothed series, or undefined when smoothing is off. */
  smoothed?: Point[];
}

/** A series as the view shows it: x mapped to wall time when asked (and known), y smoothed. */
export function viewSeries(points: readonly Point[], view: ChartView, elapsed?: (step: number) => number): ViewedSeries {
  const raw = view.xAxis === 'time' && elapsed ? points.map((p) => ({ x: elapsed(p.x), y: p.y })) : points.map((p) => ({ x: p.x, y: p.y }));
  const w = clampSmoothing(view.smoothing);
  return w > 0 ? { raw, smoothed: emaSmooth(raw, w) } : { raw };
}

/** A PNG file name for a chart: its caption reduced to safe characters. */
export function chartFileName(caption: string): string {
  const stem =
    caption
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'chart';
  return `${stem}.png`;
}
