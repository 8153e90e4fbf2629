// New Experiment Config: writes a starter config file and opens it.
import * as fs from 'fs';
import * as vscode from 'vscode';
import * as settings from '../settings';
import { freeConfigPath, newConfigText } from '../trainConfig';
import type { CommandContext } from './context';

export function registerConfigCommands(ctx: CommandContext): vscode.Disposable[] {
  return [ctx.register('robustMeta.newConfig', newConfig)];
}

async function newConfig(): Promise<void> {
  const root = settings.workspaceRoot();
  let file: string | undefined;
  if (root) {
    const stem = await vscode.window.showInputBox({
      title: 'New Experiment Config',
      prompt: 'Name of the config file (saved as <name>.robust-meta.json in the workspace folder)',
      value: 'experiment',
      validateInput: (v) => (/^[A-Za-z0-9._ -]+$/.test(v.trim()) ? undefined : 'Use letters, digits, dot, dash, underscore'),
    });
    if (stem === undefined) return;
    file = freeConfigPath(root, stem);
  } else {
    const uri = await vscode.window.showSaveDialog({
      title: 'New Experiment Config',
      filters: { 'Robust Meta config': ['json'] },
      defaultUri: vscode.Uri.file('experiment.robust-meta.json'),
    });
    if (!uri) return;
    file = uri.fsPath.endsWith('.robust-meta.json') ? uri.fsPath : uri.fsPath.replace(/(\.json)?$/, '.robust-meta.json');
  }
  fs.writeFileSync(file, newConfigText(settings.defaultMethod()));
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
