// View parts shared by the panels: the result table, the robustness-curve chart, the sample grid.
import { formatEps, formatEstimate } from '../src/formats/display';
import { curveSeries, resultRows, type ResultRow } from '../src/extension/chartData';
import type { ResultView, SampleView } from '../src/extension/webviewProtocol';
import { chartFileName } from '../src/extension/chartView';
import { LineChart } from './charts';
import { h } from './dom';
import { post } from './vscodeApi';

/** Table #result-table: one row (.result-row) per model and result, clean and robust accuracy with 95% CI. */
export function resultTable(results: ResultView[], showSource: boolean): HTMLTableElement {
  const rows: ResultRow[] = results.flatMap((r) => resultRows(r.result, r.label));
  const head = h(
    'tr',
    {},
    showSource && h('th', { scope: 'col' }, 'Source'),
    h('th', { scope: 'col' }, 'Model'),
    h('th', { scope: 'col' }, 'Head'),
    h('th', { scope: 'col' }, 'Dataset'),
    h('th', { scope: 'col' }, 'Setting'),
    h('th', { scope: 'col' }, 'Episodes'),
    h('th', { scope: 'col', class: 'num' }, 'Clean acc. % (95% CI)'),
    h('th', { scope: 'col', class: 'num' }, 'Robust acc. % (95% CI)'),
    h('th', { scope: 'col' }, 'Meaningful?'),
  );
  const body = h('tbody');
  for (const r of rows) {
    body.append(
      h(
        'tr',
        {
          class: `result-row${r.flagged ? ' result-flagged' : ''}`,
          'data-model': r.model,
          'data-head': r.head,
          'data-dataset': r.dataset,
          'data-clean': r.clean.mean,
          'data-robust': r.robust.mean,
          'data-flagged': String(r.flagged),
        },
        showSource && h('td', {}, r.source),
        h('td', {}, r.model),
        h('td', {}, r.head),
        h('td', {}, r.dataset),
        h('td', {}, r.setting),
        h('td', { class: 'num' }, String(r.episodes)),
        h('td', { class: 'num cell-clean' }, formatEstimate(r.clean)),
        h('td', { class: 'num cell-robust' }, formatEstimate(r.robust)),
        h('td', { class: 'cell-verdict', title: r.warnings.join('\n') }, r.flagged ? `no: at chance (${(100 * r.chance).toFixed(0)}%) or collapsed` : 'yes'),
      ),
    );
  }
  return h('table', { id: 'result-table', class: 'data-table', 'aria-label': 'Evaluation results' }, h('thead', {}, head), body);
}

/** The warnings of flagged models (at chance, collapsed), as a list under the table. */
export function resultWarnings(results: ResultView[]): HTMLElement {
  const items = results.flatMap((r) =>
    resultRows(r.result, r.label).flatMap((row) => row.warnings.map((w) => h('li', {}, `${row.model} (${row.head}): ${w}`))),
  );
  return h('ul', { class: 'result-warnings', hidden: items.length === 0 }, ...items);
}

/** A line under the table saying how the results were measured. */
export function settingLine(r: ResultView): HTMLElement {
  const s = r.result.setting;
  const a = s.attack;
  const text =
    `${r.label}: ${s.dataset} (${s.split}), ${s.ways}-way ${s.shots}-shot, ${s.queries} queries, ${s.episodes} episodes, seed ${s.seed}; ` +
    `attack PGD-${a.steps} ${a.norm === 'linf' ? 'L∞' : 'L2'} eps ${formatEps(a.eps)}${a.restarts > 1 ? `, ${a.restarts} restarts` : ''}; ${s.innerStepsTest} inner steps at test` +
    (s.backend ? `; backend ${s.backend}` : '');
  return h('p', { class: 'result-setting' }, text);
}

/** A figure with a chart canvas and a "Save as PNG" button; returns the chart. A training chart
 * follows the panel's chart view; a loss chart may use a log scale. */
export function chartFigure(
  parent: HTMLElement,
  id: string,
  caption: string,
  x: string,
  y: string,
  yRange?: [number, number],
  unit?: string,
  kind: { training?: boolean; loss?: boolean } = {},
): LineChart {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': caption });
  const save = h('button', { type: 'button', class: 'secondary chart-save', 'data-chart': id, title: 'Save this chart as a PNG file' }, 'Save PNG');
  parent.append(h('figure', { class: 'chart', id: `${id}-figure` }, h('figcaption', {}, caption, save), h('div', { class: 'chart-box' }, canvas)));
  const chart = new LineChart(canvas, { xLabel: x, yLabel: y, yMin: yRange?.[0], yMax: yRange?.[1], yUnit: unit, ...kind });
  save.addEventListener('click', () => post({ type: 'chart/save', name: chartFileName(caption), png: chart.toPng() }));
  return chart;
}

export function updateCurve(chart: LineChart, results: ResultView[], prefixWithLabel: boolean): void {
  const series = results.flatMap((r) => curveSeries(r.result, prefixWithLabel ? `${r.label}: ` : ''));
  chart.update(series.map((s, i) => ({ label: s.label, points: s.points, color: i, markers: true })));
}

function sampleItem(s: SampleView, index: number, group?: string): HTMLElement {
  const wrong = s.adversarialPred !== s.trueLabel;
  return h(
    'figure',
    {
      class: `sample${wrong ? ' sample-fooled' : ''}`,
      role: 'listitem',
      'data-index': index,
      'data-group': group,
      'aria-label': `Sample ${index + 1}: true ${s.trueLabel}, clean ${s.cleanPred}, adversarial ${s.adversarialPred}`,
    },
    h(
      'div',
      { class: 'sample-images' },
      h('img', { class: 'sample-clean', src: s.clean, alt: `clean image, true label ${s.trueLabel}`, title: 'clean' }),
      h('img', { class: 'sample-perturbation', src: s.perturbation, alt: 'perturbation (amplified)', title: 'perturbation (amplified)' }),
      h('img', { class: 'sample-adversarial', src: s.adversarial, alt: `adversarial image, predicted ${s.adversarialPred}`, title: 'adversarial' }),
    ),
    h(
      'figcaption',
      { class: 'sample-labels' },
      group && h('span', { class: 'label-group' }, group),
      h('span', { class: 'label-true' }, `true: ${s.trueLabel}`),
      h('span', { class: `label-clean${s.cleanPred === s.trueLabel ? ' ok' : ' bad'}` }, `clean: ${s.cleanPred}`),
      h('span', { class: `label-adversarial${wrong ? ' bad' : ' ok'}` }, `adv: ${s.adversarialPred}`),
    ),
  );
}

/** The grid #samples: .sample items, each clean | perturbation | adversarial with labels. */
export function samplesGrid(groups: { label?: string; samples: SampleView[] }[]): HTMLElement {
  const grid = h('div', { id: 'samples', role: 'list', 'aria-label': 'Sample perturbations' });
  for (const g of groups) g.samples.forEach((s, i) => grid.append(sampleItem(s, i, g.label)));
  grid.dataset.count = String(grid.childElementCount);
  return grid;
}

/** Shows (or replaces) the error line at the top of the panel, keeping what is drawn. */
export function showError(app: HTMLElement, message: string): void {
  document.getElementById('panel-error')?.remove();
  app.prepend(h('p', { id: 'panel-error', class: 'error', role: 'alert' }, message));
  app.setAttribute('aria-busy', 'false');
}
