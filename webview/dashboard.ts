// The run dashboard: header (state, step, ETA, backend, actions), live training charts, the
// robustness curve and table of the run's evaluation results, and the newest sample perturbations.
// State changes go through the pure applyDashboardMessage; this file only draws.
import { formatDuration, formatEps } from '../src/formats/display';
import { trainingSeries } from '../src/extension/chartData';
import { applyDashboardMessage, emptyDashboard, type DashboardPart } from '../src/extension/dashboardModel';
import type { HostMessage } from '../src/extension/webviewProtocol';
import { elapsedAtStep } from '../src/extension/chartView';
import { chartControls } from './chartControls';
import { LineChart } from './charts';
import { byId, fill, frameThrottle, h } from './dom';
import { chartFigure, resultTable, resultWarnings, samplesGrid, settingLine, updateCurve } from './parts';
import { post } from './vscodeApi';

export function startDashboard(app: HTMLElement): (msg: HostMessage) => void {
  const state = emptyDashboard();
  const pending = new Set<DashboardPart>();

  const btnStop = h('button', { id: 'btn-stop', type: 'button', hidden: true, title: 'Stop after writing a checkpoint' }, 'Stop');
  const btnResume = h('button', { id: 'btn-resume', type: 'button', hidden: true, title: 'Resume from the newest checkpoint' }, 'Resume');
  const btnEvaluate = h(
    'button',
    { id: 'btn-evaluate', type: 'button', class: 'secondary', title: 'Evaluate the newest checkpoint on a data folder' },
    'Evaluate…',
  );
  btnStop.addEventListener('click', () => post({ type: 'run/stop' }));
  btnResume.addEventListener('click', () => post({ type: 'run/resume' }));
  btnEvaluate.addEventListener('click', () => post({ type: 'run/evaluate' }));

  const charts = h('section', { id: 'training-charts', class: 'charts', 'aria-label': 'Training' });
  const resultsSection = h('section', { id: 'results-section', hidden: true, 'aria-label': 'Evaluation results' }, h('h2', {}, 'Evaluation'));
  const resultsBody = h('div', { id: 'results-body' });
  const curveBox = h('div', { class: 'charts' });
  resultsSection.append(curveBox, resultsBody);
  const samplesSection = h(
    'section',
    { id: 'samples-section', 'aria-label': 'Sample perturbations' },
    h('h2', { id: 'samples-title' }, 'Sample perturbations'),
    h('div', { id: 'samples', role: 'list' }),
  );

  fill(
    app,
    h(
      'header',
      { id: 'run-header' },
      h('h1', { id: 'run-id' }, '…'),
      h('span', { id: 'run-method', class: 'badge' }),
      h('span', { id: 'run-state', class: 'badge', role: 'status', 'aria-live': 'polite' }),
      h('span', { id: 'run-step' }),
      h('span', { id: 'run-eta' }),
      h('span', { id: 'run-backend' }),
      h('span', { class: 'spacer' }),
      btnStop,
      btnResume,
      btnEvaluate,
    ),
    h('p', { id: 'run-message', hidden: true }),
    h('p', { id: 'panel-error', class: 'error', role: 'alert', hidden: true }),
    charts,
    resultsSection,
    samplesSection,
  );

  const training = { training: true };
  const loss = { training: true, loss: true };
  const agreement = chartFigure(charts, 'chart-agreement', 'Adversarial-agreement loss', 'step', 'loss', undefined, undefined, loss);
  const ce = chartFigure(charts, 'chart-ce', 'Cross-entropy terms and total loss', 'step', 'loss', undefined, undefined, loss);
  const accuracy = chartFigure(
    charts,
    'chart-accuracy',
    'Query accuracy: before adaptation, after, and under attack',
    'step',
    'accuracy (%)',
    [0, 100],
    '%',
    training,
  );
  const adaptation = chartFigure(
    charts,
    'chart-adaptation',
    "Adaptation: encoder moved by the inner loop (%), adapted encoders' cosine",
    'step',
    'value',
    undefined,
    undefined,
    training,
  );
  const trainingCharts = [agreement, ce, accuracy, adaptation];
  charts.before(chartControls((view) => trainingCharts.forEach((c) => c.setView(view))));
  let curve: LineChart | undefined;

  function drawRun(): void {
    const r = state.run;
    if (!r) return;
    byId('run-id').textContent = r.id;
    byId('run-method').textContent = r.method;
    const st = byId('run-state');
    st.textContent = r.interrupted ? 'stopped (interrupted)' : r.state;
    st.dataset.state = r.state;
    const step = byId('run-step');
    step.textContent = r.totalSteps ? `step ${r.step} / ${r.totalSteps}` : `step ${r.step}`;
    step.dataset.step = String(r.step);
    step.dataset.total = String(r.totalSteps);
    byId('run-eta').textContent = r.state === 'running' && r.etaSeconds != null ? `ETA ${formatDuration(r.etaSeconds)}` : '';
    byId('run-backend').textContent = r.backend ? `backend: ${r.backend}` : '';
    const msg = byId('run-message');
    msg.textContent = r.message ?? '';
    msg.hidden = !r.message;
    btnStop.hidden = !(r.ownedHere && r.state === 'running');
    btnResume.hidden = !r.resumable;
    document.title = `${r.id} (${r.state})`;
  }

  function drawMetrics(): void {
    const s = trainingSeries(state.metrics);
    const elapsed = elapsedAtStep(state.metrics);
    agreement.update([{ label: 'agreement loss', points: s.agreement, color: 4, elapsed }]);
    ce.update([
      { label: 'cross-entropy', points: s.ce, color: 0, elapsed },
      { label: 'total loss', points: s.loss, color: 3, dashed: true, elapsed },
    ]);
    accuracy.update([
      { label: 'clean, after adaptation', points: s.clean, color: 2, elapsed },
      { label: 'robust, after adaptation', points: s.robust, color: 1, elapsed },
      { label: 'clean, before adaptation', points: s.before, color: 5, dashed: true, elapsed },
    ]);
    adaptation.update([
      { label: 'encoder shift (%)', points: s.innerShift, color: 0, elapsed },
      { label: 'encoder cosine', points: s.encoderCosine, color: 4, elapsed },
    ]);
    byId('chart-adaptation-figure').classList.toggle('no-data', s.innerShift.length === 0 && state.metrics.length > 0);
    byId('chart-agreement-figure').classList.toggle('no-data', s.agreement.length === 0 && state.metrics.length > 0);
  }

  function drawResults(): void {
    resultsSection.hidden = state.results.length === 0;
    if (!state.results.length) return;
    if (!curve)
      curve = chartFigure(curveBox, 'chart-curve', 'Robustness curve: robust accuracy over eps', 'eps (×1/255)', 'robust accuracy (%)', [0, 100], '%');
    updateCurve(curve, state.results, state.results.length > 1);
    const links = h('p', { class: 'result-links' }, 'Open: ');
    for (const r of state.results) {
      const a = h('a', { href: '#', class: 'result-link', 'data-name': r.name }, r.name);
      a.addEventListener('click', (e) => {
        e.preventDefault();
        post({ type: 'result/open', name: r.name });
      });
      links.append(a, ' ');
    }
    fill(resultsBody, resultTable(state.results, state.results.length > 1), resultWarnings(state.results), ...state.results.map(settingLine), links);
  }

  function drawSamples(): void {
    const s = state.samples;
    byId('samples-title').textContent = s
      ? `Sample perturbations (step ${s.step}, eps ${formatEps(s.eps)}, perturbation ×${Number(s.amplification.toFixed(1))})`
      : 'Sample perturbations (none written yet)';
    byId('samples').replaceWith(samplesGrid(s ? [{ samples: s.images }] : []));
  }

  function drawError(): void {
    const el = byId('panel-error');
    el.textContent = state.error ?? '';
    el.hidden = !state.error;
  }

  const redraw = frameThrottle(() => {
    if (pending.has('run')) drawRun();
    if (pending.has('metrics')) drawMetrics();
    if (pending.has('results')) drawResults();
    if (pending.has('samples')) drawSamples();
    if (pending.has('error')) drawError();
    pending.clear();
    app.setAttribute('aria-busy', 'false');
    app.dataset.steps = String(state.metrics.length);
  });

  return (msg) => {
    for (const part of applyDashboardMessage(state, msg)) pending.add(part);
    if (pending.size) redraw();
  };
}
