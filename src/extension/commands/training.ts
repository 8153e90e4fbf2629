// Start / Stop / Resume Training, and the report when a training job of this window ends.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { runOwner } from '../../runner/runLock';
import { allocateRunDir, readRunConfig, RUN_FILES } from '../../runner/runStore';
import { DashboardPanel } from '../panels/dashboardPanel';
import { isInsideAny } from '../paths';
import { readRunEntry } from '../runFolder';
import type { Session } from '../sessions';
import * as settings from '../settings';
import { buildTrainConfig, checkedDataPath, CONFIG_FILE_GLOB, isConfigFileName, readConfigFile } from '../trainConfig';
import { runDirOf, type Arg, type CommandContext } from './context';
import { resumeSlurmJob, stopSlurmJob } from '../slurmJobs';
import type { JobView } from '../../runner/slurm/jobs';

export function registerTrainingCommands(ctx: CommandContext): vscode.Disposable[] {
  ctx.onJobEnd((s) => void reportEnd(ctx, s));
  return [
    ctx.register('robustMeta.startTraining', (arg?: Arg) => startTraining(ctx, arg)),
    ctx.register('robustMeta.stopTraining', (arg?: Arg) => stopTraining(ctx, arg)),
    ctx.register('robustMeta.resumeTraining', (arg?: Arg) => resumeTraining(ctx, arg)),
  ];
}

/** The config file to train with: the argument, the defaultConfig setting, or a pick; undefined: defaults; null: cancelled. */
async function pickConfigFile(arg: Arg): Promise<string | undefined | null> {
  if (arg instanceof vscode.Uri && isConfigFileName(arg.fsPath)) return arg.fsPath;
  const fromSetting = settings.defaultConfigPath();
  if (fromSetting) return fromSetting;
  const files = await vscode.workspace.findFiles(CONFIG_FILE_GLOB, '**/node_modules/**', 100);
  if (!files.length) return undefined;
  const active = vscode.window.activeTextEditor?.document.uri.fsPath;
  files.sort((a, b) => Number(b.fsPath === active) - Number(a.fsPath === active) || a.fsPath.localeCompare(b.fsPath));
  const items: (vscode.QuickPickItem & { file?: string })[] = [
    {
      label: 'Default settings',
      description: `${settings.defaultMethod()} on the bundled Fashion-MNIST subset`,
      detail: 'No config file: every value at its default',
    },
    ...files.map((f) => ({ label: vscode.workspace.asRelativePath(f), description: f.fsPath === active ? 'open in the editor' : undefined, file: f.fsPath })),
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Start Training: config', placeHolder: 'Pick a config file or the defaults' });
  if (!pick) return null;
  return pick.file;
}

async function startTraining(ctx: CommandContext, arg?: Arg): Promise<void> {
  if (!(await ctx.requireTrust('Start Training'))) return;
  const file = await pickConfigFile(arg);
  if (file === null) return;
  if (file && !isInsideAny(settings.workspaceRoots(), file)) throw new Error(`the config file ${file} is outside the workspace`);
  const config = buildTrainConfig({
    file: file ? { path: file, values: readConfigFile(file) } : undefined,
    method: settings.defaultMethod(),
    backend: settings.backendSetting(),
    allowedRoots: settings.workspaceRoots(),
  });
  if (!config.data && !fs.existsSync(ctx.bundledData('fashion-mnist-small'))) {
    throw new Error(`the bundled dataset is missing from the extension (${ctx.bundledData('fashion-mnist-small')}); set "data" in a config file`);
  }
  const { dir } = allocateRunDir(ctx.runsFolder(), config.method);
  ctx.startJob({ kind: 'train', runDir: dir, config, resume: false }, dir);
  DashboardPanel.createOrShow(ctx.host, dir);
}

async function reportEnd(ctx: CommandContext, s: Session): Promise<void> {
  if (s.kind !== 'train') return;
  const dashboard = 'Open Dashboard';
  const step = s.progress ? ` at step ${s.progress.step}` : '';
  if (s.finalState === 'done') {
    const evaluate = 'Evaluate…';
    const pick = await vscode.window.showInformationMessage(`Robust Meta: run ${s.id} finished${step}.`, dashboard, evaluate);
    if (pick === dashboard) DashboardPanel.createOrShow(ctx.host, s.dir);
    if (pick === evaluate) await vscode.commands.executeCommand('robustMeta.evaluateFolder', { kind: 'run', run: readRunEntry(s.dir) });
  } else if (s.finalState === 'stopped') {
    void vscode.window.showInformationMessage(`Robust Meta: run ${s.id} stopped${step}; its checkpoint is written, "Resume Training" continues it.`);
  } else {
    const output = 'Show Output';
    const pick = await vscode.window.showErrorMessage(`Robust Meta: run ${s.id} failed${step}: ${s.error?.message ?? 'see the output'}`, output, dashboard);
    if (pick === output) ctx.log.show();
    if (pick === dashboard) DashboardPanel.createOrShow(ctx.host, s.dir);
  }
}

async function stopTraining(ctx: CommandContext, arg?: Arg): Promise<void> {
  let dir = runDirOf(arg);
  if (!dir) {
    const live = ctx.sessions.training();
    if (!live.length) {
      void vscode.window.showInformationMessage('Robust Meta: no training runs in this window.');
      return;
    }
    const pick =
      live.length === 1
        ? live[0]
        : (
            await vscode.window.showQuickPick(
              live.map((s) => ({ label: s.id, description: s.progress ? `step ${s.progress.step}/${s.progress.totalSteps}` : 'starting', s })),
              { title: 'Stop Training' },
            )
          )?.s;
    if (!pick) return;
    dir = pick.dir;
  }
  const s = ctx.sessions.get(dir);
  if (s && s.kind === 'train' && s.phase !== 'ended') {
    s.stop();
    void vscode.window.setStatusBarMessage(`Robust Meta: stopping ${s.id} after a checkpoint…`, 5000);
    return;
  }
  const job = ctx.tree.slurmJob(dir);
  if (job && !job.finished) return cancelSlurmJob(ctx, job);
  const run = readRunEntry(ctx.checkedRunDir(dir));
  // Only the process that holds the run's lock, verified by its pid and start time, is ever
  // signalled: status.json's pid is a file's say-so (a crafted -1 would reach every process of
  // the user, and a reused pid a stranger).
  const owner = run.state === 'running' ? runOwner(run.dir) : undefined;
  if (!owner) {
    void vscode.window.showInformationMessage(`Robust Meta: run ${run.id} is not running.`);
    return;
  }
  // Signalling a process on a run folder's word is not for an untrusted workspace.
  if (!(await ctx.requireTrust('Stop Training for a run started elsewhere'))) return;
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

/** Stop for a run submitted to Slurm: scancel after asking; the job checkpoints before it ends. */
async function cancelSlurmJob(ctx: CommandContext, job: JobView): Promise<void> {
  if (!(await ctx.requireTrust('Stop a Slurm job'))) return;
  const yes = 'Cancel Job';
  const pick = await vscode.window.showWarningMessage(
    `Cancel Slurm job ${job.jobId} (scancel) of ${path.basename(job.folder)}? The run writes a checkpoint first; Resume submits it again.`,
    { modal: true },
    yes,
  );
  if (pick !== yes) return;
  stopSlurmJob(job, vscode.workspace.isTrusted);
  void vscode.window.setStatusBarMessage(`Robust Meta: cancelled Slurm job ${job.jobId}`, 5000);
  ctx.tree.refresh();
}

async function resumeTraining(ctx: CommandContext, arg?: Arg): Promise<void> {
  if (!(await ctx.requireTrust('Resume Training'))) return;
  let dir = runDirOf(arg);
  if (!dir) {
    const run = await ctx.pickRun(
      'Resume Training',
      (r) => r.state !== 'running' && r.state !== 'done' && r.checkpoints.length > 0,
      'no stopped or failed run with a checkpoint to resume.',
    );
    if (!run) return;
    dir = run.dir;
  }
  dir = ctx.checkedRunDir(dir);
  if (ctx.sessions.get(dir)?.phase === 'running') throw new Error(`${path.basename(dir)} is already running in this window`);
  const run = readRunEntry(dir);
  if (run.state === 'running')
    throw new Error(`${run.id} is being trained by another process (pid ${runOwner(dir)?.pid ?? '?'}): one run folder has one writer; stop it before resuming`);
  if (!run.checkpoints.length) throw new Error(`${run.id} has no checkpoint to resume from`);
  // A run submitted to Slurm resumes there: submitted again, from its newest checkpoint.
  const job = ctx.tree.slurmJob(dir);
  if (job) {
    if (!job.finished) throw new Error(`${run.id} has Slurm job ${job.jobId} ${job.state.toLowerCase()}: stop it before resubmitting`);
    const sub = resumeSlurmJob(dir, vscode.workspace.isTrusted);
    void vscode.window.showInformationMessage(`Robust Meta: ${run.id} resubmitted to Slurm as job ${sub.jobId}.`);
    ctx.tree.refresh();
    return;
  }
  // A run folder's config.json is as untrusted as a config file: the same rule for its data.
  const { config } = readRunConfig(dir);
  if (config.data) checkedDataPath(config.data, dir, settings.workspaceRoots(), path.join(dir, RUN_FILES.config));
  ctx.startJob({ kind: 'train', runDir: dir, resume: true }, dir);
  DashboardPanel.createOrShow(ctx.host, dir);
}
