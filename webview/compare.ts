// Compare Runs: the picked runs side by side (last-steps accuracy table and overlaid training
// curves) and the picked results side by side (one table, overlaid robustness curves).
import { formatNumber, formatPoints } from '../src/formats/display';
import { runSummaryRow, trainingSeries } from '../src/extension/chartData';
import type { CompareRunView, HostMessage, ResultView } from '../src/extension/webviewProtocol';
import { elapsedAtStep } from '../src/extension/chartView';
import { chartControls } from './chartControls';
import { fill, h } from './dom';
import { chartFigure, resultTable, resultWarnings, settingLine, updateCurve, showError } from './parts';

function runsTable(runs: CompareRunView[]): HTMLTableElement {
  const body = h('tbody');
  for (const r of runs) {
    const row = runSummaryRow(r.run, r.metrics);
    body.append(
      h(
        'tr',
        { class: 'compare-run-row', 'data-run': row.run },
        h('td', {}, row.run),
        h('td', {}, row.method),
        h('td', {}, row.state),
        h('td', { class: 'num' }, String(row.step)),
        h('td', { class: 'num' }, formatPoints(row.cleanAcc)),
        h('td', { class: 'num' }, formatPoints(row.robustAcc)),
        h('td', { class: 'num' }, formatNumber(row.agreementLoss, 3)),
      ),
    );
  }
  const head = h(
    'tr',
    {},
    ...['Run', 'Method', 'State', 'Step', 'Clean acc. %', 'Robust acc. %', 'Agreement loss'].map((t, i) =>
      h('th', { scope: 'col', class: i >= 3 ? 'num' : undefined }, t),
    ),
  );
  return h('table', { id: 'compare-runs-table', class: 'data-table', 'aria-label': 'Runs (means of the last 20 steps)' }, h('thead', {}, head), body);
}

export function startCompare(app: HTMLElement): (msg: HostMessage) => void {
  return (msg) => {
    if (msg.type === 'panel/error') {
      showError(app, msg.message);
      return;
    }
    if (msg.type !== 'compare/init') return;
    const runCharts = h('div', { class: 'charts' });
    const curveCharts = h('div', { class: 'charts' });
    const results: ResultView[] = msg.results;
    fill(
      app,
      h('header', {}, h('h1', {}, 'Compare runs')),
      msg.runs.length > 0 &&
        h('section', { id: 'compare-runs', 'aria-label': 'Runs' }, h('h2', {}, 'Training (means of the last 20 steps)'), runsTable(msg.runs), runCharts),
      results.length > 0 &&
        h(
          'section',
          { id: 'compare-results', 'aria-label': 'Results' },
          h('h2', {}, 'Evaluation'),
          resultTable(results, true),
          resultWarnings(results),
          ...results.map(settingLine),
          curveCharts,
        ),
    );
    if (msg.runs.length) {
      const training = { training: true };
      const robust = chartFigure(runCharts, 'chart-compare-robust', 'Robust query accuracy per step', 'step', 'accuracy (%)', [0, 100], '%', training);
      const clean = chartFigure(runCharts, 'chart-compare-clean', 'Clean query accuracy per step', 'step', 'accuracy (%)', [0, 100], '%', training);
      const loss = chartFigure(runCharts, 'chart-compare-loss', 'Total training loss per step', 'step', 'loss', undefined, undefined, {
        training: true,
        loss: true,
      });
      const series = msg.runs.map((r) => ({ id: r.run.id, s: trainingSeries(r.metrics, 600), elapsed: elapsedAtStep(r.metrics) }));
      robust.update(series.map((x, i) => ({ label: x.id, points: x.s.robust, color: i, elapsed: x.elapsed })));
      clean.update(series.map((x, i) => ({ label: x.id, points: x.s.clean, color: i, elapsed: x.elapsed })));
      loss.update(series.map((x, i) => ({ label: x.id, points: x.s.loss, color: i, elapsed: x.elapsed })));
      runCharts.before(chartControls((view) => [robust, clean, loss].forEach((c) => c.setView(view))));
    }
    if (results.length) {
      const curve = chartFigure(
        curveCharts,
        'chart-curve',
        'Robustness curves: robust accuracy over eps',
        'eps (×1/255)',
        'robust accuracy (%)',
        [0, 100],
        '%',
      );
      updateCurve(curve, results, true);
    }
    app.setAttribute('aria-busy', 'false');
  };
}
