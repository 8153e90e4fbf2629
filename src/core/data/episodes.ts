// Seeded episode sampling. Episode i of a run comes from Rng([seed, i]) alone, so any episode can
// be regenerated on its own, identically on every machine, and every model compared sees the
// same tasks.

import { UserError } from '../errors';
import { Rng } from '../rng';
import type { ClassSplits, Dataset, Episode, EpisodeSpec, ImageSet } from './types';

const byClassCache = new WeakMap<Int32Array, Int32Array[]>();

/**
 * The image indices of each class, in image order: result[c] lists the images with label c.
 * Computed once per labels array and cached (the cache holds it weakly).
 */
export function imagesByClass(data: ImageSet): Int32Array[] {
  const cached = byClassCache.get(data.labels);
  if (cached && cached.length === data.classes.length) return cached;
  const k = data.classes.length;
  const counts = new Int32Array(k);
  for (const l of data.labels) {
    if (l < 0 || l >= k) throw new Error(`label ${l} is outside the ${k} classes of the image set`);
    counts[l]++;
  }
  const out = Array.from({ length: k }, (_, c) => new Int32Array(counts[c]));
  const fill = new Int32Array(k);
  data.labels.forEach((l, i) => {
    out[l][fill[l]++] = i;
  });
  byClassCache.set(data.labels, out);
  return out;
}

function checkSpec(spec: EpisodeSpec): void {
  for (const key of ['ways', 'shots', 'queries'] as const) {
    const v = spec[key];
    if (!Number.isInteger(v) || v < 1) throw new UserError(`${key} must be a whole number >= 1, got ${v}`);
  }
}

/** Problems that stop sampling `spec` tasks from the classes in pool, or [] when there are none. */
function poolProblems(data: ImageSet, pool: readonly number[], spec: EpisodeSpec, where: string): string[] {
  const problems: string[] = [];
  const byClass = imagesByClass(data);
  const distinct = new Set(pool);
  for (const c of distinct) if (!Number.isInteger(c) || c < 0 || c >= data.classes.length) throw new Error(`class index ${c} is not a class of the image set`);
  if (distinct.size !== pool.length) throw new Error(`the class pool lists a class twice`);
  if (pool.length < spec.ways) {
    const names = pool.map((c) => data.classes[c]);
    problems.push(
      `${where} has ${pool.length} class${pool.length === 1 ? '' : 'es'}${names.length ? ` (${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''})` : ''} ` +
        `but tasks are ${spec.ways}-way: lower the ways to at most ${pool.length}, or give this split more classes (split folders, a split file, or split counts)`,
    );
  }
  const need = spec.shots + spec.queries;
  const small = pool.filter((c) => byClass[c].length < need);
  if (small.length) {
    const list = small.slice(0, 10).map((c) => `${data.classes[c]} (${byClass[c].length})`).join(', ');
    problems.push(
      `${where}: ${small.length} class${small.length === 1 ? ' has' : 'es have'} fewer than shots + queries = ${spec.shots} + ${spec.queries} = ${need} images: ` +
        `${list}${small.length > 10 ? ', ...' : ''}; add images, lower the shots or queries, or leave ${small.length === 1 ? 'that class' : 'those classes'} out of the split`,
    );
  }
  return problems;
}

/**
 * One N-way K-shot task from the classes in classPool: `ways` distinct classes in random order
 * (episode label i is classes[i]), and for each `shots` support and `queries` query images, all
 * distinct, drawn without replacement. Support and query are class-major (all of label 0 first).
 */
export function sampleEpisode(data: ImageSet, classPool: readonly number[], spec: EpisodeSpec, rng: Rng): Episode {
  checkSpec(spec);
  const problems = poolProblems(data, classPool, spec, 'the class pool');
  if (problems.length) throw new UserError(problems.join('; '));
  const { ways, shots, queries } = spec;
  const { height, width, channels } = data;
  const size = height * width * channels;
  const byClass = imagesByClass(data);
  const classes = rng.choose(classPool.length, ways).map((i) => classPool[i]);
  const support = new Float32Array(ways * shots * size);
  const query = new Float32Array(ways * queries * size);
  const supportLabels = new Int32Array(ways * shots);
  const queryLabels = new Int32Array(ways * queries);
  classes.forEach((c, label) => {
    const members = byClass[c];
    const picks = rng.choose(members.length, shots + queries);
    for (let j = 0; j < shots + queries; j++) {
      const img = members[picks[j]];
      const src = data.pixels.subarray(img * size, (img + 1) * size);
      if (j < shots) {
        const o = label * shots + j;
        toUnit(src, support, o * size);
        supportLabels[o] = label;
      } else {
        const o = label * queries + (j - shots);
        toUnit(src, query, o * size);
        queryLabels[o] = label;
      }
    }
  });
  return { ways, shots, queries, height, width, channels, support, supportLabels, query, queryLabels, classes };
}

/** 8-bit pixels into floats in [0, 1] at `offset` of `out`. */
function toUnit(src: Uint8Array, out: Float32Array, offset: number): void {
  for (let i = 0; i < src.length; i++) out[offset + i] = src[i] / 255;
}

/** Episode number `index` of the stream named by `seed`: sampleEpisode with Rng([seed, index]). */
export function episodeAt(data: ImageSet, classPool: readonly number[], spec: EpisodeSpec, seed: number, index: number): Episode {
  return sampleEpisode(data, classPool, spec, new Rng([seed, index]));
}

/**
 * Throws a UserError when a split cannot provide `spec` tasks: fewer classes than ways, or classes
 * with fewer than shots + queries images (all named).
 */
export function validateForEpisodes(dataset: Dataset, split: keyof ClassSplits, spec: EpisodeSpec): void {
  checkSpec(spec);
  const pool = dataset.splits[split];
  const problems = poolProblems(dataset.data, pool, spec, `the ${split} split of dataset ${dataset.name} (${dataset.source})`);
  if (problems.length) throw new UserError(problems.join('; '));
}
