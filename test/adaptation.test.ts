// Meta-learning adapts: after a short meta-training of each method at its defaults on the bundled
// Fashion-MNIST (real images), ONE inner step on a new task's support set takes the accuracy of
// its query well above chance on classes never seen in training, and above the same model before
// the step; the training metrics record that; and mavrl's two adapted encoders are two networks.
import { before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { fashionSmall, testBackend, tinyConfig } from './helpers/engine';
import { METHOD_DEFAULTS, MethodName } from '../src/core/config';
import { episodeAt } from '../src/core/data';
import type { Dataset } from '../src/core/data/types';
import { evaluate } from '../src/core/evaluate';
import { MetaLearner, MetaStepResult } from '../src/core/meta/learner';
import { paramsToArrays } from '../src/core/model/params';
import { adaptationSummary } from '../src/core/stepMetrics';

let ds: Dataset;
before(async () => {
  await testBackend();
  ds = await fashionSmall();
});

/** Query accuracy on 5-way 1-shot tasks of the held-out classes after `steps` inner steps. */
async function heldOutAccuracy(learner: MetaLearner, steps: number): Promise<number> {
  const { result } = await evaluate([{ name: 'm', cfg: learner.cfg, params: await paramsToArrays(learner.params) }], ds, {
    split: 'test',
    ways: 5,
    shots: 1,
    queries: 5,
    episodes: 24,
    innerSteps: steps,
    head: 'auto',
    attack: { steps: 1 },
    curve: [],
    threads: 1,
    seed: 5,
  });
  return result.models[0].clean.mean;
}

const CHANCE = 0.2;

for (const method of ['maml', 'aq', 'adml', 'rmaml', 'mavrl'] as MethodName[]) {
  test(`${method}: after 40 meta-steps one inner step lifts held-out query accuracy well above chance`, async (t) => {
    const { innerSteps } = METHOD_DEFAULTS[method];
    const cfg = tinyConfig({ method, width: 16, queries: 5, outerLr: 0.003, seed: 2, ...(innerSteps ? { innerSteps } : {}) });
    const learner = new MetaLearner(cfg);
    const history: MetaStepResult[] = [];
    try {
      const spec = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
      for (let s = 0; s < 40; s++) {
        history.push(
          await learner.metaStep(Array.from({ length: cfg.metaBatch }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, cfg.seed, s * cfg.metaBatch + i))),
        );
      }
      const stepped = await heldOutAccuracy(learner, 1);
      const unadapted = await heldOutAccuracy(learner, 0);
      const a = adaptationSummary(history, 20);
      t.diagnostic(
        `${method}: held-out query accuracy ${unadapted.toFixed(3)} without adaptation, ${stepped.toFixed(3)} after one inner step; training (last 20 steps) ${a.before?.toFixed(3)} -> ${a.after?.toFixed(3)}, encoder shift ${a.innerShift?.toFixed(4)}, encoder cosine ${a.encoderCosine?.toFixed(4) ?? '-'}`,
      );
      assert.ok(stepped >= 2 * CHANCE, `${method}: held-out accuracy after one inner step ${stepped.toFixed(3)} is not well above chance (${CHANCE})`);
      assert.ok(stepped >= unadapted + 0.15, `${method}: one inner step took held-out accuracy only from ${unadapted.toFixed(3)} to ${stepped.toFixed(3)}`);
      // The training metrics say the same: before adaptation near chance, after it well above.
      assert.ok(a.before !== null && a.after !== null && a.innerShift !== null);
      assert.ok(a.after! >= a.before! + 0.15, `${method}: training query accuracy ${a.before} before adaptation, ${a.after} after`);
      // Encoder-only inner loops must move the encoder; MAML's may adapt mostly through the head.
      if (cfg.innerUpdate === 'body') assert.ok(a.innerShift! > 0.005, `${method}: the inner loop moves the encoder by ${a.innerShift}`);
      if (method === 'mavrl') {
        // Two views, two adapted encoders: their features on the same images are not one network's.
        assert.ok(a.encoderCosine !== null && a.encoderCosine < 0.995, `mavrl: adapted encoders' feature cosine ${a.encoderCosine}`);
      } else {
        assert.equal(a.encoderCosine, null);
      }
    } finally {
      await learner.dispose();
    }
  });
}
