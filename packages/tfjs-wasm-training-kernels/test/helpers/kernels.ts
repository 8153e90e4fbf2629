// Shared pieces of the wasm kernel tests (kernels, simdKernels, bnReluPool, convBnReluPool).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerTrainingGradients, registerWasmKernels } from '../../src';

/**
 * The setup a user of this package does: tfjs's gradients and ours, our wasm kernels, then the
 * wasm backend (prod mode, as the engine runs it).
 */
export async function startWasm(): Promise<void> {
  registerTrainingGradients();
  tf.enableProdMode();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep);
  registerWasmKernels();
  assert.ok(await tf.setBackend('wasm'), 'the wasm backend did not initialise');
}

/**
 * n deterministic values in [offset - scale, offset + scale) from a seed (a linear congruential
 * stream, not tfjs's randomness: every backend and run sees the same numbers).
 */
export function values(n: number, seed: number, scale = 0.5, offset = 0): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * scale + offset;
  }
  return a;
}

/**
 * Runs `run` once (kernels may set up state on first use), then five times more, and asserts that
 * neither the live tensors nor the current backend's data buffers grew.
 */
export function assertNoLeak(run: () => void): void {
  const backend = tf.backend() as unknown as { numDataIds(): number };
  run();
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  for (let i = 0; i < 5; i++) run();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), buffers);
}

/** Runs f on the named backend and returns the data of its outputs (one or several). */
export async function dataOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf
    .tidy(() => {
      const out = f();
      return Array.isArray(out) ? out : [out];
    })
    .map((t) => {
      const d = t.dataSync() as Float32Array;
      t.dispose();
      return d;
    });
}
