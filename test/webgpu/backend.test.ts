// The webgpu backend against the cpu backend, on whatever adapter Dawn finds: SwiftShader on
// machines without a GPU. Each computation runs on both backends from the same parameters and
// random streams; the figures are reported as diagnostics. Skipped, with the reason, where no
// adapter can be had.
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { pgd } from '../../src/core/attacks';
import { initBackend, type BackendInfo } from '../../src/core/backend';
import { Config } from '../../src/core/config';
import { evaluate } from '../../src/core/evaluate';
import { episodeAt } from '../../src/core/data';
import { crossEntropy } from '../../src/core/losses';
import { ceAttackLoss, keysOf, logitsOf, MethodContext } from '../../src/core/meta/common';
import { MetaLearner, modelSpecOf, runTasksLocally } from '../../src/core/meta/learner';
import { initModel } from '../../src/core/model';
import { disposeParams, Params, paramsToArrays } from '../../src/core/model/params';
import { Rng } from '../../src/core/rng';
import { readValues, sumAll } from '../../src/core/tensorUtil';
import { GpuError, stopWebgpu } from '../../src/core/webgpu';
import { fashionSmall, randomTask, REPO, tinyConfig } from '../helpers/engine';
import { webgpuUnavailable } from '../helpers/webgpu';

let skip = webgpuUnavailable();
let info: BackendInfo | undefined;

before(async () => {
  if (skip) return;
  try {
    info = await initBackend('webgpu');
  } catch (e) {
    skip = `the webgpu backend does not start here: ${(e as Error).message.split('\n').slice(-1)[0].trim()}`;
  }
});

// Dawn's live instance would keep the test process from exiting.
after(() => stopWebgpu());

/** Runs `f` on a backend and reads what it returns (then frees it). */
async function on(backend: 'cpu' | 'webgpu', f: () => tf.Tensor[] | Promise<tf.Tensor[]>): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} did not start`);
  const ts = await f();
  try {
    const out: Float32Array[] = [];
    for (const t of ts) out.push(Float32Array.from(await readValues(t)));
    return out;
  } finally {
    tf.dispose(ts);
  }
}

/** Largest difference relative to the largest magnitude of the reference. */
function relErr(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

/**
 * relErr over several tensors taken as one vector: a parameter whose gradient is nearly zero (a
 * 1x1 convolution before batch norm, whose scale the norm cancels) has no digits of its own.
 */
function worst(got: Float32Array[], want: Float32Array[]): number {
  assert.equal(got.length, want.length);
  const flat = (xs: Float32Array[]) => {
    const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
    let at = 0;
    for (const x of xs) {
      out.set(x, at);
      at += x.length;
    }
    return out;
  };
  return relErr(flat(got), flat(want));
}

function setup(over: Partial<Config> = {}) {
  const cfg = tinyConfig({ workers: 1, ...over });
  const ctx: MethodContext = { cfg, spec: modelSpecOf(cfg) };
  const task = randomTask(cfg, new Rng(11));
  const tensors = () => {
    const n = (data: Float32Array) =>
      tf.tensor4d(data, [data.length / (cfg.imageSize * cfg.imageSize * cfg.channels), cfg.imageSize, cfg.imageSize, cfg.channels]);
    return { x: n(task.query), y: tf.tensor1d(task.queryLabels, 'int32') };
  };
  return { cfg, ctx, task, tensors, params: () => initModel(ctx.spec, new Rng([cfg.seed, 0x1a17])) };
}

test('the adapter is described, and marked software on SwiftShader', (t) => {
  if (skip) return t.skip(skip);
  assert.equal(info!.name, 'webgpu');
  const a = info!.adapter!;
  t.diagnostic(`adapter: ${JSON.stringify(a)}`);
  assert.ok(a.vendor || a.architecture || a.description, 'the adapter has neither vendor, architecture nor description');
  if (/swiftshader/i.test(`${a.architecture} ${a.description}`)) assert.equal(a.software, true);
});

for (const backbone of ['conv4', 'resnet12'] as const) {
  test(`${backbone}: forward, backward and a PGD step match the cpu backend`, async (t) => {
    if (skip) return t.skip(skip);
    const { ctx, tensors, params } = setup(backbone === 'resnet12' ? { backbone, imageSize: 16, width: 4 } : {});
    const run = (what: 'logits' | 'grads' | 'pgd') => async () => {
      const p = params();
      const { x, y } = tensors();
      try {
        if (what === 'logits') return [logitsOf(ctx, p, x)];
        if (what === 'grads') {
          const keys = keysOf(p, ['encoder/', 'head/']);
          return tf.grads((...ws: tf.Tensor[]) => {
            const q: Params = { ...p };
            keys.forEach((k, i) => (q[k] = ws[i]));
            return crossEntropy(logitsOf(ctx, q, x), y);
          })(keys.map((k) => p[k]));
        }
        return pgd([x], ceAttackLoss(ctx, p, y), { eps: 8 / 255, stepSize: 2 / 255, steps: 1, randomStart: false }, new Rng(3));
      } finally {
        disposeParams(p);
        tf.dispose([x, y]);
      }
    };
    const errs: Record<string, number> = {};
    for (const what of ['logits', 'grads', 'pgd'] as const) errs[what] = worst(await on('webgpu', run(what)), await on('cpu', run(what)));
    t.diagnostic(`${backbone} relative error vs cpu: ${JSON.stringify(errs)}`);
    assert.ok(errs.logits < 1e-4, `logits differ by ${errs.logits}`);
    assert.ok(errs.grads < 1e-3, `gradients differ by ${errs.grads}`);
    // An L-inf step moves each pixel by the sign of its gradient: a near-zero gradient may take
    // the other sign on another backend, so a few pixels may differ by a whole step.
    assert.ok(errs.pgd <= 2 * (2 / 255) + 1e-6, `the PGD step differs by ${errs.pgd}`);
  });
}

for (const [method, order] of [
  ['mavrl', 1],
  ['maml', 2],
] as const) {
  test(`a ${method} meta-step (order ${order}) matches the cpu backend`, async (t) => {
    if (skip) return t.skip(skip);
    // An L2 attack: an L-inf step follows the sign of each pixel's gradient, which rounding may
    // flip where the gradient is near zero, and the adversarial views would differ by a step.
    const { cfg, ctx, params } = setup({ method, order, attackNorm: 'l2', eps: 0.5 });
    const tasks = [randomTask(cfg, new Rng(21)), randomTask(cfg, new Rng(22))];
    // The summed task gradients, not the parameters after Adam: its first step moves every
    // parameter by about the learning rate whatever the gradient's size, so a near-zero gradient
    // that rounds to the other sign would move its parameter the other way.
    const step = async () => {
      const p = params();
      try {
        const { gradSum, metrics } = await runTasksLocally(ctx, p, tasks, 0);
        return [
          tf.tensor1d(metrics.map((m) => m.loss)),
          ...Object.keys(gradSum)
            .sort()
            .map((k) => gradSum[k]),
        ];
      } finally {
        disposeParams(p);
      }
    };
    const [gpu, cpu] = [await on('webgpu', step), await on('cpu', step)];
    const loss = relErr(gpu[0], cpu[0]);
    const grads = worst(gpu.slice(1), cpu.slice(1));
    t.diagnostic(`${method}: task losses relative error ${loss.toExponential(2)}, summed gradient ${grads.toExponential(2)}`);
    assert.ok(loss < 1e-4, `task losses differ by ${loss}`);
    // Attack steps and the inner step lie between the input and this gradient, each carrying the
    // rounding of the one before (measured: 1e-3 for mavrl, 1e-7 for maml, on SwiftShader).
    assert.ok(grads < 5e-3, `gradients differ by ${grads}`);
  });
}

test('evaluation (clean and under PGD) matches the cpu backend', async (t) => {
  if (skip) return t.skip(skip);
  const ds = await fashionSmall();
  const cfg = tinyConfig({ method: 'maml', width: 4, ways: 3, queries: 4, innerStepsTest: 2 });
  await tf.setBackend('cpu');
  const p = initModel(modelSpecOf(cfg), new Rng(5));
  const params = await paramsToArrays(p);
  disposeParams(p);
  const accuracies = async (backend: 'cpu' | 'webgpu') => {
    await tf.setBackend(backend);
    const { result } = await evaluate([{ name: 'm', cfg, params }], ds, {
      ways: 3,
      shots: 1,
      queries: 4,
      episodes: 3,
      attack: { steps: 3 },
      curve: [0, 8 / 255],
      threads: 1,
    });
    return result.models[0];
  };
  const gpu = await accuracies('webgpu');
  const cpu = await accuracies('cpu');
  t.diagnostic(`clean ${gpu.clean.mean} vs ${cpu.clean.mean}; robust ${gpu.robust.mean} vs ${cpu.robust.mean}`);
  // 12 queries per episode: one prediction flipped by rounding moves a mean by 1/36.
  assert.ok(Math.abs(gpu.clean.mean - cpu.clean.mean) <= 1 / 36 + 1e-9);
  assert.ok(Math.abs(gpu.robust.mean - cpu.robust.mean) <= 1 / 36 + 1e-9);
});

test('sums of many tensors are split for WebGPU, and a rejected kernel is an error naming it', async (t) => {
  if (skip) return t.skip(skip);
  await tf.setBackend('webgpu');
  const ts = Array.from({ length: 18 }, (_, i) => tf.fill([5], i + 1));
  try {
    const sum = sumAll(ts);
    assert.deepEqual(Array.from(await readValues(sum)), Array(5).fill((18 * 19) / 2));
    sum.dispose();
    // tf.addN itself binds one buffer per input: past the device's limit WebGPU rejects the
    // pipeline, which tfjs ignores (its output stays zero); the read must say so instead.
    const wide = tf.addN(ts.slice(0, 9));
    await assert.rejects(readValues(wide), (e: unknown) => e instanceof GpuError && /AddN/.test((e as Error).message));
    wide.dispose();
    // The error is reported once; the next read is clean.
    const ok = tf.add(ts[0], ts[1]);
    assert.deepEqual(Array.from(await readValues(ok)), Array(5).fill(3));
    ok.dispose();
  } finally {
    tf.dispose(ts);
  }
});

test('maml learns on webgpu: 5 meta-steps on one meta-batch lower its loss, with a flat tensor count', async (t) => {
  if (skip) return t.skip(skip);
  await tf.setBackend('webgpu');
  const ds = await fashionSmall();
  // One meta-batch again and again: a software adapter is slow, and what is checked is that the
  // updates reach the parameters and move them downhill, not generalisation (test/methods.test.ts).
  const cfg = tinyConfig({ method: 'maml', outerLr: 0.01, seed: 1, workers: 1, gradClip: 10 });
  const spec = { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries };
  const tasks = Array.from({ length: cfg.metaBatch }, (_, i) => episodeAt(ds.data, ds.splits.train, spec, cfg.seed, i));
  const learner = new MetaLearner(cfg);
  try {
    const losses: number[] = [];
    let afterStep2 = 0;
    for (let s = 0; s < 5; s++) {
      const m = await learner.metaStep(tasks);
      assert.ok(Number.isFinite(m.loss) && Number.isFinite(m.gradNorm), `step ${s + 1}: loss ${m.loss}, gradient norm ${m.gradNorm}`);
      losses.push(m.loss);
      if (s === 1) afterStep2 = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, afterStep2, 'tensor count after step 5 differs from after step 2');
    t.diagnostic(`loss by step: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    // maml starts from a zero head, so at log(5) = 1.61; 5 steps on a software adapter take it
    // down about 10% (1.60 -> 1.45 seen), far more than noise.
    assert.ok(losses[4] < 0.95 * losses[0], `the loss went from ${losses[0]} to ${losses[4]}`);
  } finally {
    await learner.dispose();
  }
});

function doctor(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'robust-meta.js'), 'doctor', '--json', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return JSON.parse(r.stdout) as { backend: { name?: string; adapter?: { software: boolean } | null; skipped?: string[]; error?: string } };
}

test('auto passes over a software adapter and a missing one, saying why; doctor shows the adapter', (t) => {
  if (skip) return t.skip(skip);
  const auto = doctor({});
  assert.notEqual(auto.backend.name, 'webgpu');
  assert.ok(
    auto.backend.skipped?.some((s) => /^webgpu skipped: .*software/.test(s)),
    JSON.stringify(auto.backend.skipped),
  );
  const asked = doctor({}, '--backend', 'webgpu');
  assert.equal(asked.backend.name, 'webgpu');
  assert.ok(asked.backend.adapter, 'doctor shows no adapter');
  const none = doctor({ VK_ICD_FILENAMES: path.join(REPO, 'no-such-icd.json') });
  assert.notEqual(none.backend.name, 'webgpu');
  assert.ok(
    none.backend.skipped?.some((s) => /^webgpu skipped: Dawn found no WebGPU adapter/.test(s)),
    JSON.stringify(none.backend.skipped),
  );
});

// Last: it loses the device, which nothing here brings back.
test('a lost device fails every later read with an error naming the last kernel', async (t) => {
  if (skip) return t.skip(skip);
  await tf.setBackend('webgpu');
  const a = tf.fill([5], 2);
  try {
    assert.deepEqual(Array.from(await readValues(a)), Array(5).fill(2));
    // What a driver reset does to a device; stopWebgpu's own destroy is not reported.
    (tf.backend() as unknown as { device: { destroy(): void } }).device.destroy();
    for (const make of [() => tf.add(a, 1), () => tf.mul(a, 3)]) {
      const b = make();
      await assert.rejects(
        readValues(b),
        (e: unknown) => e instanceof GpuError && /device was lost .* after kernel BinaryOpProgram/.test((e as Error).message),
      );
      b.dispose();
    }
  } finally {
    a.dispose();
    stopWebgpu();
  }
});
