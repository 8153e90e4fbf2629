// MAVRL, the seed method (arXiv 2210.10485): two views, one adapted encoder per view, a
// label-free bilevel attack that maximises the instance-discrimination loss between the two
// adapted encoders, and an outer loss of adversarial CE on both views + lambda * agreement.
import * as tf from '@tensorflow/tfjs-core';
import { pgd } from '../../attacks';
import { Config } from '../../config';
import { accuracy, cosineConsistencyPerSample, crossEntropy, klPerSample, ntXentPerSample, symmetricKlPerSample } from '../../losses';
import { classify, encode, project } from '../../model';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import {
  accuracyOf, disposeTask, FastWeights, keysOf, logitsOf, Method, MethodContext, metricsFrom, outerGradients, TaskOutcome, trainAttack, viewOf,
} from '../common';

/** The agreement loss between the two adversarial views, per sample. */
function agreementPerSample(cfg: Config, p1: Params, p2: Params, f1: tf.Tensor2D, f2: tf.Tensor2D, l1: tf.Tensor2D, l2: tf.Tensor2D): tf.Tensor1D {
  if (cfg.agreement === 'kl') return symmetricKlPerSample(l1, l2);
  const z1 = project(p1, f1);
  const z2 = project(p2, f2);
  return cfg.agreement === 'cosine' ? cosineConsistencyPerSample(z1, z2) : ntXentPerSample(z1, z2, cfg.tau);
}

export const mavrl: Method = {
  name: 'mavrl',
  parts: (cfg) => (cfg.agreement === 'kl' ? ['encoder/', 'head/'] : ['encoder/', 'head/', 'proj/']),

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const { cfg, spec } = ctx;
    const v1 = viewOf(task, ctx, rng.fork(1));
    const v2 = viewOf(task, ctx, rng.fork(2));
    const w1 = new FastWeights(ctx, params, v1.xs, v1.ys);
    const w2 = new FastWeights(ctx, params, v2.xs, v2.ys);
    try {
      // Label-free: the attack sees no label, only the disagreement of the two adapted encoders.
      const [a1, a2] = pgd(
        [v1.xq, v2.xq],
        ([x1, x2]) => ntXentPerSample(project(w1.concrete, encode(spec, w1.concrete, x1)), project(w2.concrete, encode(spec, w2.concrete, x2)), cfg.tau),
        trainAttack(cfg),
        rng.fork(3),
      );
      const cleanAcc = cfg.trades ? undefined : await accuracyOf(ctx, w1.concrete, v1.xq, v1.yq);
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(cfg)), (p) => {
        const p1 = w1.taped(p);
        const p2 = w2.taped(p);
        const f1 = encode(spec, p1, a1);
        const f2 = encode(spec, p2, a2);
        const l1 = classify(p1, f1);
        const l2 = classify(p2, f2);
        const ce = tf.add(crossEntropy(l1, v1.yq), crossEntropy(l2, v2.yq));
        const agree = tf.mean(agreementPerSample(cfg, p1, p2, f1, f2, l1, l2)) as tf.Scalar;
        let loss = tf.add(ce, tf.mul(agree, cfg.lambda)) as tf.Scalar;
        const aux: Record<string, tf.Scalar> = {
          ceLoss: tf.div(ce, 2) as tf.Scalar,
          agreementLoss: agree,
          robustAcc: tf.div(tf.add(accuracy(l1, v1.yq), accuracy(l2, v2.yq)), 2) as tf.Scalar,
        };
        if (cfg.trades) {
          // TRADES-style: KL(clean || adversarial) pulls each adversarial prediction towards
          // the clean one of the same adapted encoder.
          const c1 = logitsOf(ctx, p1, v1.xq);
          const c2 = logitsOf(ctx, p2, v2.xq);
          const kl = tf.add(tf.mean(klPerSample(c1, l1)), tf.mean(klPerSample(c2, l2)));
          loss = tf.add(loss, tf.mul(kl, cfg.beta)) as tf.Scalar;
          aux.cleanAcc = accuracy(c1, v1.yq);
        }
        return { loss, aux };
      });
      tf.dispose([a1, a2]);
      return { grads, metrics: metricsFrom(loss, aux, cleanAcc === undefined ? {} : { cleanAcc }) };
    } finally {
      w1.dispose();
      w2.dispose();
      disposeTask(v1);
      disposeTask(v2);
    }
  },
};
