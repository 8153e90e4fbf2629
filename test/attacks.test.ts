import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';
import { AttackOptions, fgsm, pgd } from '../src/core/attacks';
import { crossEntropy, crossEntropyPerSample, ntXentPerSample } from '../src/core/losses';
import { encode, initModel, project } from '../src/core/model';
import { modelSpecOf } from '../src/core/meta/learner';
import { Rng } from '../src/core/rng';
import { readScalar } from '../src/core/tensorUtil';

/** A logistic-regression model trained on two similar real Fashion-MNIST classes (T-shirt vs pullover). */
async function trainedLinear() {
  const ds = await fashionSmall();
  const { pixels, labels, height, width } = ds.data;
  const px = height * width;
  const idx: number[] = [];
  for (let i = 0; i < labels.length && idx.length < 160; i++) if (labels[i] === 0 || labels[i] === 2) idx.push(i);
  const x = new Float32Array(idx.length * px);
  idx.forEach((i, o) =>
    x.set(
      Float32Array.from(pixels.subarray(i * px, (i + 1) * px), (v) => v / 255),
      o * px,
    ),
  );
  const xs = tf.tensor4d(x, [idx.length, height, width, 1]);
  const ys = tf.tensor1d(
    idx.map((i) => (labels[i] === 0 ? 0 : 1)),
    'int32',
  );
  let w = tf.zeros([px, 2]);
  let b = tf.zeros([2]);
  const logits = (x4: tf.Tensor4D, W: tf.Tensor, B: tf.Tensor) => tf.add(tf.matMul(tf.reshape(x4, [x4.shape[0], -1]), W), B) as tf.Tensor2D;
  for (let s = 0; s < 60; s++) {
    const [gw, gb] = tf.grads((W: tf.Tensor, B: tf.Tensor) => crossEntropy(logits(xs, W, B), ys))([w, b]);
    const nw = tf.sub(w, tf.mul(gw, 0.5));
    const nb = tf.sub(b, tf.mul(gb, 0.5));
    tf.dispose([w, b, gw, gb]);
    w = nw;
    b = nb;
  }
  return { xs, ys, model: (x4: tf.Tensor4D) => logits(x4, w, b) };
}

function checkInBall(x: tf.Tensor4D, adv: tf.Tensor4D, eps: number, norm: 'linf' | 'l2') {
  const a = adv.dataSync(),
    c = x.dataSync();
  const per = c.length / x.shape[0];
  for (let i = 0; i < a.length; i++) assert.ok(a[i] >= 0 && a[i] <= 1, `pixel ${i} = ${a[i]} is outside [0,1]`);
  for (let n = 0; n < x.shape[0]; n++) {
    let d = 0;
    for (let i = n * per; i < (n + 1) * per; i++) d = norm === 'linf' ? Math.max(d, Math.abs(a[i] - c[i])) : d + (a[i] - c[i]) ** 2;
    if (norm === 'l2') d = Math.sqrt(d);
    assert.ok(d <= eps + 1e-5, `sample ${n}: ${norm} distance ${d} > eps ${eps}`);
  }
}

for (const norm of ['linf', 'l2'] as const) {
  test(`PGD ${norm} stays in the eps-ball and [0,1] and raises the loss of a trained model`, async () => {
    await testBackend();
    const { xs, ys, model } = await trainedLinear();
    const clean = await readScalar(() => crossEntropy(model(xs), ys));
    const cleanAcc = await readScalar(() => tf.mean(tf.cast(tf.equal(tf.argMax(model(xs), 1), ys), 'float32')));
    assert.ok(cleanAcc > 0.75, `the linear model should fit T-shirt vs pullover, got ${cleanAcc}`);
    const eps = norm === 'linf' ? 8 / 255 : 1.0;
    const opts: AttackOptions = { eps, stepSize: eps / 4, steps: 10, norm, randomStart: true, restarts: 1 };
    const [adv] = pgd([xs], ([x]) => crossEntropyPerSample(model(x), ys), opts, new Rng(1));
    checkInBall(xs, adv, eps, norm);
    const robust = await readScalar(() => crossEntropy(model(adv), ys));
    assert.ok(robust > 1.5 * clean, `adversarial loss ${robust} should clearly exceed clean loss ${clean}`);
  });
}

test('FGSM stays in the ball and raises the loss', async () => {
  await testBackend();
  const { xs, ys, model } = await trainedLinear();
  const [adv] = fgsm([xs], ([x]) => crossEntropyPerSample(model(x), ys), 4 / 255);
  checkInBall(xs, adv, 4 / 255, 'linf');
  assert.ok((await readScalar(() => crossEntropy(model(adv), ys))) > (await readScalar(() => crossEntropy(model(xs), ys))));
});

test('label-free bilevel attack raises the disagreement between two encoders', async () => {
  await testBackend();
  const cfg = tinyConfig();
  const spec = modelSpecOf(cfg);
  const p1 = initModel(spec, new Rng(1));
  const p2 = initModel(spec, new Rng(2));
  const ds = await fashionSmall();
  const n = 16,
    px = 28 * 28;
  const x = tf.tensor4d(
    Float32Array.from(ds.data.pixels.subarray(0, n * px), (v) => v / 255),
    [n, 28, 28, 1],
  );
  const loss = ([a, b]: tf.Tensor4D[]) => ntXentPerSample(project(p1, encode(spec, p1, a)), project(p2, encode(spec, p2, b)), 0.5);
  const before = await readScalar(() => tf.mean(loss([x, x])));
  const [a1, a2] = pgd([x, x], loss, { eps: 8 / 255, stepSize: 2 / 255, steps: 5 }, new Rng(3));
  checkInBall(x, a1, 8 / 255, 'linf');
  checkInBall(x, a2, 8 / 255, 'linf');
  const after = await readScalar(() => tf.mean(loss([a1, a2])));
  assert.ok(after > before, `NT-Xent after the attack ${after} should exceed ${before}`);
});

test('attacks free every intermediate tensor', async () => {
  await testBackend();
  const { xs, ys, model } = await trainedLinear();
  const run = () => pgd([xs], ([x]) => crossEntropyPerSample(model(x), ys), { eps: 0.03, stepSize: 0.01, steps: 3, restarts: 1 }, new Rng(5))[0].dispose();
  run();
  const before = tf.memory().numTensors;
  run();
  run();
  assert.equal(tf.memory().numTensors, before);
});

test('attack options are checked with messages naming the field', () => {
  assert.throws(() => pgd([], () => tf.zeros([1]) as tf.Tensor1D, { eps: -1, stepSize: 0.1, steps: 1 }, new Rng(0)), /eps has to be >= 0/);
  assert.throws(() => pgd([], () => tf.zeros([1]) as tf.Tensor1D, { eps: 0.1, stepSize: 0.1, steps: 0 }, new Rng(0)), /steps has to be a whole number/);
});
