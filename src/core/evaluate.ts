// Few-shot evaluation under attack: every model on the same seeded N-way K-shot episodes,
// adapted on the clean support set (its own inner loop, or the frozen-encoder prototype head),
// then clean accuracy on the query and robust accuracy under a white-box PGD through the adapted
// model, with 95% CIs, a robustness curve over eps, gradient-masking checks, and sample
// perturbations as PNG buffers. No file I/O here: callers write what they get.
import * as tf from '@tensorflow/tfjs-core';
import { Norm } from './attacks';
import type { Config } from './config';
import { episodeAt, validateForEpisodes } from './data/episodes';
import type { ClassSplits, Dataset, Episode } from './data/types';
import { UserError } from './errors';
import { EVAL_RESULT_FORMAT, EvalChecks, EvalResultFile, ModelEval, PROTOTYPE_SUFFIX } from './evalResult';
export { PROTOTYPE_SUFFIX } from './evalResult';
import { Adapted, adaptTo, AttackLossName, AttackPlan, attackQuery, attackRng, checkHeadFits, EpisodePredictions, Head, isTensorParams, predictEpisode, PreparedModel, prepareModel, releaseModel } from './eval/episode';
import { correctUnderAll, diagnose, pairedComparisons, RobustGivenClean, topClassShare } from './eval/diagnostics';
import { accuracyOf, checkCleanAboveRobust, checkCurveMonotone, checkStrongerAttack, curveFrom, estimate } from './eval/stats';
import { evalThreadCount, EpisodeJob, runOnThreads } from './eval/threads';
import { disposeTask, taskTensors, TaskTensors } from './meta/common';
import { paramsToArrays } from './model/params';
import type { ParamArrays, Params } from './model/params';
import { imageToPng } from './png';
import { readValues } from './tensorUtil';

export type { Head } from './eval/episode';
export type HeadChoice = Head | 'auto' | 'both';

/** A model to evaluate: its run config and its parameters (tensors, or arrays as read from a checkpoint). */
export interface EvalModel {
  name: string;
  cfg: Config;
  params: Params | ParamArrays;
  /** Where it came from, for the result file. */
  checkpoint?: string;
}

export interface EvalAttackOptions {
  /** Radius in [0,1] pixel units (L-inf) or L2 units. Default 8/255. */
  eps?: number;
  /** PGD steps. Default 20. */
  steps?: number;
  /** Step size at eps. Default eps / 4 (2/255 at 8/255); curve points scale it with their eps. */
  stepSize?: number;
  norm?: Norm;
  /** Extra random restarts (the worst case per image is kept). Default 0. */
  restarts?: number;
}

/**
 * The stronger attack: `restarts + 1` separate PGD runs from different random starts; an image
 * counts as robust only if it is classified correctly under every run. (Keeping each image's
 * worst perturbation across runs and attacking as one batch would not do: batch norm normalises
 * by the batch, so a spliced batch is no run's optimum.)
 */
export interface StrongAttackOptions {
  /** Default 100. */
  steps?: number;
  /** Extra runs. Default 5 (six runs). */
  restarts?: number;
  /** Default eps / 10 (between eps/10 and eps/4 is sensible: 100 steps then travel 10-25 eps). */
  stepSize?: number;
  /** 'ce' (default) or 'margin' (CW). */
  loss?: AttackLossName;
}

export interface EvaluateOptions {
  split?: keyof ClassSplits;
  ways?: number;
  shots?: number;
  queries?: number;
  episodes?: number;
  seed?: number;
  /**
   * 'both' (default): each model's own adaptation ('auto') and, beside it, the frozen-encoder
   * prototype head. 'auto': the prototype head for rocl, which has no meta-learned head; the
   * inner loop for the others.
   */
  head?: HeadChoice;
  /** Inner-loop steps at test time for every finetuned model; default: each model's innerStepsTest. */
  innerSteps?: number;
  attack?: EvalAttackOptions;
  /**
   * Radii of the robustness curve. Default {0,1,2,4,8,16}/255 for L-inf, and eps times
   * {0, 1/8, 1/4, 1/2, 1, 2} for L2. [] for no curve.
   */
  curve?: number[];
  /** Also run a stronger PGD at eps (more steps, restarts) and compare: true for the defaults. */
  strongAttack?: boolean | StrongAttackOptions;
  /**
   * Worker threads that share the episodes (this thread then only hands them out); 1: every
   * episode on this thread. 'auto' (default): one per core on the wasm and cpu backends, with at
   * least 4 episodes each; 1 on native backends. The numbers do not depend on it.
   */
  threads?: number | 'auto';
  /** Stops the evaluation between episodes (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface EvalProgress {
  episodesDone: number;
  episodes: number;
  elapsedSeconds: number;
  /** Seconds left, from the mean time per episode so far. */
  etaSeconds: number;
}

/** Per-episode accuracies of one model, for paired comparisons and tests. */
export interface EpisodeAccuracies {
  clean: Float64Array;
  robust: Float64Array;
  /** One series per curve point. */
  curve: Float64Array[];
  strong?: Float64Array;
}

export interface EvaluationOutput {
  result: EvalResultFile;
  /** In the order of the models given. */
  perEpisode: EpisodeAccuracies[];
}

export const DEFAULT_EPISODES = 400;
export const DEFAULT_QUERIES = 15;
export const DEFAULT_EPS = 8 / 255;
export const DEFAULT_ATTACK_STEPS = 20;
export const DEFAULT_CURVE_255 = [0, 1, 2, 4, 8, 16];
const L2_CURVE_FACTORS = [0, 1 / 8, 1 / 4, 1 / 2, 1, 2];

/** The options with every default filled in and checked. */
export interface ResolvedEvalOptions {
  split: keyof ClassSplits;
  ways: number;
  shots: number;
  queries: number;
  episodes: number;
  seed: number;
  head: HeadChoice;
  innerSteps?: number;
  attack: Required<EvalAttackOptions>;
  curve: number[];
  strong?: Required<StrongAttackOptions>;
}

function wholeAtLeast(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UserError(`${name} must be a whole number >= ${min}, got ${v}`);
}

/**
 * Fills in defaults and checks the options. Ways and shots default to the models' training
 * values when they all agree, else 5 and 1.
 */
export function resolveEvalOptions(models: readonly Pick<EvalModel, 'cfg'>[], opts: EvaluateOptions = {}): ResolvedEvalOptions {
  const common = (k: 'ways' | 'shots', fallback: number) => {
    const vals = new Set(models.map((m) => m.cfg[k]));
    return vals.size === 1 ? [...vals][0] : fallback;
  };
  const split = opts.split ?? 'test';
  if (!['train', 'val', 'test'].includes(split)) throw new UserError(`split must be train, val or test, got '${split}'`);
  const ways = opts.ways ?? common('ways', 5);
  const shots = opts.shots ?? common('shots', 1);
  const queries = opts.queries ?? DEFAULT_QUERIES;
  const episodes = opts.episodes ?? DEFAULT_EPISODES;
  const seed = opts.seed ?? 0;
  wholeAtLeast('ways', ways, 2);
  wholeAtLeast('shots', shots, 1);
  wholeAtLeast('queries', queries, 1);
  wholeAtLeast('episodes', episodes, 1);
  wholeAtLeast('seed', seed, 0);
  const head = opts.head ?? 'both';
  if (!['both', 'auto', 'finetune', 'prototype'].includes(head)) throw new UserError(`head must be both, auto, finetune or prototype, got '${head}'`);
  if (opts.innerSteps !== undefined) wholeAtLeast('inner steps', opts.innerSteps, 0);
  const a = opts.attack ?? {};
  const eps = a.eps ?? DEFAULT_EPS;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new UserError(`eps must be a number >= 0, got ${eps}`);
  const norm = a.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2') throw new UserError(`norm must be linf or l2, got '${norm}'`);
  if (norm === 'linf' && eps > 1) throw new UserError(`an L-inf eps above 1 covers the whole pixel range; eps is in [0,1] pixel units (8/255 = ${(8 / 255).toFixed(4)}), got ${eps}`);
  const steps = a.steps ?? DEFAULT_ATTACK_STEPS;
  wholeAtLeast('attack steps', steps, 1);
  const restarts = a.restarts ?? 0;
  wholeAtLeast('restarts', restarts, 0);
  const stepSize = a.stepSize ?? eps / 4;
  if (!(stepSize >= 0) || !Number.isFinite(stepSize)) throw new UserError(`attack step size must be a number >= 0, got ${stepSize}`);
  const curve = opts.curve ?? (norm === 'linf' ? DEFAULT_CURVE_255.map((e) => e / 255) : L2_CURVE_FACTORS.map((f) => f * eps));
  for (const e of curve) {
    if (!(e >= 0) || !Number.isFinite(e)) throw new UserError(`curve radii must be numbers >= 0, got ${e}`);
    if (norm === 'linf' && e > 1) throw new UserError(`curve radius ${e} is above 1; radii are in [0,1] pixel units (like 8/255)`);
  }
  let strong: Required<StrongAttackOptions> | undefined;
  if (opts.strongAttack) {
    const s = opts.strongAttack === true ? {} : opts.strongAttack;
    const sSteps = s.steps ?? 100;
    wholeAtLeast('strong attack steps', sSteps, 1);
    const sRestarts = s.restarts ?? 5;
    wholeAtLeast('strong attack restarts', sRestarts, 0);
    const sStep = s.stepSize ?? eps / 10;
    if (!(sStep >= 0)) throw new UserError(`strong attack step size must be >= 0, got ${sStep}`);
    const loss = s.loss ?? 'ce';
    if (loss !== 'ce' && loss !== 'margin') throw new UserError(`strong attack loss must be ce or margin, got '${loss}'`);
    strong = { steps: sSteps, restarts: sRestarts, stepSize: sStep, loss };
  }
  return {
    split, ways, shots, queries, episodes, seed, head, innerSteps: opts.innerSteps,
    attack: { eps, steps, stepSize, norm, restarts },
    curve: [...new Set(curve)].sort((x, y) => x - y),
    strong,
  };
}

/** The head a model is evaluated with ('both' gives its own first). */
export function headFor(cfg: Pick<Config, 'method'>, choice: HeadChoice): Head {
  if (choice !== 'auto' && choice !== 'both') return choice;
  return cfg.method === 'rocl' ? 'prototype' : 'finetune';
}

function prepare(model: EvalModel, head: Head, innerSteps: number | undefined, ways: number): PreparedModel {
  return prepareModel(model.name, model.cfg, model.params, head, innerSteps ?? model.cfg.innerStepsTest, ways);
}

// ---------------------------------------------------------------------------------------------
// The evaluation

function sameSplits(a: Dataset, b: Dataset): boolean {
  const eq = (x: readonly unknown[], y: readonly unknown[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return eq(a.data.classes, b.data.classes) && eq(a.splits.train, b.splits.train) && eq(a.splits.val, b.splits.val) && eq(a.splits.test, b.splits.test) && eq(Array.from(a.data.labels), Array.from(b.data.labels));
}

function datasetFor(datasets: readonly Dataset[], m: EvalModel): Dataset {
  const { imageSize, channels } = m.cfg;
  const d = datasets.find((x) => x.data.height === imageSize && x.data.width === imageSize && x.data.channels === channels);
  if (!d) {
    const have = datasets.map((x) => `${x.data.width}x${x.data.height}x${x.data.channels}`).join(', ');
    throw new UserError(`model ${m.name} takes ${imageSize}x${imageSize}x${channels} images, but the data was loaded as ${have}; load it with imageSize ${imageSize} and channels ${channels}`);
  }
  return d;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Evaluates every model on the same episodes. `dataset` is one dataset, or one per image shape
 * when the models take different sizes (the same images and splits, loaded at each size). The
 * tensor count is the same after as before, and does not grow across episodes.
 */
export async function evaluate(
  models: readonly EvalModel[],
  dataset: Dataset | readonly Dataset[],
  options: EvaluateOptions = {},
  onProgress?: (p: EvalProgress) => void,
): Promise<EvaluationOutput> {
  if (models.length === 0) throw new UserError('nothing to evaluate: give at least one model');
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new UserError(`two models are named '${m.name}'; give each a distinct name`);
    names.add(m.name);
  }
  const datasets = Array.isArray(dataset) ? (dataset as readonly Dataset[]) : [dataset as Dataset];
  if (datasets.length === 0) throw new UserError('no dataset given');
  for (const d of datasets.slice(1)) {
    if (!sameSplits(datasets[0], d)) throw new UserError(`datasets ${datasets[0].source} and ${d.source} differ in classes, labels or splits; the models must see the same episodes`);
  }
  const o = resolveEvalOptions(models, options);
  const spec = { ways: o.ways, shots: o.shots, queries: o.queries };
  const entries = entriesFor(models, o.head);
  entries.forEach((x) => checkHeadFits(x.model.name, x.model.cfg, x.head, o.ways));
  const modelData = entries.map((x) => datasetFor(datasets, x.model));
  for (const d of new Set(modelData)) validateForEpisodes(d, o.split, spec);

  const plans = attackPlans(o);
  const steps = entries.map((x) => (x.head === 'finetune' ? o.innerSteps ?? x.model.cfg.innerStepsTest : 0));
  const nq = o.ways * o.queries;
  const clean = entries.map(() => new Float64Array(o.episodes));
  const attacked = entries.map(() => plans.map(() => new Float64Array(o.episodes)));
  const strongAll = entries.map(() => new Float64Array(o.episodes));
  const maxSoftmax = entries.map(() => new Float64Array(o.episodes));
  const topShare = entries.map(() => new Float64Array(o.episodes));
  const keptRobust = entries.map(() => new RobustGivenClean());
  const seconds = entries.map(() => 0);
  const robustPlan = plans.findIndex((p) => p.kind === 0 && p.opts.eps === o.attack.eps);
  const strongPlans = plans.map((p, i) => (p.kind >= 1 ? i : -1)).filter((i) => i >= 0);
  // Models that take the same image shape share one episode.
  const shapes = [...new Set(modelData)];
  const taskOf = modelData.map((d) => shapes.indexOf(d));
  const episodesAt = (e: number): Episode[] => shapes.map((d) => episodeAt(d.data, d.splits[o.split], spec, o.seed, e));
  const t0 = performance.now();
  let done = 0;
  const record = (e: number, labels: Int32Array[], out: EpisodePredictions[], secs: number[]) => {
    entries.forEach((_, i) => {
      const y = labels[taskOf[i]];
      const predsAt = (p: number) => out[i].preds.subarray((p + 1) * nq, (p + 2) * nq);
      const cleanPreds = out[i].preds.subarray(0, nq);
      clean[i][e] = accuracyOf(cleanPreds, y);
      plans.forEach((_, p) => (attacked[i][p][e] = accuracyOf(predsAt(p), y)));
      if (strongPlans.length) strongAll[i][e] = correctUnderAll(strongPlans.map(predsAt), y);
      maxSoftmax[i][e] = out[i].maxSoftmax;
      topShare[i][e] = topClassShare(cleanPreds, o.ways);
      if (robustPlan >= 0) keptRobust[i].add(cleanPreds, predsAt(robustPlan), y);
      seconds[i] += secs[i];
    });
    done++;
    const elapsed = (performance.now() - t0) / 1000;
    onProgress?.({ episodesDone: done, episodes: o.episodes, elapsedSeconds: elapsed, etaSeconds: (elapsed / done) * (o.episodes - done) });
  };
  const backend = tf.getBackend();
  const threads = evalThreadCount(options.threads ?? 'auto', o.episodes, backend);
  if (threads > 1) {
    const labels = new Map<number, Int32Array[]>();
    const setup = {
      type: 'setup' as const,
      models: await Promise.all(entries.map(async (x, i) => ({ name: x.name, cfg: x.model.cfg, params: await arraysOf(x.model.params), head: x.head, steps: steps[i] }))),
      plans, ways: o.ways, seed: o.seed,
    };
    const job = (e: number): EpisodeJob => {
      const tasks = episodesAt(e);
      labels.set(e, tasks.map((t) => t.queryLabels));
      return { tasks, taskOf };
    };
    await runOnThreads(threads, backend, setup, o.episodes, job, (r) => {
      record(r.index, labels.get(r.index)!, r.out, r.seconds);
      labels.delete(r.index);
    }, options.signal);
  } else {
    await evaluateHere(entries, steps, o.ways, plans, o.seed, o.episodes, episodesAt, taskOf, record, options.signal);
  }
  const seriesAt = (i: number, eps: number): Float64Array => {
    if (eps === 0) return clean[i];
    return attacked[i][plans.findIndex((p) => p.kind === 0 && p.opts.eps === eps)];
  };
  const perEpisode: EpisodeAccuracies[] = [];
  const evals: ModelEval[] = entries.map((x, i) => {
    const m = x.model;
    const robustSeries = seriesAt(i, o.attack.eps);
    const curveSeries = o.curve.map((eps) => seriesAt(i, eps));
    const strongSeries = o.strong ? (o.attack.eps > 0 ? strongAll[i] : clean[i]) : undefined;
    perEpisode.push({ clean: clean[i], robust: robustSeries, curve: curveSeries, strong: strongSeries });
    const cleanEst = estimate(clean[i]);
    const robustEst = estimate(robustSeries);
    const curve = curveFrom(o.curve, curveSeries);
    const checks: EvalChecks = { cleanAboveRobust: checkCleanAboveRobust(cleanEst, robustEst) };
    if (curve.length >= 2) checks.curveMonotone = checkCurveMonotone(curve);
    if (strongSeries && o.strong) {
      const st = estimate(strongSeries);
      const name = `PGD-${o.strong.steps} x ${o.strong.restarts + 1} runs (${o.strong.loss === 'margin' ? 'margin' : 'CE'} loss)`;
      checks.strongerAttack = { ...checkStrongerAttack(robustEst, st, name), robust: st };
    }
    const out: ModelEval = {
      model: x.name,
      method: m.cfg.method,
      checkpoint: m.checkpoint ?? '',
      head: x.head,
      clean: cleanEst,
      robust: robustEst,
      curve,
      seconds: seconds[i],
      checks,
      diagnostics: diagnose(o.ways, cleanEst, maxSoftmax[i], topShare[i], keptRobust[i].value),
      perEpisode: { clean: rounded(clean[i]), robust: rounded(robustSeries) },
    };
    if (x.head === 'finetune') out.adaptation = { steps: steps[i], lr: m.cfg.innerLr, update: m.cfg.innerUpdate };
    return out;
  });
  const firstFinetune = entries.findIndex((x) => x.head === 'finetune');
  const result: EvalResultFile = {
    format: EVAL_RESULT_FORMAT,
    createdAt: new Date().toISOString(),
    setting: {
      dataset: datasets[0].name,
      dataPath: datasets[0].source,
      split: o.split,
      ways: o.ways,
      shots: o.shots,
      queries: o.queries,
      episodes: o.episodes,
      seed: o.seed,
      attack: { ...o.attack },
      innerStepsTest: firstFinetune >= 0 ? steps[firstFinetune] : o.innerSteps ?? 0,
      backend,
    },
    models: evals,
  };
  const comparisons = pairedComparisons(evals, o.seed);
  if (comparisons.length) result.comparisons = comparisons;
  if (o.strong) result.setting.strongAttack = { ...o.strong };
  if (threads > 1) result.setting.threads = threads;
  return { result, perEpisode };
}

/** Per-episode accuracies for the result file: six decimals keep every k/n exact enough and the file small. */
function rounded(xs: Float64Array): number[] {
  return Array.from(xs, (x) => Math.round(x * 1e6) / 1e6);
}

/** One evaluated (model, head) pair. */
interface EvalEntry {
  model: EvalModel;
  head: Head;
  /** The model's name, with " [prototype]" for the prototype head added beside its own adaptation. */
  name: string;
}

/**
 * Each model with its own head, and with 'both' also with the frozen-encoder prototype head, so
 * a reader sees whether a figure comes from the representation or from the adaptation.
 */
function entriesFor(models: readonly EvalModel[], choice: HeadChoice): EvalEntry[] {
  const out: EvalEntry[] = [];
  for (const m of models) {
    const own = headFor(m.cfg, choice === 'both' ? 'auto' : choice);
    out.push({ model: m, head: own, name: m.name });
    if (choice === 'both' && own !== 'prototype') out.push({ model: m, head: 'prototype', name: `${m.name} ${PROTOTYPE_SUFFIX}` });
  }
  return out;
}

/**
 * One attack per distinct radius above 0 (the point at eps is the robust figure), then the
 * stronger attack's runs, each separate (kind 1 + run).
 */
function attackPlans(o: ResolvedEvalOptions): AttackPlan[] {
  const radii = [...new Set([...o.curve, o.attack.eps])].filter((e) => e > 0).sort((x, y) => x - y);
  const ratio = o.attack.eps > 0 ? o.attack.stepSize / o.attack.eps : 0.25;
  const plans: AttackPlan[] = radii.map((eps) => ({
    kind: 0,
    opts: { eps, steps: o.attack.steps, stepSize: eps === o.attack.eps ? o.attack.stepSize : ratio * eps, norm: o.attack.norm, restarts: o.attack.restarts },
  }));
  if (o.strong && o.attack.eps > 0) {
    for (let r = 0; r <= o.strong.restarts; r++) {
      plans.push({ kind: 1 + r, loss: o.strong.loss, opts: { eps: o.attack.eps, steps: o.strong.steps, stepSize: o.strong.stepSize, norm: o.attack.norm, restarts: 0 } });
    }
  }
  return plans;
}

async function arraysOf(p: Params | ParamArrays): Promise<ParamArrays> {
  return isTensorParams(p) ? paramsToArrays(p) : p;
}

/** The episodes on this thread, one after another, yielding to the event loop between them. */
async function evaluateHere(
  entries: readonly EvalEntry[],
  steps: number[],
  ways: number,
  plans: AttackPlan[],
  seed: number,
  episodes: number,
  episodesAt: (e: number) => Episode[],
  taskOf: number[],
  record: (e: number, labels: Int32Array[], out: EpisodePredictions[], secs: number[]) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const prepared: PreparedModel[] = [];
  try {
    entries.forEach((x, i) => prepared.push(prepareModel(x.name, x.model.cfg, x.model.params, x.head, steps[i], ways)));
    for (let e = 0; e < episodes; e++) {
      signal?.throwIfAborted();
      const eps = episodesAt(e);
      const tensors: TaskTensors[] = [];
      const out: EpisodePredictions[] = [];
      const secs: number[] = [];
      try {
        for (const ep of eps) tensors.push(taskTensors(ep, undefined));
        for (const [i, m] of prepared.entries()) {
          const start = performance.now();
          out.push(await predictEpisode(m, tensors[taskOf[i]], ways, plans, seed, e));
          secs.push((performance.now() - start) / 1000);
        }
      } finally {
        tensors.forEach(disposeTask);
      }
      record(e, eps.map((x) => x.queryLabels), out, secs);
      await yieldToEventLoop();
    }
  } finally {
    prepared.forEach(releaseModel);
  }
}

// ---------------------------------------------------------------------------------------------
// Sample perturbations

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
    ways: episode.ways, shots: episode.shots, queries: episode.queries, episodes: 1, seed: opts.seed, head: opts.head, innerSteps: opts.innerSteps,
    attack: { ...opts.attack, eps: opts.eps }, curve: [],
  });
  const count = opts.count ?? 4;
  wholeAtLeast('sample count', count, 1);
  const { height, width, channels } = episode;
  if (model.cfg.imageSize !== height || model.cfg.imageSize !== width || model.cfg.channels !== channels) {
    throw new UserError(`model ${model.name} takes ${model.cfg.imageSize}x${model.cfg.imageSize}x${model.cfg.channels} images, the episode has ${width}x${height}x${channels}`);
  }
  const m = prepare(model, headFor(model.cfg, o.head), o.innerSteps, episode.ways);
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
    const adv = attackQuery(adapted, t.xq, t.yq, { eps: a.eps, steps: a.steps, stepSize: a.stepSize, norm: a.norm, restarts: a.restarts }, attackRng(o.seed, 0, 2, a.eps));
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
  const name = (label: number) => (opts.classNames ? opts.classNames[episode.classes[label]] ?? String(label) : String(label));
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
