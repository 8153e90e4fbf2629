// Open Dashboard / Open Result / Compare Runs: panels over run folders and result files.
import * as vscode from 'vscode';
import { ComparePanel } from '../panels/comparePanel';
import { DashboardPanel } from '../panels/dashboardPanel';
import { ResultPanel } from '../panels/resultPanel';
import { readRunEntry } from '../runFolder';
import type { TreeNode } from '../treeModel';
import { isNode, runDirOf, type Arg, type CommandContext } from './context';

export function registerPanelCommands(ctx: CommandContext): vscode.Disposable[] {
  return [
    ctx.register('robustMeta.openDashboard', (arg?: Arg) => openDashboard(ctx, arg)),
    ctx.register('robustMeta.openResult', (arg?: Arg) => openResult(ctx, arg)),
    ctx.register('robustMeta.compareRuns', (arg?: Arg, selected?: TreeNode[]) => compareRuns(ctx, arg, selected)),
    ctx.register('robustMeta.refreshExperiments', () => ctx.tree.refresh()),
  ];
}

async function openDashboard(ctx: CommandContext, arg?: Arg): Promise<void> {
  let dir = runDirOf(arg);
  if (!dir) {
    const live = ctx.sessions.training();
    const run = live.length === 1 ? readRunEntry(live[0].dir) : await ctx.pickRun('Open Dashboard', () => true, `no runs in ${ctx.runsFolder()} yet.`);
    if (!run) return;
    dir = run.dir;
  }
  DashboardPanel.createOrShow(ctx.host, ctx.checkedRunDir(dir));
}

async function openResult(ctx: CommandContext, arg?: Arg): Promise<void> {
  let file: string | undefined;
  if (isNode(arg) && arg.kind === 'result') file = arg.result.path;
  else if (arg instanceof vscode.Uri) file = arg.fsPath;
  else if (typeof arg === 'string') file = arg;
  if (!file) {
    const items = ctx.tree.allRuns().flatMap((r) => r.results.map((x) => ({ label: `${r.id} / ${x.name}`, file: x.path })));
    file = (await vscode.window.showQuickPick(items, { title: 'Open Result' }))?.file;
    if (!file) return;
  }
  ResultPanel.createOrShow(ctx.host, ctx.checkedRunDir(file));
}

async function compareRuns(ctx: CommandContext, arg?: Arg, selected?: TreeNode[]): Promise<void> {
  const fromTree = (selected?.length ? selected : isNode(arg) ? [arg] : []).filter(isNode);
  let runDirs: string[] = [];
  let resultFiles: string[] = [];
  if (fromTree.length > 1) {
    runDirs = fromTree.filter((n) => n.kind === 'run').map((n) => n.run.dir);
    resultFiles = fromTree.filter((n) => n.kind === 'result').map((n) => (n.kind === 'result' ? n.result.path : ''));
  } else {
    ctx.tree.refresh();
    const runs = ctx.tree.allRuns();
    type Item = vscode.QuickPickItem & { run?: string; result?: string };
    const items: Item[] = [];
    if (runs.length) items.push({ label: 'Runs (training curves)', kind: vscode.QuickPickItemKind.Separator });
    for (const r of runs) items.push({ label: r.id, description: `${r.method} · ${r.state} · step ${r.step}`, run: r.dir });
    const results = runs.flatMap((r) => r.results.map((x) => ({ r, x })));
    if (results.length) items.push({ label: 'Results (evaluations)', kind: vscode.QuickPickItemKind.Separator });
    for (const { r, x } of results) items.push({ label: `${r.id} / ${x.name}`, description: 'result', result: x.path });
    if (!runs.length) {
      void vscode.window.showInformationMessage(`Robust Meta: no runs in ${ctx.runsFolder()} yet.`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, { title: 'Compare Runs', placeHolder: 'Pick runs and/or results to compare', canPickMany: true });
    if (!picked?.length) return;
    runDirs = picked.filter((p) => p.run).map((p) => p.run!);
    resultFiles = picked.filter((p) => p.result).map((p) => p.result!);
  }
  ComparePanel.createOrShow(
    ctx.host,
    runDirs.map((d) => ctx.checkedRunDir(d)),
    resultFiles.map((f) => ctx.checkedRunDir(f)),
  );
}
