// Sample perturbations: a few query images of one episode with what the evaluation's attack does
// to them through the adapted model, as PNGs with labels (the report and the extension show them).
import * as tf from '@tensorflow/tfjs-core';
import { Norm } from '../attacks';
import type { Episode } from '../data/types';
import { UserError } from '../errors';
import { disposeTask, taskTensors } from '../meta/common';
import { imageToPng } from '../png';
import { readValues } from '../tensorUtil';
import type { EvalModel } from './entries';
import { Adapted, adaptTo, attackQuery, attackRng, Head, prepareModel, releaseModel } from './episode';
import { EvalAttackOptions, HeadChoice, headFor, resolveEvalOptions, wholeAtLeast } from './options';

export interface SampleOptions {
  /** Default 8/255. */
  eps?: number;
  /** Images to return. Default 4: the first query image of the first classes, then the second ones. */
  count?: number;
  /**
   * The perturbation image is 0.5 + amplification * (adversarial - clean), clamped to [0,1].
   * Default: 0.5 / eps for L-inf (the ball fills the grey range); for L2, 0.5 / the largest
   * pixel change of the chosen images.
   */
  amplification?: number;
  /** Default: PGD-20, step eps/4, L-inf, no restarts. */
  attack?: Omit<EvalAttackOptions, 'eps'>;
  head?: HeadChoice;
  innerSteps?: number;
  /** Seed of the attack's random start. Default 0. */
  seed?: number;
  /** The dataset's class names, so labels read as names (episode.classes index into them). */
  classNames?: readonly string[];
  /** Nearest-neighbour upscaling of the PNGs. Default 1. */
  scale?: number;
}

export interface PerturbationSample {
  /** Index of the image in the episode's query set. */
  queryIndex: number;
  trueLabel: number;
  cleanPred: number;
  adversarialPred: number;
  /** Class names (or the episode labels as text when no names were given). */
  trueName: string;
  cleanPredName: string;
  adversarialPredName: string;
  clean: Buffer;
  perturbation: Buffer;
  adversarial: Buffer;
  /** Largest absolute pixel change, and the L2 norm of the change, before PNG rounding. */
  linf: number;
  l2: number;
}

export interface PerturbationSamples {
  eps: number;
  norm: Norm;
  amplification: number;
  head: Head;
  height: number;
  width: number;
  channels: number;
  samples: PerturbationSample[];
}

/**
 * A few query images of one episode with their perturbation under the evaluation attack through
 * the model adapted on the episode's support set. The whole query set is attacked (batch norm
 * sees the same batch as in evaluate); `count` images of it are returned, as PNGs with labels.
 */
export async function samplePerturbations(model: EvalModel, episode: Episode, opts: SampleOptions = {}): Promise<PerturbationSamples> {
  const o = resolveEvalOptions([model], {
    ways: episode.ways,
    shots: episode.shots,
    queries: episode.queries,
    episodes: 1,
    seed: opts.seed,
    head: opts.head,
    innerSteps: opts.innerSteps,
    attack: { ...opts.attack, eps: opts.eps },
    curve: [],
  });
  const count = opts.count ?? 4;
  wholeAtLeast('sample count', count, 1);
  const { height, width, channels } = episode;
  if (model.cfg.imageSize !== height || model.cfg.imageSize !== width || model.cfg.channels !== channels) {
    throw new UserError(
      `model ${model.name} takes ${model.cfg.imageSize}x${model.cfg.imageSize}x${model.cfg.channels} images, the episode has ${width}x${height}x${channels}`,
    );
  }
  const m = prepareModel(model.name, model.cfg, model.params, headFor(model.cfg, o.head), o.innerSteps ?? model.cfg.innerStepsTest, episode.ways);
  const size = height * width * channels;
  const nq = episode.ways * episode.queries;
  const picks = Array.from({ length: Math.min(count, nq) }, (_, i) => (i % episode.ways) * episode.queries + Math.floor(i / episode.ways));
  const t = taskTensors(episode, undefined);
  let adapted: Adapted | undefined;
  let advData: Float32Array;
  let preds: Int32Array;
  try {
    adapted = adaptTo(m, t.xs, t.ys, episode.ways);
    const a = o.attack;
    const adv = attackQuery(
      adapted,
      t.xq,
      t.yq,
      { eps: a.eps, steps: a.steps, stepSize: a.stepSize, norm: a.norm, restarts: a.restarts },
      attackRng(o.seed, 0, 2, a.eps),
    );
    const both = tf.tidy(() => tf.concat([tf.argMax(adapted!.logits(t.xq), 1), tf.argMax(adapted!.logits(adv), 1)]));
    try {
      preds = (await readValues(both)) as Int32Array;
      advData = (await readValues(adv)) as Float32Array;
    } finally {
      tf.dispose([both, adv]);
    }
  } finally {
    adapted?.dispose();
    disposeTask(t);
    releaseModel(m);
  }
  const deltas = picks.map((q) => {
    const d = new Float32Array(size);
    for (let j = 0; j < size; j++) d[j] = advData[q * size + j] - episode.query[q * size + j];
    return d;
  });
  let amplification = opts.amplification;
  if (amplification === undefined) {
    let maxAbs = 0;
    for (const d of deltas) for (const v of d) maxAbs = Math.max(maxAbs, Math.abs(v));
    const reach = o.attack.norm === 'linf' ? o.attack.eps : maxAbs;
    amplification = reach > 0 ? 0.5 / reach : 1;
  }
  if (!(amplification > 0) || !Number.isFinite(amplification)) throw new UserError(`amplification must be a positive number, got ${amplification}`);
  const name = (label: number) => (opts.classNames ? (opts.classNames[episode.classes[label]] ?? String(label)) : String(label));
  const png = (px: ArrayLike<number>) => imageToPng(px, height, width, channels, { scale: opts.scale });
  const samples = picks.map((q, i): PerturbationSample => {
    const d = deltas[i];
    let linf = 0;
    let sq = 0;
    const vis = new Float32Array(size);
    for (let j = 0; j < size; j++) {
      linf = Math.max(linf, Math.abs(d[j]));
      sq += d[j] * d[j];
      vis[j] = 0.5 + amplification! * d[j];
    }
    const trueLabel = episode.queryLabels[q];
    return {
      queryIndex: q,
      trueLabel,
      cleanPred: preds[q],
      adversarialPred: preds[nq + q],
      trueName: name(trueLabel),
      cleanPredName: name(preds[q]),
      adversarialPredName: name(preds[nq + q]),
      clean: png(episode.query.subarray(q * size, (q + 1) * size)),
      perturbation: png(vis),
      adversarial: png(advData.subarray(q * size, (q + 1) * size)),
      linf,
      l2: Math.sqrt(sq),
    };
  });
  return { eps: o.attack.eps, norm: o.attack.norm, amplification, head: m.head, height, width, channels, samples };
}
