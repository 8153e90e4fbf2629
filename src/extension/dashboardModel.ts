// The state of a dashboard webview and how each host message changes it. Pure, so the message
// handling is unit-tested without a DOM; webview/dashboard.ts renders what changed.
import type { MetricRow } from '../formats/run';
import { mergeMetrics } from './chartData';
import type { HostMessage, ResultView, RunView, SampleSetView } from './webviewProtocol';

export interface DashboardState {
  run: RunView | null;
  metrics: MetricRow[];
  samples: SampleSetView | null;
  results: ResultView[];
  error: string | null;
}

export type DashboardPart = 'run' | 'metrics' | 'samples' | 'results' | 'error';

export function emptyDashboard(): DashboardState {
  return { run: null, metrics: [], samples: null, results: [], error: null };
}

/** Applies one host message; returns the parts of the view to redraw (empty: nothing changed). */
export function applyDashboardMessage(state: DashboardState, msg: HostMessage): Set<DashboardPart> {
  const changed = new Set<DashboardPart>();
  switch (msg.type) {
    case 'dashboard/init':
      state.run = msg.run;
      state.metrics = mergeMetrics([], msg.metrics);
      state.samples = msg.samples;
      state.results = msg.results;
      state.error = null;
      ['run', 'metrics', 'samples', 'results', 'error'].forEach((p) => changed.add(p as DashboardPart));
      break;
    case 'dashboard/metrics':
      if (msg.reset) state.metrics = [];
      if (msg.metrics.length || msg.reset) {
        mergeMetrics(state.metrics, msg.metrics);
        changed.add('metrics');
      }
      break;
    case 'dashboard/run':
      state.run = msg.run;
      changed.add('run');
      break;
    case 'dashboard/samples':
      state.samples = msg.samples;
      changed.add('samples');
      break;
    case 'dashboard/results':
      state.results = msg.results;
      changed.add('results');
      break;
    case 'panel/error':
      state.error = msg.message;
      changed.add('error');
      break;
    default:
      break;
  }
  return changed;
}
