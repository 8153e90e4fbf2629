// "Save PNG" on a panel's chart: the webview sends the PNG (a data URL), the user picks where.
import * as vscode from 'vscode';
import { PNG_PREFIX } from './webviewProtocol';

export async function saveChartPng(name: string, dataUrl: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const uri = await vscode.window.showSaveDialog({
    title: 'Save Chart as PNG',
    filters: { 'PNG image': ['png'] },
    defaultUri: folder ? vscode.Uri.joinPath(folder, name) : vscode.Uri.file(name),
  });
  if (!uri) return;
  await vscode.workspace.fs.writeFile(uri, Buffer.from(dataUrl.slice(PNG_PREFIX.length), 'base64'));
  void vscode.window.setStatusBarMessage(`Robust Meta: chart saved to ${uri.fsPath}`, 5000);
}
