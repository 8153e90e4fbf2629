// Attacks in the eps-ball around images in [0,1]: PGD (L-inf or L2, random start, restarts) and
// FGSM as its one-step case. One entry point: perturb inputs to maximise a per-sample loss.
// Labelled attacks use CE through a model; the label-free bilevel attack maximises the
// instance-discrimination loss between two encoders on two views. The result always lies in
// the ball and in [0,1]; it is a constant (no gradient flows back through the attack).
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from './errors';
import { Rng } from './rng';

export type Norm = 'linf' | 'l2';

export interface AttackOptions {
  eps: number;
  /** Step size (a). */
  stepSize: number;
  steps: number;
  norm?: Norm;
  randomStart?: boolean;
  /** Extra random restarts; the worst case per sample is kept. */
  restarts?: number;
}

export function checkAttackOptions(o: AttackOptions): void {
  if (!(o.eps >= 0)) throw new UserError(`attack eps has to be >= 0, got ${o.eps}`);
  if (!(o.stepSize >= 0)) throw new UserError(`attack step size has to be >= 0, got ${o.stepSize}`);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new UserError(`attack steps has to be a whole number >= 1, got ${o.steps}`);
  if (o.restarts !== undefined && (!Number.isInteger(o.restarts) || o.restarts < 0)) {
    throw new UserError(`attack restarts has to be a whole number >= 0, got ${o.restarts}`);
  }
}

/** Per-sample loss to maximise, given the perturbed inputs (one tensor per input). */
export type AttackLoss = (advs: tf.Tensor4D[]) => tf.Tensor1D;

function perSampleNorm(t: tf.Tensor4D): tf.Tensor4D {
  return tf.sqrt(tf.add(tf.sum(tf.square(t), [1, 2, 3], true), 1e-12)) as tf.Tensor4D;
}

/** Projects a perturbation onto the ball and keeps x + delta inside [0,1]. */
function project(x: tf.Tensor4D, delta: tf.Tensor4D, eps: number, norm: Norm): tf.Tensor4D {
  let d: tf.Tensor4D;
  if (norm === 'linf') d = tf.clipByValue(delta, -eps, eps);
  else d = tf.mul(delta, tf.minimum(1, tf.div(eps, perSampleNorm(delta)))) as tf.Tensor4D;
  return tf.sub(tf.clipByValue(tf.add(x, d), 0, 1), x) as tf.Tensor4D;
}

function randomDelta(x: tf.Tensor4D, eps: number, norm: Norm, rng: Rng): tf.Tensor4D {
  const n = x.size;
  if (norm === 'linf') return tf.tensor(rng.uniformArray(n, -eps, eps), x.shape) as tf.Tensor4D;
  // Uniform direction, radius uniform in [0, eps]: inside the L2 ball.
  return tf.tidy(() => {
    const g = tf.tensor(rng.normalArray(n), x.shape) as tf.Tensor4D;
    const per = x.shape[0];
    const r = tf.tensor(rng.uniformArray(per, 0, eps), [per, 1, 1, 1]);
    return tf.mul(tf.div(g, perSampleNorm(g)), r) as tf.Tensor4D;
  });
}

function ascentStep(grad: tf.Tensor4D, stepSize: number, norm: Norm): tf.Tensor4D {
  if (norm === 'linf') return tf.mul(tf.sign(grad), stepSize) as tf.Tensor4D;
  return tf.mul(tf.div(grad, perSampleNorm(grad)), stepSize) as tf.Tensor4D;
}

/**
 * PGD on several inputs at once (the bilevel attack perturbs both views jointly). Returns the
 * adversarial inputs, which the caller owns.
 */
export function pgd(xs: tf.Tensor4D[], loss: AttackLoss, opts: AttackOptions, rng: Rng): tf.Tensor4D[] {
  checkAttackOptions(opts);
  const norm = opts.norm ?? 'linf';
  const restarts = opts.restarts ?? 0;
  if (opts.eps === 0) return xs.map((x) => tf.clone(x));
  let best: tf.Tensor4D[] | undefined;
  let bestLoss: tf.Tensor1D | undefined;
  for (let r = 0; r <= restarts; r++) {
    const advs = pgdOnce(xs, loss, opts, norm, opts.randomStart ?? true, rng);
    if (restarts === 0) return advs;
    const l = tf.tidy(() => loss(advs));
    if (!best || !bestLoss) {
      best = advs;
      bestLoss = l;
      continue;
    }
    const better = tf.tidy(() => tf.greater(l, bestLoss!));
    const merged = advs.map((a, i) =>
      tf.tidy(() => tf.where(tf.tile(tf.reshape(better, [-1, 1, 1, 1]), [1, ...a.shape.slice(1)]), a, best![i]) as tf.Tensor4D),
    );
    const mergedLoss = tf.tidy(() => tf.maximum(l, bestLoss!)) as tf.Tensor1D;
    for (const t of [...advs, ...best, l, bestLoss, better]) t.dispose();
    best = merged;
    bestLoss = mergedLoss;
  }
  bestLoss!.dispose();
  return best!;
}

function pgdOnce(xs: tf.Tensor4D[], loss: AttackLoss, opts: AttackOptions, norm: Norm, randomStart: boolean, rng: Rng): tf.Tensor4D[] {
  let deltas = xs.map((x) => (randomStart ? tf.tidy(() => project(x, randomDelta(x, opts.eps, norm, rng), opts.eps, norm)) : tf.zerosLike(x)));
  const gradFn = tf.grads((...ds: tf.Tensor[]) => tf.sum(loss(xs.map((x, i) => tf.add(x, ds[i]) as tf.Tensor4D))));
  for (let s = 0; s < opts.steps; s++) {
    const next = tf.tidy(() => {
      const gs = gradFn(deltas);
      return deltas.map((d, i) => project(xs[i], tf.add(d, ascentStep(gs[i] as tf.Tensor4D, opts.stepSize, norm)) as tf.Tensor4D, opts.eps, norm));
    });
    deltas.forEach((d) => d.dispose());
    deltas = next;
  }
  const advs = xs.map((x, i) => tf.tidy(() => tf.clipByValue(tf.add(x, deltas[i]), 0, 1) as tf.Tensor4D));
  deltas.forEach((d) => d.dispose());
  return advs;
}

/** FGSM: one step of size eps from the clean point. */
export function fgsm(xs: tf.Tensor4D[], loss: AttackLoss, eps: number, norm: Norm = 'linf'): tf.Tensor4D[] {
  return pgd(xs, loss, { eps, stepSize: eps, steps: 1, norm, randomStart: false }, new Rng(0));
}
