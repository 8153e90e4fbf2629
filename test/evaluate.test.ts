// Evaluation: the statistics exactly from known numbers, then end to end on a tiny model and the
// bundled Fashion-MNIST images (same episodes for every model, robust <= clean, a curve that does
// not rise with eps, no tensor leak), and sample perturbations within the eps-ball.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { decodePng } from '../src/core/data/png';
import { episodeAt } from '../src/core/data';
import { Dataset } from '../src/core/data/types';
import { isUserError } from '../src/core/errors';
import { CurvePoint } from '../src/core/evalResult';
import { accuracyOf, checkCleanAboveRobust, checkCurveMonotone, checkStrongerAttack, curveFrom, estimate } from '../src/core/eval/stats';
import { EvalModel, evaluate, resolveEvalOptions, samplePerturbations } from '../src/core/evaluate';
import { modelSpecOf } from '../src/core/meta/learner';
import { initModel } from '../src/core/model';
import { disposeParams, paramsToArrays } from '../src/core/model/params';
import { imageToPng } from '../src/core/png';
import { Rng } from '../src/core/rng';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

// ---------------------------------------------------------------------------------------------
// Statistics

test('estimate: mean and 1.96 * population std / sqrt(n)', () => {
  const e = estimate([1, 0, 1, 0]);
  close(e.mean, 0.5);
  close(e.ci95, (1.96 * 0.5) / 2);
  const f = estimate([0.2, 0.4, 0.6]);
  close(f.mean, 0.4);
  close(f.ci95, (1.96 * Math.sqrt(0.08 / 3)) / Math.sqrt(3));
  assert.deepEqual(estimate([0.7]), { mean: 0.7, ci95: 0 });
  assert.deepEqual(estimate([0.25, 0.25, 0.25]), { mean: 0.25, ci95: 0 });
  assert.throws(() => estimate([]));
});

test('accuracy of predictions, and the curve from per-episode accuracies', () => {
  assert.equal(accuracyOf([0, 1, 2, 2], [0, 1, 1, 2]), 0.75);
  assert.equal(accuracyOf(Int32Array.from([1, 1]), Int32Array.from([0, 0])), 0);
  assert.throws(() => accuracyOf([0], [0, 1]));
  // Two episodes of 4 queries: predictions at eps 0 and 8/255.
  const labels = [0, 0, 1, 1];
  const clean = [accuracyOf([0, 0, 1, 1], labels), accuracyOf([0, 1, 1, 1], labels)];
  const adv = [accuracyOf([1, 0, 0, 1], labels), accuracyOf([1, 1, 0, 0], labels)];
  const curve = curveFrom([0, 8 / 255], [clean, adv]);
  assert.equal(curve.length, 2);
  assert.equal(curve[0].eps, 0);
  close(curve[0].accuracy.mean, 0.875);
  close(curve[0].accuracy.ci95, (1.96 * 0.125) / Math.SQRT2);
  close(curve[1].accuracy.mean, 0.25);
  close(curve[1].accuracy.ci95, (1.96 * 0.25) / Math.SQRT2);
  assert.throws(() => curveFrom([0], [clean, adv]));
});

const pt = (eps255: number, mean: number, ci95: number): CurvePoint => ({ eps: eps255 / 255, accuracy: { mean, ci95 } });

test('curve check: a rise beyond the larger CI fails, within it passes', () => {
  assert.equal(checkCurveMonotone([pt(0, 0.6, 0.02), pt(2, 0.4, 0.02), pt(8, 0.1, 0.01)]).ok, true);
  // A rise of 0.02 against a CI of 0.03: within the noise.
  assert.equal(checkCurveMonotone([pt(0, 0.6, 0.02), pt(4, 0.3, 0.03), pt(8, 0.32, 0.02)]).ok, true);
  // A rise of exactly the larger CI is allowed; just above it is not.
  assert.equal(checkCurveMonotone([pt(4, 0.3, 0.05), pt(8, 0.35, 0.01)]).ok, true);
  const bad = checkCurveMonotone([pt(0, 0.6, 0.02), pt(4, 0.1, 0.01), pt(16, 0.3, 0.02)]);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /rises from 10\.0% at eps 4\/255 to 30\.0% at eps 16\/255/);
  // Order of the points does not matter; non-adjacent rises are found.
  assert.equal(checkCurveMonotone([pt(16, 0.3, 0.02), pt(0, 0.6, 0.02), pt(4, 0.1, 0.01), pt(8, 0.05, 0.01)]).ok, false);
  assert.equal(checkCurveMonotone([pt(8, 0.2, 0)]).ok, true);
});

test('clean-above-robust and stronger-attack checks', () => {
  assert.equal(checkCleanAboveRobust({ mean: 0.5, ci95: 0.02 }, { mean: 0.3, ci95: 0.02 }).ok, true);
  assert.equal(checkCleanAboveRobust({ mean: 0.5, ci95: 0.02 }, { mean: 0.51, ci95: 0.02 }).ok, true);
  const bad = checkCleanAboveRobust({ mean: 0.4, ci95: 0.02 }, { mean: 0.5, ci95: 0.03 });
  assert.equal(bad.ok, false);
  assert.match(bad.message, /robust accuracy 50\.0% is above clean 40\.0%/);
  assert.equal(checkStrongerAttack({ mean: 0.3, ci95: 0.02 }, { mean: 0.29, ci95: 0.02 }, 'PGD-100').ok, true);
  const weak = checkStrongerAttack({ mean: 0.3, ci95: 0.02 }, { mean: 0.2, ci95: 0.02 }, 'PGD-100');
  assert.equal(weak.ok, false);
  assert.match(weak.message, /PGD-100 lowers robust accuracy from 30\.0% to 20\.0%/);
});

test('options: defaults from the protocol and the models, and errors that name the value', () => {
  const o = resolveEvalOptions([{ cfg: tinyConfig({ ways: 3, shots: 5 }) }]);
  assert.equal(o.ways, 3);
  assert.equal(o.shots, 5);
  assert.equal(o.queries, 15);
  assert.equal(o.episodes, 400);
  assert.equal(o.split, 'test');
  assert.equal(o.attack.steps, 20);
  close(o.attack.eps, 8 / 255);
  close(o.attack.stepSize, 2 / 255);
  assert.deepEqual(
    o.curve.map((e) => Math.round(e * 255)),
    [0, 1, 2, 4, 8, 16],
  );
  const mixed = resolveEvalOptions([{ cfg: tinyConfig({ ways: 3 }) }, { cfg: tinyConfig({ ways: 4 }) }]);
  assert.equal(mixed.ways, 5);
  const l2 = resolveEvalOptions([], { attack: { norm: 'l2', eps: 0.5 } });
  assert.deepEqual(l2.curve, [0, 0.0625, 0.125, 0.25, 0.5, 1]);
  const strong = resolveEvalOptions([], { strongAttack: true });
  assert.deepEqual(strong.strong, { steps: 100, restarts: 5, stepSize: 8 / 255 / 10, loss: 'ce' });
  for (const [bad, re] of [
    [{ episodes: 0 }, /episodes must be a whole number >= 1, got 0/],
    [{ ways: 1 }, /ways must be a whole number >= 2/],
    [{ attack: { eps: -1 } }, /eps must be a number >= 0, got -1/],
    [{ attack: { eps: 8 } }, /pixel units/],
    [{ attack: { norm: 'l3' } }, /norm must be linf or l2/],
    [{ attack: { steps: 2.5 } }, /attack steps must be a whole number/],
    [{ curve: [0, -2] }, /curve radii must be numbers >= 0/],
    [{ head: 'knn' }, /head must be both, auto, finetune or prototype/],
    [{ strongAttack: { loss: 'l1' } }, /strong attack loss must be ce or margin/],
    [{ split: 'dev' }, /split must be train, val or test/],
  ] as const) {
    assert.throws(
      () => resolveEvalOptions([], bad as never),
      (e: unknown) => isUserError(e) && re.test((e as Error).message),
    );
  }
});

test('PNG: floats in [0,1] round-trip through imageToPng, with nearest-neighbour scaling', () => {
  const px = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => i / 17);
  const png = imageToPng(px, 2, 3, 3, { scale: 2 });
  const img = decodePng(png);
  assert.deepEqual([img.width, img.height, img.channels], [6, 4, 3]);
  // Pixel (row 3, col 5) of the upscaled image is source pixel (1, 2).
  const src = (1 * 3 + 2) * 3;
  const dst = (3 * 6 + 5) * 3;
  for (let c = 0; c < 3; c++) assert.equal(img.data[dst + c], Math.round(px[src + c] * 255));
  const grey = decodePng(imageToPng([0, 0.5, 1, 2], 2, 2, 1));
  assert.deepEqual(Array.from(grey.data), [0, 128, 255, 255]);
  assert.throws(() => imageToPng([0, 1], 2, 2, 1), /2 values for a 2x2x1 image/);
});

// ---------------------------------------------------------------------------------------------
// End to end on a tiny model

let ds: Dataset;
const EPS = 8 / 255;

async function model(name: string, method: 'maml' | 'rocl', seed: number, over = {}): Promise<EvalModel> {
  const cfg = tinyConfig({ method, width: 4, ways: 3, queries: 2, innerStepsTest: 2, innerLr: 0.1, ...over });
  const params = initModel(modelSpecOf(cfg), new Rng(seed));
  const arrays = await paramsToArrays(params);
  disposeParams(params);
  return { name, cfg, params: arrays };
}

const SMALL = { ways: 3, shots: 1, queries: 2, episodes: 3, attack: { steps: 3 }, curve: [0, 2 / 255, EPS, 64 / 255], head: 'auto' as const };

before(async () => {
  await testBackend();
  ds = await fashionSmall();
});

test('two models on the same episodes: identical to evaluating each alone, robust <= clean, curve not rising, no tensor leak', async () => {
  const a = await model('maml-a', 'maml', 1);
  const b = await model('rocl-b', 'rocl', 2);
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  const progress: number[] = [];
  const both = await evaluate([a, b], ds, SMALL, (p) => {
    counts.push(tf.memory().numTensors);
    progress.push(p.episodesDone);
    assert.ok(p.etaSeconds >= 0 && p.elapsedSeconds >= 0);
  });
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  assert.deepEqual(progress, [1, 2, 3]);
  assert.ok(
    counts.every((c) => c === counts[0]),
    `tensor count changed across episodes: ${counts}`,
  );

  const alone = await evaluate([b], ds, SMALL);
  assert.deepEqual(Array.from(alone.perEpisode[0].clean), Array.from(both.perEpisode[1].clean));
  assert.deepEqual(
    alone.perEpisode[0].curve.map((c) => Array.from(c)),
    both.perEpisode[1].curve.map((c) => Array.from(c)),
  );

  const r = both.result;
  assert.equal(r.models.length, 2);
  assert.deepEqual(
    r.models.map((m) => m.head),
    ['finetune', 'prototype'],
  );
  assert.deepEqual(r.models[0].adaptation, { steps: 2, lr: 0.1, update: 'all' });
  assert.equal(r.setting.episodes, 3);
  assert.equal(r.setting.split, 'test');
  for (const m of r.models) {
    assert.ok(m.robust.mean <= m.clean.mean, `${m.model}: robust ${m.robust.mean} > clean ${m.clean.mean}`);
    assert.deepEqual(
      m.curve.map((p) => Math.round(p.eps * 255)),
      [0, 2, 8, 64],
    );
    assert.equal(m.curve[0].accuracy.mean, m.clean.mean);
    assert.equal(m.curve[2].accuracy.mean, m.robust.mean);
    // At 64/255 the attack wins: the curve falls below clean.
    assert.ok(m.curve[3].accuracy.mean < m.curve[0].accuracy.mean, `${m.model}: curve ${m.curve.map((p) => p.accuracy.mean)}`);
    assert.equal(m.checks?.curveMonotone?.ok, true, m.checks?.curveMonotone?.message);
    assert.equal(m.checks?.cleanAboveRobust.ok, true);
    assert.ok(m.seconds > 0);
  }
});

test('the same parameters under two names give the same numbers; tensors as params are not freed', async () => {
  const arrays = await model('x', 'maml', 5);
  const tensors = { ...arrays, name: 'y', params: initModel(modelSpecOf(arrays.cfg), new Rng(5)) };
  const before = tf.memory().numTensors;
  const out = await evaluate([arrays, tensors], ds, { ...SMALL, episodes: 2, curve: [0, EPS], strongAttack: { steps: 4, restarts: 1 } });
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(out.result.models[0].clean, out.result.models[1].clean);
  assert.deepEqual(out.result.models[0].robust, out.result.models[1].robust);
  const strong = out.result.models[0].checks?.strongerAttack;
  assert.ok(strong && strong.robust.mean >= 0 && strong.robust.mean <= 1);
  assert.deepEqual(out.result.setting.strongAttack, { steps: 4, restarts: 1, stepSize: EPS / 10, loss: 'ce' });
  disposeParams(tensors.params);
});

test('episodes shared among worker threads give the same numbers as one thread', async () => {
  const models = [await model('maml-a', 'maml', 1), await model('rocl-b', 'rocl', 2)];
  const opts = { ...SMALL, episodes: 4, curve: [0, EPS] };
  const one = await evaluate(models, ds, { ...opts, threads: 1 });
  const progress: number[] = [];
  const two = await evaluate(models, ds, { ...opts, threads: 2 }, (p) => progress.push(p.episodesDone));
  assert.deepEqual(progress, [1, 2, 3, 4]);
  assert.equal(two.result.setting.threads, 2);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(Array.from(two.perEpisode[i].clean), Array.from(one.perEpisode[i].clean));
    assert.deepEqual(Array.from(two.perEpisode[i].robust), Array.from(one.perEpisode[i].robust));
  }
  const ac = new AbortController();
  await assert.rejects(
    evaluate(models, ds, { ...opts, threads: 2, signal: ac.signal }, () => ac.abort(new Error('stop the threads'))),
    /stop the threads/,
  );
});

test('models that cannot take the episodes fail with a UserError that says what to do', async () => {
  const wrongWays = await model('five-way', 'maml', 1, { ways: 5 });
  await assert.rejects(evaluate([wrongWays], ds, SMALL), (e: unknown) => isUserError(e) && /--ways 5, or the prototype head/.test((e as Error).message));
  // The prototype head takes any ways.
  const out = await evaluate([wrongWays], ds, { ...SMALL, head: 'prototype', episodes: 1, curve: [] });
  assert.equal(out.result.models[0].head, 'prototype');
  const wrongSize = await model('rgb', 'maml', 1, { channels: 3 });
  await assert.rejects(evaluate([wrongSize], ds, SMALL), (e: unknown) => isUserError(e) && /takes 28x28x3 images/.test((e as Error).message));
  await assert.rejects(
    evaluate([await model('m', 'maml', 1)], ds, { ...SMALL, ways: 6, head: 'prototype' }),
    (e: unknown) => isUserError(e) && /lower the ways/.test((e as Error).message),
  );
  await assert.rejects(evaluate([await model('m', 'maml', 1), await model('m', 'rocl', 2)], ds, SMALL), /two models are named 'm'/);
});

test('evaluation stops between episodes when its signal aborts', async () => {
  const ac = new AbortController();
  const before = tf.memory().numTensors;
  await assert.rejects(
    evaluate([await model('m', 'rocl', 1)], ds, { ...SMALL, episodes: 5, signal: ac.signal }, (p) => {
      if (p.episodesDone === 1) ac.abort(new Error('stop here'));
    }),
    /stop here/,
  );
  assert.equal(tf.memory().numTensors, before);
});

test('samplePerturbations: PNGs whose perturbation lies within eps, with labels', async () => {
  const m = await model('m', 'maml', 3);
  const episode = episodeAt(ds.data, ds.splits.test, { ways: 3, shots: 1, queries: 2 }, 0, 0);
  const before = tf.memory().numTensors;
  const out = await samplePerturbations(m, episode, { eps: EPS, count: 4, classNames: ds.data.classes, attack: { steps: 3 } });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(out.samples.length, 4);
  close(out.amplification, 0.5 / EPS, 1e-9);
  assert.deepEqual(
    out.samples.map((s) => s.queryIndex),
    [0, 2, 4, 1],
  );
  for (const s of out.samples) {
    assert.ok(s.linf <= EPS + 1e-6 && s.linf > 0, `linf ${s.linf}`);
    assert.equal(s.trueLabel, episode.queryLabels[s.queryIndex]);
    assert.equal(s.trueName, ds.data.classes[episode.classes[s.trueLabel]]);
    for (const l of [s.cleanPred, s.adversarialPred]) assert.ok(l >= 0 && l < 3);
    const clean = decodePng(s.clean);
    const adv = decodePng(s.adversarial);
    const pert = decodePng(s.perturbation);
    for (const img of [clean, adv, pert]) assert.deepEqual([img.width, img.height, img.channels], [28, 28, 1]);
    // 8-bit rounding of both images adds at most one level to the eps-ball's 8 levels.
    let maxDiff = 0;
    for (let i = 0; i < clean.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(adv.data[i] - clean.data[i]));
    assert.ok(maxDiff <= 9, `pixel change ${maxDiff} levels > eps`);
    assert.ok(maxDiff >= 7, `pixel change ${maxDiff} levels: the attack hardly moved`);
    // The perturbation image is centred at grey: 0.5 + (0.5 / eps) * delta stays inside [0, 255].
    const exact = episode.query.subarray(s.queryIndex * 784, (s.queryIndex + 1) * 784);
    for (let i = 0; i < pert.data.length; i++) {
      const delta = (pert.data[i] / 255 - 0.5) / out.amplification;
      assert.ok(Math.abs(delta) <= EPS + 1.01 / 255 / out.amplification);
      assert.ok(exact[i] + delta > -0.02 && exact[i] + delta < 1.02);
    }
  }
  await assert.rejects(samplePerturbations(m, episode, { eps: EPS, count: 0 }), /sample count must be a whole number >= 1/);
});
