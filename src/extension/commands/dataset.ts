// Preview Dataset: on a folder in the explorer, a bundled dataset, or a picked folder.
import * as vscode from 'vscode';
import { DatasetPanel } from '../panels/datasetPanel';
import { isInsideAny } from '../paths';
import * as settings from '../settings';
import type { Arg, CommandContext } from './context';
import { pickDataFolder } from './evaluation';

export function registerDatasetCommands(ctx: CommandContext): vscode.Disposable[] {
  return [ctx.register('robustMeta.previewDataset', (arg?: Arg) => previewDataset(ctx, arg))];
}

async function previewDataset(ctx: CommandContext, arg?: Arg): Promise<void> {
  // Reading a folder's images runs the engine's decoders on the workspace's files.
  if (!(await ctx.requireTrust('Preview Dataset'))) return;
  const fromExplorer = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : undefined;
  if (fromExplorer && !isInsideAny([...settings.workspaceRoots(), ctx.bundledData('')], fromExplorer))
    throw new Error(`${fromExplorer} is outside the workspace`);
  const dir =
    fromExplorer ??
    (await pickDataFolder(ctx, { title: 'Preview Dataset', placeHolder: 'Which dataset to look at', dialogTitle: 'Dataset folder to preview' }));
  if (!dir) return;
  DatasetPanel.createOrShow(ctx.host, dir);
}
