import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { randomTask, testBackend, tinyConfig } from './helpers/engine';
import { classify, encode, featureDim, initModel, ModelSpec, project } from '../src/core/model';
import { countParams, paramsFromArrays, paramsToArrays } from '../src/core/model/params';
import { MetaLearner } from '../src/core/meta/learner';
import { Rng } from '../src/core/rng';
import { resolveConfig } from '../src/core/config';
import { explainMissingGradient } from '../src/core/meta/inner';

const spec = (over: Partial<ModelSpec>): ModelSpec => ({ backbone: 'conv4', width: 8, imageSize: 32, channels: 3, ways: 5, projectionDim: 16, ...over });

for (const [size, channels] of [
  [16, 1],
  [28, 1],
  [32, 3],
  [37, 3],
] as const) {
  test(`conv4 runs on ${size}x${size}x${channels} and its heads have the declared shapes`, async () => {
    await testBackend();
    const s = spec({ imageSize: size, channels });
    const p = initModel(s, new Rng(0));
    const out = tf.tidy(() => {
      const f = encode(s, p, tf.zeros([3, size, size, channels]) as tf.Tensor4D);
      return [f.shape, classify(p, f).shape, project(p, f).shape];
    });
    assert.deepEqual(out, [
      [3, featureDim(s)],
      [3, 5],
      [3, 16],
    ]);
  });
}

test('resnet12 runs and its feature size is 10 x width', async () => {
  await testBackend();
  const s = spec({ backbone: 'resnet12', width: 4, imageSize: 16 });
  const p = initModel(s, new Rng(0));
  const shape = tf.tidy(() => encode(s, p, tf.zeros([2, 16, 16, 3]) as tf.Tensor4D).shape);
  assert.deepEqual(shape, [2, 40]);
});

test('images smaller than 16 px are refused with a message', async () => {
  await testBackend();
  assert.throws(() => initModel(spec({ imageSize: 12 }), new Rng(0)), /imageSize must be at least 16/);
});

test('parameters round-trip through plain arrays exactly', async () => {
  await testBackend();
  const p = initModel(spec({}), new Rng(7));
  const back = paramsFromArrays(await paramsToArrays(p));
  assert.deepEqual(Object.keys(back), Object.keys(p).sort());
  for (const k of Object.keys(p)) assert.deepEqual(back[k].dataSync(), p[k].dataSync(), k);
  assert.equal(countParams(back), countParams(p));
});

test('the same seed gives the same initial parameters', async () => {
  await testBackend();
  const a = await paramsToArrays(initModel(spec({}), new Rng(3)));
  const b = await paramsToArrays(initModel(spec({}), new Rng(3)));
  assert.deepEqual(a, b);
});

test('a learner state (parameters and Adam moments) restores the exact next step', async () => {
  await testBackend();
  const cfg = tinyConfig({ method: 'aq', width: 4, imageSize: 16, queries: 2, metaBatch: 1 });
  const rng = new Rng(5);
  const tasks = [randomTask(cfg, rng), randomTask(cfg, rng), randomTask(cfg, rng)];
  const a = new MetaLearner(cfg);
  await a.metaStep([tasks[0]]);
  const saved = await a.getState();
  await a.metaStep([tasks[1]]);
  const b = new MetaLearner(cfg);
  b.setState(saved);
  await b.metaStep([tasks[1]]);
  assert.equal(b.step, a.step);
  assert.deepEqual(await paramsToArrays(b.params), await paramsToArrays(a.params));
  await a.dispose();
  await b.dispose();
});

test('second-order meta-gradients run through the conv layers and differ from first-order ones', async () => {
  await testBackend();
  const grads: number[] = [];
  for (const order of [1, 2]) {
    const cfg = resolveConfig({ method: 'maml', order, innerLr: 0.5, width: 4, imageSize: 16, channels: 1, ways: 2, queries: 2, metaBatch: 1 });
    const learner = new MetaLearner(cfg);
    const m = await learner.metaStep([randomTask(cfg, new Rng(1))]);
    assert.ok(Number.isFinite(m.loss));
    grads.push(m.gradNorm);
    await learner.dispose();
  }
  assert.notEqual(grads[0], grads[1], 'order 2 should change the meta-gradient');
});

test('a missing second-order gradient is reported by kernel name with what to do', () => {
  assert.throws(
    () => explainMissingGradient(new Error('Cannot compute gradient: gradient function not found for FooGrad.')),
    /need the gradient of the FooGrad kernel.*Use order 1/,
  );
});
