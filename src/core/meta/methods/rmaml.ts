// R-MAML (Wang et al. 2021), TRADES-style: clean CE on the query + beta * KL(p(clean) || p(adv)),
// the adversarial query found by maximising that KL through the adapted model.
import * as tf from '@tensorflow/tfjs-core';
import { pgd } from '../../attacks';
import { accuracy, crossEntropy, klPerSample } from '../../losses';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import { disposeTask, FastWeights, keysOf, logitsOf, Method, MethodContext, metricsFrom, outerGradients, TaskOutcome, trainAttack, viewOf } from '../common';

export const rmaml: Method = {
  name: 'rmaml',
  parts: () => ['encoder/', 'head/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const v = viewOf(task, ctx, rng.fork(1));
    const w = new FastWeights(ctx, params, v.xs, v.ys);
    try {
      const cleanTarget = tf.tidy(() => logitsOf(ctx, w.concrete, v.xq));
      const [adv] = pgd([v.xq], ([x]) => klPerSample(cleanTarget, logitsOf(ctx, w.concrete, x)), trainAttack(ctx.cfg), rng.fork(3));
      cleanTarget.dispose();
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(ctx.cfg)), (p) => {
        const fast = w.taped(p);
        const clean = logitsOf(ctx, fast, v.xq);
        const robust = logitsOf(ctx, fast, adv);
        const ce = crossEntropy(clean, v.yq);
        const kl = tf.mean(klPerSample(clean, robust));
        return {
          loss: tf.add(ce, tf.mul(kl, ctx.cfg.beta)) as tf.Scalar,
          aux: { ceLoss: ce, cleanAcc: accuracy(clean, v.yq), robustAcc: accuracy(robust, v.yq) },
        };
      });
      adv.dispose();
      return { grads, metrics: metricsFrom(loss, aux) };
    } finally {
      w.dispose();
      disposeTask(v);
    }
  },
};
