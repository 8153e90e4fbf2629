// The training loop that both the worker and the CLI run: a run folder in, metrics, checkpoints
// and status out, progress through callbacks (never a UI). Everything random derives from the
// config's seed and the step, so a run resumed from its checkpoint at step s computes the same
// steps s+1.. as one that never stopped.
import * as path from 'path';
import * as fs from 'fs';
import { Config, resolveConfig } from '../core/config';
import { backendLabel, initBackend } from '../core/backend';
import { Dataset, Episode, EpisodeSpec, episodeAt, loadDataset, validateForEpisodes } from '../core/data';
import { isUserError, UserError } from '../core/errors';
import { MetaLearner } from '../core/meta/learner';
import { STEP_METRIC_KEYS, StepMetrics } from '../core/meta/common';
import { checkCheckpointMatches, DEFAULT_KEEP_CHECKPOINTS, readCheckpoint, RESUMABLE_KEYS, writeCheckpoint, latestCheckpoint } from './checkpoint';
import { sourceDataPath, versions } from './packageInfo';
import { MetricLine, RUN_FORMAT_VERSION, RunConfigFile, RunState, SampleSet } from './runFormat';
import { acquireRunLock, RunLock } from './runLock';
import { appendMetric, isRunDir, readRunConfig, readStatus, RUN_FILES, sweepTempFiles, truncateMetrics, writeRunConfig, writeStatus } from './runStore';
import { sweepOrphanSamples, writeSamples } from './samples';

/** Stops or pauses a running loop between steps. */
export class TrainController {
  private cancelRequested = false;
  private pauseRequested = false;
  private waiters: (() => void)[] = [];

  get cancelled(): boolean {
    return this.cancelRequested;
  }
  get paused(): boolean {
    return this.pauseRequested;
  }
  /** Stop after the current step; the loop writes a checkpoint and ends in state 'stopped'. */
  cancel(): void {
    this.cancelRequested = true;
    this.wake();
  }
  pause(): void {
    this.pauseRequested = true;
  }
  resume(): void {
    this.pauseRequested = false;
    this.wake();
  }
  /** Resolves when not paused (or when cancelled). */
  async whilePaused(): Promise<void> {
    while (this.pauseRequested && !this.cancelRequested) await new Promise<void>((r) => this.waiters.push(r));
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((r) => r());
  }
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Seconds left at the recent pace; null before the first step. */
  etaSeconds: number | null;
  msPerStep: number;
  loss: number;
}

export interface TrainHooks {
  onStarted?(info: { runDir: string; step: number; totalSteps: number; backend: string; resumedFrom?: string }): void;
  onProgress?(p: TrainProgress): void;
  onMetric?(m: MetricLine): void;
  onCheckpoint?(step: number, file: string): void;
  onSamples?(samplesDir: string, samples: SampleSet): void;
  onLog?(level: 'info' | 'warn', message: string): void;
  onPaused?(paused: boolean): void;
}

export interface TrainOptions {
  /** The run folder: new (absent or empty) for a fresh run, an existing run to resume. */
  runDir: string;
  /** The config of a fresh run. Ignored on resume except for `overrides`. */
  config?: Config;
  resume?: boolean;
  /** On resume: new values for RESUMABLE_KEYS (steps, checkpointEvery, backend, ...). */
  overrides?: Partial<Config>;
  /** Folder for the decoded-image cache of image-folder datasets. */
  cacheDir?: string;
  keepCheckpoints?: number;
  controller?: TrainController;
  hooks?: TrainHooks;
  /** Write sample perturbations at each checkpoint (needs the evaluation module). Default true. */
  samples?: boolean;
}

export interface TrainOutcome {
  runDir: string;
  state: Extract<RunState, 'done' | 'stopped'>;
  step: number;
  totalSteps: number;
  checkpoint?: string;
  seconds: number;
}

/** Marks a UserError that happened before training began: the config or data is at fault. */
export class SetupError extends UserError {
  readonly setup = true;
}

export function isSetupError(e: unknown): boolean {
  return isUserError(e) && (e as { setup?: boolean }).setup === true;
}

/** A UserError as a SetupError (config or data at fault, exit 2); other errors unchanged. */
export function setupError(e: unknown): unknown {
  if (isUserError(e) && !isSetupError(e)) {
    const s = new SetupError(e.message);
    return s;
  }
  return e;
}

/** The episodes of meta-step `step` (0-based): episodes step*B .. step*B+B-1 of the seed's stream. */
export function metaBatchAt(ds: Dataset, cfg: Config, step: number): Episode[] {
  const spec: EpisodeSpec = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
  return Array.from({ length: cfg.metaBatch }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, cfg.seed, step * cfg.metaBatch + i));
}

export async function loadSourceDataset(cfg: Config, cacheDir?: string): Promise<Dataset> {
  const ds = await loadDataset(sourceDataPath(cfg.data), { imageSize: cfg.imageSize, channels: cfg.channels as 1 | 3, cacheDir });
  validateForEpisodes(ds, 'train', { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries });
  return ds;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Decides the config of the run, prepares its folder and takes its lock (one writer per run
 * folder); returns the config, where to start and the lock. Errors of a damaged run folder or a
 * held lock are plain UserErrors (exit 1); a config at fault is a SetupError (exit 2).
 */
function prepareRun(opts: TrainOptions): { cfg: Config; fresh: boolean; lock: RunLock } {
  const runDir = opts.runDir;
  if (opts.resume) {
    if (!isRunDir(runDir)) throw new UserError(`cannot resume ${runDir}: it is not a run folder (no ${RUN_FILES.config})`);
    const lock = acquireRunLock(runDir);
    try {
      const file = readRunConfig(runDir);
      const over = opts.overrides ?? {};
      const bad = Object.keys(over).filter(
        (k) => !(RESUMABLE_KEYS as readonly string[]).includes(k) && JSON.stringify(over[k as keyof Config]) !== JSON.stringify(file.config[k as keyof Config]),
      );
      if (bad.length) {
        throw new SetupError(
          `cannot change ${bad.join(', ')} when resuming ${runDir}: a resumed run keeps its config; only ${RESUMABLE_KEYS.join(', ')} may change. Start a new run instead`,
        );
      }
      let cfg: Config;
      try {
        cfg = resolveConfig({ ...file.config, ...over }, 'resume');
      } catch (e) {
        throw setupError(e);
      }
      return { cfg, fresh: false, lock };
    } catch (e) {
      lock.release();
      throw e;
    }
  }
  if (!opts.config) throw new Error('train: a fresh run needs a config');
  if (fs.existsSync(path.join(runDir, RUN_FILES.config))) {
    throw new SetupError(`${runDir} already holds a run; resume it (--resume ${runDir}) or choose a new folder`);
  }
  fs.mkdirSync(runDir, { recursive: true });
  const lock = acquireRunLock(runDir);
  const cfg = { ...opts.config, data: opts.config.data ? path.resolve(opts.config.data) : '' };
  return { cfg, fresh: true, lock };
}

/** What a run needs to train: its backend, data and learner, ready. */
interface Prepared {
  ds: Dataset;
  learner: MetaLearner;
  backendName: string;
  /** Backends auto passed over, and why: said once the run has started. */
  backendNotes: string[];
}

/**
 * Starts the backend, loads the data and builds the learner; a fresh run's config.json is written
 * once all of that worked. Any failure here is the config's or the data's (a SetupError), and a
 * fresh run that could not start leaves no folder behind.
 */
async function prepareLearner(runDir: string, cfg: Config, fresh: boolean, opts: TrainOptions, hooks: TrainHooks): Promise<Prepared> {
  let learner: MetaLearner | undefined;
  try {
    const backend = await initBackend(cfg.backend);
    const ds = await loadSourceDataset(cfg, opts.cacheDir);
    for (const w of ds.warnings ?? []) hooks.onLog?.('warn', `${ds.name}: ${w}`);
    learner = new MetaLearner(cfg);
    if (fresh) {
      writeRunConfig(runDir, {
        format: RUN_FORMAT_VERSION,
        id: path.basename(runDir),
        createdAt: new Date().toISOString(),
        config: cfg,
        backend: backend.name,
        ...(backend.kernels ? { kernels: backend.kernels } : {}),
        ...(backend.adapter ? { adapter: backend.adapter } : {}),
        versions: versions(),
        dataset: { name: ds.name, source: ds.source, splitOrigin: ds.splitOrigin, trainClasses: ds.splits.train.map((c) => ds.data.classes[c]) },
      } satisfies RunConfigFile);
    }
    return { ds, learner, backendName: backendLabel(backend), backendNotes: backend.skipped };
  } catch (e) {
    await learner?.dispose();
    // Apart from the record of the Slurm job that ran it (slurm/: script, output and exit, which
    // tell the user why).
    if (fresh && !isRunDir(runDir)) {
      for (const name of fs.existsSync(runDir) ? fs.readdirSync(runDir) : [])
        if (name !== 'slurm') fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
      if (fs.existsSync(runDir) && !fs.readdirSync(runDir).length) fs.rmdirSync(runDir);
    }
    throw setupError(e);
  }
}

/**
 * A resumed run: clears what killed writers left, loads the newest checkpoint into the learner
 * and drops the metric lines written after it. A damaged checkpoint is a failure of the run, not
 * of its config: not a SetupError.
 */
async function restoreRun(runDir: string, cfg: Config, learner: MetaLearner, hooks: TrainHooks): Promise<{ checkpointStep?: number; resumedFrom?: string }> {
  // Under the lock no other process writes here: what killed writers left behind can go.
  const swept = [...sweepTempFiles(runDir), ...sweepOrphanSamples(runDir)];
  if (swept.length) hooks.onLog?.('info', `removed ${swept.length} file(s) left by an interrupted write: ${swept.map((f) => path.basename(f)).join(', ')}`);
  const ckpt = latestCheckpoint(runDir);
  let restored: { checkpointStep?: number; resumedFrom?: string } = {};
  if (ckpt) {
    const loaded = readCheckpoint(ckpt);
    checkCheckpointMatches(loaded, cfg, (await learner.getState()).params);
    learner.setState(loaded.state);
    restored = { checkpointStep: loaded.header.step, resumedFrom: ckpt };
  } else {
    hooks.onLog?.('info', `${runDir} has no checkpoint yet: starting again from step 0`);
  }
  const damaged = truncateMetrics(runDir, learner.step);
  if (damaged) hooks.onLog?.('warn', damaged);
  return restored;
}

/** One run's training loop over a prepared learner: steps, metrics, checkpoints and status.json. */
class TrainLoop {
  step: number;
  checkpointStep: number | undefined;
  private lastStatusWrite = 0;

  constructor(
    readonly runDir: string,
    readonly cfg: Config,
    private readonly p: Prepared,
    private readonly opts: TrainOptions,
    private readonly hooks: TrainHooks,
    private readonly controller: TrainController,
    checkpointStep: number | undefined,
  ) {
    this.step = p.learner.step;
    this.checkpointStep = checkpointStep;
  }

  status(state: RunState, extra: { message?: string; etaSeconds?: number; paused?: boolean } = {}): void {
    writeStatus(this.runDir, {
      state,
      step: this.step,
      totalSteps: this.cfg.steps,
      pid: state === 'running' ? process.pid : undefined,
      checkpointStep: this.checkpointStep,
      ...extra,
    });
  }

  /** status.json of a running run between checkpoints, the time noted: it is rewritten at most once a second. */
  private progressStatus(etaSeconds?: number): void {
    this.status('running', { etaSeconds });
    this.lastStatusWrite = Date.now();
  }

  async checkpoint(etaSeconds?: number): Promise<string> {
    const file = writeCheckpoint(this.runDir, await this.p.learner.getState(), this.cfg, this.opts.keepCheckpoints ?? DEFAULT_KEEP_CHECKPOINTS);
    this.checkpointStep = this.step;
    // Before telling anyone: a parent that kills the worker on this news finds it in status.json.
    this.progressStatus(etaSeconds);
    this.hooks.onCheckpoint?.(this.step, file);
    if (this.opts.samples !== false) await this.samples();
    return file;
  }

  private async samples(): Promise<void> {
    try {
      const written = await writeSamples(this.runDir, this.step, this.p.learner, this.p.ds);
      if (written) this.hooks.onSamples?.(written.dir, written.samples);
    } catch (e) {
      this.hooks.onLog?.('warn', `could not write sample perturbations at step ${this.step}: ${(e as Error).message}`);
    }
  }

  /** Waits while paused, saying so in status.json and to the hooks. */
  private async pauseIfAsked(): Promise<void> {
    if (!this.controller.paused || this.controller.cancelled) return;
    this.status('running', { paused: true });
    this.hooks.onPaused?.(true);
    await this.controller.whilePaused();
    this.hooks.onPaused?.(false);
    this.status('running');
  }

  /** Steps until the config's steps are done or the controller cancels. */
  async run(): Promise<void> {
    const { cfg, hooks } = this;
    let emaMs: number | undefined;
    while (this.step < cfg.steps) {
      await yieldToEventLoop();
      await this.pauseIfAsked();
      if (this.controller.cancelled) break;
      const tStep = Date.now();
      const r = await this.p.learner.metaStep(metaBatchAt(this.p.ds, cfg, this.step));
      this.step = this.p.learner.step;
      const ms = Date.now() - tStep;
      emaMs = emaMs === undefined ? ms : 0.8 * emaMs + 0.2 * ms;
      const line: MetricLine = { step: this.step, time: new Date().toISOString(), ...pickStepMetrics(r), gradNorm: r.gradNorm, msPerStep: ms };
      appendMetric(this.runDir, line);
      hooks.onMetric?.(line);
      const etaSeconds = ((cfg.steps - this.step) * emaMs) / 1000;
      hooks.onProgress?.({ step: this.step, totalSteps: cfg.steps, etaSeconds, msPerStep: emaMs, loss: r.loss });
      if (this.step % cfg.checkpointEvery === 0 || this.step === cfg.steps) await this.checkpoint(etaSeconds);
      else if (Date.now() - this.lastStatusWrite > 1000) this.progressStatus(etaSeconds);
    }
  }

  /** The final checkpoint (unless the last step has one) and the run's end in status.json. */
  async finish(t0: number): Promise<TrainOutcome> {
    const { runDir, cfg, step } = this;
    let checkpoint: string | undefined;
    if (this.checkpointStep !== step && step > 0) checkpoint = await this.checkpoint();
    else if (this.checkpointStep !== undefined) checkpoint = latestCheckpoint(runDir);
    const state = this.controller.cancelled && step < cfg.steps ? 'stopped' : 'done';
    this.status(state, state === 'stopped' ? { message: `stopped at step ${step} of ${cfg.steps}; resume with: robust-meta train --resume ${runDir}` } : {});
    return { runDir, state, step, totalSteps: cfg.steps, checkpoint, seconds: (Date.now() - t0) / 1000 };
  }
}

/**
 * Trains a run: a fresh one into an empty folder, or resumes one from its newest checkpoint
 * (dropping the metric lines written after it). Checkpoints every cfg.checkpointEvery steps, at
 * the end and when cancelled. Status.json follows along; on an error it says 'failed' with the
 * message, and the checkpoints stay for a resume.
 */
export async function train(opts: TrainOptions): Promise<TrainOutcome> {
  const t0 = Date.now();
  const hooks = opts.hooks ?? {};
  const runDir = path.resolve(opts.runDir);
  const { cfg, fresh, lock } = prepareRun({ ...opts, runDir });
  let prepared: Prepared | undefined;
  let loop: TrainLoop | undefined;
  /** Set once status.json says 'running': only then does a failure rewrite it. */
  let running = false;
  try {
    prepared = await prepareLearner(runDir, cfg, fresh, opts, hooks);
    const restored = fresh ? {} : await restoreRun(runDir, cfg, prepared.learner, hooks);
    loop = new TrainLoop(runDir, cfg, prepared, opts, hooks, opts.controller ?? new TrainController(), restored.checkpointStep);
    loop.status('running');
    running = true;
    hooks.onStarted?.({ runDir, step: loop.step, totalSteps: cfg.steps, backend: prepared.backendName, resumedFrom: restored.resumedFrom });
    for (const note of prepared.backendNotes) hooks.onLog?.('info', `backend ${note}`);
    if (!fresh && loop.step >= cfg.steps)
      hooks.onLog?.('info', `${runDir} is already at step ${loop.step} of ${cfg.steps}; pass a larger --steps to train further`);
    await loop.run();
    return await loop.finish(t0);
  } catch (e) {
    const message = isUserError(e) ? e.message : `unexpected error: ${(e as Error).message}`;
    try {
      if (running) loop?.status('failed', { message });
    } catch {
      // The original error matters more than a status we could not write.
    }
    throw e;
  } finally {
    // The run's files are all written: the folder is free for the next trainer.
    lock.release();
    await prepared?.learner.dispose();
  }
}

/** The state a run folder says it is in, for callers that want it without reading the whole run. */
export function runState(runDir: string): RunState | undefined {
  try {
    return readStatus(runDir).state;
  } catch {
    return undefined;
  }
}

/** The StepMetrics fields of a step's result, in their declared order. */
function pickStepMetrics(r: StepMetrics): StepMetrics {
  return Object.fromEntries(STEP_METRIC_KEYS.map((k) => [k, r[k]])) as unknown as StepMetrics;
}
