// The evaluation says when a figure means nothing: a model at chance or collapsed onto one class
// is flagged (pure functions on hand-made numbers, and a real model made to collapse), two models
// are compared by the paired difference on the same episodes, and the strong check counts an
// image robust only if every run fails to fool the model.
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';
import {
  chooseOnValidation,
  collapseShare,
  correctUnderAll,
  diagnose,
  meaningful,
  pairedComparisons,
  pairedDifference,
  RobustGivenClean,
  topClassShare,
} from '../src/core/eval/diagnostics';
import { evaluate } from '../src/core/evaluate';
import { marginLossPerSample } from '../src/core/losses';
import { modelSpecOf } from '../src/core/meta/learner';
import { initModel } from '../src/core/model';
import { disposeParams, paramsToArrays } from '../src/core/model/params';
import { Rng } from '../src/core/rng';
import { renderEvalTable } from '../src/cli/table';
import type { Dataset } from '../src/core/data/types';

let ds: Dataset;
before(async () => {
  await testBackend();
  ds = await fashionSmall();
});

test('top-class share, robust-given-clean and correct-under-every-run on hand-made predictions', () => {
  assert.equal(topClassShare([0, 1, 2, 3, 4], 5), 0.2);
  assert.equal(topClassShare([2, 2, 2, 1], 5), 0.75);
  const k = new RobustGivenClean();
  assert.equal(k.value, null);
  // labels 0 1 2 3: clean right on 0, 1, 2; robust right on 0 and 3 -> 1 of the 3 clean-right survive
  k.add([0, 1, 2, 0], [0, 0, 0, 3], [0, 1, 2, 3]);
  assert.equal(k.value, 1 / 3);
  // two runs: query 0 survives both, query 1 only the first, query 2 neither
  assert.equal(
    correctUnderAll(
      [
        [0, 1, 0],
        [0, 0, 0],
      ],
      [0, 1, 2],
    ),
    1 / 3,
  );
  assert.equal(collapseShare(5), 0.5);
  assert.ok(Math.abs(collapseShare(2) - 0.6875) < 1e-12);
});

test('diagnose: at chance within the CI, collapsed from the top-class share, each with a warning', () => {
  const fine = diagnose(5, { mean: 0.6, ci95: 0.05 }, [0.7, 0.8], [0.25, 0.3], 0.5);
  assert.deepEqual([fine.atChance, fine.collapsed, fine.warnings.length, meaningful(fine)], [false, false, 0, true]);
  assert.equal(fine.chance, 0.2);
  assert.ok(Math.abs(fine.meanMaxSoftmax.mean - 0.75) < 1e-12);
  const chance = diagnose(5, { mean: 0.24, ci95: 0.05 }, [0.21, 0.22], [0.3, 0.3], 0.1);
  assert.deepEqual([chance.atChance, chance.collapsed, meaningful(chance)], [true, false, false]);
  assert.match(chance.warnings[0], /within its interval of chance \(20\.0%\)/);
  const collapsed = diagnose(5, { mean: 0.4, ci95: 0.02 }, [0.26, 0.26], [0.55, 0.55], 0.2);
  assert.deepEqual([collapsed.atChance, collapsed.collapsed, meaningful(collapsed)], [false, true, false]);
  assert.match(collapsed.warnings[0], /55\.0% of an episode's queries go to one class/);
});

test('paired difference: the mean of a - b with a bootstrap interval that is tight when the difference is steady', () => {
  const a = Float64Array.from({ length: 100 }, (_, i) => 0.5 + 0.3 * Math.sin(i));
  const steady = pairedDifference(
    a,
    a.map((x) => x - 0.05),
    1,
  );
  assert.ok(Math.abs(steady.mean - 0.05) < 1e-12 && Math.abs(steady.low - 0.05) < 1e-9 && Math.abs(steady.high - 0.05) < 1e-9);
  const rng = new Rng(3);
  const b = a.map((x) => x + (rng.next() - 0.5) * 0.2);
  const noisy = pairedDifference(a, b, 1);
  assert.ok(noisy.low < noisy.mean && noisy.mean < noisy.high, JSON.stringify(noisy));
  // far tighter than the two marginal intervals, which the per-episode spread of a dominates
  assert.ok(noisy.high - noisy.low < 0.05, JSON.stringify(noisy));
  assert.deepEqual(pairedDifference(a, b, 1), noisy, 'seeded: the same interval twice');
  assert.throws(() => pairedDifference([1], [1, 2]), /two equal, non-empty series/);
  const per = (x: Float64Array) => ({ clean: Array.from(x), robust: Array.from(x) });
  const cmp = pairedComparisons([
    { model: 'x', head: 'finetune', perEpisode: per(a) },
    { model: 'y', head: 'finetune', perEpisode: per(b) },
    { model: 'y [prototype]', head: 'prototype', perEpisode: per(b) },
    { model: 'old', head: 'finetune' },
  ]);
  assert.deepEqual(
    cmp.map((c) => `${c.a}/${c.b}/${c.metric}`),
    ['x/y/clean', 'x/y/robust'],
    'only models with the same head are compared',
  );
});

test('the validation choice cannot reward collapse: robust accuracy among the meaningful runs near the best clean one', () => {
  const run = (name: string, clean: number, robust: number, bad = false) => ({
    name,
    clean: { mean: clean, ci95: 0.02 },
    robust: { mean: robust, ci95: 0.02 },
    diagnostics: diagnose(5, { mean: clean, ci95: 0.02 }, [0.5], [bad ? 0.9 : 0.25], null),
  });
  // The collapsed run has the highest robust figure and is passed over; so is the one 3 points below the best clean.
  const chosen = chooseOnValidation([run('collapsed', 0.45, 0.4, true), run('a', 0.6, 0.2), run('b', 0.585, 0.25), run('c', 0.57, 0.3)]);
  assert.equal(chosen?.name, 'b');
  assert.equal(chooseOnValidation([run('x', 0.4, 0.4, true)]), undefined);
});

test('the CW margin is max of the other logits minus the true one', () => {
  const m = tf.tidy(() =>
    marginLossPerSample(
      tf.tensor2d([
        [3, 1, 0],
        [0, 2, 5],
      ]),
      tf.tensor1d([0, 1], 'int32'),
    ).arraySync(),
  );
  assert.deepEqual(m, [1 - 3, 5 - 2]);
});

test('a model made to collapse onto one class is reported at chance and collapsed, in the result and the table', async () => {
  // Zero classifier weights and a large bias on class 0, no adaptation: every query is class 0.
  const cfg = tinyConfig({ method: 'maml', innerStepsTest: 0, seed: 4 });
  const params = initModel(modelSpecOf(cfg), new Rng(4));
  params['head/w'].dispose();
  params['head/b'].dispose();
  params['head/w'] = tf.zeros([...params['head/w'].shape]);
  params['head/b'] = tf.tensor1d([10, 0, 0, 0, 0]);
  const collapsed = { name: 'collapsed', cfg, params: await paramsToArrays(params) };
  disposeParams(params);
  const { result } = await evaluate([collapsed], ds, { ways: 5, shots: 1, queries: 4, episodes: 6, attack: { steps: 2 }, curve: [], head: 'both', threads: 1 });
  const own = result.models.find((m) => m.head === 'finetune')!;
  const d = own.diagnostics!;
  assert.ok(Math.abs(own.clean.mean - 0.2) < 1e-12, 'every query in class 0 of a balanced 5-way episode');
  assert.equal(d.topClassShare.mean, 1);
  assert.ok(d.atChance && d.collapsed && !meaningful(d));
  assert.ok(Math.abs(d.meanMaxSoftmax.mean - Math.exp(10) / (Math.exp(10) + 4)) < 1e-4);
  // The frozen encoder's prototype head does not use the collapsed classifier.
  const proto = result.models.find((m) => m.head === 'prototype')!;
  assert.ok(proto.diagnostics!.topClassShare.mean < 1);
  const text = renderEvalTable(result);
  assert.match(text, /collapsed\s+finetune.*AT CHANCE, COLLAPSED/);
  assert.match(text, /warning: collapsed: clean accuracy 20\.0% ± 0\.0% is within its interval of chance/);
  assert.match(text, /warning: collapsed: predictions collapse: on average 100\.0% of an episode's queries go to one class/);
});
