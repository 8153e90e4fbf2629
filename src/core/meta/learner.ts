// The outer loop: for a meta-batch of tasks, each task's outer-loss gradient (by the method's
// task step), summed, then one Adam update of the meta-parameters. Randomness of step s, task i
// comes from Rng([seed, s]).fork(i), so a run resumed at step s continues the same stream and the
// tasks may be computed in any order or in parallel with the same result.
import * as os from 'os';
import { currentBackend } from '../backend';
import { Config } from '../config';
import { Episode } from '../data/types';
import { initModel } from '../model';
import { disposeParams, Params, ParamArrays, paramsFromArrays, paramsToArrays } from '../model/params';
import { Adam, AdamState } from '../optim';
import { ThreadExecutor } from '../parallel/threadExecutor';
import { Rng } from '../rng';
import { piecesPerTask, splitOf } from './split';
import { MethodContext, STEP_METRIC_KEYS, StepMetrics } from './common';
import { LocalExecutor, modelSpecOf, TaskExecutor } from './tasks';

export { modelSpecOf, runTasksLocally, taskRng, LocalExecutor, type TaskExecutor } from './tasks';

export interface LearnerState {
  /** Meta-steps completed. */
  step: number;
  params: ParamArrays;
  adam: AdamState;
}

export interface MetaStepResult extends StepMetrics {
  step: number;
  gradNorm: number;
}

/** Mean of each metric over tasks; null where no task has it. */
export function meanMetrics(ms: StepMetrics[]): StepMetrics {
  const mean = (k: keyof StepMetrics): number | null => {
    const vals = ms.map((m) => m[k]).filter((v): v is number => v !== null);
    return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  };
  return Object.fromEntries(STEP_METRIC_KEYS.map((k) => [k, mean(k)])) as unknown as StepMetrics;
}

/**
 * Threads for the tasks of a meta-batch: cfg.workers, or one per core (0), never more than the
 * tasks, or than their pieces where splitting them pays (meta/split.ts). Only the wasm and cpu
 * backends gain from threads; the native ones parallelise inside.
 */
export function threadCount(cfg: Config, backend = currentBackend()?.name): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  const want = cfg.workers > 0 ? cfg.workers : os.availableParallelism();
  const n = Math.max(1, Math.min(want, cfg.metaBatch * (splitOf(cfg)?.pieces ?? 1)));
  return piecesPerTask(cfg, n) > 1 ? n : Math.min(n, cfg.metaBatch);
}

function defaultExecutor(ctx: MethodContext): TaskExecutor {
  const n = threadCount(ctx.cfg);
  return n > 1 ? new ThreadExecutor(ctx, n - 1, currentBackend()!.name) : new LocalExecutor(ctx);
}

export class MetaLearner {
  readonly ctx: MethodContext;
  params: Params;
  step = 0;
  private readonly adam: Adam;
  private executor: TaskExecutor;

  constructor(
    readonly cfg: Config,
    executor?: TaskExecutor,
  ) {
    this.ctx = { cfg, spec: modelSpecOf(cfg) };
    this.params = initModel(this.ctx.spec, new Rng([cfg.seed, 0x1a17]));
    this.adam = new Adam({ lr: cfg.outerLr, clipNorm: cfg.gradClip });
    this.executor = executor ?? defaultExecutor(this.ctx);
  }

  /** One meta-step on the given tasks (a meta-batch). */
  async metaStep(tasks: Episode[]): Promise<MetaStepResult> {
    const { gradSum, metrics } = await this.executor.run(this.params, tasks, this.step);
    const gradNorm = await this.adam.apply(this.params, gradSum);
    disposeParams(gradSum);
    this.step += 1;
    return { step: this.step, gradNorm, ...meanMetrics(metrics) };
  }

  async getState(): Promise<LearnerState> {
    return { step: this.step, params: await paramsToArrays(this.params), adam: await this.adam.getState() };
  }

  setState(s: LearnerState): void {
    disposeParams(this.params);
    this.params = paramsFromArrays(s.params);
    this.adam.setState(s.adam);
    this.step = s.step;
  }

  async dispose(): Promise<void> {
    disposeParams(this.params);
    this.adam.dispose();
    await this.executor.dispose?.();
  }
}
