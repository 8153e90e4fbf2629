// The toolbar over a panel's training charts: EMA smoothing slider, x axis (step / wall time),
// log scale for losses. The view is kept in the webview's own storage, so it survives the page
// being rebuilt when the panel is hidden and shown again.
import { clampSmoothing, DEFAULT_CHART_VIEW, MAX_SMOOTHING, type ChartView, type XAxis } from '../src/extension/chartView';
import { h } from './dom';

const STORAGE_KEY = 'robustMeta.chartView';

function loadView(): ChartView {
  try {
    const v = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<ChartView> | null;
    if (!v) return { ...DEFAULT_CHART_VIEW };
    return {
      smoothing: clampSmoothing(Number(v.smoothing ?? DEFAULT_CHART_VIEW.smoothing)),
      xAxis: v.xAxis === 'time' ? 'time' : 'step',
      logLosses: v.logLosses === true,
    };
  } catch {
    return { ...DEFAULT_CHART_VIEW };
  }
}

function storeView(v: ChartView): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(v));
  } catch {
    /* storage off: the view lasts as long as the page */
  }
}

/** The toolbar #chart-controls; `onChange` hears the view now and after every change. */
export function chartControls(onChange: (view: ChartView) => void): HTMLElement {
  let view = loadView();
  const slider = h('input', {
    id: 'smoothing',
    type: 'range',
    min: '0',
    max: String(MAX_SMOOTHING),
    step: '0.01',
    value: String(view.smoothing),
    'aria-label': 'Smoothing',
  }) as HTMLInputElement;
  const value = h('output', { id: 'smoothing-value', for: 'smoothing' }, view.smoothing.toFixed(2));
  const axis = h(
    'select',
    { id: 'x-axis', 'aria-label': 'x axis' },
    h('option', { value: 'step', selected: view.xAxis === 'step' }, 'step'),
    h('option', { value: 'time', selected: view.xAxis === 'time' }, 'wall time'),
  ) as HTMLSelectElement;
  const log = h('input', { id: 'log-losses', type: 'checkbox', checked: view.logLosses }) as HTMLInputElement;
  const changed = () => {
    view = { smoothing: clampSmoothing(Number(slider.value)), xAxis: axis.value as XAxis, logLosses: log.checked };
    value.textContent = view.smoothing.toFixed(2);
    storeView(view);
    onChange(view);
  };
  slider.addEventListener('input', changed);
  axis.addEventListener('change', changed);
  log.addEventListener('change', changed);
  queueMicrotask(() => onChange(view));
  return h(
    'div',
    { id: 'chart-controls', class: 'chart-controls', role: 'toolbar', 'aria-label': 'Chart view' },
    h('label', { for: 'smoothing', title: 'Exponential moving average, debiased (as TensorBoard); the raw series stays faint behind' }, 'Smoothing '),
    slider,
    value,
    h('label', { for: 'x-axis' }, 'x axis '),
    axis,
    h('label', {}, log, ' log scale for losses'),
  );
}
