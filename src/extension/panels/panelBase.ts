// What every panel shares: the webview's options (scripts on, resources only from the bundle
// folder and the panel's own data folders), the HTML shell with its CSP nonce, typed posting and
// validated receiving of messages (webviewProtocol.ts).
import * as vscode from 'vscode';
import { Disposable } from '../disposable';
import { saveChartPng } from '../saveChart';
import { makeNonce, panelHtml } from '../webviewHtml';
import { dispatchViewMessage, type HostMessage, type PanelKind, type PanelState, type ViewHandlers } from '../webviewProtocol';

export function bundleRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export function webviewOptions(extensionUri: vscode.Uri, dataRoots: string[]): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [bundleRoot(extensionUri), ...dataRoots.map((d) => vscode.Uri.file(d))],
  };
}

export abstract class PanelBase extends Disposable {
  private ready = false;
  private queue: HostMessage[] = [];

  protected constructor(
    readonly panel: vscode.WebviewPanel,
    protected readonly extensionUri: vscode.Uri,
    readonly kind: PanelKind,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.register(panel.onDidDispose(() => this.dispose()));
    this.register(
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        try {
          const outcome = await dispatchViewMessage(raw, {
            ...this.handlers(),
            'view/ready': () => this.onReady(),
            'chart/save': (m) => saveChartPng(m.name, m.png),
          });
          if (outcome === 'invalid') this.log.warn(`ignored an invalid message from the ${kind} panel: ${JSON.stringify(raw).slice(0, 200)}`);
        } catch (e) {
          void vscode.window.showErrorMessage((e as Error).message);
        }
      }),
    );
  }

  /** Sets the HTML (again: a revived panel, or new data folders). */
  protected render(title: string, dataRoots: string[]): void {
    this.ready = false;
    this.panel.title = title;
    this.panel.webview.options = webviewOptions(this.extensionUri, dataRoots);
    const root = bundleRoot(this.extensionUri);
    const w = this.panel.webview;
    this.panel.webview.html = panelHtml({
      kind: this.kind,
      title,
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'main.js')).toString(),
      styleUri: w.asWebviewUri(vscode.Uri.joinPath(root, 'styles.css')).toString(),
      nonce: makeNonce(),
    });
  }

  protected toUri = (file: string): string => this.panel.webview.asWebviewUri(vscode.Uri.file(file)).toString();

  /** Posts now when the page is ready, else when it says so (view/ready). */
  protected post(msg: HostMessage): void {
    if (!this.ready) {
      this.queue.push(msg);
      return;
    }
    void this.panel.webview.postMessage(msg);
  }

  private onReady(): void {
    // A webview that was hidden and shown again reloads (no retainContextWhenHidden): rebuild it whole.
    this.ready = true;
    this.queue = [];
    this.post({ type: 'panel/state', state: this.state() });
    this.sendAll();
  }

  /** What the serializer revives from. */
  protected abstract state(): PanelState;
  /** Sends everything the page needs to draw from scratch. */
  protected abstract sendAll(): void;
  /** The panel's own message handlers (view/ready is handled here). */
  protected abstract handlers(): ViewHandlers;
}
