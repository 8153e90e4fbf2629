// The outer loop: for a meta-batch of tasks, each task's outer-loss gradient (by the method's
// task step), summed, then one Adam update of the meta-parameters. Randomness of step s, task i
// comes from Rng([seed, s]).fork(i), so a run resumed at step s continues the same stream and the
// tasks may be computed in any order or in parallel with the same result.
import * as tf from '@tensorflow/tfjs-core';
import { Config } from '../config';
import { Episode } from '../data/types';
import { initModel, ModelSpec } from '../model';
import { disposeParams, Params, ParamArrays, paramsFromArrays, paramsToArrays } from '../model/params';
import { Adam, AdamState } from '../optim';
import { Rng } from '../rng';
import { MethodContext, StepMetrics, TaskOutcome } from './common';
import { METHOD_IMPLS } from './methods';

/** Computes the task steps of a meta-batch and sums their gradients; local or in workers. */
export interface TaskExecutor {
  run(params: Params, tasks: Episode[], step: number): Promise<{ gradSum: Params; metrics: StepMetrics[] }>;
  dispose?(): Promise<void> | void;
}

export function taskRng(seed: number, step: number, task: number): Rng {
  return new Rng([seed, step]).fork(task);
}

export function modelSpecOf(cfg: Config): ModelSpec {
  return { backbone: cfg.backbone, width: cfg.width, imageSize: cfg.imageSize, channels: cfg.channels, ways: cfg.ways, projectionDim: cfg.projectionDim };
}

/** Runs the task steps one after another in this thread; `first` is the index of tasks[0] in its meta-batch. */
export function runTasksLocally(ctx: MethodContext, params: Params, tasks: Episode[], step: number, first = 0): { gradSum: Params; metrics: StepMetrics[] } {
  const method = METHOD_IMPLS[ctx.cfg.method];
  let gradSum: Params | undefined;
  const metrics: StepMetrics[] = [];
  tasks.forEach((task, i) => {
    const out: TaskOutcome = method.taskStep(params, task, ctx, taskRng(ctx.cfg.seed, step, first + i));
    metrics.push(out.metrics);
    if (!gradSum) gradSum = out.grads;
    else {
      const prev: Params = gradSum;
      gradSum = tf.tidy(() => {
        const s: Params = {};
        for (const k of Object.keys(prev)) s[k] = tf.add(prev[k], out.grads[k]);
        return s as unknown as tf.TensorContainer;
      }) as unknown as Params;
      disposeParams(prev);
      disposeParams(out.grads);
    }
  });
  return { gradSum: gradSum!, metrics };
}

export class LocalExecutor implements TaskExecutor {
  constructor(private readonly ctx: MethodContext) {}
  async run(params: Params, tasks: Episode[], step: number) {
    return runTasksLocally(this.ctx, params, tasks, step);
  }
}

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
  return { loss: mean('loss')!, ceLoss: mean('ceLoss'), agreementLoss: mean('agreementLoss'), cleanAcc: mean('cleanAcc'), robustAcc: mean('robustAcc') };
}

export class MetaLearner {
  readonly ctx: MethodContext;
  params: Params;
  step = 0;
  private readonly adam: Adam;
  private executor: TaskExecutor;

  constructor(readonly cfg: Config, executor?: TaskExecutor) {
    this.ctx = { cfg, spec: modelSpecOf(cfg) };
    this.params = initModel(this.ctx.spec, new Rng([cfg.seed, 0x1a17]));
    this.adam = new Adam({ lr: cfg.outerLr, clipNorm: cfg.gradClip });
    this.executor = executor ?? new LocalExecutor(this.ctx);
  }

  /** One meta-step on the given tasks (a meta-batch). */
  async metaStep(tasks: Episode[]): Promise<MetaStepResult> {
    const { gradSum, metrics } = await this.executor.run(this.params, tasks, this.step);
    const gradNorm = this.adam.apply(this.params, gradSum);
    disposeParams(gradSum);
    this.step += 1;
    return { step: this.step, gradNorm, ...meanMetrics(metrics) };
  }

  getState(): LearnerState {
    return { step: this.step, params: paramsToArrays(this.params), adam: this.adam.getState() };
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
