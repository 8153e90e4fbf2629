// ADML (Yin et al. 2018): two inner loops, on the clean and on the adversarial support; their
// fast weights are evaluated crossed, on the adversarial and on the clean query.
import * as tf from '@tensorflow/tfjs-core';
import { pgd } from '../../attacks';
import { accuracy, crossEntropy } from '../../losses';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import {
  adaptationMetrics,
  ceAttackLoss,
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

export const adml: Method = {
  name: 'adml',
  parts: () => ['encoder/', 'head/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const v = viewOf(task, ctx, rng.fork(1));
    // The support attack runs through the meta-model itself: there are no fast weights yet.
    const [advS] = pgd([v.xs], ceAttackLoss(ctx, params, v.ys), trainAttack(ctx.cfg), rng.fork(2));
    const wClean = new FastWeights(ctx, params, v.xs, v.ys);
    const wAdv = new FastWeights(ctx, params, advS, v.ys);
    try {
      const [advQ] = pgd([v.xq], ceAttackLoss(ctx, wClean.concrete, v.yq), trainAttack(ctx.cfg), rng.fork(3));
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(ctx.cfg)), (p) => {
        const robustLogits = logitsOf(ctx, wClean.taped(p), advQ);
        const cleanLogits = logitsOf(ctx, wAdv.taped(p), v.xq);
        const ce = tf.add(crossEntropy(robustLogits, v.yq), crossEntropy(cleanLogits, v.yq)) as tf.Scalar;
        return {
          loss: ce,
          aux: { ceLoss: tf.div(ce, 2) as tf.Scalar, robustAcc: accuracy(robustLogits, v.yq), cleanAcc: accuracy(cleanLogits, v.yq) },
        };
      });
      advQ.dispose();
      return { grads, metrics: metricsFrom(loss, aux, await adaptationMetrics(ctx, params, v, wClean)) };
    } finally {
      wClean.dispose();
      wAdv.dispose();
      advS.dispose();
      disposeTask(v);
    }
  },
};
