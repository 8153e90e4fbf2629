// Evaluate Few-Shot on Folder: checkpoints x a data folder in a worker; the result opens when done.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../runner/runStore';
import { ResultPanel } from '../panels/resultPanel';
import { isInsideAny } from '../paths';
import type { Session } from '../sessions';
import * as settings from '../settings';
import { isNode, type Arg, type CommandContext } from './context';

export const BUNDLED_DATASETS: { name: string; label: string }[] = [
  { name: 'fashion-mnist-small', label: 'Fashion-MNIST subset (bundled)' },
  { name: 'glyphs', label: 'Procedural glyphs (bundled, an unseen domain)' },
];

export function registerEvaluationCommands(ctx: CommandContext): vscode.Disposable[] {
  ctx.onJobEnd((s) => reportEnd(ctx, s));
  return [ctx.register('robustMeta.evaluateFolder', (arg?: Arg) => evaluateFolder(ctx, arg))];
}

function reportEnd(ctx: CommandContext, s: Session): void {
  if (s.job.kind !== 'eval') return;
  const out = s.job.args.out;
  if (s.finalState === 'done' && fs.existsSync(out)) ResultPanel.createOrShow(ctx.host, out);
  else if (s.finalState === 'failed') void vscode.window.showErrorMessage(`Robust Meta: evaluation failed: ${s.error?.message ?? 'see the output'}`);
}

/**
 * A dataset folder: a bundled one (those present), or one picked in a folder dialog. Evaluate and
 * Preview Dataset ask the same way, with their own words.
 */
export async function pickDataFolder(ctx: CommandContext, words: { title: string; placeHolder: string; dialogTitle: string }): Promise<string | undefined> {
  const items: (vscode.QuickPickItem & { dir?: string })[] = BUNDLED_DATASETS.filter((d) => fs.existsSync(ctx.bundledData(d.name))).map((d) => ({
    label: d.label,
    description: d.name,
    dir: ctx.bundledData(d.name),
  }));
  items.push({ label: 'Choose a folder…', description: 'an image folder (one sub-folder per class) or IDX files' });
  const pick = await vscode.window.showQuickPick(items, { title: words.title, placeHolder: words.placeHolder });
  if (!pick) return undefined;
  if (pick.dir) return pick.dir;
  const uris = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    title: words.dialogTitle,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return uris?.[0]?.fsPath;
}

/** Checkpoints to evaluate: the node's, else picked from the runs (newest checkpoint of each). */
async function pickCheckpoints(ctx: CommandContext, arg: Arg): Promise<{ checkpoints: string[]; outDir: string } | undefined> {
  if (isNode(arg) && arg.kind === 'checkpoint') return { checkpoints: [arg.checkpoint.path], outDir: path.join(arg.run.dir, RUN_FILES.results) };
  if (isNode(arg) && arg.run.checkpoints.length) return { checkpoints: [arg.run.checkpoints[0].path], outDir: path.join(arg.run.dir, RUN_FILES.results) };
  ctx.tree.refresh();
  const runs = ctx.tree.allRuns().filter((r) => r.checkpoints.length > 0);
  if (!runs.length) {
    void vscode.window.showInformationMessage('Robust Meta: no run has a checkpoint yet; train one first ("Start Training").');
    return undefined;
  }
  let picked = runs;
  if (runs.length > 1) {
    const sel = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.id, description: `${r.method} · checkpoint step ${r.checkpoints[0].step}`, run: r })),
      { title: 'Evaluate: models', placeHolder: 'Pick one or more runs (their newest checkpoints are compared on the same episodes)', canPickMany: true },
    );
    if (!sel?.length) return undefined;
    picked = sel.map((s) => s.run);
  }
  return { checkpoints: picked.map((r) => r.checkpoints[0].path), outDir: path.join(picked[0].dir, RUN_FILES.results) };
}

/** From the explorer (a folder Uri), a checkpoint or run in the tree, or the palette. */
async function evaluateFolder(ctx: CommandContext, arg?: Arg): Promise<void> {
  if (!(await ctx.requireTrust('Evaluate Few-Shot on Folder'))) return;
  const dataFromExplorer = arg instanceof vscode.Uri ? arg.fsPath : undefined;
  if (dataFromExplorer && !isInsideAny(settings.workspaceRoots(), dataFromExplorer)) throw new Error(`${dataFromExplorer} is outside the workspace`);
  const models = await pickCheckpoints(ctx, dataFromExplorer ? undefined : arg);
  if (!models) return;
  const data =
    dataFromExplorer ??
    (await pickDataFolder(ctx, {
      title: 'Evaluate: data',
      placeHolder: 'Which data to evaluate on (test classes)',
      dialogTitle: 'Data folder to evaluate on',
    }));
  if (!data) return;
  runEval(ctx, models.checkpoints, data, models.outDir);
}

function runEval(ctx: CommandContext, checkpoints: string[], data: string, outDir: string): void {
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const dataset = path.basename(data).replace(/[^A-Za-z0-9_-]+/g, '-') || 'data';
  const out = path.join(outDir, `${dataset}-${stamp}.json`);
  const options: Record<string, string | number> = { backend: settings.backendSetting() };
  const episodes = vscode.workspace.getConfiguration(settings.SECTION).get<number>('evalEpisodes');
  if (episodes && episodes > 0) options.episodes = episodes;
  const s = ctx.startJob({ kind: 'eval', args: { checkpoints, data, out, options } }, out);
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Robust Meta: evaluating on ${path.basename(data)}`, cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(() => s.stop());
      let last = 0;
      const sub = s.onMessage((m) => {
        if (m.type !== 'run/progress' || !m.totalSteps) return;
        const pct = (100 * m.step) / m.totalSteps;
        progress.report({ increment: pct - last, message: `${m.label ?? 'episode'} ${m.step}/${m.totalSteps}` });
        last = pct;
      });
      return s.ended.finally(() => sub.dispose());
    },
  );
}
