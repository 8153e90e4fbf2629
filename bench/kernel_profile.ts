// Per-kernel CPU time of the benchmark step (docs/method.md) on the wasm backend, in one thread,
// with the achieved GFLOP/s of the GEMM kernels (tfjs-wasm-training-kernels' profile.ts): process CPU time,
// not wall time, since the machines are shared; nested kernel calls count in their caller.
//
//   npm run build && node out/bench/kernel_profile.js [--steps N] [--eval] [--shapes] [config flags as JSON]
//   e.g. node out/bench/kernel_profile.js --shapes '{"imageSize":28,"channels":1,"width":32}'
// --eval profiles N evaluation episodes (bench --eval's protocol) instead of N meta-steps.
// ROBUST_META_KERNELS=wasm-simd profiles the build without fused multiply-add.
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/core/backend';
import { resolveConfig, Config } from '../src/core/config';
import { MetaLearner } from '../src/core/meta/learner';
import { LocalExecutor, modelSpecOf } from '../src/core/meta/tasks';
import { profileKernels } from 'tfjs-wasm-training-kernels';
import { Rng } from '../src/core/rng';
import { randomEpisode, runEvalBench } from '../src/runner/bench';

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stepsAt = args.indexOf('--steps');
  const steps = stepsAt >= 0 ? Number(args[stepsAt + 1]) : 2;
  const shapes = args.includes('--shapes');
  const json = args.find((a) => a.startsWith('{'));
  const partial: Partial<Config> = json ? JSON.parse(json) : {};
  const backend = await initBackend('wasm');
  const cfg = resolveConfig({ steps, ...partial, workers: 1 }, 'bench');
  const evalEpisodes = args.includes('--eval');
  const learner = new MetaLearner(cfg, new LocalExecutor({ cfg, spec: modelSpecOf(cfg) }));
  const rng = new Rng([cfg.seed, 0xbe4c]);
  const batch = () => Array.from({ length: cfg.metaBatch }, () => randomEpisode(cfg, rng));
  // Warm-up, not counted.
  if (evalEpisodes) await runEvalBench({ ...partial, workers: 1 }, 1);
  else await learner.metaStep(batch());
  const c0 = cpuMs();
  const w0 = performance.now();
  const table = await profileKernels(async () => {
    if (evalEpisodes) await runEvalBench({ ...partial, workers: 1 }, steps);
    else for (let i = 0; i < steps; i++) await learner.metaStep(batch());
  }, shapes);
  const stepCpu = (cpuMs() - c0) / steps;
  const stepWall = (performance.now() - w0) / steps;
  const rows = [...table.entries()].sort((a, b) => b[1].cpuMs - a[1].cpuMs);
  const inKernels = rows.reduce((s, [, r]) => s + r.cpuMs, 0) / steps;
  console.log(
    `one thread, kernels ${backend.kernels}, per ${evalEpisodes ? 'episode' : 'step'}: cpu ${stepCpu.toFixed(0)} ms (in kernels ${inKernels.toFixed(0)}), wall ${stepWall.toFixed(0)} ms; ` +
      `tensors ${tf.memory().numTensors}; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
  console.log(`${'kernel'.padEnd(64)} ${'calls'.padStart(6)} ${'cpu ms'.padStart(9)} ${'GFLOP/s'.padStart(8)}`);
  for (const [key, r] of rows.slice(0, 40)) {
    const gflops = r.flops > 0 ? (r.flops / r.cpuMs / 1e6).toFixed(1) : '';
    console.log(`${key.padEnd(64)} ${String(r.calls / steps).padStart(6)} ${(r.cpuMs / steps).toFixed(1).padStart(9)} ${gflops.padStart(8)}`);
  }
  await learner.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
