// Sharing a meta-batch's tasks between threads, or the pieces of split task steps (mavrl's views),
// gives the same meta-step as computing them whole in one thread.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { randomTask, testBackend, tinyConfig } from './helpers/engine';
import { Config } from '../src/core/config';
import { MetaLearner, modelSpecOf, taskRng, threadCount } from '../src/core/meta/learner';
import { addGrads } from '../src/core/meta/tasks';
import { METHOD_IMPLS } from '../src/core/meta/methods';
import { LocalPieces, runSplit, splitOf } from '../src/core/meta/split';
import { initModel } from '../src/core/model';
import { disposeParams, Params, paramsToArrays } from '../src/core/model/params';
import { Rng } from '../src/core/rng';

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

for (const over of [{}, { agreement: 'kl', outerLoss: 'adversarial' }, { agreement: 'cosine', order: 2 }] as Partial<Config>[]) {
  test(`a mavrl task step split into its two views gives taskStep's gradient and figures (${JSON.stringify(over)})`, async () => {
    await testBackend();
    const cfg = tinyConfig({ method: 'mavrl', width: 8, imageSize: 16, queries: 3, metaBatch: 2, seed: 3, ...over });
    const ctx = { cfg, spec: modelSpecOf(cfg) };
    const params = initModel(ctx.spec, new Rng(4));
    const rng = new Rng(5);
    const tasks = [randomTask(cfg, rng), randomTask(cfg, rng)];
    const split = splitOf(cfg)!;
    assert.equal(split.pieces, 2);
    const before = tf.memory().numTensors;
    // Two hosts in this thread: one piece each for one task, or a task each for two.
    const hosts = [new LocalPieces(ctx, split.split), new LocalPieces(ctx, split.split), new LocalPieces(ctx, split.split)];
    const out = await runSplit(ctx, split, hosts, params, await paramsToArrays(params), tasks, 7);
    let whole: Params | undefined;
    for (const [i, task] of tasks.entries()) {
      const t = await METHOD_IMPLS.mavrl.taskStep(params, task, ctx, taskRng(cfg.seed, 7, i));
      assert.ok(close(t.metrics.loss, out.metrics[i].loss, 1e-4), `task ${i} loss: whole ${t.metrics.loss}, split ${out.metrics[i].loss}`);
      for (const [k, v] of Object.entries(t.metrics)) {
        const s = out.metrics[i][k as keyof typeof t.metrics];
        assert.ok(v === null ? s === null : s != null && close(v, s, 1e-4), `task ${i} ${k}: whole ${v}, split ${s}`);
      }
      whole = addGrads(whole, t.grads);
    }
    for (const k of Object.keys(out.gradSum)) {
      const [a, b] = [whole![k].dataSync(), out.gradSum[k].dataSync()];
      const scale = Math.max(...Array.from(a, Math.abs), 1e-6);
      a.forEach((v, j) => assert.ok(Math.abs(v - b[j]) <= 1e-5 * scale, `${k}[${j}]: whole ${v}, split ${b[j]} (largest ${scale})`));
    }
    disposeParams(out.gradSum);
    disposeParams(whole);
    assert.equal(tf.memory().numTensors, before, 'the split step leaves no tensors but its gradient sum');
    disposeParams(params);
  });
}

for (const [label, metaBatch] of [
  ['whole tasks', 3],
  ['split tasks', 1],
] as const) {
  test(`two threads and one thread give the same meta-steps (${label}, within float tolerance)`, async () => {
    await testBackend();
    const params: Float32Array[][] = [];
    const losses: number[][] = [];
    const batch = () => Array.from({ length: metaBatch }, () => 0);
    for (const workers of [1, 2]) {
      const cfg = tinyConfig({ method: 'mavrl', width: 4, imageSize: 16, queries: 2, metaBatch, workers });
      assert.equal(threadCount(cfg, 'wasm'), workers);
      const learner = new MetaLearner(cfg);
      const rng = new Rng(8);
      const l: number[] = [];
      for (let s = 0; s < 2; s++) l.push((await learner.metaStep(batch().map(() => randomTask(cfg, rng)))).loss);
      const before = tf.memory().numTensors;
      await learner.metaStep(batch().map(() => randomTask(cfg, rng)));
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
}

test('thread count: what the work can use, up to cfg.workers (one per core by default); one on native backends', () => {
  const cfg = tinyConfig({ method: 'mavrl', metaBatch: 4 });
  const count = (over: Partial<Config>) => threadCount({ ...cfg, ...over }, 'wasm');
  assert.equal(count({ workers: 2 }), 2, 'two threads, two tasks each');
  assert.equal(count({ workers: 8 }), 8, 'eight threads: one view of one task each');
  assert.equal(count({ workers: 6 }), 4, 'six threads: split pieces would still take two rounds, so whole tasks, one per thread');
  assert.equal(count({ workers: 4, metaBatch: 1 }), 2, "one task: mavrl's two views");
  assert.equal(count({ workers: 4, metaBatch: 1, mavrlAttack: 'joint' }), 1, 'the joint attack couples the views: no split');
  assert.equal(count({ workers: 4, metaBatch: 1, method: 'maml' }), 1, "maml's step does not split");
  assert.equal(count({ workers: 0, metaBatch: 1, method: 'maml' }), 1);
  assert.equal(threadCount({ ...cfg, workers: 3 }, 'tensorflow'), 1);
});
