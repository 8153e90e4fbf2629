// One dashboard per run: rebuilt from the run folder when opened (late, or after a reload), then
// following it live: worker messages when this window runs it, file changes otherwise (and as a
// back-up; the webview merges lines by step, so a line seen twice is drawn once).
import * as path from 'path';
import * as vscode from 'vscode';
import type { WorkerMessage } from '../../runner/protocol';
import { RUN_FILES } from '../../runner/runStore';
import { thinMetrics } from '../chartData';
import { Coalescer } from '../disposable';
import { runResultViews, runView, sampleSetView } from '../panelData';
import { asSampleSet, LIVENESS_POLL_MS, readLatestSamples, readMetricsFrom, readRunEntry, type RunEntry } from '../runFolder';
import type { Session } from '../sessions';
import type { PanelState, ViewHandlers } from '../webviewProtocol';
import { PanelBase } from './panelBase';
import type { PanelHost } from './panelHost';

/** Most metric lines a dashboard receives when it opens; a longer history arrives averaged. */
const MAX_INIT_LINES = 6000;

export class DashboardPanel extends PanelBase {
  static readonly viewType = 'robustMeta.dashboard';
  private static readonly open = new Map<string, DashboardPanel>();

  private metricsOffset = 0;
  private run: RunEntry;
  private sessionSub: vscode.Disposable | undefined;
  private changed = { status: false, metrics: false, samples: false, results: false };
  private readonly onFiles = this.register(new Coalescer(150, () => this.syncFromDisk()));

  static createOrShow(host: PanelHost, runDir: string): DashboardPanel {
    const key = path.resolve(runDir);
    const existing = DashboardPanel.open.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(DashboardPanel.viewType, path.basename(key), vscode.ViewColumn.Active, {});
    return new DashboardPanel(panel, host, key);
  }

  /** From the serializer after a reload; `runDir` was checked by the caller. */
  static revive(panel: vscode.WebviewPanel, host: PanelHost, runDir: string): DashboardPanel {
    const key = path.resolve(runDir);
    DashboardPanel.open.get(key)?.panel.dispose();
    return new DashboardPanel(panel, host, key);
  }

  /** The open dashboard of a run, if any. */
  static of(runDir: string): DashboardPanel | undefined {
    return DashboardPanel.open.get(path.resolve(runDir));
  }

  private constructor(
    panel: vscode.WebviewPanel,
    private readonly host: PanelHost,
    private readonly runDir: string,
  ) {
    super(panel, host.extensionUri, 'dashboard', host.log);
    DashboardPanel.open.set(runDir, this);
    this.register({ dispose: () => DashboardPanel.open.get(runDir) === this && DashboardPanel.open.delete(runDir) });
    this.panel.iconPath = vscode.Uri.joinPath(host.extensionUri, 'media', 'robust-meta.svg');
    this.run = readRunEntry(runDir);

    const watcher = this.register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runDir), '**')));
    const onFile = (uri: vscode.Uri) => this.fileChanged(uri.fsPath);
    this.register(watcher.onDidCreate(onFile));
    this.register(watcher.onDidChange(onFile));
    this.register(watcher.onDidDelete(onFile));
    this.register(host.sessions.onDidChange((s) => this.sessionChanged(s)));
    this.register({ dispose: () => this.sessionSub?.dispose() });
    this.attach(host.sessions.get(runDir));
    // See ExperimentsTree: a run's process can die without touching its folder.
    const poll = setInterval(() => {
      if (this.run.state !== 'running' || this.session()) return;
      this.changed.status = true;
      this.onFiles.trigger();
    }, LIVENESS_POLL_MS);
    this.register({ dispose: () => clearInterval(poll) });
    this.render(this.title(), [runDir]);
  }

  private title(): string {
    return `Run ${this.run.id}`;
  }

  protected state(): PanelState {
    return { kind: 'dashboard', runDir: this.runDir };
  }

  private session(): Session | undefined {
    const s = this.host.sessions.get(this.runDir);
    return s && s.kind === 'train' && s.phase !== 'ended' ? s : undefined;
  }

  private view() {
    const s = this.session();
    const live = s?.progress ? { ...s.progress, backend: s.backend } : undefined;
    let run = this.run;
    if (s && run.problem && s.job.kind === 'train') {
      // The worker writes config.json once its backend and data are loaded; until then the
      // folder is empty, which is not a problem but the start of the run.
      const cfg = s.job.config;
      run = {
        ...run,
        problem: undefined,
        state: 'running',
        method: cfg?.method ?? run.method,
        totalSteps: cfg?.steps ?? run.totalSteps,
        message: 'starting: loading the backend and the data…',
      };
    }
    return runView(run, Boolean(s), live);
  }

  protected sendAll(): void {
    this.run = readRunEntry(this.runDir);
    const chunk = readMetricsFrom(this.runDir, 0);
    this.metricsOffset = chunk.next;
    const samples = readLatestSamples(this.runDir);
    const { views, problems } = runResultViews(this.run, this.toUri);
    this.post({
      type: 'dashboard/init',
      run: this.view(),
      metrics: thinMetrics(chunk.lines, MAX_INIT_LINES),
      samples: samples ? sampleSetView(samples, path.join(this.runDir, RUN_FILES.samples), this.toUri) : null,
      results: views,
    });
    const problem = [this.session() ? undefined : this.run.problem, chunk.problem, ...problems].filter(Boolean).join('\n');
    if (problem) this.post({ type: 'panel/error', message: problem });
  }

  protected handlers(): ViewHandlers {
    return {
      'run/stop': () => this.host.actions.stop(this.runDir),
      'run/resume': () => this.host.actions.resume(this.runDir),
      'run/evaluate': () => this.host.actions.evaluate(this.runDir),
      'result/open': ({ name }) => {
        const r = this.run.results.find((x) => x.name === name);
        if (r) this.host.actions.openResult(r.path);
      },
    };
  }

  private fileChanged(file: string): void {
    const rel = path.relative(this.runDir, file).split(path.sep);
    if (file.endsWith('.tmp')) return;
    if (rel[0] === RUN_FILES.metrics) this.changed.metrics = true;
    else if (rel[0] === RUN_FILES.status || rel[0] === RUN_FILES.config || rel[0] === RUN_FILES.checkpoints) this.changed.status = true;
    else if (rel[0] === RUN_FILES.samples && file.endsWith('.json')) this.changed.samples = true;
    else if (rel[0] === RUN_FILES.results) this.changed.results = true;
    else return;
    this.onFiles.trigger();
  }

  private syncFromDisk(): void {
    const c = this.changed;
    this.changed = { status: false, metrics: false, samples: false, results: false };
    if (c.status || c.results) {
      this.run = readRunEntry(this.runDir);
      this.post({ type: 'dashboard/run', run: this.view() });
    }
    if (c.metrics) this.pullMetrics();
    if (c.samples) {
      const samples = readLatestSamples(this.runDir);
      if (samples) this.post({ type: 'dashboard/samples', samples: sampleSetView(samples, path.join(this.runDir, RUN_FILES.samples), this.toUri) });
    }
    if (c.results) this.post({ type: 'dashboard/results', results: runResultViews(this.run, this.toUri).views });
  }

  private pullMetrics(): void {
    const chunk = readMetricsFrom(this.runDir, this.metricsOffset);
    this.metricsOffset = chunk.next;
    if (chunk.lines.length || chunk.restarted) this.post({ type: 'dashboard/metrics', metrics: chunk.lines, reset: chunk.restarted });
    if (chunk.problem) this.post({ type: 'panel/error', message: chunk.problem });
  }

  private sessionChanged(s: Session): void {
    if (path.resolve(s.dir) !== this.runDir || s.kind !== 'train') return;
    this.attach(s);
    if (s.phase === 'ended') this.run = readRunEntry(this.runDir);
    this.post({ type: 'dashboard/run', run: this.view() });
  }

  /** Follows a session's worker messages (a run started or resumed by this window). */
  private attach(s: Session | undefined): void {
    if (!s || s.phase === 'ended') {
      this.sessionSub?.dispose();
      this.sessionSub = undefined;
      return;
    }
    if (this.sessionSub) return;
    this.sessionSub = s.onMessage((m) => this.workerMessage(m));
  }

  private workerMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'run/metric':
        this.post({ type: 'dashboard/metrics', metrics: [m.metric] });
        break;
      case 'run/samples': {
        const set = asSampleSet(m.samples);
        if (set) this.post({ type: 'dashboard/samples', samples: sampleSetView(set, path.join(this.runDir, RUN_FILES.samples), this.toUri) });
        break;
      }
      default:
        break;
    }
  }
}
