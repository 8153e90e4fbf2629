// The experiment panel (one per spec): a live grid of its jobs and, once results exist, the
// methods x settings table with intervals, paired differences, the verdict, diagnostics and curves.
// It follows the experiment's folder (file watcher, coalesced), whoever runs it (this window's
// task or the CLI in a terminal).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { Coalescer } from '../disposable';
import { experimentOutDir, readExperimentFacts } from '../experimentFolder';
import { EXPORT_EXTENSIONS, experimentView, exportTable } from '../experimentModel';
import type { ExportFormat } from '../experimentView';
import { DashboardPanel } from './dashboardPanel';
import type { PanelState, ViewHandlers } from '../webviewProtocol';
import { PanelBase } from './panelBase';
import type { PanelHost } from './panelHost';

export class ExperimentPanel extends PanelBase {
  static readonly viewType = 'robustMeta.experiment';
  private static readonly open = new Map<string, ExperimentPanel>();
  private readonly reload = this.register(new Coalescer(400, () => this.sendAll(true)));
  private lastSent = '';

  static createOrShow(host: PanelHost, spec: string): ExperimentPanel {
    const key = path.resolve(spec);
    const existing = ExperimentPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ExperimentPanel.viewType, ExperimentPanel.title(key), vscode.ViewColumn.Active, {});
    return new ExperimentPanel(panel, host, key);
  }

  static revive(panel: vscode.WebviewPanel, host: PanelHost, spec: string): ExperimentPanel {
    const key = path.resolve(spec);
    ExperimentPanel.open.get(key)?.panel.dispose();
    return new ExperimentPanel(panel, host, key);
  }

  private static title(spec: string): string {
    return `Experiment ${path.basename(spec, '.experiment.json')}`;
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
    private readonly spec: string,
  ) {
    super(panel, host.extensionUri, 'experiment', host.log);
    ExperimentPanel.open.set(spec, this);
    this.register({ dispose: () => ExperimentPanel.open.get(spec) === this && ExperimentPanel.open.delete(spec) });
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'robust-meta.svg');
    const w = this.register(
      vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(spec)), '{*.experiment.json,experiments/out/**}')),
    );
    for (const ev of [w.onDidChange, w.onDidCreate, w.onDidDelete]) this.register(ev(() => this.reload.trigger()));
    // status.json of a training job changes every step: a watcher may coalesce or miss some on
    // network disks, so a slow poll backs it up while the panel is open.
    const timer = setInterval(() => this.reload.trigger(), 3000);
    this.register({ dispose: () => clearInterval(timer) });
    this.render(ExperimentPanel.title(spec), []);
  }

  protected state(): PanelState {
    return { kind: 'experiment', spec: this.spec };
  }

  /** Sends the view; `onlyChanged`: not when it is what the page shows already (the poll). */
  protected sendAll(onlyChanged = false): void {
    try {
      const view = experimentView(readExperimentFacts(this.spec, experimentOutDir(this.spec)));
      const text = JSON.stringify({ ...view, progress: { ...view.progress, etaSeconds: null } });
      if (onlyChanged && text === this.lastSent) return;
      this.lastSent = text;
      this.post({ type: 'experiment/update', view });
    } catch (e) {
      this.post({ type: 'panel/error', message: (e as Error).message });
    }
  }

  protected handlers(): ViewHandlers {
    return {
      'experiment/export': ({ format }) => exportExperimentTable(this.spec, format),
      'experiment/openRun': ({ name }) => {
        const facts = readExperimentFacts(this.spec, experimentOutDir(this.spec));
        const dir = facts.train[name]?.runDir;
        if (dir && fs.existsSync(dir)) DashboardPanel.createOrShow(this.host, dir);
      },
    };
  }
}

/** Writes the results table of an experiment as Markdown, CSV or LaTeX where the user picks. */
export async function exportExperimentTable(spec: string, format: ExportFormat): Promise<void> {
  const view = experimentView(readExperimentFacts(spec, experimentOutDir(spec)));
  if (!view.table.rows.length) throw new Error(`${path.basename(spec)} has no results yet: run it first`);
  const uri = await vscode.window.showSaveDialog({
    title: `Export Results Table (${format})`,
    defaultUri: vscode.Uri.file(path.join(experimentOutDir(spec), `results-table.${EXPORT_EXTENSIONS[format]}`)),
    filters: { [format]: [EXPORT_EXTENSIONS[format]] },
  });
  if (!uri) return;
  fs.writeFileSync(uri.fsPath, exportTable(view.table, format));
  void vscode.window.showInformationMessage(`Robust Meta: results table written to ${vscode.workspace.asRelativePath(uri)}`);
}
