// The Experiments view: runs of the runs folder, each expanding to its checkpoints and results.
// Follows the folder on disk (runs started here or from the CLI) through a file watcher, and this
// window's sessions for live steps. The shape of the tree is in treeModel.ts (pure, tested).
import * as path from 'path';
import * as vscode from 'vscode';
import { Coalescer, Disposable } from './disposable';
import { LIVENESS_POLL_MS, readRunsFolder, type RunEntry } from './runFolder';
import type { Sessions } from './sessions';
import { childrenOf, nodeView, rootNodes, type TreeNode } from './treeModel';

export class ExperimentsTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  static readonly viewId = 'robustMeta.experiments';

  private readonly changeEmitter = this.register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private runs: RunEntry[] = [];
  private problem: string | undefined;
  private loaded = false;
  private watcher: vscode.Disposable | undefined;
  private readonly refreshSoon = this.register(new Coalescer(250, () => this.refresh()));
  private readonly view: vscode.TreeView<TreeNode>;

  constructor(private readonly runsFolder: () => string, private readonly sessions: Sessions) {
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
    this.runs = runs;
    this.problem = problem;
    this.loaded = true;
    this.view.message = problem;
    this.changeEmitter.fire(undefined);
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
  selection(): readonly TreeNode[] {
    return this.view.selection;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const v = nodeView(this.live(node));
    const item = new vscode.TreeItem(v.label, v.collapsible ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = v.id;
    item.description = v.description;
    item.tooltip = v.tooltip;
    item.contextValue = v.contextValue;
    item.iconPath = new vscode.ThemeIcon(v.icon);
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

  /** A run node with this window's live step when a session of ours is ahead of status.json. */
  private live(node: TreeNode): TreeNode {
    if (node.kind !== 'run') return node;
    const s = this.sessions.get(node.run.dir);
    if (!s || s.kind !== 'train' || s.phase === 'ended' || !s.progress) return node;
    if (s.progress.step <= node.run.step && node.run.state === 'running') return node;
    return { kind: 'run', run: { ...node.run, state: 'running', interrupted: false, step: Math.max(node.run.step, s.progress.step), totalSteps: s.progress.totalSteps } };
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (!node) return this.problem ? [] : rootNodes(this.allRuns());
    return childrenOf(node);
  }

  getParent(node: TreeNode): TreeNode | undefined {
    return node.kind === 'run' ? undefined : { kind: 'run', run: node.run };
  }
}
