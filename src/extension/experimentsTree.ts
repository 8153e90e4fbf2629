// The Experiments view: the workspace's experiments (*.experiment.json: methods -> seed runs, and
// results; experimentTreeModel.ts), then the loose runs of the runs folder, each expanding to its
// checkpoints and results.
// Follows the folder on disk (runs started here or from the CLI) through a file watcher, and this
// window's sessions for live steps. The shape of the tree is in treeModel.ts (pure, tested).
import * as path from 'path';
import * as vscode from 'vscode';
import { Coalescer, Disposable } from './disposable';
import { LIVENESS_POLL_MS, readRunsFolder, type RunEntry } from './runFolder';
import type { Sessions } from './sessions';
import { readExperimentEntry } from './experimentFolder';
import { EXPERIMENT_FILE_GLOB } from './experimentSpec';
import { experimentChildren, experimentNodeView, isExperimentNode, type AnyNode, type ExperimentEntry } from './experimentTreeModel';
import { slurmJobsByRun, slurmRunView } from './slurmJobs';
import type { JobView } from '../runner/slurm/jobs';
import { childrenOf, nodeView, rootNodes, type NodeView, type TreeNode } from './treeModel';

function treeItem(v: NodeView): vscode.TreeItem {
  const item = new vscode.TreeItem(v.label, v.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = v.id;
  item.description = v.description;
  item.tooltip = v.tooltip;
  item.contextValue = v.contextValue;
  item.iconPath = new vscode.ThemeIcon(v.icon);
  return item;
}

export class ExperimentsTree extends Disposable implements vscode.TreeDataProvider<AnyNode> {
  static readonly viewId = 'robustMeta.experiments';

  private readonly changeEmitter = this.register(new vscode.EventEmitter<AnyNode | undefined>());
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private runs: RunEntry[] = [];
  private problem: string | undefined;
  /** The current Slurm job of each run submitted with --executor slurm, by run folder. */
  private slurmJobs = new Map<string, JobView>();
  private loaded = false;
  private watcher: vscode.Disposable | undefined;
  private readonly refreshSoon = this.register(new Coalescer(250, () => this.refresh()));
  private readonly view: vscode.TreeView<AnyNode>;
  private experiments: ExperimentEntry[] = [];
  private specs: string[] = [];
  private readonly refreshExperimentsSoon = this.register(new Coalescer(500, () => this.readExperiments()));

  constructor(
    private readonly runsFolder: () => string,
    private readonly sessions: Sessions,
  ) {
    super();
    this.view = this.register(vscode.window.createTreeView(ExperimentsTree.viewId, { treeDataProvider: this, showCollapseAll: true, canSelectMany: true }));
    this.register(sessions.onDidChange(() => this.refreshSoon.trigger()));
    this.watch();
    this.register({ dispose: () => this.watcher?.dispose() });
    // A process that dies (killed, crashed) changes no file: while a run started elsewhere says
    // 'running', look again now and then, so that it turns 'stopped (interrupted)'.
    const poll = setInterval(() => {
      if (this.runs.some((r) => r.state === 'running' && !this.sessions.get(r.dir))) this.refresh();
    }, LIVENESS_POLL_MS);
    this.register({ dispose: () => clearInterval(poll) });
    // Experiments: their specs anywhere in the workspace, their folders beside them.
    const specs = this.register(vscode.workspace.createFileSystemWatcher(EXPERIMENT_FILE_GLOB));
    for (const ev of [specs.onDidCreate, specs.onDidDelete]) this.register(ev(() => void this.findExperiments()));
    this.register(specs.onDidChange(() => this.refreshExperimentsSoon.trigger()));
    const outs = this.register(vscode.workspace.createFileSystemWatcher('**/experiments/out/**'));
    for (const ev of [outs.onDidCreate, outs.onDidChange, outs.onDidDelete]) {
      this.register(ev((uri) => !uri.path.endsWith('/metrics.jsonl') && !uri.path.endsWith('.tmp') && this.refreshExperimentsSoon.trigger()));
    }
    void this.findExperiments();
  }

  private async findExperiments(): Promise<void> {
    const files = await vscode.workspace.findFiles(EXPERIMENT_FILE_GLOB, '**/node_modules/**', 200);
    this.specs = files.map((f) => f.fsPath).sort();
    this.readExperiments();
  }

  private readExperiments(): void {
    this.experiments = this.specs.map((s) => readExperimentEntry(s));
    this.changeEmitter.fire(undefined);
  }

  allExperiments(): ExperimentEntry[] {
    return this.experiments;
  }

  /** Re-creates the watcher (the runs folder setting changed, or the folder was just created). */
  watch(): void {
    this.watcher?.dispose();
    const dir = this.runsFolder();
    // A pattern relative to the runs folder's parent also sees the runs folder being created.
    const parent = vscode.Uri.file(path.dirname(dir));
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(parent, `${path.basename(dir)}/**`));
    const onChange = (uri: vscode.Uri) => {
      // metrics.jsonl grows every step; status.json says the step, and it is what the tree shows.
      if (uri.path.endsWith('/metrics.jsonl') || uri.path.endsWith('.tmp')) return;
      this.refreshSoon.trigger();
    };
    w.onDidCreate(onChange);
    w.onDidChange(onChange);
    w.onDidDelete(onChange);
    this.watcher = w;
    this.refresh();
  }

  refresh(): void {
    const { runs, problem } = readRunsFolder(this.runsFolder());
    this.slurmJobs = problem ? new Map() : this.readSlurmJobs();
    for (const r of runs) {
      const job = this.slurmJobs.get(path.resolve(r.dir));
      if (job) r.slurm = slurmRunView(job);
    }
    this.runs = runs;
    this.problem = problem;
    this.loaded = true;
    this.view.message = problem;
    this.changeEmitter.fire(undefined);
    this.refreshExperimentsSoon.trigger();
  }

  /** The scheduler's view of the runs' Slurm jobs; a cluster that does not answer leaves runs as their folders say. */
  private readSlurmJobs(): Map<string, JobView> {
    try {
      return slurmJobsByRun(this.runsFolder());
    } catch {
      return new Map();
    }
  }

  /** The run's current Slurm job, when it was submitted with --executor slurm. */
  slurmJob(dir: string): JobView | undefined {
    return this.slurmJobs.get(path.resolve(dir));
  }

  allRuns(): RunEntry[] {
    if (!this.loaded) this.refresh();
    return this.runs;
  }

  findRun(dir: string): RunEntry | undefined {
    const key = path.resolve(dir);
    return this.allRuns().find((r) => path.resolve(r.dir) === key);
  }

  /** The nodes selected in the view (for commands run from the title bar or the palette). */
  selection(): readonly AnyNode[] {
    return this.view.selection;
  }

  getTreeItem(node: AnyNode): vscode.TreeItem {
    if (isExperimentNode(node)) return this.experimentItem(node);
    const v = nodeView(this.live(node));
    const item = treeItem(v);
    if (node.kind === 'run') {
      item.command = { command: 'robustMeta.openDashboard', title: 'Open Dashboard', arguments: [node] };
      item.accessibilityInformation = { label: `${v.label}, ${v.description ?? ''}` };
    } else if (node.kind === 'result') {
      item.command = { command: 'robustMeta.openResult', title: 'Open Result', arguments: [node] };
      item.resourceUri = vscode.Uri.file(node.result.path);
    } else if (node.kind === 'checkpoint') {
      item.resourceUri = vscode.Uri.file(node.checkpoint.path);
    }
    return item;
  }

  private experimentItem(node: Parameters<typeof experimentNodeView>[0]): vscode.TreeItem {
    const item = treeItem(experimentNodeView(node));
    if (node.kind === 'experiment') {
      item.command = { command: 'robustMeta.openExperiment', title: 'Open Experiment', arguments: [vscode.Uri.file(node.exp.spec)] };
      item.resourceUri = vscode.Uri.file(node.exp.spec);
    } else if (node.kind === 'experiment-result') {
      item.command = { command: 'robustMeta.openResult', title: 'Open Result', arguments: [node.path] };
      item.resourceUri = vscode.Uri.file(node.path);
    }
    return item;
  }

  /** A run node with this window's live step when a session of ours is ahead of status.json. */
  private live(node: TreeNode): TreeNode {
    if (node.kind !== 'run') return node;
    const s = this.sessions.get(node.run.dir);
    if (!s || s.kind !== 'train' || s.phase === 'ended' || !s.progress) return node;
    if (s.progress.step <= node.run.step && node.run.state === 'running') return node;
    return {
      kind: 'run',
      run: { ...node.run, state: 'running', interrupted: false, step: Math.max(node.run.step, s.progress.step), totalSteps: s.progress.totalSteps },
    };
  }

  getChildren(node?: AnyNode): AnyNode[] {
    if (!node) {
      const experiments = this.experiments.map((exp): AnyNode => ({ kind: 'experiment', exp }));
      return [...experiments, ...(this.problem ? [] : rootNodes(this.allRuns()))];
    }
    return isExperimentNode(node) ? experimentChildren(node) : childrenOf(node);
  }

  getParent(node: AnyNode): AnyNode | undefined {
    if (isExperimentNode(node))
      return node.kind === 'experiment'
        ? undefined
        : node.kind === 'experiment-result'
          ? { kind: 'experiment-results', exp: node.exp }
          : { kind: 'experiment', exp: node.exp };
    if (node.kind === 'run') {
      const exp = this.experiments.find((e) => e.methods.some((m) => m.runs.some((r) => r.dir === node.run.dir)));
      const m = exp?.methods.find((x) => x.runs.some((r) => r.dir === node.run.dir));
      return exp && m ? { kind: 'experiment-method', exp, method: m.method, runs: m.runs } : undefined;
    }
    return { kind: 'run', run: node.run };
  }
}
