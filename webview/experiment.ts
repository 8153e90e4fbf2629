// The experiment panel: header with state, jobs done / total and ETA; the live grid of jobs
// (method x seed, phases training / validation / evaluation) with state and progress; once results
// exist, the methods x settings table (clean and robust with 95% intervals), per setting the
// verdict, paired differences, warnings (diagnostics, masking checks) and overlaid robustness
// curves; export buttons (Markdown, CSV, LaTeX).
import { formatDuration } from '../src/formats/display';
import type { GridCell, GridRow, ExperimentView } from '../src/extension/experimentView';
import type { HostMessage } from '../src/extension/webviewProtocol';
import type { LineChart } from './charts';
import { fill, h } from './dom';
import { chartFigure, showError } from './parts';
import { post } from './vscodeApi';

function cell(c: GridCell, phase: string): HTMLElement {
  return h(
    'td',
    { class: `job-cell cell-${phase}`, 'data-state': c.state, 'data-progress': c.progress.toFixed(3) },
    h('span', { class: 'job-text' }, c.text),
    c.state !== 'none' && h('progress', { max: '1', value: String(c.progress), 'aria-label': `${phase} ${c.text}` }),
  );
}

function gridRow(r: GridRow): HTMLElement {
  const name = h('a', { href: '#', class: 'job-name', title: "Open this run's dashboard" }, r.name);
  name.addEventListener('click', (e) => {
    e.preventDefault();
    post({ type: 'experiment/openRun', name: r.name });
  });
  return h(
    'tr',
    { class: 'job-row', 'data-name': r.name, 'data-method': r.method, 'data-seed': r.seed },
    h('td', {}, name),
    h('td', {}, r.method),
    h('td', { class: 'num' }, String(r.seed)),
    cell(r.training, 'training'),
    cell(r.validation, 'validation'),
    cell(r.evaluation, 'evaluation'),
  );
}

export function startExperiment(app: HTMLElement): (msg: HostMessage) => void {
  const curves = new Map<string, LineChart>();
  return (msg) => {
    if (msg.type === 'panel/error') {
      showError(app, msg.message);
      return;
    }
    if (msg.type !== 'experiment/update') return;
    const v: ExperimentView = msg.view;
    document.title = `Experiment ${v.name}`;
    const p = v.progress;
    const exportButtons = (['markdown', 'csv', 'latex'] as const).map((format) => {
      const b = h(
        'button',
        { type: 'button', class: 'secondary', id: `btn-export-${format}`, disabled: v.table.rows.length === 0 },
        `Export ${format === 'markdown' ? 'Markdown' : format === 'csv' ? 'CSV' : 'LaTeX'}`,
      );
      b.addEventListener('click', () => post({ type: 'experiment/export', format }));
      return b;
    });
    const rows = v.table.rows.map((r) =>
      h(
        'tr',
        {
          class: `experiment-row${r.flagged ? ' result-flagged' : ''}`,
          'data-setting': r.setting,
          'data-method': r.method,
          'data-clean': r.clean.mean.toFixed(2),
          'data-robust': r.robust.mean.toFixed(2),
        },
        h('td', {}, r.setting),
        h('td', {}, r.method),
        h('td', { class: 'num' }, String(r.seeds)),
        h('td', { class: 'num' }, `${r.clean.mean.toFixed(1)} ± ${r.clean.ci.toFixed(1)}`),
        h('td', { class: 'num' }, `${r.robust.mean.toFixed(1)} ± ${r.robust.ci.toFixed(1)}`),
        h('td', {}, r.flagged ? 'no: at chance or collapsed' : 'yes'),
      ),
    );
    const curveBox = h('div', { class: 'charts' });
    fill(
      app,
      h(
        'header',
        {},
        h('h1', { id: 'experiment-name' }, v.name),
        h('span', { id: 'experiment-state', class: 'badge', 'data-state': p.state }, p.state),
        h('span', { id: 'experiment-progress', 'data-done': p.done, 'data-total': p.total }, `jobs ${p.done} / ${p.total}`),
        h('span', { id: 'experiment-eta' }, p.etaSeconds != null ? `ETA ${formatDuration(p.etaSeconds)}` : ''),
        h('span', { class: 'spacer' }),
        ...exportButtons,
      ),
      h(
        'section',
        { 'aria-label': 'Jobs' },
        h('h2', {}, 'Jobs'),
        h(
          'table',
          { id: 'job-grid', class: 'data-table' },
          h('thead', {}, h('tr', {}, ...['Run', 'Method', 'Seed', 'Training', 'Validation', 'Evaluation'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...v.grid.map(gridRow)),
        ),
      ),
      h(
        'section',
        { id: 'experiment-results', 'aria-label': 'Results', hidden: rows.length === 0 },
        h('h2', {}, 'Results (mean over seeds, 95% interval)'),
        h(
          'table',
          { id: 'experiment-table', class: 'data-table' },
          h(
            'thead',
            {},
            h('tr', {}, ...['Setting', 'Method', 'Seeds', 'Clean acc. %', 'Robust acc. %', 'Meaningful?'].map((t) => h('th', { scope: 'col' }, t))),
          ),
          h('tbody', {}, ...rows),
        ),
        ...v.table.settings.map((s) =>
          h(
            'div',
            { class: 'setting-summary', 'data-setting': s.setting },
            h('h3', {}, s.setting),
            h('p', { class: 'verdict' }, s.verdict),
            s.differences.length > 0 && h('ul', { class: 'differences' }, ...s.differences.map((d) => h('li', {}, d))),
            s.warnings.length > 0 && h('ul', { class: 'result-warnings' }, ...s.warnings.map((w) => h('li', {}, w))),
          ),
        ),
        curveBox,
      ),
    );
    curves.forEach((c) => c.destroy());
    curves.clear();
    for (const s of v.table.settings) {
      if (!s.curves.length) continue;
      const chart = chartFigure(curveBox, `chart-curve-${s.setting}`, `Robustness curves, ${s.setting}`, 'eps (×1/255)', 'robust accuracy (%)', [0, 100], '%');
      chart.update(s.curves.map((c, i) => ({ label: c.label, points: c.points, color: i, markers: true })));
      curves.set(s.setting, chart);
    }
    app.setAttribute('aria-busy', 'false');
  };
}
