// The work of one episode for one model, shared by evaluate() and its worker threads: adapt the
// model to the clean support set (its inner loop, or the prototype head), predict the clean query,
// and predict the query under each planned attack, white-box through the adapted model.
import * as tf from '@tensorflow/tfjs-core';
import { AttackOptions, pgd } from '../attacks';
import type { Config } from '../config';
import { UserError } from '../errors';
import { crossEntropyPerSample, marginLossPerSample } from '../losses';
import { TaskTensors } from '../meta/common';
import { adapt, disposeAdapted } from '../meta/inner';
import { modelSpecOf } from '../meta/learner';
import { adaptedKeys, classify, encode, ModelSpec } from '../model';
import { disposeParams, ParamArrays, Params, paramsFromArrays } from '../model/params';
import { prototypeLogits, prototypes } from '../model/prototype';
import { Rng } from '../rng';
import { readValues } from '../tensorUtil';

export type Head = 'finetune' | 'prototype';

/**
 * One attack of the evaluation; kind 0 is the standard attack at some radius, kind 1 + r the r-th
 * run of the stronger one (each run separate: an image is robust to it only if correct under all).
 */
export interface AttackPlan {
  kind: number;
  opts: AttackOptions;
  /** The attack's loss: cross-entropy (default), or the CW margin max_{j != y} z_j - z_y. */
  loss?: AttackLossName;
}

export type AttackLossName = 'ce' | 'margin';

/** A model as tensors, with how it adapts. */
export interface PreparedModel {
  name: string;
  cfg: Config;
  spec: ModelSpec;
  params: Params;
  /** Whether the tensors were made here (and are freed by release). */
  owned: boolean;
  head: Head;
  /** Inner-loop steps (0 for the prototype head). */
  steps: number;
}

export function isTensorParams(p: Params | ParamArrays): p is Params {
  return Object.values(p).every((v) => v instanceof tf.Tensor);
}

/** Throws a UserError when a finetuned head (cfg.ways outputs) cannot take `ways`-way tasks. */
export function checkHeadFits(name: string, cfg: Config, head: Head, ways: number): void {
  if (head === 'finetune' && cfg.ways !== ways) {
    throw new UserError(
      `model ${name} has a ${cfg.ways}-way classifier head, so finetuning it needs ${cfg.ways}-way tasks: use --ways ${cfg.ways}, or the prototype head (--head prototype), which works for any ways`,
    );
  }
}

/**
 * The model as tensors; `steps` is its inner-loop step count when finetuned. A finetuned head has
 * cfg.ways outputs, so it needs tasks of that many ways.
 */
export function prepareModel(name: string, cfg: Config, params: Params | ParamArrays, head: Head, steps: number, ways: number): PreparedModel {
  checkHeadFits(name, cfg, head, ways);
  const tensors = isTensorParams(params);
  return {
    name,
    cfg,
    spec: modelSpecOf(cfg),
    head,
    steps: head === 'finetune' ? steps : 0,
    params: tensors ? params : paramsFromArrays(params),
    owned: !tensors,
  };
}

export function releaseModel(m: PreparedModel): void {
  if (m.owned) disposeParams(m.params);
}

/** A model adapted to one task: logits of any batch of the task's images. */
export interface Adapted {
  logits(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export function adaptTo(m: PreparedModel, xs: tf.Tensor4D, ys: tf.Tensor1D, ways: number): Adapted {
  const { spec, params } = m;
  if (m.head === 'prototype') {
    const protos = tf.tidy(() => prototypes(encode(spec, params, xs), ys, ways));
    return { logits: (x) => prototypeLogits(protos, encode(spec, params, x)), dispose: () => protos.dispose() };
  }
  const fast = adapt(spec, params, xs, ys, { steps: m.steps, lr: m.cfg.innerLr, keys: adaptedKeys(params, m.cfg.innerUpdate) });
  return { logits: (x) => classify(fast, encode(spec, fast, x)), dispose: () => disposeAdapted(fast, params) };
}

/**
 * PGD on the whole query set through the adapted model, labelled CE, random start. The whole set:
 * batch norm normalises a batch by its own statistics, so the model is only the same on the same
 * batch. The caller owns the result.
 */
export function attackQuery(a: Adapted, xq: tf.Tensor4D, yq: tf.Tensor1D, opts: AttackOptions, rng: Rng, loss: AttackLossName = 'ce'): tf.Tensor4D {
  if (opts.eps === 0) return tf.clone(xq);
  const perSample = loss === 'margin' ? marginLossPerSample : crossEntropyPerSample;
  return pgd([xq], (advs) => perSample(a.logits(advs[0]), yq), { ...opts, randomStart: true }, rng)[0];
}

/** The random stream of one attack: the same for every model and thread, per episode, kind and radius. */
export function attackRng(seed: number, episode: number, kind: number, eps: number): Rng {
  return new Rng([seed, 0xa77ac, episode, kind, Math.round(eps * 1e7)]);
}

/** What one model predicts on one episode. */
export interface EpisodePredictions {
  /** The clean query's predictions, then the query's under each plan, in one array. */
  preds: Int32Array;
  /** Mean over the clean query of the largest softmax probability. */
  maxSoftmax: number;
}

/** Predictions of one model on one episode (one read of the backend per episode). */
export async function predictEpisode(
  m: PreparedModel,
  t: TaskTensors,
  ways: number,
  plans: readonly AttackPlan[],
  seed: number,
  episode: number,
): Promise<EpisodePredictions> {
  const adapted = adaptTo(m, t.xs, t.ys, ways);
  const preds: tf.Tensor[] = [];
  try {
    const confidence = tf.tidy(() => {
      const logits = adapted.logits(t.xq);
      preds.push(tf.keep(tf.argMax(logits, 1)));
      return tf.mean(tf.max(tf.softmax(logits), 1));
    });
    preds.push(confidence);
    for (const p of plans) {
      const adv = attackQuery(adapted, t.xq, t.yq, p.opts, attackRng(seed, episode, p.kind, p.opts.eps), p.loss);
      preds.push(tf.tidy(() => tf.argMax(adapted.logits(adv), 1)));
      adv.dispose();
    }
    // The confidence rides along as the last element (times 1e6, as an int32) so that the
    // episode still takes one read of the backend.
    const bits = tf.tidy(() => tf.concat([...preds.filter((x) => x !== confidence), tf.reshape(tf.cast(tf.mul(confidence, 1e6), 'int32'), [1])]));
    try {
      const values = (await readValues(bits)) as Int32Array;
      return { preds: values.slice(0, values.length - 1), maxSoftmax: values[values.length - 1] / 1e6 };
    } finally {
      bits.dispose();
    }
  } finally {
    tf.dispose(preds);
    adapted.dispose();
  }
}
