// Compare Runs: one panel showing the picked runs and results side by side. Picking again
// replaces what it shows.
import * as path from 'path';
import * as vscode from 'vscode';
import { thinMetrics } from '../chartData';
import { resultRoot, resultView, runView } from '../panelData';
import { readMetricsFrom, readRunEntry } from '../runFolder';
import type { CompareRunView, PanelState, ResultView, ViewHandlers } from '../webviewProtocol';
import { PanelBase } from './panelBase';
import type { PanelHost } from './panelHost';
import { resultTitle } from './resultPanel';

export class ComparePanel extends PanelBase {
  static readonly viewType = 'robustMeta.compare';
  private static current: ComparePanel | undefined;

  static createOrShow(host: PanelHost, runDirs: string[], resultFiles: string[]): ComparePanel {
    const existing = ComparePanel.current;
    if (existing) {
      existing.show(runDirs, resultFiles);
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, 'Compare Runs', vscode.ViewColumn.Active, {});
    return new ComparePanel(panel, host, runDirs, resultFiles);
  }

  static revive(panel: vscode.WebviewPanel, host: PanelHost, runDirs: string[], resultFiles: string[]): ComparePanel {
    ComparePanel.current?.panel.dispose();
    return new ComparePanel(panel, host, runDirs, resultFiles);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
    private runDirs: string[],
    private resultFiles: string[],
  ) {
    super(panel, host.extensionUri, 'compare', host.log);
    ComparePanel.current = this;
    this.register({ dispose: () => ComparePanel.current === this && (ComparePanel.current = undefined) });
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'robust-meta.svg');
    this.show(runDirs, resultFiles);
  }

  private show(runDirs: string[], resultFiles: string[]): void {
    this.runDirs = runDirs.map((d) => path.resolve(d));
    this.resultFiles = resultFiles.map((f) => path.resolve(f));
    this.render('Compare Runs', [...this.runDirs, ...this.resultFiles.map(resultRoot)]);
  }

  protected state(): PanelState {
    return { kind: 'compare', runDirs: this.runDirs, resultFiles: this.resultFiles };
  }

  protected sendAll(): void {
    const runs: CompareRunView[] = this.runDirs.map((dir) => ({
      run: runView(readRunEntry(dir), Boolean(this.host.sessions.get(dir))),
      metrics: thinMetrics(readMetricsFrom(dir).lines, 3000),
    }));
    const results: ResultView[] = [];
    const problems: string[] = [];
    for (const file of this.resultFiles) {
      const { view, problem } = resultView(file, resultTitle(file), this.toUri);
      if (view) results.push(view);
      else if (problem) problems.push(problem);
    }
    this.post({ type: 'compare/init', runs, results });
    if (problems.length) this.post({ type: 'panel/error', message: problems.join('\n') });
  }

  protected handlers(): ViewHandlers {
    return {};
  }
}
