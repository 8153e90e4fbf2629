// Every method learns on real images: 30 meta-steps on the bundled Fashion-MNIST subset lower
// its outer loss on a fixed set of held tasks, and the tensor count stays flat across steps.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';
import { METHODS, MethodName } from '../src/core/config';
import { episodeAt } from '../src/core/data';
import { Episode } from '../src/core/data/types';
import { MetaLearner } from '../src/core/meta/learner';
import { METHOD_IMPLS } from '../src/core/meta/methods';
import { disposeParams } from '../src/core/model/params';
import { Rng } from '../src/core/rng';

/** The method's own outer loss on fixed tasks with fixed random streams (no update). */
async function heldLoss(learner: MetaLearner, tasks: Episode[]): Promise<number> {
  let sum = 0;
  for (const [i, task] of tasks.entries()) {
    const out = await METHOD_IMPLS[learner.cfg.method].taskStep(learner.params, task, learner.ctx, new Rng([99, i]));
    disposeParams(out.grads);
    sum += out.metrics.loss;
  }
  return sum / tasks.length;
}

for (const method of METHODS) {
  test(`${method}: 30 meta-steps on Fashion-MNIST lower the loss, with a flat tensor count`, async () => {
    await testBackend();
    const ds = await fashionSmall();
    const cfg = tinyConfig({ method: method as MethodName, outerLr: 0.003, seed: 1 });
    const spec = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
    const held = Array.from({ length: 6 }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, 12345, i));
    const learner = new MetaLearner(cfg);
    try {
      const before = await heldLoss(learner, held);
      let afterStep2 = 0;
      for (let s = 0; s < 30; s++) {
        const tasks = Array.from({ length: cfg.metaBatch }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, cfg.seed, s * cfg.metaBatch + i));
        const m = await learner.metaStep(tasks);
        assert.ok(Number.isFinite(m.loss), `step ${s + 1}: loss is ${m.loss}`);
        if (s === 1) afterStep2 = tf.memory().numTensors;
      }
      assert.equal(tf.memory().numTensors, afterStep2, 'tensor count after step 30 differs from after step 2');
      const after = await heldLoss(learner, held);
      assert.ok(after < before, `${method}: held-out loss went from ${before.toFixed(4)} to ${after.toFixed(4)}`);
    } finally {
      await learner.dispose();
    }
  });
}
