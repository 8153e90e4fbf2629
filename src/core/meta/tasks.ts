// A meta-batch's tasks: each task's step by its method, with its own random stream, and the sum
// of their gradients. Shared by the learner and by the task threads that compute shares of it.
import * as tf from '@tensorflow/tfjs-core';
import { Config } from '../config';
import { Episode } from '../data/types';
import { ModelSpec } from '../model';
import { disposeParams, Params } from '../model/params';
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
  return {
    backbone: cfg.backbone,
    width: cfg.width,
    imageSize: cfg.imageSize,
    channels: cfg.channels,
    ways: cfg.ways,
    projectionDim: cfg.projectionDim,
    headInit: cfg.headInit,
  };
}

/** Runs the task steps one after another in this thread; `first` is the index of tasks[0] in its meta-batch. */
export async function runTasksLocally(
  ctx: MethodContext,
  params: Params,
  tasks: Episode[],
  step: number,
  first = 0,
): Promise<{ gradSum: Params; metrics: StepMetrics[] }> {
  const method = METHOD_IMPLS[ctx.cfg.method];
  let gradSum: Params | undefined;
  const metrics: StepMetrics[] = [];
  for (const [i, task] of tasks.entries()) {
    const out: TaskOutcome = await method.taskStep(params, task, ctx, taskRng(ctx.cfg.seed, step, first + i));
    metrics.push(out.metrics);
    gradSum = addGrads(gradSum, out.grads);
  }
  return { gradSum: gradSum!, metrics };
}

/** sum + grads, key by key (grads itself when there is no sum yet); frees both arguments. */
export function addGrads(sum: Params | undefined, grads: Params): Params {
  if (!sum) return grads;
  const prev = sum;
  const out = tf.tidy(() => {
    const s: Params = {};
    for (const k of Object.keys(prev)) s[k] = tf.add(prev[k], grads[k]);
    return s as unknown as tf.TensorContainer;
  }) as unknown as Params;
  disposeParams(prev);
  disposeParams(grads);
  return out;
}

export class LocalExecutor implements TaskExecutor {
  constructor(private readonly ctx: MethodContext) {}
  async run(params: Params, tasks: Episode[], step: number) {
    return runTasksLocally(this.ctx, params, tasks, step);
  }
}
