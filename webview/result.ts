// The result panel: one evaluation's table (clean and robust accuracy with 95% CI per model),
// its robustness curve and the sample perturbations of each model.
import type { HostMessage } from '../src/extension/webviewProtocol';
import { fill, h } from './dom';
import { chartFigure, resultTable, resultWarnings, samplesGrid, settingLine, updateCurve, showError } from './parts';

export function startResult(app: HTMLElement): (msg: HostMessage) => void {
  return (msg) => {
    if (msg.type === 'panel/error') {
      showError(app, msg.message);
      return;
    }
    if (msg.type !== 'result/init') return;
    const r = msg.result;
    document.title = msg.title;
    const charts = h('section', { class: 'charts' });
    const several = r.result.models.length > 1;
    const groups = r.result.models.map((m, i) => ({ label: several ? m.model : undefined, samples: r.samples[i] ?? [] }));
    const hasSamples = groups.some((g) => g.samples.length > 0);
    fill(
      app,
      h('header', { id: 'result-header' }, h('h1', { id: 'result-title' }, msg.title)),
      h('section', { 'aria-label': 'Results' }, resultTable([r], false), resultWarnings([r]), settingLine(r)),
      charts,
      h(
        'section',
        { id: 'samples-section', 'aria-label': 'Sample perturbations' },
        h('h2', {}, hasSamples ? 'Sample perturbations (clean | perturbation, amplified | adversarial)' : 'Sample perturbations (none saved with this result)'),
        samplesGrid(groups),
      ),
    );
    const curve = chartFigure(charts, 'chart-curve', 'Robustness curve: robust accuracy over eps', 'eps (×1/255)', 'robust accuracy (%)', [0, 100], '%');
    updateCurve(curve, [r], false);
    app.setAttribute('aria-busy', 'false');
  };
}
