// What every method's per-task step shares: the task as tensors, the two views, fast weights for
// first or second order, and gradients with auxiliary metrics.
import * as tf from '@tensorflow/tfjs-core';
import { augmentBatch, augmentOptionsOf, type AugmentOptions, ImageShape } from '../augment';
import { Config, attackStepSize } from '../config';
import { Episode } from '../data/types';
import { AttackOptions } from '../attacks';
import { accuracy, crossEntropyPerSample } from '../losses';
import { adaptedKeys, classify, encode, ModelSpec } from '../model';
import { Params } from '../model/params';
import { Rng } from '../rng';
import { readScalar, readValues, sumAll } from '../tensorUtil';
import type { StepMetrics } from '../stepMetrics';
import { adapt, disposeAdapted, explainMissingGradient, shiftOf, withConstantShift } from './inner';

/** The settings a method step reads: the run's config and the model it trains. */
export interface MethodContext {
  cfg: Config;
  spec: ModelSpec;
}

export type { StepMetrics } from '../stepMetrics';
export { STEP_METRIC_KEYS } from '../stepMetrics';

export interface TaskOutcome {
  /** Gradient of the task's outer loss for each trained meta-parameter. */
  grads: Params;
  metrics: StepMetrics;
}

/** One meta-learning method: which parameters it trains and its per-task step. */
export interface Method {
  name: string;
  /** Parameter-name prefixes the outer loss depends on. */
  parts(cfg: Config): string[];
  taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome>;
  /** The same step cut into pieces for separate threads, where the method's step allows it. */
  splitStep?: SplitStep;
}

/**
 * A task step cut into pieces (mavrl: one per view) that are coupled only through one small tensor
 * each, read by a coupling loss: begin runs a piece up to its coupling, join takes the coupling
 * loss and its gradient for each piece, and each piece's finish takes its share of the task's
 * gradient with that gradient folded in. The shares sum to taskStep's gradient.
 */
export interface SplitStep {
  /** How many pieces a task of this config splits into (1: it does not split). */
  pieces(cfg: Config): number;
  begin(params: Params, task: Episode, ctx: MethodContext, rng: Rng, piece: number): Promise<StepPiece>;
  /** The coupling loss of one task's pieces (in piece order) and its gradient for each. */
  join(cfg: Config, couplings: tf.Tensor2D[]): Promise<Joined>;
  /** The task's figures from its pieces' (in piece order) and the coupling loss. */
  combine(pieces: StepMetrics[], joined: Joined): StepMetrics;
}

/** A begun piece of a split task step; it owns its tensors until finish or dispose. */
export interface StepPiece {
  /** What the coupling loss reads of this piece. */
  coupling: tf.Tensor2D;
  /** This piece's share of the task's gradient, given the coupling loss's gradient for its coupling; frees the piece. */
  finish(grad: tf.Tensor2D): Promise<TaskOutcome>;
  /** Frees the piece unfinished (when another piece of the step failed). */
  dispose(): void;
}

/** The coupling loss of one split task. */
export interface Joined {
  /** Its value as reported. */
  value: number;
  /** Its term in the task's loss (times the method's weight). */
  weighted: number;
  /** Gradient of the weighted term for each piece's coupling; the caller owns them. */
  grads: tf.Tensor2D[];
}

export interface TaskTensors {
  shape: ImageShape;
  xs: tf.Tensor4D;
  ys: tf.Tensor1D;
  xq: tf.Tensor4D;
  yq: tf.Tensor1D;
}

export function shapeOf(task: Episode): ImageShape {
  return { height: task.height, width: task.width, channels: task.channels };
}

function nhwc(data: Float32Array, s: ImageShape): tf.Tensor4D {
  return tf.tensor4d(data, [data.length / (s.height * s.width * s.channels), s.height, s.width, s.channels]);
}

/**
 * The task as tensors, optionally as an augmented view (support and query each augmented per
 * image). A view is drawn from `rng`, so the same stream gives the same view.
 */
export function taskTensors(task: Episode, rng: Rng | undefined, opts?: AugmentOptions): TaskTensors {
  const shape = shapeOf(task);
  const s = rng ? augmentBatch(task.support, shape, rng, opts) : task.support;
  const q = rng ? augmentBatch(task.query, shape, rng, opts) : task.query;
  return {
    shape,
    xs: nhwc(s, shape),
    ys: tf.tensor1d(task.supportLabels, 'int32'),
    xq: nhwc(q, shape),
    yq: tf.tensor1d(task.queryLabels, 'int32'),
  };
}

export function disposeTask(t: TaskTensors): void {
  tf.dispose([t.xs, t.ys, t.xq, t.yq]);
}

/** A view for a method: augmented when the config says so, else the clean task. */
export function viewOf(task: Episode, ctx: MethodContext, rng: Rng): TaskTensors {
  return taskTensors(task, ctx.cfg.augment ? rng : undefined, augmentOptionsOf(ctx.cfg));
}

export function trainAttack(cfg: Config): AttackOptions {
  return { eps: cfg.eps, stepSize: attackStepSize(cfg), steps: cfg.attackSteps, norm: cfg.attackNorm, randomStart: true };
}

/** Names of the parameters whose prefix is one of `parts`. */
export function keysOf(params: Params, parts: string[]): string[] {
  return Object.keys(params)
    .filter((k) => parts.some((p) => k.startsWith(p)))
    .sort();
}

/**
 * Fast weights for one support set: concrete values (for attacks and metrics) and a function that
 * rebuilds them from the meta-parameters inside the gradient tape (first or second order).
 */
export class FastWeights {
  readonly concrete: Params;
  private readonly shift: Params | undefined;

  constructor(
    private readonly ctx: MethodContext,
    private readonly params: Params,
    private readonly x: tf.Tensor4D,
    private readonly y: tf.Tensor1D,
  ) {
    const keys = adaptedKeys(params, ctx.cfg.innerUpdate);
    this.concrete = adapt(ctx.spec, params, x, y, { steps: ctx.cfg.innerSteps, lr: ctx.cfg.innerLr, keys });
    this.shift = ctx.cfg.order === 1 ? (tf.tidy(() => shiftOf(this.concrete, params, keys) as unknown as tf.TensorContainer) as unknown as Params) : undefined;
  }

  /** |theta' - theta| / |theta| over the encoder: how far the inner loop moved it. */
  encoderShift(): Promise<number> {
    const keys = Object.keys(this.params).filter((k) => k.startsWith('encoder/'));
    return readScalar(() => {
      const sq = (ts: tf.Tensor[]) => sumAll(ts.map((t) => tf.sum(tf.square(t))));
      const moved = sq(keys.map((k) => tf.sub(this.concrete[k], this.params[k])));
      return tf.sqrt(tf.div(moved, tf.maximum(sq(keys.map((k) => this.params[k])), 1e-12))) as tf.Scalar;
    });
  }

  /** The fast weights as a function of the (taped) meta-parameters. */
  taped(p: Params): Params {
    if (this.shift) return withConstantShift(p, this.shift);
    const keys = adaptedKeys(p, this.ctx.cfg.innerUpdate);
    return adapt(this.ctx.spec, p, this.x, this.y, { steps: this.ctx.cfg.innerSteps, lr: this.ctx.cfg.innerLr, keys });
  }

  dispose(): void {
    disposeAdapted(this.concrete, this.params);
    if (this.shift) tf.dispose(Object.values(this.shift));
  }
}

export function logitsOf(ctx: MethodContext, p: Params, x: tf.Tensor4D): tf.Tensor2D {
  return classify(p, encode(ctx.spec, p, x));
}

/** Per-sample CE through a model: the loss of a labelled attack. */
export function ceAttackLoss(ctx: MethodContext, p: Params, y: tf.Tensor1D) {
  return (advs: tf.Tensor4D[]) => crossEntropyPerSample(logitsOf(ctx, p, advs[0]), y);
}

/** Accuracy of a model on a batch, as a number (no gradient). */
export function accuracyOf(ctx: MethodContext, p: Params, x: tf.Tensor4D, y: tf.Tensor1D): Promise<number> {
  return readScalar(() => accuracy(logitsOf(ctx, p, x), y));
}

export interface LossParts {
  loss: tf.Scalar;
  /** Scalars to report; read after the gradient is taken. */
  aux?: Partial<Record<'ceLoss' | 'agreementLoss' | 'cleanAcc' | 'robustAcc', tf.Scalar>>;
}

/**
 * What every inner-loop method reports besides its loss: the query accuracy of the
 * meta-parameters before adaptation, and how far the inner loop moved the encoder.
 */
export async function adaptationMetrics(
  ctx: MethodContext,
  params: Params,
  v: TaskTensors,
  w: FastWeights,
): Promise<Pick<StepMetrics, 'cleanAccBefore' | 'innerShift'>> {
  return { cleanAccBefore: await accuracyOf(ctx, params, v.xq, v.yq), innerShift: await w.encoderShift() };
}

/**
 * Gradient of the outer loss for the trained meta-parameters, with the loss and auxiliary
 * scalars as numbers. The loss function receives the meta-parameters as taped tensors.
 */
export async function outerGradients(
  params: Params,
  keys: string[],
  f: (p: Params) => LossParts,
): Promise<{ grads: Params; loss: number; aux: Partial<Record<keyof NonNullable<LossParts['aux']>, number>> }> {
  const kept: tf.Tensor[] = [];
  let auxT: LossParts['aux'] = {};
  let grads: tf.Tensor[];
  let lossT: tf.Tensor;
  try {
    const out = tf.valueAndGrads((...xs: tf.Tensor[]) => {
      const p = { ...params };
      keys.forEach((k, i) => (p[k] = xs[i]));
      const parts = f(p);
      auxT = {};
      for (const [name, t] of Object.entries(parts.aux ?? {})) {
        const held = tf.keep(t);
        kept.push(held);
        (auxT as Record<string, tf.Tensor>)[name] = held;
      }
      return parts.loss;
    })(keys.map((k) => params[k]));
    grads = out.grads;
    lossT = out.value;
  } catch (e) {
    tf.dispose(kept);
    return explainMissingGradient(e);
  }
  const aux: Record<string, number> = {};
  let loss: number;
  try {
    for (const [name, t] of Object.entries(auxT ?? {})) aux[name] = (await readValues(t as tf.Tensor))[0];
    loss = (await readValues(lossT))[0];
  } catch (e) {
    tf.dispose(grads);
    throw e;
  } finally {
    tf.dispose([...kept, lossT]);
  }
  const g: Params = {};
  keys.forEach((k, i) => (g[k] = grads[i]));
  return { grads: g, loss, aux };
}

export function metricsFrom(loss: number, aux: Partial<Record<string, number>>, extra: Partial<StepMetrics> = {}): StepMetrics {
  return {
    loss,
    ceLoss: aux.ceLoss ?? null,
    agreementLoss: aux.agreementLoss ?? null,
    cleanAcc: aux.cleanAcc ?? null,
    robustAcc: aux.robustAcc ?? null,
    cleanAccBefore: null,
    innerShift: null,
    encoderCosine: null,
    ...extra,
  };
}
