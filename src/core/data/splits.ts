// Deciding which classes are for meta-training, validation and testing.
// Precedence (first that applies): an explicit split file; explicit seeded counts or fractions;
// train/val/test folder levels; a `splits.json` in the dataset folder; the built-in split for
// 10-class IDX data; a seeded split by the default fractions.

import * as fs from 'fs';
import { UserError } from '../errors';
import { SplitFileSchema } from '../../formats/data';
import { check } from '../../formats/validate';
import { Rng } from '../rng';
import type { ClassSplits } from './types';

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
}

/** Default fractions of classes for train / val / test in a seeded split. */
export const DEFAULT_SPLIT_FRACTIONS: SplitCounts = { train: 0.6, val: 0.2, test: 0.2 };

/**
 * The built-in class split for IDX data with 10 classes (Fashion-MNIST, and MNIST alike): five
 * classes to meta-train on and five held out, so that 5-way tasks on unseen classes are possible;
 * no validation classes. For Fashion-MNIST, train = T-shirt/top, Trouser, Pullover, Sandal, Bag
 * and test = Dress, Coat, Shirt, Sneaker, Ankle boot: both sides have tops, a lower-body or
 * full-body garment and footwear, so the test classes are new but not from a new domain.
 */
export const IDX10_SPLIT: ClassSplits = { train: [0, 1, 2, 5, 8], val: [], test: [3, 4, 6, 7, 9] };

/**
 * Class counts for n classes from fractions: val and test get at least one class each when their
 * fraction is positive and there are enough classes, and train always gets at least one.
 */
export function splitCountsFromFractions(n: number, fractions: SplitCounts = DEFAULT_SPLIT_FRACTIONS): SplitCounts {
  const { train, val, test } = fractions;
  if (![train, val, test].every((f) => Number.isFinite(f) && f >= 0) || train + val + test <= 0) {
    throw new UserError(`split fractions must be non-negative numbers with a positive sum, got train ${train}, val ${val}, test ${test}`);
  }
  const sum = train + val + test;
  let nTest = test > 0 ? Math.max(1, Math.round((n * test) / sum)) : 0;
  let nVal = val > 0 ? Math.max(1, Math.round((n * val) / sum)) : 0;
  if (train === 0 && nTest + nVal < n) {
    // No training share: everything not in val goes to test.
    nTest = n - nVal;
  }
  // Leave at least one class for training when training has a share; shrink val first, then test.
  const minTrain = train > 0 ? 1 : 0;
  while (nVal + nTest > n - minTrain && nVal > 0) nVal--;
  while (nVal + nTest > n - minTrain && nTest > 0) nTest--;
  return { train: n - nVal - nTest, val: nVal, test: nTest };
}

/** A seeded split of classes 0..n-1 with the given counts; each list sorted. */
export function seededSplit(n: number, counts: SplitCounts, seed: number): ClassSplits {
  const { train, val, test } = counts;
  if (![train, val, test].every((c) => Number.isInteger(c) && c >= 0)) {
    throw new UserError(`split counts must be whole numbers >= 0, got train ${train}, val ${val}, test ${test}`);
  }
  if (train + val + test > n) {
    throw new UserError(`split counts train ${train} + val ${val} + test ${test} = ${train + val + test} exceed the ${n} classes of the dataset; lower them`);
  }
  const order = new Rng([0x73706c74, seed >>> 0]).shuffle(Array.from({ length: n }, (_, i) => i));
  const asc = (a: number[]) => a.sort((x, y) => x - y);
  return {
    train: asc(order.slice(0, train)),
    val: asc(order.slice(train, train + val)),
    test: asc(order.slice(train + val, train + val + test)),
  };
}

/**
 * Reads a split file: JSON `{"train": [names], "val": [names], "test": [names]}` (missing keys
 * mean no classes). Names are matched to `classes`; numbers are accepted for numeric class names
 * (IDX labels). Returns the splits and warnings (classes that are in no split).
 */
export function readSplitFile(file: string, classes: string[]): { splits: ClassSplits; warnings: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read split file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(`split file ${file} is not valid JSON (${(e as Error).message}); it should look like {"train": ["a", "b"], "val": ["c"], "test": ["d", "e"]}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UserError(`split file ${file} must hold a JSON object like {"train": ["a", "b"], "val": ["c"], "test": ["d", "e"]}`);
  }
  for (const k of Object.keys(json)) {
    if (k !== 'train' && k !== 'val' && k !== 'test') throw new UserError(`split file ${file} has an unknown key "${k}"; the keys are train, val and test`);
  }
  // The shape, declared in formats/data.ts; what only the dataset can say (names, overlaps) below.
  const obj = check(SplitFileSchema, json, `split file ${file}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const owner = new Map<number, string>();
  const splits: ClassSplits = { train: [], val: [], test: [] };
  for (const key of ['train', 'val', 'test'] as const) {
    for (const name of obj[key] ?? []) {
      const i = index.get(String(name));
      if (i === undefined) {
        const known = classes.slice(0, 8).join(', ') + (classes.length > 8 ? ', ...' : '');
        throw new UserError(`split file ${file}: class "${name}" in "${key}" is not in the dataset (its classes are ${known}); fix the name or remove it`);
      }
      const prev = owner.get(i);
      if (prev !== undefined) throw new UserError(`split file ${file}: class "${name}" is listed in both "${prev}" and "${key}"; a class belongs to one split`);
      owner.set(i, key);
      splits[key].push(i);
    }
  }
  for (const key of ['train', 'val', 'test'] as const) splits[key].sort((a, b) => a - b);
  const warnings: string[] = [];
  const unused = classes.filter((_, i) => !owner.has(i));
  if (unused.length) {
    warnings.push(`${unused.length} class(es) are in no split of ${file} and will not be used (${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''})`);
  }
  return { splits, warnings };
}
