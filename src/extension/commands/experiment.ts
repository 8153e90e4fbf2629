// New Experiment / Run Experiment / Stop Experiment, and the CodeLens on a spec. A run is the CLI's
// `robust-meta experiment` in a task terminal, writing to experiments/out/<name>/ beside the spec
// (the CLI's folder is the source of truth; finished jobs there are reused, so running again
// resumes). Stop ends the task; its finished jobs stay.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isInsideAny } from '../paths';
import * as settings from '../settings';
import { experimentOutDir } from '../experimentFolder';
import type { ExportFormat } from '../experimentView';
import { ExperimentPanel, exportExperimentTable } from '../panels/experimentPanel';
import { EXPERIMENT_FILE_GLOB, isExperimentFileName, newExperimentText } from '../experimentSpec';
import { forkOptionsFor } from '../workerAdapter';
import type { CommandContext } from './context';

const TASK_TYPE = 'robustMeta.experiment';
const running = new Map<string, vscode.TaskExecution>();

export function registerExperimentCommands(ctx: CommandContext): vscode.Disposable[] {
  const lens = new ExperimentCodeLens();
  return [
    ctx.register('robustMeta.newExperiment', () => newExperiment()),
    ctx.register('robustMeta.runExperiment', (arg?: vscode.Uri) => runExperiment(ctx, arg)),
    ctx.register('robustMeta.stopExperiment', (arg?: vscode.Uri) => stopExperiment(arg)),
    ctx.register('robustMeta.openExperiment', async (arg?: vscode.Uri | string) => {
      const spec = await pickSpec(typeof arg === 'string' ? vscode.Uri.file(arg) : arg);
      if (spec) ExperimentPanel.createOrShow(ctx.host, ctx.checkedRunDir(spec));
    }),
    ctx.register('robustMeta.exportExperimentTable', async (arg?: vscode.Uri | string) => {
      const spec = await pickSpec(typeof arg === 'string' ? vscode.Uri.file(arg) : arg);
      if (!spec) return;
      const formats: { label: string; format: ExportFormat }[] = [
        { label: 'Markdown', format: 'markdown' },
        { label: 'CSV', format: 'csv' },
        { label: 'LaTeX', format: 'latex' },
      ];
      const pick = await vscode.window.showQuickPick(formats, { title: 'Export Results Table' });
      if (pick) await exportExperimentTable(ctx.checkedRunDir(spec), pick.format);
    }),
    vscode.languages.registerCodeLensProvider({ pattern: EXPERIMENT_FILE_GLOB }, lens),
    vscode.tasks.onDidStartTask(() => lens.refresh()),
    vscode.tasks.onDidEndTask((e) => {
      for (const [spec, exec] of running) if (exec === e.execution) running.delete(spec);
      lens.refresh();
    }),
    lens,
  ];
}

async function newExperiment(): Promise<void> {
  const root = settings.workspaceRoot();
  if (!root) throw new Error('open a folder first: an experiment writes its runs beside its spec');
  const name = await vscode.window.showInputBox({
    title: 'New Experiment',
    prompt: 'Name of the experiment (saved as <name>.experiment.json in the workspace folder)',
    value: 'my-experiment',
    validateInput: (v) => (/^[\w.-]+$/.test(v.trim()) ? undefined : 'Use letters, digits, dot, dash, underscore'),
  });
  if (name === undefined) return;
  let file = path.join(root, `${name.trim()}.experiment.json`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(root, `${name.trim()}-${i}.experiment.json`);
  fs.writeFileSync(file, newExperimentText(path.basename(file, '.experiment.json')));
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}

async function pickSpec(arg?: vscode.Uri): Promise<string | undefined> {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const active = vscode.window.activeTextEditor?.document.uri.fsPath;
  if (active && isExperimentFileName(active)) return active;
  const files = await vscode.workspace.findFiles(EXPERIMENT_FILE_GLOB, '**/node_modules/**', 100);
  if (!files.length) {
    void vscode.window.showInformationMessage('Robust Meta: no *.experiment.json in the workspace; "New Experiment" writes one.');
    return undefined;
  }
  if (files.length === 1) return files[0].fsPath;
  return (
    await vscode.window.showQuickPick(
      files.map((f) => ({ label: vscode.workspace.asRelativePath(f), file: f.fsPath })),
      { title: 'Run Experiment' },
    )
  )?.file;
}

async function runExperiment(ctx: CommandContext, arg?: vscode.Uri): Promise<void> {
  if (!(await ctx.requireTrust('Run Experiment'))) return;
  const spec = await pickSpec(arg);
  if (!spec) return;
  if (!isInsideAny(settings.workspaceRoots(), spec)) throw new Error(`the spec ${spec} is outside the workspace`);
  if (running.has(spec)) throw new Error(`${path.basename(spec)} is already running in this window`);
  const out = experimentOutDir(spec);
  const { execPath, env } = forkOptionsFor('wasm');
  const entry = path.join(ctx.extension.extensionUri.fsPath, 'out', 'src', 'extension', 'cliEntry.js');
  const task = new vscode.Task(
    { type: TASK_TYPE, spec },
    vscode.TaskScope.Workspace,
    `experiment ${path.basename(spec, '.experiment.json')}`,
    'Robust Meta',
    new vscode.ProcessExecution(execPath, [entry, 'experiment', spec, '--out', out, '--doc', path.join(out, 'results.md')], {
      cwd: path.dirname(spec),
      env: env as Record<string, string>,
    }),
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
  running.set(spec, await vscode.tasks.executeTask(task));
  ExperimentPanel.createOrShow(ctx.host, spec);
}

async function stopExperiment(arg?: vscode.Uri): Promise<void> {
  const spec = arg?.fsPath ?? [...running.keys()][0];
  const exec = spec ? running.get(spec) : undefined;
  if (!exec) {
    void vscode.window.showInformationMessage('Robust Meta: no experiment is running in this window.');
    return;
  }
  exec.terminate();
}

/** "Run Experiment" (or "Stop Experiment") over the spec's first line, and its output folder. */
class ExperimentCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  refresh(): void {
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const range = new vscode.Range(0, 0, 0, 0);
    const spec = doc.uri.fsPath;
    const out = experimentOutDir(spec);
    const lenses = running.has(spec)
      ? [new vscode.CodeLens(range, { title: '$(debug-stop) Stop Experiment', command: 'robustMeta.stopExperiment', arguments: [doc.uri] })]
      : [new vscode.CodeLens(range, { title: '$(play) Run Experiment', command: 'robustMeta.runExperiment', arguments: [doc.uri] })];
    lenses.push(new vscode.CodeLens(range, { title: 'Open experiment panel', command: 'robustMeta.openExperiment', arguments: [doc.uri] }));
    const report = path.join(out, 'results.md');
    if (fs.existsSync(report))
      lenses.push(new vscode.CodeLens(range, { title: 'Open results', command: 'markdown.showPreview', arguments: [vscode.Uri.file(report)] }));
    return lenses;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
