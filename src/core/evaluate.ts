// Few-shot evaluation under attack: every model on the same seeded N-way K-shot episodes,
// adapted on the clean support set (its own inner loop, or the frozen-encoder prototype head),
// then clean accuracy on the query and robust accuracy under a white-box PGD through the adapted
// model, with 95% CIs, a robustness curve over eps, gradient-masking checks, and sample
// perturbations as PNG buffers. No file I/O here: callers write what they get.
//
// This module runs the episodes (on this thread or over worker threads) and assembles the result
// file; eval/ holds the parts: options (defaults, checks, attack plans), entries (models, heads,
// datasets), episode (one model on one episode), tally (figures per model), samples.
import * as tf from '@tensorflow/tfjs-core';
import { episodeAt, validateForEpisodes } from './data/episodes';
import type { Dataset, Episode } from './data/types';
import { EVAL_RESULT_FORMAT, EvalResultFile } from './evalResult';
import { checkedInputs, datasetFor, EvalEntry, EvalModel, entriesFor } from './eval/entries';
import { AttackPlan, checkHeadFits, EpisodePredictions, isTensorParams, predictEpisode, PreparedModel, prepareModel, releaseModel } from './eval/episode';
import { pairedComparisons } from './eval/diagnostics';
import { attackPlans, EvaluateOptions, resolveEvalOptions } from './eval/options';
import { EpisodeAccuracies, EvalTally } from './eval/tally';
import { evalThreadCount, EpisodeJob, runOnThreads } from './eval/threads';
import { disposeTask, taskTensors, TaskTensors } from './meta/common';
import { paramsToArrays } from './model/params';
import type { ParamArrays, Params } from './model/params';

export { PROTOTYPE_SUFFIX } from './evalResult';
export type { Head } from './eval/episode';
export type { EvalModel } from './eval/entries';
export type { EpisodeAccuracies } from './eval/tally';
export { DEFAULT_ATTACK_STEPS, DEFAULT_CURVE_255, DEFAULT_EPISODES, DEFAULT_EPS, DEFAULT_QUERIES, headFor, resolveEvalOptions } from './eval/options';
export type { EvalAttackOptions, EvaluateOptions, HeadChoice, ResolvedEvalOptions, StrongAttackOptions } from './eval/options';
export { samplePerturbations } from './eval/samples';
export type { PerturbationSample, PerturbationSamples, SampleOptions } from './eval/samples';

export interface EvalProgress {
  episodesDone: number;
  episodes: number;
  elapsedSeconds: number;
  /** Seconds left, from the mean time per episode so far. */
  etaSeconds: number;
}

export interface EvaluationOutput {
  result: EvalResultFile;
  /** In the order of the models given. */
  perEpisode: EpisodeAccuracies[];
}

/** Every entry's predictions on episode e (labels: each image shape's query labels). */
type Record = (e: number, labels: Int32Array[], out: EpisodePredictions[], secs: number[]) => void;

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
  const datasets = checkedInputs(models, dataset);
  const o = resolveEvalOptions(models, options);
  const spec = { ways: o.ways, shots: o.shots, queries: o.queries };
  const entries = entriesFor(models, o.head);
  entries.forEach((x) => checkHeadFits(x.model.name, x.model.cfg, x.head, o.ways));
  const modelData = entries.map((x) => datasetFor(datasets, x.model));
  for (const d of new Set(modelData)) validateForEpisodes(d, o.split, spec);

  const plans = attackPlans(o);
  const steps = entries.map((x) => (x.head === 'finetune' ? (o.innerSteps ?? x.model.cfg.innerStepsTest) : 0));
  const tally = new EvalTally(entries, plans, o);
  // Models that take the same image shape share one episode.
  const shapes = [...new Set(modelData)];
  const taskOf = modelData.map((d) => shapes.indexOf(d));
  const episodesAt = (e: number): Episode[] => shapes.map((d) => episodeAt(d.data, d.splits[o.split], spec, o.seed, e));
  const t0 = performance.now();
  let done = 0;
  const record: Record = (e, labels, out, secs) => {
    entries.forEach((_, i) => tally.record(i, e, labels[taskOf[i]], out[i], secs[i]));
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
      models: await Promise.all(
        entries.map(async (x, i) => ({ name: x.name, cfg: x.model.cfg, params: await arraysOf(x.model.params), head: x.head, steps: steps[i] })),
      ),
      plans,
      ways: o.ways,
      seed: o.seed,
    };
    const job = (e: number): EpisodeJob => {
      const tasks = episodesAt(e);
      labels.set(
        e,
        tasks.map((t) => t.queryLabels),
      );
      return { tasks, taskOf };
    };
    await runOnThreads(
      threads,
      backend,
      setup,
      o.episodes,
      job,
      (r) => {
        record(r.index, labels.get(r.index)!, r.out, r.seconds);
        labels.delete(r.index);
      },
      options.signal,
    );
  } else {
    await evaluateHere(entries, steps, o.ways, plans, o.seed, o.episodes, episodesAt, taskOf, record, options.signal);
  }
  const perEpisode = entries.map((_, i) => tally.accuracies(i));
  const evals = entries.map((_, i) => tally.summary(i, steps[i]));
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
      innerStepsTest: firstFinetune >= 0 ? steps[firstFinetune] : (o.innerSteps ?? 0),
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
  record: Record,
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
      record(
        e,
        eps.map((x) => x.queryLabels),
        out,
        secs,
      );
      await yieldToEventLoop();
    }
  } finally {
    prepared.forEach(releaseModel);
  }
}
