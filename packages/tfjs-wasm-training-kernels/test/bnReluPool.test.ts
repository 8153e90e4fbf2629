// The fused batch norm + ReLU + max-pool op (src/bnReluPool.ts) on wasm, against the
// composite ops on the cpu backend: values and gradients, odd sizes, ties, negative gamma; the
// composite path under nested tapes (second order); no leaks; the SIMD module up to date.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fusedBnReluPool, fusedBnReluPoolApplies, fusion } from '../src/bnReluPool';
import { SIMD_WAT_SHA256 } from '../src/simd/simdModule';
import { assertNoLeak, dataOn, values, startWasm } from './helpers/kernels';

const BN_EPS = 1e-5;

/**
 * The op as a user of the package writes it (robust-meta's Conv4 block): the fused kernel where
 * it applies, else batch norm with the batch's statistics, ReLU and a 2x2 max-pool.
 */
function bnReluPool(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  if (fusedBnReluPoolApplies(x)) return fusedBnReluPool(x, gamma, beta, BN_EPS);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPS);
  return tf.maxPool(tf.relu(y), 2, 2, 'valid');
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface Case {
  shape: [number, number, number, number];
  /** Quantise x to this step (many exact ties), or 0. */
  quantum?: number;
  offset?: number;
}

const CASES: Case[] = [
  { shape: [5, 32, 32, 64] },
  { shape: [3, 7, 9, 8] },
  { shape: [2, 4, 4, 4] },
  { shape: [4, 5, 6, 12], quantum: 0.5 },
  { shape: [6, 2, 2, 16], offset: 40 },
  { shape: [2, 3, 2, 4], quantum: 1 },
];

/** y, and the gradients of <y, w> w.r.t. x, gamma and beta. */
function forwardAndGrads(c: Case): tf.Tensor[] {
  const [N, H, W, C] = c.shape;
  let xv = values(size(c.shape), 11, 2, c.offset ?? 0.3);
  if (c.quantum) xv = xv.map((v) => Math.round(v / c.quantum!) * c.quantum!);
  const x = tf.tensor4d(xv, c.shape);
  // Some gammas negative: the maximum of the normalised window is then at x's minimum.
  const gamma = tf.tensor1d(values(C, 12, 1.5));
  const beta = tf.tensor1d(values(C, 13, 0.5));
  const w = tf.tensor4d(values(N * (H >> 1) * (W >> 1) * C, 14, 1), [N, H >> 1, W >> 1, C]);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bnReluPool(a as tf.Tensor4D, g, b), w));
  const y = bnReluPool(x, gamma, beta);
  return [y, ...tf.grads(f)([x, gamma, beta])];
}

before(async () => {
  await startWasm();
});

test('the fused op applies on wasm for Conv4 shapes, not on cpu nor for C % 4 != 0', async () => {
  await tf.setBackend('wasm');
  tf.tidy(() => {
    assert.equal(fusedBnReluPoolApplies(tf.zeros([2, 8, 8, 64]) as tf.Tensor4D), true);
    assert.equal(fusedBnReluPoolApplies(tf.zeros([2, 8, 8, 6]) as tf.Tensor4D), false);
    assert.equal(fusedBnReluPoolApplies(tf.zeros([2, 1, 8, 8]) as tf.Tensor4D), false);
  });
  await tf.setBackend('cpu');
  tf.tidy(() => assert.equal(fusedBnReluPoolApplies(tf.zeros([2, 8, 8, 64]) as tf.Tensor4D), false));
  await tf.setBackend('wasm');
});

test('fused values and gradients match the composite ops on cpu', async () => {
  for (const c of CASES) {
    const cpu = await dataOn('cpu', () => forwardAndGrads(c));
    const wasm = await dataOn('wasm', () => forwardAndGrads(c));
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((name, i) => {
      const scale = Math.max(1, maxAbs(cpu[i]));
      const d = maxAbsDiff(wasm[i], cpu[i]) / scale;
      assert.ok(d < 1e-4, `${c.shape} ${JSON.stringify(c)} ${name}: relative max |wasm - cpu| = ${d}`);
    });
  }
});

test('with fusion off, wasm runs the composite ops with the same results', async () => {
  const c = CASES[1];
  const fused = await dataOn('wasm', () => forwardAndGrads(c));
  fusion.bnReluPool = false;
  try {
    const composite = await dataOn('wasm', () => forwardAndGrads(c));
    fused.forEach((f, i) => assert.ok(maxAbsDiff(f, composite[i]) < 1e-4, `output ${i}`));
  } finally {
    fusion.bnReluPool = true;
  }
});

test('second order: under nested tapes the composite ops run, and match cpu', async () => {
  const x = () => tf.tensor4d(values(2 * 8 * 8 * 3, 21, 0.5, 0.5), [2, 8, 8, 3]);
  const w = () => tf.tensor4d(values(3 * 3 * 3 * 8, 22, 0.4), [3, 3, 3, 8]);
  const r = () => tf.tensor4d(values(3 * 3 * 3 * 8, 23, 1), [3, 3, 3, 8]);
  const S = () => {
    const x0 = x();
    const gamma = tf.tensor1d(values(8, 24, 0.3, 1));
    const beta = tf.tensor1d(values(8, 25, 0.1));
    const loss = (ww: tf.Tensor) => tf.sum(tf.square(bnReluPool(tf.conv2d(x0, ww as tf.Tensor4D, 1, 'same'), gamma, beta)));
    // d/dw of <d loss/dw, r>: the inner gradient is taken under the outer tape.
    const rr = r();
    return [tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss)(ww), rr)))(w())];
  };
  const cpu = await dataOn('cpu', S);
  const wasm = await dataOn('wasm', S);
  const d = maxAbsDiff(wasm[0], cpu[0]) / Math.max(1, maxAbs(cpu[0]));
  assert.ok(d < 1e-3, `second-order gradient: relative max |wasm - cpu| = ${d}`);
});

test('no tensors or wasm buffers leak', async () => {
  await tf.setBackend('wasm');
  assertNoLeak(() => tf.dispose(tf.tidy(() => forwardAndGrads(CASES[1]))));
});

test('simdModule.ts is built from the current kernels.wat', () => {
  const wat = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'simd', 'kernels.wat'));
  const sha = crypto.createHash('sha256').update(wat).digest('hex');
  assert.equal(sha, SIMD_WAT_SHA256, 'kernels.wat changed: rerun scripts/build-simd-kernels.js (see its header)');
});
