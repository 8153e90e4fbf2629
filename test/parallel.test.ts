// Sharing a meta-batch's tasks between threads gives the same meta-step as computing them in one.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { randomTask, testBackend, tinyConfig } from './helpers/engine';
import { MetaLearner, threadCount } from '../src/core/meta/learner';
import { Rng } from '../src/core/rng';

test('two threads and one thread give the same meta-steps (within float tolerance)', async () => {
  await testBackend();
  const params: Float32Array[][] = [];
  const losses: number[][] = [];
  for (const workers of [1, 2]) {
    const cfg = tinyConfig({ method: 'mavrl', width: 4, imageSize: 16, queries: 2, metaBatch: 3, workers });
    const learner = new MetaLearner(cfg);
    const rng = new Rng(8);
    const l: number[] = [];
    for (let s = 0; s < 2; s++) l.push((await learner.metaStep([0, 1, 2].map(() => randomTask(cfg, rng)))).loss);
    const before = tf.memory().numTensors;
    await learner.metaStep([0, 1, 2].map(() => randomTask(cfg, rng)));
    assert.equal(tf.memory().numTensors, before, `workers=${workers}: tensors leak`);
    params.push(
      Object.keys(learner.params)
        .sort()
        .map((k) => learner.params[k].dataSync() as Float32Array),
    );
    losses.push(l);
    await learner.dispose();
  }
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(losses[0][i] - losses[1][i]) < 1e-4, `step ${i + 1} loss ${losses[0][i]} vs ${losses[1][i]}`);
  params[0].forEach((a, i) => a.forEach((v, j) => assert.ok(Math.abs(v - params[1][i][j]) < 1e-4, `param ${i}[${j}]: ${v} vs ${params[1][i][j]}`)));
});

test('thread count: one per core by default, capped by the meta-batch, one on native backends', () => {
  const cfg = tinyConfig({ metaBatch: 1, workers: 0 });
  assert.equal(threadCount(cfg, 'wasm'), 1);
  assert.equal(threadCount({ ...cfg, metaBatch: 4, workers: 2 }, 'wasm'), 2);
  assert.equal(threadCount({ ...cfg, metaBatch: 4, workers: 3 }, 'tensorflow'), 1);
});
