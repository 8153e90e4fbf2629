// Entry of the VS Code extension: activate() wires the features (each owns its disposables) and
// deactivate() returns the shutdown of running workers, which stop after writing a checkpoint.
import * as path from 'path';
import * as vscode from 'vscode';
import { CommandContext, registerCommands, SHUTDOWN_WAIT_MS } from './commands';
import { ConfigCodeLens } from './configLens';
import { ExperimentsTree } from './experimentsTree';
import { ComparePanel } from './panels/comparePanel';
import { DashboardPanel } from './panels/dashboardPanel';
import { DatasetPanel } from './panels/datasetPanel';
import { ExperimentPanel } from './panels/experimentPanel';
import type { PanelHost } from './panels/panelHost';
import { ResultPanel } from './panels/resultPanel';
import { isInsideAny } from './paths';
import { readRunEntry } from './runFolder';
import { Sessions } from './sessions';
import * as settings from './settings';
import { TrainingStatusBar } from './statusBar';
import { CONFIG_FILE_GLOB } from './trainConfig';
import { parsePanelState, type PanelState } from './webviewProtocol';

let sessions: Sessions | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Robust Meta', { log: true });
  context.subscriptions.push(log);
  sessions = new Sessions(log);
  context.subscriptions.push(sessions);
  const runsFolder = () => settings.runsFolder(context.globalStorageUri);

  const tree = new ExperimentsTree(runsFolder, sessions);
  context.subscriptions.push(tree, new TrainingStatusBar(sessions));
  const configLens = new ConfigCodeLens(tree);
  context.subscriptions.push(configLens, vscode.languages.registerCodeLensProvider({ pattern: CONFIG_FILE_GLOB }, configLens));

  // Panel buttons run the commands (through executeCommand, so errors are reported the same way).
  const host: PanelHost = {
    extensionUri: context.extensionUri,
    log,
    sessions,
    allowedRoots: () => [...settings.workspaceRoots(), runsFolder()],
    actions: {
      stop: (dir) => void vscode.commands.executeCommand('robustMeta.stopTraining', dir),
      resume: (dir) => void vscode.commands.executeCommand('robustMeta.resumeTraining', dir),
      evaluate: (dir) => void vscode.commands.executeCommand('robustMeta.evaluateFolder', { kind: 'run', run: readRunEntry(dir) }),
      openResult: (file) => void vscode.commands.executeCommand('robustMeta.openResult', file),
    },
  };
  context.subscriptions.push(...registerCommands(new CommandContext(context, tree, sessions, host, log)));

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (settings.affectsRunsFolder(e)) tree.watch();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => tree.watch()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
  );

  // Panels survive a reload: each revives from its persisted state, whose paths are checked again.
  const inside = (p: string) => isInsideAny(host.allowedRoots(), p);
  const refuse = (panel: vscode.WebviewPanel, what: string) => {
    panel.webview.html = `<!DOCTYPE html><html><body><p>${what.replace(/[<>&]/g, '')} is outside the workspace and the runs folder; this panel cannot show it.</p></body></html>`;
  };
  /** A panel of one path (a run folder, a result file, a dataset folder, a spec): revived only inside. */
  const onePath = <K extends Exclude<PanelState['kind'], 'compare'>>(
    viewType: string,
    kind: K,
    pathOf: (s: Extract<PanelState, { kind: K }>) => string,
    revive: (panel: vscode.WebviewPanel, p: string) => void,
  ) =>
    vscode.window.registerWebviewPanelSerializer(viewType, {
      async deserializeWebviewPanel(panel, raw) {
        const s = parsePanelState(raw);
        if (s?.kind !== kind) return panel.dispose();
        const p = pathOf(s as Extract<PanelState, { kind: K }>);
        if (inside(p)) revive(panel, p);
        else refuse(panel, p);
      },
    });
  context.subscriptions.push(
    onePath(
      DashboardPanel.viewType,
      'dashboard',
      (s) => s.runDir,
      (panel, p) => DashboardPanel.revive(panel, host, p),
    ),
    onePath(
      ResultPanel.viewType,
      'result',
      (s) => s.file,
      (panel, p) => ResultPanel.revive(panel, host, p),
    ),
    onePath(
      DatasetPanel.viewType,
      'dataset',
      (s) => s.dir,
      (panel, p) => DatasetPanel.revive(panel, host, p),
    ),
    onePath(
      ExperimentPanel.viewType,
      'experiment',
      (s) => s.spec,
      (panel, p) => ExperimentPanel.revive(panel, host, p),
    ),
    vscode.window.registerWebviewPanelSerializer(ComparePanel.viewType, {
      async deserializeWebviewPanel(panel, raw) {
        const s = parsePanelState(raw);
        if (s?.kind === 'compare') ComparePanel.revive(panel, host, s.runDirs.filter(inside), s.resultFiles.filter(inside));
        else panel.dispose();
      },
    }),
  );
  log.info(`activated; runs folder ${runsFolder()}; extension at ${path.normalize(context.extensionUri.fsPath)}`);
}

/** Stops running workers; each writes a checkpoint first (bounded by SHUTDOWN_WAIT_MS). */
export function deactivate(): Promise<void> | undefined {
  const s = sessions;
  sessions = undefined;
  return s?.shutdown(SHUTDOWN_WAIT_MS);
}
