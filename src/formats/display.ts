// How figures are shown to people, in one style for the CLI, the HTML report, results.md, the
// extension and the webview: fractions as percentages with one decimal, estimates with their 95%
// interval, attack radii in 255ths, durations as '3m 05s', and an en dash where a figure is
// missing. Dependency-free (the webview bundles it).
import type { Estimate } from './evalResult';

/** Shown where a figure is missing (null, absent or not finite). */
export const MISSING = '–';

function isFigure(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** 2.31456 -> '2.3146' (digits after the point). */
export function formatNumber(v: number | null | undefined, digits = 4): string {
  return isFigure(v) ? v.toFixed(digits) : MISSING;
}

/** A fraction as a percentage: 0.5031 -> '50.3%'. */
export function formatPercent(v: number | null | undefined, digits = 1): string {
  return isFigure(v) ? `${(100 * v).toFixed(digits)}%` : MISSING;
}

/** A fraction in percentage points, for columns headed '%': 0.5031 -> '50.3'. */
export function formatPoints(v: number | null | undefined, digits = 1): string {
  return isFigure(v) ? (100 * v).toFixed(digits) : MISSING;
}

/** 0.5031, 0.0078 -> '50.3 ± 0.8' (percentage points). */
export function formatEstimate(e: Estimate | undefined): string {
  if (!e || !isFigure(e.mean)) return MISSING;
  return `${formatPoints(e.mean)} ± ${formatPoints(isFigure(e.ci95) ? e.ci95 : 0)}`;
}

/** A radius for people: 8/255 -> '8/255' for L-inf when it is a whole or half number of 255ths, else the number. */
export function formatEps(eps: number, norm: 'linf' | 'l2' = 'linf'): string {
  const k = eps * 255;
  if (norm === 'linf' && Math.abs(k * 2 - Math.round(k * 2)) < 1e-6) return eps === 0 ? '0' : `${+k.toFixed(1)}/255`;
  return String(+eps.toPrecision(3));
}

/** A difference of fractions with its interval, in signed points: '+3.1 [+1.0, +5.2]'. */
export function formatDifference(d: { mean: number; low: number; high: number }): string {
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  return `${pts(d.mean)} [${pts(d.low)}, ${pts(d.high)}]`;
}

/** Seconds as '1h 02m', '3m 05s', '12s'. */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isFigure(seconds) || seconds < 0) return MISSING;
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
