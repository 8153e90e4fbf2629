// Adversarial Querying (Goldblum et al. 2020): clean inner loop; the outer loss is CE on a
// labelled PGD attack of the query through the adapted model.
import { pgd } from '../../attacks';
import { accuracy, crossEntropy } from '../../losses';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import {
  accuracyOf,
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

export const aq: Method = {
  name: 'aq',
  parts: () => ['encoder/', 'head/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const v = viewOf(task, ctx, rng.fork(1));
    const w = new FastWeights(ctx, params, v.xs, v.ys);
    try {
      const [adv] = pgd([v.xq], ceAttackLoss(ctx, w.concrete, v.yq), trainAttack(ctx.cfg), rng.fork(3));
      const extra = { cleanAcc: await accuracyOf(ctx, w.concrete, v.xq, v.yq), ...(await adaptationMetrics(ctx, params, v, w)) };
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(ctx.cfg)), (p) => {
        const logits = logitsOf(ctx, w.taped(p), adv);
        const ce = crossEntropy(logits, v.yq);
        return { loss: ce, aux: { ceLoss: ce, robustAcc: accuracy(logits, v.yq) } };
      });
      adv.dispose();
      return { grads, metrics: metricsFrom(loss, aux, extra) };
    } finally {
      w.dispose();
      disposeTask(v);
    }
  },
};
