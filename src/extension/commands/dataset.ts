// Preview Dataset: on a folder in the explorer, a bundled dataset, or a picked folder.
import * as fs from 'fs';
import * as vscode from 'vscode';
import { DatasetPanel } from '../panels/datasetPanel';
import { isInsideAny } from '../paths';
import * as settings from '../settings';
import type { Arg, CommandContext } from './context';
import { BUNDLED_DATASETS } from './evaluation';

export function registerDatasetCommands(ctx: CommandContext): vscode.Disposable[] {
  return [ctx.register('robustMeta.previewDataset', (arg?: Arg) => previewDataset(ctx, arg))];
}

async function pickDataset(ctx: CommandContext): Promise<string | undefined> {
  const items: (vscode.QuickPickItem & { dir?: string })[] = BUNDLED_DATASETS.filter((d) => fs.existsSync(ctx.bundledData(d.name))).map((d) => ({
    label: d.label,
    description: d.name,
    dir: ctx.bundledData(d.name),
  }));
  items.push({ label: 'Choose a folder…', description: 'an image folder (one sub-folder per class) or IDX files' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Preview Dataset', placeHolder: 'Which dataset to look at' });
  if (!pick) return undefined;
  if (pick.dir) return pick.dir;
  const uris = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    title: 'Dataset folder to preview',
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return uris?.[0]?.fsPath;
}

async function previewDataset(ctx: CommandContext, arg?: Arg): Promise<void> {
  // Reading a folder's images runs the engine's decoders on the workspace's files.
  if (!(await ctx.requireTrust('Preview Dataset'))) return;
  const fromExplorer = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
  if (fromExplorer && !isInsideAny([...settings.workspaceRoots(), ctx.bundledData('')], fromExplorer))
    throw new Error(`${fromExplorer} is outside the workspace`);
  const dir = fromExplorer ?? (await pickDataset(ctx));
  if (!dir) return;
  DatasetPanel.createOrShow(ctx.host, dir);
}
