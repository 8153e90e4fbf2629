// A briefly meta-trained model has learned something transferable: on Fashion-MNIST classes it
// never saw in training it scores well above chance (20% for 5-way), above the same network
// before training, and its robust accuracy falls as the attack radius grows.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';
import { episodeAt } from '../src/core/data';
import { evaluate } from '../src/core/evaluate';
import { MetaLearner } from '../src/core/meta/learner';
import { paramsToArrays } from '../src/core/model/params';

test('meta-trained maml scores well above chance on held-out Fashion-MNIST classes, and robustness falls with eps', async () => {
  await testBackend();
  const ds = await fashionSmall();
  const cfg = tinyConfig({ method: 'maml', width: 16, innerLr: 0.1, outerLr: 0.003, innerStepsTest: 10, seed: 3 });
  const spec = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
  const learner = new MetaLearner(cfg);
  const untrained = await paramsToArrays(learner.params);
  try {
    for (let s = 0; s < 100; s++) {
      await learner.metaStep(Array.from({ length: cfg.metaBatch }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, cfg.seed, s * cfg.metaBatch + i)));
    }
    const { result } = await evaluate(
      [
        { name: 'trained', cfg, params: await paramsToArrays(learner.params) },
        { name: 'untrained', cfg, params: untrained },
      ],
      ds,
      { split: 'test', ways: 5, shots: 1, queries: 10, episodes: 30, attack: { steps: 10 }, curve: [0, 2 / 255, 8 / 255, 32 / 255] },
    );
    const [trained, before] = result.models;
    assert.ok(trained.clean.mean > 0.4, `clean accuracy ${trained.clean.mean} is not well above chance (0.2)`);
    assert.ok(trained.clean.mean > before.clean.mean, `training did not help: ${trained.clean.mean} vs untrained ${before.clean.mean}`);
    const curve = trained.curve.map((p) => p.accuracy.mean);
    assert.ok(curve[3] < curve[0] - 0.1, `robust accuracy should fall as eps grows: ${curve}`);
    assert.equal(trained.checks?.curveMonotone?.ok, true, trained.checks?.curveMonotone?.message);
  } finally {
    await learner.dispose();
  }
});
