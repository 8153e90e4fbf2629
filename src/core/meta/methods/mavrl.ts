// MAVRL, the seed method (arXiv 2210.10485): two views, one adapted encoder per view (the inner
// loop runs on each view's support set), a label-free bilevel attack per view, and an outer loss
// per view in TRADES form plus lambda * the agreement between the two adversarial views:
//   L = sum_v [ CE(h(f_v(q_v)), y) + beta * KL(p_v(q_v) || p_v(q_v + d_v)) ] + lambda * A(q1 + d1, q2 + d2)
// docs/method.md says what is known of the paper's choices and what this file decides.
//
// The two views are coupled only through A, so with the per-view attack a task also runs as two
// pieces on two threads (splitStep below): each view's piece adapts, attacks and sends the small
// tensor A reads of it (its coupling); A's gradient comes back and each piece takes its view's
// share of the task's gradient. The pieces' gradients sum to taskStep's.
import * as tf from '@tensorflow/tfjs-core';
import { AttackOptions, pgd } from '../../attacks';
import { Config } from '../../config';
import { accuracy, cosineConsistencyPerSample, crossEntropy, klPerSample, ntXentPerSample, symmetricKlPerSample } from '../../losses';
import { classify, encode, ModelSpec, project } from '../../model';
import { Params } from '../../model/params';
import { Rng } from '../../rng';
import { readScalar, readValues } from '../../tensorUtil';
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
  StepMetrics,
  TaskOutcome,
  TaskTensors,
  trainAttack,
  viewOf,
} from '../common';

/** What the agreement loss reads of one view: its projection g(f) (ntxent, cosine), or its logits (kl). */
function couplingOf(cfg: Config, p: Params, f: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor2D {
  return cfg.agreement === 'kl' ? logits : project(p, f);
}

/** The agreement loss between the two adversarial views' couplings, per sample. */
function agreementPerSample(cfg: Config, c1: tf.Tensor2D, c2: tf.Tensor2D): tf.Tensor1D {
  if (cfg.agreement === 'kl') return symmetricKlPerSample(c1, c2);
  return cfg.agreement === 'cosine' ? cosineConsistencyPerSample(c1, c2) : ntXentPerSample(c1, c2, cfg.tau);
}

const projection = (spec: ModelSpec, p: Params, x: tf.Tensor4D) => project(p, encode(spec, p, x));

/**
 * RoCL's instance-wise attack on one view through its adapted encoder `p`: the perturbation of q
 * maximises NT-Xent(g(f(q + d)), target), the target being the other view's clean projection
 * through the other encoder (fixed). `stream` is the view's (1 or 2). The caller owns the result.
 */
function attackView(spec: ModelSpec, tau: number, p: Params, q: tf.Tensor4D, target: tf.Tensor2D, opts: AttackOptions, rng: Rng, stream: number): tf.Tensor4D {
  return pgd([q], ([x]) => ntXentPerSample(projection(spec, p, x), target, tau), opts, rng.fork(stream))[0];
}

/** The other view's clean projection that attackView aims at; from its features where the caller has them. */
function attackTarget(spec: ModelSpec, pOther: Params, qOther: tf.Tensor4D, fOther?: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => project(pOther, fOther ?? encode(spec, pOther, qOther)));
}

/**
 * The label-free bilevel attack. 'per-view' (attackView, once per adapted encoder), or 'joint':
 * d1 and d2 together maximise NT-Xent(g(f1(q1 + d1)), g(f2(q2 + d2))). No label is used either
 * way. `f1` is q1's clean features through p1 where the caller has them (view 2's target is
 * made of them; taskStep also needs them for encoderCosine). The caller owns the two results.
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
  f1?: tf.Tensor2D,
): [tf.Tensor4D, tf.Tensor4D] {
  if (mode === 'joint') {
    const [a1, a2] = pgd([q1, q2], ([x1, x2]) => ntXentPerSample(projection(spec, p1, x1), projection(spec, p2, x2), tau), opts, rng.fork(1));
    return [a1, a2];
  }
  const targets = [attackTarget(spec, p2, q2), attackTarget(spec, p1, q1, f1)];
  try {
    const a1 = attackView(spec, tau, p1, q1, targets[0], opts, rng, 1);
    try {
      return [a1, attackView(spec, tau, p2, q2, targets[1], opts, rng, 2)];
    } catch (e) {
      a1.dispose();
      throw e;
    }
  } finally {
    tf.dispose(targets);
  }
}

/** Mean cosine of the two encoders' features on the same images x (f1: x through encoder 1): 1 when they are one network. */
function encoderCosine(spec: ModelSpec, f1: tf.Tensor2D, p2: Params, x: tf.Tensor4D): Promise<number> {
  return readScalar(() => tf.sub(1, tf.mean(cosineConsistencyPerSample(f1, encode(spec, p2, x)))) as tf.Scalar);
}

/** View 1's clean query features through its adapted encoder: view 2's attack target and the encoders' cosine both read them. */
const cleanFeatures = (spec: ModelSpec, p1: Params, q1: tf.Tensor4D) => tf.tidy(() => encode(spec, p1, q1));

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

type OuterSettings = Pick<Config, 'outerLoss' | 'beta' | 'lambda'>;

/** One view's share of the outer loss, without the agreement, with its cross-entropy and accuracies. */
interface ViewLoss {
  loss: tf.Scalar;
  ce: tf.Scalar;
  robustAcc: tf.Scalar;
  cleanAcc?: tf.Scalar;
}

/** 'trades': CE(clean, y) + beta * mean KL(p(clean) || p(adv)); 'adversarial': CE(adv, y). */
function viewOuterLoss(cfg: OuterSettings, y: tf.Tensor1D, adv: tf.Tensor2D, clean: tf.Tensor2D | undefined): ViewLoss {
  const robustAcc = accuracy(adv, y);
  if (cfg.outerLoss === 'adversarial') {
    const ce = crossEntropy(adv, y);
    return { loss: ce, ce, robustAcc };
  }
  if (!clean) throw new Error("mavrl's TRADES outer loss needs the clean logits of both views");
  const ce = crossEntropy(clean, y);
  return { loss: tf.add(ce, tf.mul(tf.mean(klPerSample(clean, adv)), cfg.beta)) as tf.Scalar, ce, robustAcc, cleanAcc: accuracy(clean, y) };
}

const half = (a: tf.Scalar, b: tf.Scalar) => tf.div(tf.add(a, b), 2) as tf.Scalar;

/**
 * The outer loss of one task: the two views' shares (viewOuterLoss) + lambda * agreement, with
 * the figures it reports (mean CE per view, accuracies averaged over the views).
 */
export function mavrlOuterLoss(cfg: OuterSettings, t: MavrlOuterInputs): LossParts {
  const [v1, v2] = [0, 1].map((v) => viewOuterLoss(cfg, t.labels[v], t.adv[v], t.clean?.[v]));
  const aux: LossParts['aux'] = { ceLoss: half(v1.ce, v2.ce), agreementLoss: t.agreement, robustAcc: half(v1.robustAcc, v2.robustAcc) };
  if (v1.cleanAcc && v2.cleanAcc) aux.cleanAcc = half(v1.cleanAcc, v2.cleanAcc);
  return { loss: tf.addN([v1.loss, v2.loss, tf.mul(t.agreement, cfg.lambda)]) as tf.Scalar, aux };
}

/** The views of a task, as taskStep and the pieces of splitStep draw them. */
function viewsOf(task: Episode, ctx: MethodContext, rng: Rng): [TaskTensors, TaskTensors] {
  return [viewOf(task, ctx, rng.fork(1)), viewOf(task, ctx, rng.fork(2))];
}

/**
 * One view of a task as a piece of splitStep. It also adapts the other view's encoder (one inner
 * step on the support set: cheap), whose clean projection its attack aims at, so the pieces need
 * no message before their attacks. Of taskStep's adaptation figures, piece 0 computes those of
 * view 1 and piece 1 the encoders' cosine, so that neither piece waits long for the other.
 */
async function beginView(params: Params, task: Episode, ctx: MethodContext, rng: Rng, piece: number) {
  const { cfg, spec } = ctx;
  const views = viewsOf(task, ctx, rng);
  const weights = views.map((v) => new FastWeights(ctx, params, v.xs, v.ys));
  const [own, other] = piece === 0 ? [0, 1] : [1, 0];
  const view = views[own];
  const w = weights[own];
  let adv: tf.Tensor4D | undefined;
  let f1: tf.Tensor2D | undefined;
  try {
    // Piece 1 attacks view 2, whose target is made of view 1's clean features: also its cosine's.
    if (piece === 1) f1 = cleanFeatures(spec, weights[0].concrete, views[0].xq);
    const target = attackTarget(spec, weights[other].concrete, views[other].xq, f1);
    try {
      adv = attackView(spec, cfg.tau, w.concrete, view.xq, target, trainAttack(cfg), rng.fork(3), own + 1);
    } finally {
      target.dispose();
    }
    const figures: Partial<StepMetrics> = f1
      ? { encoderCosine: await encoderCosine(spec, f1, weights[1].concrete, views[0].xq) }
      : await adaptationMetrics(ctx, params, views[0], weights[0]);
    if (cfg.outerLoss !== 'trades') figures.cleanAcc = await accuracyOf(ctx, w.concrete, view.xq, view.yq);
    const a = adv;
    const coupling = tf.tidy(() => {
      const f = encode(spec, w.concrete, a);
      return couplingOf(cfg, w.concrete, f, classify(w.concrete, f));
    });
    return { view, w, adv, figures, coupling };
  } catch (e) {
    tf.dispose(adv);
    w.dispose();
    disposeTask(view);
    throw e;
  } finally {
    tf.dispose(f1);
    weights[other].dispose();
    disposeTask(views[other]);
  }
}

export const mavrl: Method = {
  name: 'mavrl',
  parts: (cfg) => (cfg.agreement === 'kl' ? ['encoder/', 'head/'] : ['encoder/', 'head/', 'proj/']),

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const { cfg, spec } = ctx;
    const [v1, v2] = viewsOf(task, ctx, rng);
    const w1 = new FastWeights(ctx, params, v1.xs, v1.ys);
    const w2 = new FastWeights(ctx, params, v2.xs, v2.ys);
    let f1: tf.Tensor2D | undefined;
    try {
      f1 = cleanFeatures(spec, w1.concrete, v1.xq);
      const [a1, a2] = bilevelAttack(spec, cfg.mavrlAttack, cfg.tau, w1.concrete, w2.concrete, v1.xq, v2.xq, trainAttack(cfg), rng.fork(3), f1);
      const trades = cfg.outerLoss === 'trades';
      const adaptation = {
        ...(await adaptationMetrics(ctx, params, v1, w1)),
        encoderCosine: await encoderCosine(spec, f1, w2.concrete, v1.xq),
        ...(trades ? {} : { cleanAcc: ((await accuracyOf(ctx, w1.concrete, v1.xq, v1.yq)) + (await accuracyOf(ctx, w2.concrete, v2.xq, v2.yq))) / 2 }),
      };
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(cfg)), (p) => {
        const p1 = w1.taped(p);
        const p2 = w2.taped(p);
        const f1 = encode(spec, p1, a1);
        const f2 = encode(spec, p2, a2);
        const adv: [tf.Tensor2D, tf.Tensor2D] = [classify(p1, f1), classify(p2, f2)];
        const agreement = tf.mean(agreementPerSample(cfg, couplingOf(cfg, p1, f1, adv[0]), couplingOf(cfg, p2, f2, adv[1]))) as tf.Scalar;
        const clean: [tf.Tensor2D, tf.Tensor2D] | undefined = trades ? [logitsOf(ctx, p1, v1.xq), logitsOf(ctx, p2, v2.xq)] : undefined;
        return mavrlOuterLoss(cfg, { clean, adv, labels: [v1.yq, v2.yq], agreement });
      });
      tf.dispose([a1, a2]);
      return { grads, metrics: metricsFrom(loss, aux, adaptation) };
    } finally {
      tf.dispose(f1);
      w1.dispose();
      w2.dispose();
      disposeTask(v1);
      disposeTask(v2);
    }
  },

  splitStep: {
    // The joint attack perturbs both views together: no split.
    pieces: (cfg) => (cfg.mavrlAttack === 'per-view' ? 2 : 1),

    async begin(params, task, ctx, rng, piece) {
      const { cfg, spec } = ctx;
      const { view, w, adv, figures, coupling } = await beginView(params, task, ctx, rng, piece);
      const dispose = () => {
        tf.dispose([adv, coupling]);
        w.dispose();
        disposeTask(view);
      };
      return {
        coupling,
        dispose,
        async finish(grad: tf.Tensor2D): Promise<TaskOutcome> {
          try {
            // The piece's loss is its view's share plus <grad, coupling>, whose gradient is the
            // agreement's through this view. The share alone is reported: the linked term's
            // value is taken off (the same coupling as begin's, up to float rounding).
            const linked = await readScalar(() => tf.sum(tf.mul(grad, coupling)));
            const out = await outerGradients(params, keysOf(params, mavrl.parts(cfg)), (p) => {
              const pv = w.taped(p);
              const f = encode(spec, pv, adv);
              const logits = classify(pv, f);
              const share = viewOuterLoss(cfg, view.yq, logits, cfg.outerLoss === 'trades' ? logitsOf(ctx, pv, view.xq) : undefined);
              const aux: LossParts['aux'] = { ceLoss: share.ce, robustAcc: share.robustAcc };
              if (share.cleanAcc) aux.cleanAcc = share.cleanAcc;
              return { loss: tf.add(share.loss, tf.sum(tf.mul(grad, couplingOf(cfg, pv, f, logits)))) as tf.Scalar, aux };
            });
            return { grads: out.grads, metrics: metricsFrom(out.loss - linked, out.aux, figures) };
          } finally {
            dispose();
          }
        },
      };
    },

    async join(cfg, couplings) {
      const { value, grads } = tf.valueAndGrads(
        (c1: tf.Tensor, c2: tf.Tensor) => tf.mean(agreementPerSample(cfg, c1 as tf.Tensor2D, c2 as tf.Tensor2D)) as tf.Scalar,
      )(couplings);
      const agreement = (await readValues(value))[0];
      value.dispose();
      const scaled = grads.map((g) => tf.mul(g, cfg.lambda) as tf.Tensor2D);
      tf.dispose(grads);
      return { value: agreement, weighted: agreement * cfg.lambda, grads: scaled };
    },

    combine(pieces, joined) {
      const mean = (k: keyof StepMetrics) => (pieces.every((m) => m[k] !== null) ? pieces.reduce((s, m) => s + m[k]!, 0) / pieces.length : null);
      return {
        ...pieces[0],
        encoderCosine: pieces[1].encoderCosine,
        loss: pieces.reduce((s, m) => s + m.loss, 0) + joined.weighted,
        ceLoss: mean('ceLoss'),
        cleanAcc: mean('cleanAcc'),
        robustAcc: mean('robustAcc'),
        agreementLoss: joined.value,
      };
    },
  },
};
