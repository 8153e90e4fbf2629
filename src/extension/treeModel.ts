// What the Experiments tree shows, as plain data: nodes, labels, descriptions, context values
// (which the menus in package.json match with `viewItem == ...`). experimentsTree.ts turns these
// into vscode.TreeItems. No vscode import, so it is unit-tested on run folders made on disk.
import type { CheckpointEntry, ResultEntry, RunEntry } from './runFolder';

export type TreeNode =
  { kind: 'run'; run: RunEntry } | { kind: 'checkpoint'; run: RunEntry; checkpoint: CheckpointEntry } | { kind: 'result'; run: RunEntry; result: ResultEntry };

export interface NodeView {
  /** Stable across refreshes, so expansion and selection survive. */
  id: string;
  label: string;
  description?: string;
  tooltip: string;
  contextValue: string;
  collapsible: boolean;
  icon: string;
}

/** A run's state word for the tree: running/done/failed/stopped. */
export function stateWord(run: RunEntry): string {
  return run.interrupted ? 'stopped (interrupted)' : run.state;
}

export function runDescription(run: RunEntry): string {
  if (run.problem && run.method === '?') return `unreadable: ${run.problem}`;
  const step = run.totalSteps > 0 ? `step ${run.step}/${run.totalSteps}` : `step ${run.step}`;
  return `${run.method} · ${stateWord(run)} · ${step}${run.slurm ? ` · ${run.slurm.label}` : ''}`;
}

/** What the menus key on: run.<state>[.resumable][.slurmActive], checkpoint, result. */
export function runContextValue(run: RunEntry): string {
  const resumable = run.state !== 'running' && run.state !== 'done' && run.checkpoints.length > 0 && !run.slurm?.active;
  return `run.${run.state}${resumable ? '.resumable' : ''}${run.slurm?.active ? '.slurmActive' : ''}`;
}

const STATE_ICON: Record<string, string> = { running: 'sync~spin', done: 'pass', failed: 'error', stopped: 'debug-pause' };

export function nodeView(node: TreeNode): NodeView {
  switch (node.kind) {
    case 'run': {
      const r = node.run;
      const lines = [`${r.id}`, `method: ${r.method}`, `state: ${stateWord(r)}`, `step: ${r.step}${r.totalSteps ? `/${r.totalSteps}` : ''}`];
      if (r.backend) lines.push(`backend: ${r.backend}`);
      if (r.createdAt) lines.push(`created: ${r.createdAt}`);
      if (r.message) lines.push(r.message);
      if (r.problem) lines.push(`problem: ${r.problem}`);
      if (r.slurm) lines.push(`${r.slurm.label}${r.slurm.detail ? `: ${r.slurm.detail}` : ''}`);
      return {
        id: `run:${r.id}`,
        label: r.id,
        description: runDescription(r),
        tooltip: lines.join('\n'),
        contextValue: runContextValue(r),
        collapsible: r.checkpoints.length > 0 || r.results.length > 0,
        icon: r.problem ? 'warning' : STATE_ICON[r.state],
      };
    }
    case 'checkpoint':
      return {
        id: `checkpoint:${node.run.id}/${node.checkpoint.name}`,
        label: `checkpoint step ${node.checkpoint.step}`,
        description: node.checkpoint.name,
        tooltip: node.checkpoint.path,
        contextValue: 'checkpoint',
        collapsible: false,
        icon: 'save',
      };
    case 'result':
      return {
        id: `result:${node.run.id}/${node.result.name}`,
        label: node.result.name,
        description: 'result',
        tooltip: node.result.path,
        contextValue: 'result',
        collapsible: false,
        icon: 'graph-line',
      };
  }
}

/** Children of a node: a run shows its checkpoints (newest first), then its results. */
export function childrenOf(node: TreeNode): TreeNode[] {
  if (node.kind !== 'run') return [];
  const run = node.run;
  return [
    ...run.checkpoints.map((checkpoint): TreeNode => ({ kind: 'checkpoint', run, checkpoint })),
    ...run.results.map((result): TreeNode => ({ kind: 'result', run, result })),
  ];
}

export function rootNodes(runs: RunEntry[]): TreeNode[] {
  return runs.map((run) => ({ kind: 'run', run }));
}
