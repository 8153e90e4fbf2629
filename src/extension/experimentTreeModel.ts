// The Experiments tree's experiment part, as plain data: an experiment (a *.experiment.json spec)
// expands to its methods, each to its seed runs (ordinary run nodes, so their menus and dashboards
// work as for loose runs), and to its evaluation results. No vscode import.
import * as path from 'path';
import type { ExperimentProgress } from './experimentView';
import { formatDuration } from '../formats/display';
import type { RunEntry } from './runFolder';
import type { NodeView, TreeNode } from './treeModel';

export interface ExperimentEntry {
  spec: string;
  name: string;
  outDir: string;
  progress: ExperimentProgress;
  /** Runs of each method (in the spec's order), found under runs/<run name>/<run id>/. */
  methods: { method: string; runs: RunEntry[] }[];
  /** Result files: results/<label>.json (parts included), validation too. */
  results: { label: string; path: string }[];
  /** The spec could not be read. */
  problem?: string;
}

export type ExperimentNode =
  | { kind: 'experiment'; exp: ExperimentEntry }
  | { kind: 'experiment-method'; exp: ExperimentEntry; method: string; runs: RunEntry[] }
  | { kind: 'experiment-results'; exp: ExperimentEntry }
  | { kind: 'experiment-result'; exp: ExperimentEntry; label: string; path: string };

export type AnyNode = TreeNode | ExperimentNode;

export function isExperimentNode(n: AnyNode): n is ExperimentNode {
  return n.kind.startsWith('experiment');
}

const STATE_ICON: Record<ExperimentProgress['state'], string> = {
  'not started': 'circle-large-outline',
  running: 'sync~spin',
  stopped: 'debug-pause',
  done: 'pass',
};

export function experimentDescription(e: ExperimentEntry): string {
  if (e.problem) return `unreadable: ${e.problem}`;
  const p = e.progress;
  const eta = p.etaSeconds != null ? ` · ETA ${formatDuration(p.etaSeconds)}` : '';
  return `${p.state} · jobs ${p.done}/${p.total}${eta}`;
}

export function experimentNodeView(n: ExperimentNode): NodeView {
  const e = n.exp;
  switch (n.kind) {
    case 'experiment':
      return {
        id: `experiment:${e.spec}`,
        label: e.name,
        description: experimentDescription(e),
        tooltip: [
          `experiment ${e.name}`,
          `spec: ${e.spec}`,
          `folder: ${e.outDir}`,
          e.problem ?? `${e.progress.state}, jobs ${e.progress.done}/${e.progress.total}`,
        ].join('\n'),
        contextValue: `experiment.${e.progress.state.replace(' ', '-')}`,
        collapsible: e.methods.length > 0 || e.results.length > 0,
        icon: e.problem ? 'warning' : STATE_ICON[e.progress.state],
      };
    case 'experiment-method': {
      const done = n.runs.filter((r) => r.state === 'done').length;
      return {
        id: `experiment:${e.spec}/method:${n.method}`,
        label: n.method,
        description: `${n.runs.length} run${n.runs.length === 1 ? '' : 's'}, ${done} done`,
        tooltip: n.runs.map((r) => `${path.basename(path.dirname(r.dir))}: ${r.state}`).join('\n') || 'no runs yet',
        contextValue: 'experiment-method',
        collapsible: n.runs.length > 0,
        icon: 'symbol-method',
      };
    }
    case 'experiment-results':
      return {
        id: `experiment:${e.spec}/results`,
        label: 'evaluation results',
        description: `${e.results.length}`,
        tooltip: path.join(e.outDir, 'results'),
        contextValue: 'experiment-results',
        collapsible: e.results.length > 0,
        icon: 'graph-line',
      };
    case 'experiment-result':
      return {
        id: `experiment:${e.spec}/result:${n.label}`,
        label: n.label,
        description: 'result',
        tooltip: n.path,
        contextValue: 'result',
        collapsible: false,
        icon: 'graph-line',
      };
  }
}

export function experimentChildren(n: ExperimentNode): AnyNode[] {
  switch (n.kind) {
    case 'experiment':
      return [
        ...n.exp.methods.map((m): ExperimentNode => ({ kind: 'experiment-method', exp: n.exp, method: m.method, runs: m.runs })),
        ...(n.exp.results.length ? [{ kind: 'experiment-results', exp: n.exp } as ExperimentNode] : []),
      ];
    case 'experiment-method':
      return n.runs.map((run): TreeNode => ({ kind: 'run', run }));
    case 'experiment-results':
      return n.exp.results.map((r): ExperimentNode => ({ kind: 'experiment-result', exp: n.exp, label: r.label, path: r.path }));
    case 'experiment-result':
      return [];
  }
}
