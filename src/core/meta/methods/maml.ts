// MAML (Finn et al. 2017), clean: CE on the clean query after adaptation on the clean support.
import { accuracy, crossEntropy } from '../../losses';
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
  viewOf,
} from '../common';

export const maml: Method = {
  name: 'maml',
  parts: () => ['encoder/', 'head/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const v = viewOf(task, ctx, rng.fork(1));
    const w = new FastWeights(ctx, params, v.xs, v.ys);
    try {
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(ctx.cfg)), (p) => {
        const logits = logitsOf(ctx, w.taped(p), v.xq);
        const ce = crossEntropy(logits, v.yq);
        return { loss: ce, aux: { ceLoss: ce, cleanAcc: accuracy(logits, v.yq) } };
      });
      return { grads, metrics: metricsFrom(loss, aux, await adaptationMetrics(ctx, params, v, w)) };
    } finally {
      w.dispose();
      disposeTask(v);
    }
  },
};
