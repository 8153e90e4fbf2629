// MAVRL, the seed method (arXiv 2210.10485): two views, one adapted encoder per view (the inner
// loop runs on each view's support set), a label-free bilevel attack per view, and an outer loss
// per view in TRADES form plus lambda * the agreement between the two adversarial views:
//   L = sum_v [ CE(h(f_v(q_v)), y) + beta * KL(p_v(q_v) || p_v(q_v + d_v)) ] + lambda * A(q1 + d1, q2 + d2)
// docs/method.md says what is known of the paper's choices and what this file decides.
import * as tf from '@tensorflow/tfjs-core';
import { AttackOptions, pgd } from '../../attacks';
import { Config } from '../../config';
import { accuracy, cosineConsistencyPerSample, crossEntropy, klPerSample, ntXentPerSample, symmetricKlPerSample } from '../../losses';
import { classify, encode, ModelSpec, project } from '../../model';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { readScalar } from '../../tensorUtil';
import { Episode } from '../../data/types';
import {
  accuracyOf,
  adaptationMetrics,
  disposeTask,
  FastWeights,
  keysOf,
  logitsOf,
  LossParts,
  Method,
  MethodContext,
  metricsFrom,
  outerGradients,
  TaskOutcome,
  trainAttack,
  viewOf,
} from '../common';

/** The agreement loss between the two adversarial views, per sample. */
function agreementPerSample(cfg: Config, p1: Params, p2: Params, f1: tf.Tensor2D, f2: tf.Tensor2D, l1: tf.Tensor2D, l2: tf.Tensor2D): tf.Tensor1D {
  if (cfg.agreement === 'kl') return symmetricKlPerSample(l1, l2);
  const z1 = project(p1, f1);
  const z2 = project(p2, f2);
  return cfg.agreement === 'cosine' ? cosineConsistencyPerSample(z1, z2) : ntXentPerSample(z1, z2, cfg.tau);
}

const projection = (spec: ModelSpec, p: Params, x: tf.Tensor4D) => project(p, encode(spec, p, x));

/**
 * The label-free bilevel attack. 'per-view' (RoCL's instance-wise attack, one per adapted
 * encoder): d1 maximises NT-Xent(g(f1(q1 + d1)), g(f2(q2))) with the other view clean and fixed,
 * and d2 likewise. 'joint': d1 and d2 together maximise NT-Xent(g(f1(q1 + d1)), g(f2(q2 + d2))).
 * No label is used either way. The caller owns the two results.
 */
export function bilevelAttack(
  spec: ModelSpec,
  mode: Config['mavrlAttack'],
  tau: number,
  p1: Params,
  p2: Params,
  q1: tf.Tensor4D,
  q2: tf.Tensor4D,
  opts: AttackOptions,
  rng: Rng,
): [tf.Tensor4D, tf.Tensor4D] {
  if (mode === 'joint') {
    const [a1, a2] = pgd([q1, q2], ([x1, x2]) => ntXentPerSample(projection(spec, p1, x1), projection(spec, p2, x2), tau), opts, rng.fork(1));
    return [a1, a2];
  }
  const perView = (p: Params, q: tf.Tensor4D, pOther: Params, qOther: tf.Tensor4D, stream: number): tf.Tensor4D => {
    const target = tf.tidy(() => projection(spec, pOther, qOther));
    try {
      return pgd([q], ([x]) => ntXentPerSample(projection(spec, p, x), target, tau), opts, rng.fork(stream))[0];
    } finally {
      target.dispose();
    }
  };
  return [perView(p1, q1, p2, q2, 1), perView(p2, q2, p1, q1, 2)];
}

/** Mean cosine of the two encoders' features on the same images: 1 when they are one network. */
function encoderCosine(spec: ModelSpec, p1: Params, p2: Params, x: tf.Tensor4D): Promise<number> {
  return readScalar(() => tf.sub(1, tf.mean(cosineConsistencyPerSample(encode(spec, p1, x), encode(spec, p2, x)))) as tf.Scalar);
}

/** The logits and agreement that the outer loss of one task is made of. */
export interface MavrlOuterInputs {
  /** Each view's clean query through its adapted encoder (needed for outerLoss 'trades'). */
  clean?: [tf.Tensor2D, tf.Tensor2D];
  /** Each view's adversarial query through its adapted encoder. */
  adv: [tf.Tensor2D, tf.Tensor2D];
  labels: [tf.Tensor1D, tf.Tensor1D];
  /** Mean agreement loss between the two adversarial views. */
  agreement: tf.Scalar;
}

/**
 * The outer loss of one task.
 * 'trades': sum_v CE(clean_v, y) + beta * sum_v mean KL(p(clean_v) || p(adv_v)) + lambda * agreement;
 * 'adversarial': sum_v CE(adv_v, y) + lambda * agreement.
 * With the figures it reports (mean CE per view, accuracies averaged over the views).
 */
export function mavrlOuterLoss(cfg: Pick<Config, 'outerLoss' | 'beta' | 'lambda'>, t: MavrlOuterInputs): LossParts {
  const [y1, y2] = t.labels;
  const robustAcc = tf.div(tf.add(accuracy(t.adv[0], y1), accuracy(t.adv[1], y2)), 2) as tf.Scalar;
  const weighted = tf.mul(t.agreement, cfg.lambda);
  if (cfg.outerLoss === 'adversarial') {
    const ce = tf.add(crossEntropy(t.adv[0], y1), crossEntropy(t.adv[1], y2));
    return { loss: tf.add(ce, weighted) as tf.Scalar, aux: { ceLoss: tf.div(ce, 2) as tf.Scalar, agreementLoss: t.agreement, robustAcc } };
  }
  if (!t.clean) throw new Error("mavrl's TRADES outer loss needs the clean logits of both views");
  const [c1, c2] = t.clean;
  const ce = tf.add(crossEntropy(c1, y1), crossEntropy(c2, y2));
  const kl = tf.add(tf.mean(klPerSample(c1, t.adv[0])), tf.mean(klPerSample(c2, t.adv[1])));
  const cleanAcc = tf.div(tf.add(accuracy(c1, y1), accuracy(c2, y2)), 2) as tf.Scalar;
  return {
    loss: tf.addN([ce, tf.mul(kl, cfg.beta), weighted]) as tf.Scalar,
    aux: { ceLoss: tf.div(ce, 2) as tf.Scalar, agreementLoss: t.agreement, robustAcc, cleanAcc },
  };
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
      const [a1, a2] = bilevelAttack(spec, cfg.mavrlAttack, cfg.tau, w1.concrete, w2.concrete, v1.xq, v2.xq, trainAttack(cfg), rng.fork(3));
      const trades = cfg.outerLoss === 'trades';
      const adaptation = {
        ...(await adaptationMetrics(ctx, params, v1, w1)),
        encoderCosine: await encoderCosine(spec, w1.concrete, w2.concrete, v1.xq),
        ...(trades ? {} : { cleanAcc: ((await accuracyOf(ctx, w1.concrete, v1.xq, v1.yq)) + (await accuracyOf(ctx, w2.concrete, v2.xq, v2.yq))) / 2 }),
      };
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(cfg)), (p) => {
        const p1 = w1.taped(p);
        const p2 = w2.taped(p);
        const f1 = encode(spec, p1, a1);
        const f2 = encode(spec, p2, a2);
        const adv: [tf.Tensor2D, tf.Tensor2D] = [classify(p1, f1), classify(p2, f2)];
        const agreement = tf.mean(agreementPerSample(cfg, p1, p2, f1, f2, adv[0], adv[1])) as tf.Scalar;
        const clean: [tf.Tensor2D, tf.Tensor2D] | undefined = trades ? [logitsOf(ctx, p1, v1.xq), logitsOf(ctx, p2, v2.xq)] : undefined;
        return mavrlOuterLoss(cfg, { clean, adv, labels: [v1.yq, v2.yq], agreement });
      });
      tf.dispose([a1, a2]);
      return { grads, metrics: metricsFrom(loss, aux, adaptation) };
    } finally {
      w1.dispose();
      w2.dispose();
      disposeTask(v1);
      disposeTask(v2);
    }
  },
};
