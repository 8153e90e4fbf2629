// The demo's HTML report: one self-contained file (no scripts, no external files) with, per
// unseen domain, the comparison table, the robustness curve and sample perturbations, then the
// training curves; charts as inline SVG, images as inline base64 PNGs. Pure functions of the data, so they are testable.
import type { EvalResultFile, ModelEval } from '../core/evalResult';
import type { MetricRow } from '../formats/run';
import { meaningful } from '../core/eval/diagnostics';
import { adaptationSummary, formatAdaptation } from '../core/stepMetrics';
import { formatPercent, formatPoints } from '../formats/display';
import { formatComparison } from './table';

export interface Series {
  name: string;
  points: [number, number][];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Fixed y range, e.g. [0, 1] for accuracies. */
  yRange?: [number, number];
  /** Formats tick labels. */
  xFormat?: (x: number) => string;
  yFormat?: (y: number) => string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A line chart as an SVG element, with axes, ticks and a legend. */
export function lineChart(series: Series[], o: ChartOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 300;
  const m = { l: 56, r: 16, t: 30, b: 44 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = o.yRange ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const fx = o.xFormat ?? ((x: number) => String(Number(x.toPrecision(4))));
  const fy = o.yFormat ?? ((y: number) => String(Number(y.toPrecision(4))));
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(o.title)}">`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">${escapeHtml(o.title)}</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeHtml(fy(t))}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<line x1="${px(t).toFixed(1)}" x2="${px(t).toFixed(1)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#333"/>`);
    parts.push(`<text x="${px(t).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${escapeHtml(fx(t))}</text>`);
  }
  parts.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`,
  );
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${escapeHtml(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length) {
      parts.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
      );
      if (pts.length <= 12) for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`);
    }
    const ly = m.t + 6 + i * 16;
    parts.push(
      `<rect x="${W - m.r - 130}" y="${ly}" width="12" height="3" fill="${colour}"/><text x="${W - m.r - 112}" y="${ly + 5}" font-size="11">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Moving average over a window, so noisy per-step losses read as a trend. */
export function smooth(points: [number, number][], window: number): [number, number][] {
  if (window <= 1) return points;
  const out: [number, number][] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i][1];
    if (i >= window) sum -= points[i - window][1];
    out.push([points[i][0], sum / Math.min(i + 1, window)]);
  }
  return out;
}

export interface ReportRun {
  method: string;
  runDir: string;
  metrics: MetricRow[];
  seconds: number;
}

export interface ReportData {
  title: string;
  createdAt: string;
  /** Lines describing the setting (budget, data, backend). */
  setting: string[];
  runs: ReportRun[];
  /** One evaluation per unseen domain, each with its own table, curve and samples. */
  domains: ReportDomain[];
}

export interface ReportDomain {
  result: EvalResultFile;
  /** PNG bytes for each model's samples (same order as result.models[i].samples). */
  samplePngs: { clean: Buffer; perturbation: Buffer; adversarial: Buffer }[][];
  /** Notes under the table (e.g. whether the headline holds at this budget). */
  notes: string[];
}

function estimateCell(e: { mean: number; ci95: number }): string {
  return `${formatPercent(e.mean)} &plusmn; ${formatPoints(e.ci95)}`;
}

function sampleBlock(m: ModelEval, pngs: ReportDomain['samplePngs'][number]): string {
  if (!m.samples?.length || !pngs?.length) return '';
  const img = (b: Buffer, alt: string) => `<img alt="${escapeHtml(alt)}" src="data:image/png;base64,${b.toString('base64')}">`;
  const cells = m.samples
    .map((s, i) =>
      pngs[i]
        ? `<figure>${img(pngs[i].clean, 'clean')}${img(pngs[i].perturbation, 'perturbation')}${img(pngs[i].adversarial, 'adversarial')}<figcaption>true <b>${escapeHtml(s.trueLabel)}</b>; clean &rarr; ${escapeHtml(s.cleanPred)}; attacked &rarr; <b class="${s.adversarialPred === s.trueLabel ? 'ok' : 'bad'}">${escapeHtml(s.adversarialPred)}</b></figcaption></figure>`
        : '',
    )
    .join('');
  return `<h3>${escapeHtml(m.model)}</h3><div class="samples">${cells}</div>`;
}

/** One unseen domain's section: setting, table, diagnostics, paired differences, robustness curve, samples. */
function domainSection(d: ReportDomain): string {
  const r = d.result;
  const eps255 = (e: number) => `${Math.round(e * 255 * 10) / 10}/255`;
  const diagCells = (m: ModelEval) => {
    const g = m.diagnostics;
    if (!g) return '<td>-</td><td>-</td><td>-</td>';
    return `<td>${formatPercent(g.meanMaxSoftmax.mean)}</td><td>${formatPercent(g.topClassShare.mean)}</td><td>${g.robustGivenClean === null ? '-' : formatPercent(g.robustGivenClean)}</td>`;
  };
  const flagged = (m: ModelEval) => (m.diagnostics && !meaningful(m.diagnostics) ? ' class="bad" title="at chance or collapsed"' : '');
  const rows = r.models
    .map(
      (m) =>
        `<tr><td${flagged(m)}>${escapeHtml(m.method)}${flagged(m) ? ' !' : ''}</td><td>${m.head}</td><td>${estimateCell(m.clean)}</td><td>${estimateCell(m.robust)}</td>${m.curve.map((p) => `<td>${formatPercent(p.accuracy.mean)}</td>`).join('')}${diagCells(m)}<td>${m.seconds.toFixed(0)} s</td></tr>`,
    )
    .join('');
  const chance = r.models.find((m) => m.diagnostics)?.diagnostics?.chance ?? 1 / r.setting.ways;
  const warnings = r.models.flatMap((m) => (m.diagnostics?.warnings ?? []).map((w) => `${m.method} (${m.head}): ${w}`));
  const comparisons = (r.comparisons ?? []).map(formatComparison);
  const curveHead = (r.models[0]?.curve ?? []).map((p) => `<th>${eps255(p.eps)}</th>`).join('');
  const curveChart = lineChart(
    r.models.map((m) => ({
      name: `${m.method}${m.head === 'prototype' && m.method !== 'rocl' ? ' proto' : ''}`,
      points: m.curve.map((p) => [p.eps * 255, p.accuracy.mean] as [number, number]),
    })),
    {
      title: `Robustness curve on ${r.setting.dataset} (unseen domain)`,
      xLabel: 'eps (x/255)',
      yLabel: 'accuracy',
      yRange: [0, 1],
      yFormat: (y) => `${Math.round(y * 100)}%`,
    },
  );
  const samples = r.models.map((m, i) => sampleBlock(m, d.samplePngs[i])).join('');
  const s = r.setting;
  return `<h2>Unseen domain: ${escapeHtml(s.dataset)}</h2>
<p>${s.ways}-way ${s.shots}-shot, ${s.queries} queries, ${s.episodes} episodes (${s.split} classes), adapted with ${s.innerStepsTest} inner steps; robust = PGD-${s.attack.steps} (${s.attack.norm}, eps ${eps255(s.attack.eps)}, step ${eps255(s.attack.stepSize)}); &plusmn; is the 95% confidence interval.</p>
<table><thead><tr><th>method</th><th>head</th><th>clean</th><th>robust</th>${curveHead}<th>max-p</th><th>top class</th><th>robust | clean</th><th>eval time</th></tr></thead><tbody>${rows}</tbody></table>
<p>Chance is ${formatPercent(chance)}. max-p: mean largest softmax probability (clean); top class: share of an episode's queries given to its most predicted class; robust | clean: robust accuracy among the queries classified correctly when clean. A model marked ! is at chance or collapsed: its robust accuracy is not robustness. Head: the method's own inner loop (finetune) or the frozen-encoder prototype head.</p>
${warnings.length ? `<ul>${warnings.map((n) => `<li class="bad">${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${comparisons.length ? `<h3>Paired differences (same episodes and attacks)</h3><ul>${comparisons.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
${d.notes.length ? `<ul>${d.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<div class="charts">${curveChart}</div>
<h3>Sample perturbations on ${escapeHtml(s.dataset)}</h3>
<p>Each: the clean query image, its perturbation (amplified to be visible; grey is zero), and the adversarial image, with the adapted model's predictions.</p>
${samples}
`;
}

/** The report as one HTML document. */
export function renderReport(d: ReportData): string {
  const window = Math.max(1, Math.round(Math.max(...d.runs.map((x) => x.metrics.length)) / 20));
  const lossChart = lineChart(
    d.runs.map((x) => ({
      name: x.method,
      points: smooth(
        x.metrics.map((m) => [m.step, m.loss] as [number, number]),
        window,
      ),
    })),
    { title: `Training loss (moving average of ${window})`, xLabel: 'meta-step', yLabel: 'outer loss' },
  );
  const trainingSeries = (name: string, lines: MetricRow[], pick: (m: MetricRow) => number | null | undefined): Series => ({
    name,
    points: smooth(
      lines.filter((m) => typeof pick(m) === 'number').map((m) => [m.step, pick(m)!] as [number, number]),
      window,
    ),
  });
  const accChart = lineChart(
    d.runs
      .flatMap((x) => [
        trainingSeries(`${x.method} after`, x.metrics, (m) => m.cleanAcc),
        trainingSeries(`${x.method} before`, x.metrics, (m) => m.cleanAccBefore),
      ])
      .filter((x) => x.points.length),
    {
      title: 'Training query accuracy, before and after the inner loop',
      xLabel: 'meta-step',
      yLabel: 'accuracy',
      yRange: [0, 1],
      yFormat: (y) => `${Math.round(y * 100)}%`,
    },
  );
  const robustChart = lineChart(
    d.runs.map((x) => trainingSeries(x.method, x.metrics, (m) => m.robustAcc)).filter((x) => x.points.length),
    {
      title: 'Training query accuracy under the training attack',
      xLabel: 'meta-step',
      yLabel: 'accuracy',
      yRange: [0, 1],
      yFormat: (y) => `${Math.round(y * 100)}%`,
    },
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(d.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}
table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}
th{background:#f4f4f4}.charts{display:flex;flex-wrap:wrap;gap:12px}.samples{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;border:1px solid #ddd;padding:6px}figure img{image-rendering:pixelated;width:84px;height:84px;margin-right:4px}
figcaption{font-size:12px}.ok{color:#2a7d2a}.bad{color:#b22}code{background:#f4f4f4;padding:1px 4px}ul{padding-left:20px}
</style></head><body>
<h1>${escapeHtml(d.title)}</h1>
<p>${escapeHtml(d.createdAt)}</p>
<ul>${d.setting.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${d.domains.map(domainSection).join('')}
<h2>Training</h2>
<div class="charts">${accChart}${robustChart}${lossChart}</div>
<h2>Runs</h2>
<ul>${d.runs.map((x) => `<li>${escapeHtml(x.method)}: <code>${escapeHtml(x.runDir)}</code>, ${x.metrics.length} steps in ${x.seconds.toFixed(0)} s; last 50 steps: ${escapeHtml(formatAdaptation(adaptationSummary(x.metrics)))}</li>`).join('')}</ul>
</body></html>
`;
}
