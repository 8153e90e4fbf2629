/**
 * A throwaway extension for the harness's smoke test, written to a temp folder and packed into a
 * VSIX with the repository's @vscode/vsce. It touches every kind of UI the harness helpers drive:
 * a palette command with a notification, a quick pick and an input box, a view container with a
 * tree view, an explorer context menu entry on folders, and a webview panel.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './harness';

export const SMOKE_ID = 'robust-meta-e2e.e2e-smoke';

const manifest = {
  name: 'e2e-smoke',
  displayName: 'E2E Smoke',
  description: 'Throwaway extension for robust-meta end-to-end harness checks',
  version: '0.0.1',
  publisher: 'robust-meta-e2e',
  license: 'MIT',
  engines: { vscode: '^1.100.0' },
  main: './extension.js',
  activationEvents: [],
  contributes: {
    commands: [
      { command: 'e2eSmoke.hello', title: 'Hello', category: 'E2E Smoke' },
      { command: 'e2eSmoke.ask', title: 'Ask', category: 'E2E Smoke' },
      { command: 'e2eSmoke.openPanel', title: 'Open Panel', category: 'E2E Smoke' },
      { command: 'e2eSmoke.chooseFolder', title: 'Choose Folder', category: 'E2E Smoke' },
      { command: 'e2eSmoke.folderInfo', title: 'Smoke Folder Info', category: 'E2E Smoke' },
      { command: 'e2eSmoke.refresh', title: 'Refresh Items', category: 'E2E Smoke', icon: '$(refresh)' },
      { command: 'e2eSmoke.openItem', title: 'Open Item', category: 'E2E Smoke', icon: '$(go-to-file)' },
      { command: 'e2eSmoke.describeItem', title: 'Describe Item', category: 'E2E Smoke' },
    ],
    menus: {
      'explorer/context': [{ command: 'e2eSmoke.folderInfo', when: 'explorerResourceIsFolder', group: 'navigation' }],
      'view/title': [{ command: 'e2eSmoke.refresh', when: 'view == e2eSmoke.items', group: 'navigation' }],
      'view/item/context': [
        { command: 'e2eSmoke.openItem', when: 'view == e2eSmoke.items', group: 'inline' },
        { command: 'e2eSmoke.describeItem', when: 'view == e2eSmoke.items' },
      ],
      commandPalette: ['folderInfo', 'openItem', 'describeItem'].map((c) => ({ command: `e2eSmoke.${c}`, when: 'false' })),
    },
    viewsContainers: {
      activitybar: [{ id: 'e2eSmoke', title: 'E2E Smoke', icon: '$(beaker)' }],
    },
    views: {
      e2eSmoke: [{ id: 'e2eSmoke.items', name: 'Smoke Items' }],
    },
  },
};

const extensionJs = `
const vscode = require('vscode');
const path = require('path');
exports.activate = function (context) {
  const sub = (d) => context.subscriptions.push(d);
  const log = vscode.window.createOutputChannel('E2E Smoke Log');
  sub(log);
  sub(vscode.commands.registerCommand('e2eSmoke.hello', () => {
    log.appendLine('hello was run');
    vscode.window.showInformationMessage('Hello from E2E Smoke');
  }));
  sub(vscode.commands.registerCommand('e2eSmoke.ask', async () => {
    const pick = await vscode.window.showQuickPick(['alpha', 'beta', 'gamma'], { placeHolder: 'Pick a letter' });
    if (!pick) return;
    const name = await vscode.window.showInputBox({
      prompt: 'Your name',
      validateInput: (v) => (v.trim() ? undefined : 'A name is required'),
    });
    if (name === undefined) return;
    vscode.window.showInformationMessage('Picked ' + pick + ' for ' + name);
  }));
  sub(vscode.commands.registerCommand('e2eSmoke.folderInfo', (uri) =>
    vscode.window.showInformationMessage('Folder: ' + (uri ? path.basename(uri.fsPath) : '(none)'))));
  sub(vscode.window.registerTreeDataProvider('e2eSmoke.items', {
    getChildren: (el) => (el ? [] : ['run-001', 'run-002']),
    getTreeItem: (label) => {
      const item = new vscode.TreeItem(label);
      item.description = 'smoke';
      item.iconPath = new vscode.ThemeIcon('beaker');
      return item;
    },
  }));
  sub(vscode.commands.registerCommand('e2eSmoke.chooseFolder', async () => {
    try {
      const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use Folder' });
      log.appendLine('open dialog: ' + JSON.stringify(uris ? uris.map((u) => u.toString()) : uris));
      vscode.window.showInformationMessage(uris && uris.length ? 'Chose ' + path.basename(uris[0].fsPath) : 'Chose nothing');
    } catch (err) {
      log.appendLine('open dialog failed: ' + err);
      vscode.window.showErrorMessage('Choose failed: ' + err);
    }
  }));
  sub(vscode.commands.registerCommand('e2eSmoke.refresh', () => vscode.window.showInformationMessage('Items refreshed')));
  sub(vscode.commands.registerCommand('e2eSmoke.openItem', (label) => vscode.window.showInformationMessage('Open ' + label)));
  sub(vscode.commands.registerCommand('e2eSmoke.describeItem', (label) => vscode.window.showInformationMessage('Describe ' + label)));
  sub(vscode.commands.registerCommand('e2eSmoke.openPanel', () => {
    const panel = vscode.window.createWebviewPanel('e2eSmoke', 'E2E Panel', vscode.ViewColumn.One, { enableScripts: true });
    panel.webview.html = '<!DOCTYPE html><html><body><h1 id="title">Smoke Panel</h1>' +
      '<button id="ping">Ping</button><script>const api = acquireVsCodeApi();' +
      'document.getElementById("ping").onclick = () => api.postMessage("ping");</script></body></html>';
    panel.webview.onDidReceiveMessage((m) => vscode.window.showInformationMessage('Webview says ' + m));
  }));
};
exports.deactivate = function () {};
`;

/** Writes the smoke extension into `dir` and packs it; returns the VSIX path. */
export function packSmokeExtension(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(dir, 'extension.js'), extensionJs);
  fs.writeFileSync(path.join(dir, 'README.md'), '# E2E Smoke\n\nThrowaway extension for end-to-end harness checks.\n');
  fs.writeFileSync(path.join(dir, 'LICENSE'), 'MIT\n');
  const vsix = path.join(dir, 'e2e-smoke.vsix');
  const vsce = path.join(repoRoot(), 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0 || !fs.existsSync(vsix)) {
    throw new Error(`vsce package failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return vsix;
}
