// mavrl as the paper states it: the outer loss per view in TRADES form plus lambda * agreement
// (checked against numbers computed by hand), and the label-free attack per view: view 1's
// perturbation maximises its NT-Xent, through encoder 1, to the clean view 2 through encoder 2.
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testBackend, tinyConfig } from './helpers/engine';
import { pgd } from '../src/core/attacks';
import { ntXentPerSample } from '../src/core/losses';
import { modelSpecOf } from '../src/core/meta/learner';
import { bilevelAttack, mavrlOuterLoss } from '../src/core/meta/methods/mavrl';
import { encode, initModel, project } from '../src/core/model';
import { disposeParams } from '../src/core/model/params';
import { Rng } from '../src/core/rng';

before(async () => {
  await testBackend();
});

/** log-sum-exp cross-entropy and KL of two-class logits, by hand. */
const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, w) => s + Math.exp(w), 0));
const ce = (z: number[], y: number) => -Math.log(softmax(z)[y]);
const kl = (p: number[], q: number[]) => softmax(p).reduce((s, pi, i) => s + pi * Math.log(pi / softmax(q)[i]), 0);

test('the TRADES outer loss: CE on the clean views + beta * KL(clean || adversarial) + lambda * agreement', () => {
  const c = [
    [2, 0],
    [0, 1],
  ];
  const a = [
    [1, 1],
    [0, 0],
  ];
  const y = [0, 1];
  const expected = ce(c[0], y[0]) + ce(c[1], y[1]) + 2 * (kl(c[0], a[0]) + kl(c[1], a[1])) + 4 * 0.3;
  const out = tf.tidy(() => {
    const parts = mavrlOuterLoss(
      { outerLoss: 'trades', beta: 2, lambda: 4 },
      {
        clean: [tf.tensor2d([c[0]]), tf.tensor2d([c[1]])],
        adv: [tf.tensor2d([a[0]]), tf.tensor2d([a[1]])],
        labels: [tf.tensor1d([y[0]], 'int32'), tf.tensor1d([y[1]], 'int32')],
        agreement: tf.scalar(0.3),
      },
    );
    return [parts.loss, parts.aux!.ceLoss!, parts.aux!.cleanAcc!, parts.aux!.robustAcc!].map((t) => t.arraySync() as number);
  });
  assert.ok(Math.abs(out[0] - expected) < 1e-5, `${out[0]} vs ${expected}`);
  assert.ok(Math.abs(out[1] - (ce(c[0], 0) + ce(c[1], 1)) / 2) < 1e-6);
  assert.deepEqual(out.slice(2), [1, 0.5], 'both clean views right; adversarial [1,1] argmax 0 = label 0, [0,0] argmax 0 != 1');
});

test("the 'adversarial' outer loss (the earlier form, for ablation): CE on the adversarial views + lambda * agreement", () => {
  const a = [
    [1, 3],
    [2, 0],
  ];
  const loss = tf.tidy(
    () =>
      mavrlOuterLoss(
        { outerLoss: 'adversarial', beta: 5, lambda: 2 },
        { adv: [tf.tensor2d([a[0]]), tf.tensor2d([a[1]])], labels: [tf.tensor1d([1], 'int32'), tf.tensor1d([1], 'int32')], agreement: tf.scalar(0.25) },
      ).loss.arraySync() as number,
  );
  assert.ok(Math.abs(loss - (ce(a[0], 1) + ce(a[1], 1) + 2 * 0.25)) < 1e-5);
  assert.throws(
    () =>
      mavrlOuterLoss(
        { outerLoss: 'trades', beta: 1, lambda: 1 },
        { adv: [tf.zeros([1, 2]), tf.zeros([1, 2])], labels: [tf.zeros([1], 'int32'), tf.zeros([1], 'int32')], agreement: tf.scalar(0) },
      ),
    /needs the clean logits/,
  );
});

test('the per-view attack is PGD on each view alone against the other clean view through the other encoder', () => {
  const cfg = tinyConfig({ method: 'mavrl', seed: 8 });
  const spec = modelSpecOf(cfg);
  const p1 = initModel(spec, new Rng(1));
  const p2 = initModel(spec, new Rng(2));
  const rng = new Rng(5);
  const q1 = tf.tensor4d(rng.uniformArray(6 * 28 * 28, 0, 1), [6, 28, 28, 1]);
  const q2 = tf.tensor4d(rng.uniformArray(6 * 28 * 28, 0, 1), [6, 28, 28, 1]);
  const opts = { eps: 8 / 255, stepSize: 2 / 255, steps: 3, randomStart: true };
  const before = tf.memory().numTensors;
  const [a1, a2] = bilevelAttack(spec, 'per-view', 0.5, p1, p2, q1, q2, opts, new Rng(9));
  assert.equal(tf.memory().numTensors, before + 2, 'only the two results are left');
  // By hand: view 1 against the fixed projection of clean view 2 through encoder 2, stream fork(1).
  const z = (p: typeof p1, x: tf.Tensor4D) => project(p, encode(spec, p, x));
  const target2 = tf.tidy(() => z(p2, q2));
  const [e1] = pgd([q1], ([x]) => ntXentPerSample(z(p1, x), target2, 0.5), opts, new Rng(9).fork(1));
  const target1 = tf.tidy(() => z(p1, q1));
  const [e2] = pgd([q2], ([x]) => ntXentPerSample(z(p2, x), target1, 0.5), opts, new Rng(9).fork(2));
  assert.deepEqual(Array.from(a1.dataSync()), Array.from(e1.dataSync()));
  assert.deepEqual(Array.from(a2.dataSync()), Array.from(e2.dataSync()));
  // The caller's clean features of view 1 (taskStep has them for the encoders' cosine) give the same attack.
  const f1 = tf.tidy(() => encode(spec, p1, q1));
  const [b1, b2] = bilevelAttack(spec, 'per-view', 0.5, p1, p2, q1, q2, opts, new Rng(9), f1);
  assert.deepEqual(Array.from(b1.dataSync()), Array.from(a1.dataSync()));
  assert.deepEqual(Array.from(b2.dataSync()), Array.from(a2.dataSync()));
  tf.dispose([f1, b1, b2]);
  // Inside the ball and the pixel range; the attack raises the disagreement it maximises.
  const stats = tf.tidy(() => [
    tf.max(tf.abs(tf.sub(a1, q1))).arraySync() as number,
    tf.min(a1).arraySync() as number,
    tf.max(a1).arraySync() as number,
    tf.mean(ntXentPerSample(z(p1, q1), target2, 0.5)).arraySync() as number,
    tf.mean(ntXentPerSample(z(p1, a1), target2, 0.5)).arraySync() as number,
  ]);
  assert.ok(stats[0] <= 8 / 255 + 1e-6 && stats[1] >= 0 && stats[2] <= 1, JSON.stringify(stats));
  assert.ok(stats[4] > stats[3], `NT-Xent before ${stats[3]}, after ${stats[4]}`);
  // The joint attack is another objective (both views perturbed together): other results.
  const [j1, j2] = bilevelAttack(spec, 'joint', 0.5, p1, p2, q1, q2, opts, new Rng(9));
  assert.notDeepEqual(Array.from(j1.dataSync()), Array.from(a1.dataSync()));
  tf.dispose([a1, a2, e1, e2, j1, j2, target1, target2, q1, q2]);
  disposeParams(p1);
  disposeParams(p2);
});
