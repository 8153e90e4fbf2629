// R-MAML (Wang et al. 2021, "On fast adversarial robustness adaptation in model-agnostic
// meta-learning"), TRADES form, robustness regularised in the meta-update only (their R-MAML_out):
// clean inner loop; outer loss CE(clean query) + beta * [KL(p(q) || p(q')) + KL(p(s) || p(s'))],
// the KL on the query and on the support as in the authors' code, each adversarial set q', s'
// found by maximising its KL through the adapted model. beta defaults to 3 (METHOD_DEFAULTS).
import * as tf from '@tensorflow/tfjs-core';
import { pgd } from '../../attacks';
import { accuracy, crossEntropy, klPerSample } from '../../losses';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import {
  adaptationMetrics,
  disposeTask,
  FastWeights,
  keysOf,
  logitsOf,
  Method,
  MethodContext,
  metricsFrom,
  outerGradients,
  TaskOutcome,
  trainAttack,
  viewOf,
} from '../common';

/** The TRADES attack: maximise KL(p(x) || p(x')) through the model `p`. The caller owns the result. */
function klAttack(ctx: MethodContext, p: Params, x: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const target = tf.tidy(() => logitsOf(ctx, p, x));
  try {
    return pgd([x], ([adv]) => klPerSample(target, logitsOf(ctx, p, adv)), trainAttack(ctx.cfg), rng)[0];
  } finally {
    target.dispose();
  }
}

export const rmaml: Method = {
  name: 'rmaml',
  parts: () => ['encoder/', 'head/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const v = viewOf(task, ctx, rng.fork(1));
    const w = new FastWeights(ctx, params, v.xs, v.ys);
    try {
      const advQ = klAttack(ctx, w.concrete, v.xq, rng.fork(3));
      const advS = klAttack(ctx, w.concrete, v.xs, rng.fork(4));
      const extra = await adaptationMetrics(ctx, params, v, w);
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(ctx.cfg)), (p) => {
        const fast = w.taped(p);
        const clean = logitsOf(ctx, fast, v.xq);
        const robust = logitsOf(ctx, fast, advQ);
        const ce = crossEntropy(clean, v.yq);
        const kl = tf.add(tf.mean(klPerSample(clean, robust)), tf.mean(klPerSample(logitsOf(ctx, fast, v.xs), logitsOf(ctx, fast, advS))));
        return {
          loss: tf.add(ce, tf.mul(kl, ctx.cfg.beta)) as tf.Scalar,
          aux: { ceLoss: ce, cleanAcc: accuracy(clean, v.yq), robustAcc: accuracy(robust, v.yq) },
        };
      });
      tf.dispose([advQ, advS]);
      return { grads, metrics: metricsFrom(loss, aux, extra) };
    } finally {
      w.dispose();
      disposeTask(v);
    }
  },
};
