// What an evaluation runs on: the models (each with its head, and the prototype head beside it
// with 'both') and, for each, the dataset loaded at its image shape; the inputs checked.
import type { Config } from '../config';
import type { Dataset } from '../data/types';
import { UserError } from '../errors';
import { PROTOTYPE_SUFFIX } from '../evalResult';
import type { ParamArrays, Params } from '../model/params';
import type { Head } from './episode';
import { HeadChoice, headFor } from './options';

/** A model to evaluate: its run config and its parameters (tensors, or arrays as read from a checkpoint). */
export interface EvalModel {
  name: string;
  cfg: Config;
  params: Params | ParamArrays;
  /** Where it came from, for the result file. */
  checkpoint?: string;
}

/** One evaluated (model, head) pair. */
export interface EvalEntry {
  model: EvalModel;
  head: Head;
  /** The model's name, with " [prototype]" for the prototype head added beside its own adaptation. */
  name: string;
}

/**
 * Each model with its own head, and with 'both' also with the frozen-encoder prototype head, so
 * a reader sees whether a figure comes from the representation or from the adaptation.
 */
export function entriesFor(models: readonly EvalModel[], choice: HeadChoice): EvalEntry[] {
  const out: EvalEntry[] = [];
  for (const m of models) {
    const own = headFor(m.cfg, choice === 'both' ? 'auto' : choice);
    out.push({ model: m, head: own, name: m.name });
    if (choice === 'both' && own !== 'prototype') out.push({ model: m, head: 'prototype', name: `${m.name} ${PROTOTYPE_SUFFIX}` });
  }
  return out;
}

function sameSplits(a: Dataset, b: Dataset): boolean {
  const eq = (x: readonly unknown[], y: readonly unknown[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    eq(a.data.classes, b.data.classes) &&
    eq(a.splits.train, b.splits.train) &&
    eq(a.splits.val, b.splits.val) &&
    eq(a.splits.test, b.splits.test) &&
    eq(Array.from(a.data.labels), Array.from(b.data.labels))
  );
}

/**
 * The datasets of an evaluation, checked with its models: one per image shape, all with the same
 * images and splits (the models must see the same episodes), model names distinct.
 */
export function checkedInputs(models: readonly EvalModel[], dataset: Dataset | readonly Dataset[]): readonly Dataset[] {
  if (models.length === 0) throw new UserError('nothing to evaluate: give at least one model');
  const names = new Set<string>();
  for (const m of models) {
    if (names.has(m.name)) throw new UserError(`two models are named '${m.name}'; give each a distinct name`);
    names.add(m.name);
  }
  const datasets = Array.isArray(dataset) ? (dataset as readonly Dataset[]) : [dataset as Dataset];
  if (datasets.length === 0) throw new UserError('no dataset given');
  for (const d of datasets.slice(1)) {
    if (!sameSplits(datasets[0], d))
      throw new UserError(`datasets ${datasets[0].source} and ${d.source} differ in classes, labels or splits; the models must see the same episodes`);
  }
  return datasets;
}

/** The dataset loaded at the model's image shape. */
export function datasetFor(datasets: readonly Dataset[], m: EvalModel): Dataset {
  const { imageSize, channels } = m.cfg;
  const d = datasets.find((x) => x.data.height === imageSize && x.data.width === imageSize && x.data.channels === channels);
  if (!d) {
    const have = datasets.map((x) => `${x.data.width}x${x.data.height}x${x.data.channels}`).join(', ');
    throw new UserError(
      `model ${m.name} takes ${imageSize}x${imageSize}x${channels} images, but the data was loaded as ${have}; load it with imageSize ${imageSize} and channels ${channels}`,
    );
  }
  return d;
}
