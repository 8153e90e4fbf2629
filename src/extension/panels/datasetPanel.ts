// Preview Dataset: one panel per dataset folder, with what the engine's loader finds in it (the
// format, classes and counts per split, sample images, warnings, the tasks it can make).
import * as path from 'path';
import * as vscode from 'vscode';
import { previewDataset } from '../datasetPreview';
import { summarizeDataset } from '../datasetSummary';
import type { PanelState, ViewHandlers } from '../webviewProtocol';
import { PanelBase } from './panelBase';
import type { PanelHost } from './panelHost';

export class DatasetPanel extends PanelBase {
  static readonly viewType = 'robustMeta.dataset';
  private static readonly open = new Map<string, DatasetPanel>();

  static createOrShow(host: PanelHost, dir: string): DatasetPanel {
    const key = path.resolve(dir);
    const existing = DatasetPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(DatasetPanel.viewType, `Dataset: ${path.basename(key)}`, vscode.ViewColumn.Active, {});
    return new DatasetPanel(panel, host, key);
  }

  static revive(panel: vscode.WebviewPanel, host: PanelHost, dir: string): DatasetPanel {
    const key = path.resolve(dir);
    DatasetPanel.open.get(key)?.panel.dispose();
    return new DatasetPanel(panel, host, key);
  }

  private constructor(
    panel: vscode.WebviewPanel,
    host: PanelHost,
    private readonly dir: string,
  ) {
    super(panel, host.extensionUri, 'dataset', host.log);
    DatasetPanel.open.set(dir, this);
    this.register({ dispose: () => DatasetPanel.open.get(dir) === this && DatasetPanel.open.delete(dir) });
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'robust-meta.svg');
    this.render(`Dataset: ${path.basename(dir)}`, []);
  }

  protected state(): PanelState {
    return { kind: 'dataset', dir: this.dir };
  }

  protected sendAll(): void {
    previewDataset(this.dir).then(
      (p) => {
        if (p.facts) this.post({ type: 'dataset/init', summary: summarizeDataset(p.facts), samples: p.samples });
        else this.post({ type: 'panel/error', message: p.error });
      },
      (e: Error) => this.post({ type: 'panel/error', message: e.message }),
    );
  }

  protected handlers(): ViewHandlers {
    return {};
  }
}
