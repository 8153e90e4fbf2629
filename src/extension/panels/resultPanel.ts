// One panel per evaluation result file: its table with 95% CIs, robustness curve and samples.
import * as path from 'path';
import * as vscode from 'vscode';
import { Coalescer } from '../disposable';
import { resultRoot, resultView } from '../panelData';
import type { PanelState, ViewHandlers } from '../webviewProtocol';
import { PanelBase } from './panelBase';
import type { PanelHost } from './panelHost';

export function resultTitle(file: string): string {
  const dir = path.dirname(file);
  const run = path.basename(dir) === 'results' ? `${path.basename(path.dirname(dir))} / ` : '';
  return `${run}${path.basename(file, '.json')}`;
}

export class ResultPanel extends PanelBase {
  static readonly viewType = 'robustMeta.result';
  private static readonly open = new Map<string, ResultPanel>();
  private readonly reload = this.register(new Coalescer(200, () => this.sendAll()));

  static createOrShow(host: PanelHost, file: string): ResultPanel {
    const key = path.resolve(file);
    const existing = ResultPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ResultPanel.viewType, resultTitle(key), vscode.ViewColumn.Active, {});
    return new ResultPanel(panel, host, key);
  }

  static revive(panel: vscode.WebviewPanel, host: PanelHost, file: string): ResultPanel {
    const key = path.resolve(file);
    ResultPanel.open.get(key)?.panel.dispose();
    return new ResultPanel(panel, host, key);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    host: PanelHost,
    private readonly file: string,
  ) {
    super(panel, host.extensionUri, 'result', host.log);
    ResultPanel.open.set(file, this);
    this.register({ dispose: () => ResultPanel.open.get(file) === this && ResultPanel.open.delete(file) });
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'robust-meta.svg');
    const w = this.register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file))));
    this.register(w.onDidChange(() => this.reload.trigger()));
    this.register(w.onDidCreate(() => this.reload.trigger()));
    this.render(resultTitle(file), [resultRoot(file)]);
  }

  protected state(): PanelState {
    return { kind: 'result', file: this.file };
  }

  protected sendAll(): void {
    const { view, problem } = resultView(this.file, resultTitle(this.file), this.toUri);
    if (view) this.post({ type: 'result/init', title: resultTitle(this.file), result: view });
    else this.post({ type: 'panel/error', message: problem ?? `cannot read ${this.file}` });
  }

  protected handlers(): ViewHandlers {
    return {};
  }
}
