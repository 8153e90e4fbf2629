// The commands of the extension (package.json contributes.commands). Each asks only for what it
// cannot default, through quick picks and input boxes; every path from outside (a config file, a
// webview, a revived panel) is checked to stay inside the workspace, the runs folder or a folder
// the user picked. Nothing here computes: jobs go to worker processes through Sessions.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isUserError } from '../core/errors';
import type { Job } from '../runner/protocol';
import { runOwner } from '../runner/runLock';
import { allocateRunDir, readRunConfig, RUN_FILES } from '../runner/runStore';
import { formatBackendReport, probeBackend } from './backendProbe';
import { Disposable } from './disposable';
import type { ExperimentsTree } from './experimentsTree';
import { ComparePanel } from './panels/comparePanel';
import { DashboardPanel } from './panels/dashboardPanel';
import type { PanelHost } from './panels/panelHost';
import { ResultPanel } from './panels/resultPanel';
import { isInsideAny } from './paths';
import { readRunEntry, type RunEntry } from './runFolder';
import type { Session, Sessions } from './sessions';
import * as settings from './settings';
import { buildTrainConfig, checkedDataPath, CONFIG_FILE_GLOB, freeConfigPath, isConfigFileName, newConfigText, readConfigFile } from './trainConfig';
import type { TreeNode } from './treeModel';

/** Milliseconds deactivate() waits for workers to write their checkpoints. */
export const SHUTDOWN_WAIT_MS = 8000;

export const BUNDLED_DATASETS: { name: string; label: string }[] = [
  { name: 'fashion-mnist-small', label: 'Fashion-MNIST subset (bundled)' },
  { name: 'glyphs', label: 'Procedural glyphs (bundled, an unseen domain)' },
];

type Arg = TreeNode | vscode.Uri | string | undefined;

function isNode(a: unknown): a is TreeNode {
  return typeof a === 'object' && a !== null && 'kind' in a && 'run' in a;
}

/** The run folder named by a command argument: a tree node, a path, or a Uri. */
function runDirOf(a: Arg): string | undefined {
  if (isNode(a)) return a.run.dir;
  if (a instanceof vscode.Uri) return a.fsPath;
  return typeof a === 'string' ? a : undefined;
}

function errorText(e: unknown): string {
  return isUserError(e) ? e.message : `${(e as Error).message ?? e}`;
}

export class Commands extends Disposable {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly tree: ExperimentsTree,
    private readonly sessions: Sessions,
    private readonly host: PanelHost,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    const reg = (id: string, fn: (...args: never[]) => unknown) =>
      this.register(
        vscode.commands.registerCommand(id, async (...args: never[]) => {
          try {
            await fn.apply(this, args);
          } catch (e) {
            this.log.error(`${id}: ${(e as Error).stack ?? e}`);
            void vscode.window.showErrorMessage(`Robust Meta: ${errorText(e)}`);
          }
        }),
      );
    reg('robustMeta.newConfig', this.newConfig);
    reg('robustMeta.startTraining', this.startTraining);
    reg('robustMeta.stopTraining', this.stopTraining);
    reg('robustMeta.resumeTraining', this.resumeTraining);
    reg('robustMeta.evaluateFolder', this.evaluateFolder);
    reg('robustMeta.openDashboard', this.openDashboard);
    reg('robustMeta.openResult', this.openResult);
    reg('robustMeta.compareRuns', this.compareRuns);
    reg('robustMeta.showBackend', this.showBackend);
    reg('robustMeta.refreshExperiments', () => this.tree.refresh());
  }

  runsFolder(): string {
    return settings.runsFolder(this.context.globalStorageUri);
  }

  /** Folders whose files may be read on a path's say-so: the workspace folders and the runs folder. */
  allowedRoots(): string[] {
    return [...settings.workspaceRoots(), this.runsFolder()];
  }

  private bundledData(name: string): string {
    return vscode.Uri.joinPath(this.context.extensionUri, 'data', name).fsPath;
  }

  /** Training and evaluation run code from the workspace's configs: not in an untrusted one. */
  private async requireTrust(what: string): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const manage = 'Manage Workspace Trust';
    const pick = await vscode.window.showWarningMessage(
      `Robust Meta: ${what} is disabled in Restricted Mode. Training and evaluation read config files and data from this workspace and run for a long time in a worker process; trust the workspace to enable them. Runs already on disk can still be browsed.`,
      manage,
    );
    if (pick === manage) await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }

  private checkedRunDir(dir: string): string {
    const full = path.resolve(dir);
    if (!isInsideAny(this.allowedRoots(), full)) throw new Error(`${full} is outside the workspace and the runs folder`);
    return full;
  }

  // -------------------------------------------------------------------------------------------
  // New Experiment Config

  async newConfig(): Promise<void> {
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
      const uri = await vscode.window.showSaveDialog({ title: 'New Experiment Config', filters: { 'Robust Meta config': ['json'] }, defaultUri: vscode.Uri.file('experiment.robust-meta.json') });
      if (!uri) return;
      file = uri.fsPath.endsWith('.robust-meta.json') ? uri.fsPath : uri.fsPath.replace(/(\.json)?$/, '.robust-meta.json');
    }
    fs.writeFileSync(file, newConfigText(settings.defaultMethod()));
    await vscode.window.showTextDocument(vscode.Uri.file(file));
  }

  // -------------------------------------------------------------------------------------------
  // Start / Stop / Resume Training

  /** The config file to train with: the argument, the defaultConfig setting, or a pick; undefined: defaults; null: cancelled. */
  private async pickConfigFile(arg: Arg): Promise<string | undefined | null> {
    if (arg instanceof vscode.Uri && isConfigFileName(arg.fsPath)) return arg.fsPath;
    const fromSetting = settings.defaultConfigPath();
    if (fromSetting) return fromSetting;
    const files = await vscode.workspace.findFiles(CONFIG_FILE_GLOB, '**/node_modules/**', 100);
    if (!files.length) return undefined;
    const active = vscode.window.activeTextEditor?.document.uri.fsPath;
    files.sort((a, b) => Number(b.fsPath === active) - Number(a.fsPath === active) || a.fsPath.localeCompare(b.fsPath));
    const items: (vscode.QuickPickItem & { file?: string })[] = [
      { label: 'Default settings', description: `${settings.defaultMethod()} on the bundled Fashion-MNIST subset`, detail: 'No config file: every value at its default' },
      ...files.map((f) => ({ label: vscode.workspace.asRelativePath(f), description: f.fsPath === active ? 'open in the editor' : undefined, file: f.fsPath })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'Start Training: config', placeHolder: 'Pick a config file or the defaults' });
    if (!pick) return null;
    return pick.file;
  }

  async startTraining(arg?: Arg): Promise<void> {
    if (!(await this.requireTrust('Start Training'))) return;
    const file = await this.pickConfigFile(arg);
    if (file === null) return;
    if (file && !isInsideAny(settings.workspaceRoots(), file)) throw new Error(`the config file ${file} is outside the workspace`);
    const config = buildTrainConfig({
      file: file ? { path: file, values: readConfigFile(file) } : undefined,
      method: settings.defaultMethod(),
      backend: settings.backendSetting(),
      allowedRoots: settings.workspaceRoots(),
    });
    if (!config.data && !fs.existsSync(this.bundledData('fashion-mnist-small'))) {
      throw new Error(`the bundled dataset is missing from the extension (${this.bundledData('fashion-mnist-small')}); set "data" in a config file`);
    }
    const runs = this.runsFolder();
    const { dir } = allocateRunDir(runs, config.method);
    this.startJob({ kind: 'train', runDir: dir, config, resume: false }, dir);
    DashboardPanel.createOrShow(this.host, dir);
  }

  private startJob(job: Job, key: string): Session {
    const s = this.sessions.start(job, key);
    void s.ended.then(() => this.reportEnd(s));
    return s;
  }

  private async reportEnd(s: Session): Promise<void> {
    const dashboard = 'Open Dashboard';
    if (s.kind === 'train') {
      const step = s.progress ? ` at step ${s.progress.step}` : '';
      if (s.finalState === 'done') {
        const evaluate = 'Evaluate…';
        const pick = await vscode.window.showInformationMessage(`Robust Meta: run ${s.id} finished${step}.`, dashboard, evaluate);
        if (pick === dashboard) DashboardPanel.createOrShow(this.host, s.dir);
        if (pick === evaluate) await this.evaluateRun(s.dir);
      } else if (s.finalState === 'stopped') {
        void vscode.window.showInformationMessage(`Robust Meta: run ${s.id} stopped${step}; its checkpoint is written, "Resume Training" continues it.`);
      } else {
        const output = 'Show Output';
        const pick = await vscode.window.showErrorMessage(`Robust Meta: run ${s.id} failed${step}: ${s.error?.message ?? 'see the output'}`, output, dashboard);
        if (pick === output) this.log.show();
        if (pick === dashboard) DashboardPanel.createOrShow(this.host, s.dir);
      }
    } else if (s.job.kind === 'eval') {
      const out = s.job.args.out;
      if (s.finalState === 'done' && fs.existsSync(out)) ResultPanel.createOrShow(this.host, out);
      else if (s.finalState === 'failed') void vscode.window.showErrorMessage(`Robust Meta: evaluation failed: ${s.error?.message ?? 'see the output'}`);
    }
  }

  /** A run picked from the tree's runs that pass `filter`; one candidate is taken without asking. */
  private async pickRun(title: string, filter: (r: RunEntry) => boolean, none: string): Promise<RunEntry | undefined> {
    this.tree.refresh();
    const runs = this.tree.allRuns().filter(filter);
    if (!runs.length) {
      void vscode.window.showInformationMessage(`Robust Meta: ${none}`);
      return undefined;
    }
    if (runs.length === 1) return runs[0];
    const pick = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.id, description: `${r.method} · ${r.state} · step ${r.step}/${r.totalSteps}`, run: r })),
      { title },
    );
    return pick?.run;
  }

  async stopTraining(arg?: Arg): Promise<void> {
    let dir = runDirOf(arg);
    if (!dir) {
      const live = this.sessions.training();
      if (!live.length) {
        void vscode.window.showInformationMessage('Robust Meta: no training runs in this window.');
        return;
      }
      const pick =
        live.length === 1
          ? live[0]
          : (await vscode.window.showQuickPick(live.map((s) => ({ label: s.id, description: s.progress ? `step ${s.progress.step}/${s.progress.totalSteps}` : 'starting', s })), { title: 'Stop Training' }))?.s;
      if (!pick) return;
      dir = pick.dir;
    }
    const s = this.sessions.get(dir);
    if (s && s.kind === 'train' && s.phase !== 'ended') {
      s.stop();
      void vscode.window.setStatusBarMessage(`Robust Meta: stopping ${s.id} after a checkpoint…`, 5000);
      return;
    }
    const run = readRunEntry(this.checkedRunDir(dir));
    // Only the process that holds the run's lock, verified by its pid and start time, is ever
    // signalled: status.json's pid is a file's say-so (a crafted -1 would reach every process of
    // the user, and a reused pid a stranger).
    const owner = run.state === 'running' ? runOwner(run.dir) : undefined;
    if (!owner) {
      void vscode.window.showInformationMessage(`Robust Meta: run ${run.id} is not running.`);
      return;
    }
    // Signalling a process on a run folder's word is not for an untrusted workspace.
    if (!(await this.requireTrust('Stop Training for a run started elsewhere'))) return;
    // Started elsewhere (the CLI, another window): SIGINT is its Ctrl+C, which the CLI and the
    // worker both answer by stopping after a checkpoint.
    const send = 'Stop It';
    const pick = await vscode.window.showWarningMessage(
      `Run ${run.id} was started outside this window (process ${owner.pid}). Ask that process to stop? It writes a checkpoint first.`,
      { modal: true },
      send,
    );
    if (pick !== send) return;
    // Checked again: the process may have ended while the question was open, and its pid been reused.
    const still = runOwner(run.dir);
    if (!still || still.pid !== owner.pid || still.startTime !== owner.startTime) {
      void vscode.window.showInformationMessage(`Robust Meta: run ${run.id} has already stopped.`);
      return;
    }
    process.kill(still.pid, 'SIGINT');
    void vscode.window.setStatusBarMessage(`Robust Meta: asked process ${still.pid} to stop ${run.id}…`, 5000);
  }

  async resumeTraining(arg?: Arg): Promise<void> {
    if (!(await this.requireTrust('Resume Training'))) return;
    let dir = runDirOf(arg);
    if (!dir) {
      const run = await this.pickRun('Resume Training', (r) => r.state !== 'running' && r.state !== 'done' && r.checkpoints.length > 0, 'no stopped or failed run with a checkpoint to resume.');
      if (!run) return;
      dir = run.dir;
    }
    dir = this.checkedRunDir(dir);
    if (this.sessions.get(dir)?.phase === 'running') throw new Error(`${path.basename(dir)} is already running in this window`);
    const run = readRunEntry(dir);
    if (run.state === 'running') throw new Error(`${run.id} is being trained by another process (pid ${runOwner(dir)?.pid ?? '?'}): one run folder has one writer; stop it before resuming`);
    if (!run.checkpoints.length) throw new Error(`${run.id} has no checkpoint to resume from`);
    // A run folder's config.json is as untrusted as a config file: the same rule for its data.
    const { config } = readRunConfig(dir);
    if (config.data) checkedDataPath(config.data, dir, settings.workspaceRoots(), path.join(dir, RUN_FILES.config));
    this.startJob({ kind: 'train', runDir: dir, resume: true }, dir);
    DashboardPanel.createOrShow(this.host, dir);
  }

  // -------------------------------------------------------------------------------------------
  // Evaluate Few-Shot on Folder

  private async pickDataFolder(): Promise<string | undefined> {
    const items: (vscode.QuickPickItem & { dir?: string })[] = BUNDLED_DATASETS.filter((d) => fs.existsSync(this.bundledData(d.name))).map((d) => ({
      label: d.label,
      description: d.name,
      dir: this.bundledData(d.name),
    }));
    items.push({ label: 'Choose a folder…', description: 'an image folder (one sub-folder per class) or IDX files' });
    const pick = await vscode.window.showQuickPick(items, { title: 'Evaluate: data', placeHolder: 'Which data to evaluate on (test classes)' });
    if (!pick) return undefined;
    if (pick.dir) return pick.dir;
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Data folder to evaluate on', defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
    return uris?.[0]?.fsPath;
  }

  /** Checkpoints to evaluate: the node's, else picked from the runs (newest checkpoint of each). */
  private async pickCheckpoints(arg: Arg): Promise<{ checkpoints: string[]; outDir: string } | undefined> {
    if (isNode(arg) && arg.kind === 'checkpoint') return { checkpoints: [arg.checkpoint.path], outDir: path.join(arg.run.dir, RUN_FILES.results) };
    if (isNode(arg) && arg.run.checkpoints.length) return { checkpoints: [arg.run.checkpoints[0].path], outDir: path.join(arg.run.dir, RUN_FILES.results) };
    this.tree.refresh();
    const runs = this.tree.allRuns().filter((r) => r.checkpoints.length > 0);
    if (!runs.length) {
      void vscode.window.showInformationMessage('Robust Meta: no run has a checkpoint yet; train one first ("Start Training").');
      return undefined;
    }
    let picked = runs;
    if (runs.length > 1) {
      const sel = await vscode.window.showQuickPick(
        runs.map((r) => ({ label: r.id, description: `${r.method} · checkpoint step ${r.checkpoints[0].step}`, run: r })),
        { title: 'Evaluate: models', placeHolder: 'Pick one or more runs (their newest checkpoints are compared on the same episodes)', canPickMany: true },
      );
      if (!sel?.length) return undefined;
      picked = sel.map((s) => s.run);
    }
    return { checkpoints: picked.map((r) => r.checkpoints[0].path), outDir: path.join(picked[0].dir, RUN_FILES.results) };
  }

  /** From the explorer (a folder Uri), a checkpoint or run in the tree, or the palette. */
  async evaluateFolder(arg?: Arg): Promise<void> {
    if (!(await this.requireTrust('Evaluate Few-Shot on Folder'))) return;
    const dataFromExplorer = arg instanceof vscode.Uri ? arg.fsPath : undefined;
    if (dataFromExplorer && !isInsideAny(settings.workspaceRoots(), dataFromExplorer)) throw new Error(`${dataFromExplorer} is outside the workspace`);
    const models = await this.pickCheckpoints(dataFromExplorer ? undefined : arg);
    if (!models) return;
    const data = dataFromExplorer ?? (await this.pickDataFolder());
    if (!data) return;
    this.runEval(models.checkpoints, data, models.outDir);
  }

  private async evaluateRun(runDir: string): Promise<void> {
    await this.evaluateFolder({ kind: 'run', run: readRunEntry(runDir) });
  }

  private runEval(checkpoints: string[], data: string, outDir: string): void {
    fs.mkdirSync(outDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    const dataset = path.basename(data).replace(/[^A-Za-z0-9_-]+/g, '-') || 'data';
    const out = path.join(outDir, `${dataset}-${stamp}.json`);
    const options: Record<string, string | number> = { backend: settings.backendSetting() };
    const episodes = vscode.workspace.getConfiguration(settings.SECTION).get<number>('evalEpisodes');
    if (episodes && episodes > 0) options.episodes = episodes;
    const s = this.startJob({ kind: 'eval', args: { checkpoints, data, out, options } }, out);
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Robust Meta: evaluating on ${path.basename(data)}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => s.stop());
        let last = 0;
        const sub = s.onMessage((m) => {
          if (m.type !== 'run/progress' || !m.totalSteps) return;
          const pct = (100 * m.step) / m.totalSteps;
          progress.report({ increment: pct - last, message: `${m.label ?? 'episode'} ${m.step}/${m.totalSteps}` });
          last = pct;
        });
        return s.ended.finally(() => sub.dispose());
      },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Panels

  async openDashboard(arg?: Arg): Promise<void> {
    let dir = runDirOf(arg);
    if (!dir) {
      const live = this.sessions.training();
      const run = live.length === 1 ? readRunEntry(live[0].dir) : await this.pickRun('Open Dashboard', () => true, `no runs in ${this.runsFolder()} yet.`);
      if (!run) return;
      dir = run.dir;
    }
    DashboardPanel.createOrShow(this.host, this.checkedRunDir(dir));
  }

  async openResult(arg?: TreeNode | vscode.Uri | string): Promise<void> {
    let file: string | undefined;
    if (isNode(arg) && arg.kind === 'result') file = arg.result.path;
    else if (arg instanceof vscode.Uri) file = arg.fsPath;
    else if (typeof arg === 'string') file = arg;
    if (!file) {
      const items = this.tree.allRuns().flatMap((r) => r.results.map((x) => ({ label: `${r.id} / ${x.name}`, file: x.path })));
      file = (await vscode.window.showQuickPick(items, { title: 'Open Result' }))?.file;
      if (!file) return;
    }
    ResultPanel.createOrShow(this.host, this.checkedRunDir(file));
  }

  async compareRuns(arg?: Arg, selected?: TreeNode[]): Promise<void> {
    const fromTree = (selected?.length ? selected : isNode(arg) ? [arg] : []).filter(isNode);
    let runDirs: string[] = [];
    let resultFiles: string[] = [];
    if (fromTree.length > 1) {
      runDirs = fromTree.filter((n) => n.kind === 'run').map((n) => n.run.dir);
      resultFiles = fromTree.filter((n) => n.kind === 'result').map((n) => (n.kind === 'result' ? n.result.path : ''));
    } else {
      this.tree.refresh();
      const runs = this.tree.allRuns();
      type Item = vscode.QuickPickItem & { run?: string; result?: string };
      const items: Item[] = [];
      if (runs.length) items.push({ label: 'Runs (training curves)', kind: vscode.QuickPickItemKind.Separator });
      for (const r of runs) items.push({ label: r.id, description: `${r.method} · ${r.state} · step ${r.step}`, run: r.dir });
      const results = runs.flatMap((r) => r.results.map((x) => ({ r, x })));
      if (results.length) items.push({ label: 'Results (evaluations)', kind: vscode.QuickPickItemKind.Separator });
      for (const { r, x } of results) items.push({ label: `${r.id} / ${x.name}`, description: 'result', result: x.path });
      if (!runs.length) {
        void vscode.window.showInformationMessage(`Robust Meta: no runs in ${this.runsFolder()} yet.`);
        return;
      }
      const picked = await vscode.window.showQuickPick(items, { title: 'Compare Runs', placeHolder: 'Pick runs and/or results to compare', canPickMany: true });
      if (!picked?.length) return;
      runDirs = picked.filter((p) => p.run).map((p) => p.run!);
      resultFiles = picked.filter((p) => p.result).map((p) => p.result!);
    }
    ComparePanel.createOrShow(
      this.host,
      runDirs.map((d) => this.checkedRunDir(d)),
      resultFiles.map((f) => this.checkedRunDir(f)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Show Backend

  async showBackend(): Promise<void> {
    const choice = settings.backendSetting();
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Robust Meta: probing tfjs backends' }, () => probeBackend(choice));
    const lines = formatBackendReport(report);
    for (const s of this.sessions.training()) lines.push(`Run ${s.id} in this window uses: ${s.backend ?? 'starting'}`);
    lines.forEach((l) => this.log.info(l));
    const show = 'Show Details';
    const text = report.selected ? `Robust Meta backend: ${report.selected.name} (setting: ${choice}).` : `Robust Meta: no backend loads for '${choice}': ${report.error}`;
    const pick = await (report.selected ? vscode.window.showInformationMessage(text, show) : vscode.window.showErrorMessage(text, show));
    if (pick === show) this.log.show();
  }
}
