// The inner loop: k SGD steps of cross-entropy on the support set, from the meta-parameters to
// task-specific fast weights. Two ways to enter the outer loss:
//  - first-order: the fast weights are computed outside the gradient tape and enter the outer
//    loss as theta + stopGradient(theta' - theta), so d(outer)/d(theta) = d(outer)/d(theta');
//  - second-order: the inner loop runs inside the tape and the meta-gradient flows through it.
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import { crossEntropy } from '../losses';
import { classify, encode, ModelSpec } from '../model';
import { Params } from '../model/params';

export interface InnerOptions {
  steps: number;
  lr: number;
  /** Names of the parameters that adapt. */
  keys: string[];
}

/** Supervised loss of a model on a labelled batch. */
export function supervisedLoss(spec: ModelSpec, p: Params, x: tf.Tensor4D, y: tf.Tensor1D): tf.Scalar {
  return crossEntropy(classify(p, encode(spec, p, x)), y);
}

/**
 * Runs the inner loop and returns fast weights: a new map in which the adapted keys are new
 * tensors and the others are the same tensors as in `params`. Inside a gradient tape the steps are
 * differentiable (second order); outside they are plain numbers. Free with disposeAdapted.
 */
export function adapt(spec: ModelSpec, params: Params, x: tf.Tensor4D, y: tf.Tensor1D, opts: InnerOptions): Params {
  let current: Params = params;
  for (let s = 0; s < opts.steps; s++) {
    const before = current;
    current = tf.tidy(() => {
      const vals = opts.keys.map((k) => before[k]);
      const grads = tf.grads((...xs: tf.Tensor[]) => {
        const p = { ...before };
        opts.keys.forEach((k, i) => (p[k] = xs[i]));
        return supervisedLoss(spec, p, x, y);
      })(vals);
      const next: Params = { ...before };
      opts.keys.forEach((k, i) => (next[k] = tf.sub(before[k], tf.mul(grads[i], opts.lr))));
      // tidy keeps only returned tensors, so the Params values must be listed.
      return next as unknown as tf.TensorContainer;
    }) as unknown as Params;
    if (before !== params) disposeAdapted(before, params);
  }
  return current === params ? { ...params } : current;
}

/** Frees the tensors of `adapted` that are not shared with `base`. */
export function disposeAdapted(adapted: Params, base: Params): void {
  for (const [k, t] of Object.entries(adapted)) if (base[k] !== t) t.dispose();
}

/**
 * Fast weights as a function of the meta-parameters for the first-order meta-gradient:
 * theta + (theta' - theta), where the difference is a constant (precomputed by the caller).
 */
export function withConstantShift(params: Params, shift: Params): Params {
  const p: Params = { ...params };
  for (const [k, d] of Object.entries(shift)) p[k] = tf.add(params[k], d);
  return p;
}

/** theta' - theta for the adapted keys, as constants. */
export function shiftOf(adapted: Params, base: Params, keys: string[]): Params {
  const d: Params = {};
  for (const k of keys) d[k] = tf.sub(adapted[k], base[k]);
  return d;
}

/**
 * Second-order gradients need the gradient of every kernel's gradient. tfjs lacks some; say
 * which one, and what to do, instead of its bare message.
 */
export function explainMissingGradient(e: unknown): never {
  const m = /gradient function not found for (\w+)/i.exec(String((e as Error)?.message ?? e));
  if (m) {
    throw new UserError(
      `second-order meta-gradients (order 2) need the gradient of the ${m[1]} kernel, which tfjs does not define on backend '${tf.getBackend()}'. Use order 1 (first-order), or another backend.`,
    );
  }
  throw e;
}
