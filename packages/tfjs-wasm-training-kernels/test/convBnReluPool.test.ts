// The fused first block (src/convBnReluPool.ts) on the native loops, against conv2d + the
// composite batch norm, ReLU and pool on the cpu backend (values and the four gradients), against
// the two wasm ops it replaces (the same bits where it says so), its lazy gradients, where it
// applies, and no leaks.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { fusedBnReluPool, fusedBnReluPoolApplies, fusion } from '../src/bnReluPool';
import { CONV_BN_RELU_POOL_DW, CONV_BN_RELU_POOL_DX, fusedConvBnReluPool, fusedConvBnReluPoolApplies } from '../src/convBnReluPool';
import { nativeIsa, nativeUnavailable } from '../src/simd/native';
import { assertNoLeak, dataOn, values, startWasm } from './helpers/kernels';

const BN_EPS = 1e-5;
const skip = nativeIsa() !== undefined ? false : `native kernels not running here: ${nativeUnavailable()}`;

type Pad = 'same' | 'valid';

/** The block as robust-meta's Conv4 writes it: the fused op where it applies, else conv then batch norm, ReLU, pool. */
function block(x: tf.Tensor4D, w: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, pad: Pad): tf.Tensor4D {
  if (fusedConvBnReluPoolApplies(x, w, pad)) return fusedConvBnReluPool(x, w, gamma, beta, BN_EPS, pad);
  const h = tf.conv2d(x, w, 1, pad);
  if (fusedBnReluPoolApplies(h)) return fusedBnReluPool(h, gamma, beta, BN_EPS);
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  const y = tf.batchNorm4d(h, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPS);
  return tf.maxPool(tf.relu(y), 2, 2, 'valid');
}

interface Case {
  x: [number, number, number, number];
  co: number;
  pad: Pad;
}

// 28x28x1 -> 32: chunks of 2 images, the last one short; 32x32x3 -> 64: one image a chunk; a
// small odd-width image; 'valid' padding (10 -> 8).
const CASES: Case[] = [
  { x: [5, 28, 28, 1], co: 32, pad: 'same' },
  { x: [3, 32, 32, 3], co: 64, pad: 'same' },
  { x: [4, 6, 10, 2], co: 8, pad: 'same' },
  { x: [3, 10, 10, 1], co: 16, pad: 'valid' },
];

function inputs(c: Case) {
  const [N, H, W, Ci] = c.x;
  const x = tf.tensor4d(values(N * H * W * Ci, 31, 1, 0.5), c.x);
  const w = tf.tensor4d(values(9 * Ci * c.co, 32, 0.5), [3, 3, Ci, c.co]);
  // Some gammas negative: the window's maximum is then at the conv output's minimum.
  const gamma = tf.tensor1d(values(c.co, 33, 1.5));
  const beta = tf.tensor1d(values(c.co, 34, 0.5));
  const Ho = c.pad === 'same' ? H : H - 2;
  const Wo = c.pad === 'same' ? W : W - 2;
  const r = tf.tensor4d(values(N * (Ho >> 1) * (Wo >> 1) * c.co, 35, 1), [N, Ho >> 1, Wo >> 1, c.co]);
  return { x, w, gamma, beta, r };
}

/** y, and the gradients of <y, r> w.r.t. x, the filter, gamma and beta. */
function forwardAndGrads(c: Case): tf.Tensor[] {
  const { x, w, gamma, beta, r } = inputs(c);
  const f = (a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(block(a as tf.Tensor4D, b as tf.Tensor4D, g, bb, c.pad), r));
  return [block(x, w, gamma, beta, c.pad), ...tf.grads(f)([x, w, gamma, beta])];
}

function relativeDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return m / scale;
}

async function withoutFusion<T>(f: () => Promise<T>): Promise<T> {
  fusion.convBnReluPool = false;
  try {
    return await f();
  } finally {
    fusion.convBnReluPool = true;
  }
}

before(async () => {
  await startWasm();
});

test('the fused block applies to an image layer on the native loops, not to 32 input channels, odd outputs, cpu, nor with fusion off', { skip }, async () => {
  await tf.setBackend('wasm');
  const applies = (x: [number, number, number, number], w: [number, number, number, number], pad: Pad = 'same') =>
    tf.tidy(() => fusedConvBnReluPoolApplies(tf.zeros(x) as tf.Tensor4D, tf.zeros(w) as tf.Tensor4D, pad));
  assert.equal(applies([2, 28, 28, 1], [3, 3, 1, 32]), true);
  assert.equal(applies([2, 32, 32, 3], [3, 3, 3, 64]), true);
  assert.equal(applies([2, 14, 14, 32], [3, 3, 32, 32]), false);
  assert.equal(applies([2, 7, 7, 1], [3, 3, 1, 32]), false);
  assert.equal(applies([2, 28, 28, 1], [3, 3, 1, 12]), false);
  await withoutFusion(async () => assert.equal(applies([2, 28, 28, 1], [3, 3, 1, 32]), false));
  await tf.setBackend('cpu');
  assert.equal(applies([2, 28, 28, 1], [3, 3, 1, 32]), false);
  await tf.setBackend('wasm');
});

test('values and the gradients of x, the filter, gamma and beta match conv + batch norm + ReLU + pool on cpu', { skip }, async () => {
  for (const c of CASES) {
    const cpu = await dataOn('cpu', () => forwardAndGrads(c));
    const wasm = await dataOn('wasm', () => forwardAndGrads(c));
    ['y', 'dx', 'dfilter', 'dgamma', 'dbeta'].forEach((name, i) => {
      const d = relativeDiff(wasm[i], cpu[i]);
      assert.ok(d < 1e-4, `${JSON.stringify(c)} ${name}: relative max |fused - cpu| = ${d}`);
    });
  }
});

test('the output and the gradients of the image, gamma and beta are the bits of the two wasm ops it replaces', { skip }, async () => {
  const c = CASES[0];
  const fused = await dataOn('wasm', () => forwardAndGrads(c));
  const apart = await withoutFusion(() => dataOn('wasm', () => forwardAndGrads(c)));
  assert.deepEqual(fused[0], apart[0], 'y');
  assert.deepEqual(fused[1], apart[1], 'dx');
  // The filter's gradient sums its pixels chunk by chunk; gamma's and beta's are the same sums.
  assert.ok(relativeDiff(fused[2], apart[2]) < 1e-5, 'dfilter');
  assert.deepEqual(fused[3], apart[3], 'dgamma');
  assert.deepEqual(fused[4], apart[4], 'dbeta');
});

test("gradients are lazy: an attack's gradient runs no filter gradient, the parameters' no image gradient", { skip }, async () => {
  await tf.setBackend('wasm');
  const c = CASES[0];
  const kernelsOf = async (f: () => tf.Tensor[]) => {
    const p = await tf.profile(() => tf.dispose(f()));
    return new Set(p.kernelNames);
  };
  const { x, w, gamma, beta, r } = inputs(c);
  const loss = (a: tf.Tensor4D, b: tf.Tensor4D, g: tf.Tensor) => tf.sum(tf.mul(block(a, b, g, beta, c.pad), r));
  const attack = await kernelsOf(() => [tf.grad((a: tf.Tensor) => loss(a as tf.Tensor4D, w, gamma))(x)]);
  assert.ok(attack.has(CONV_BN_RELU_POOL_DX) && !attack.has(CONV_BN_RELU_POOL_DW), [...attack].join(' '));
  const params = await kernelsOf(() => tf.grads((b: tf.Tensor, g: tf.Tensor) => loss(x, b as tf.Tensor4D, g))([w, gamma]));
  assert.ok(params.has(CONV_BN_RELU_POOL_DW) && !params.has(CONV_BN_RELU_POOL_DX), [...params].join(' '));
  tf.dispose([x, w, gamma, beta, r]);
});

test('second order: under nested tapes conv and the composite ops run, and match cpu', { skip }, async () => {
  const c = CASES[2];
  const S = () => {
    const { x, w, gamma, beta, r } = inputs(c);
    const loss = (ww: tf.Tensor) => tf.sum(tf.mul(block(x, ww as tf.Tensor4D, gamma, beta, c.pad), r));
    const v = tf.tensor4d(values(w.size, 36, 1), w.shape);
    return [tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.grad(loss)(ww), v)))(w)];
  };
  const cpu = await dataOn('cpu', S);
  const wasm = await dataOn('wasm', S);
  const d = relativeDiff(wasm[0], cpu[0]);
  assert.ok(d < 1e-3, `second-order gradient: relative max |wasm - cpu| = ${d}`);
});

test('no tensors or wasm buffers leak', { skip }, async () => {
  await tf.setBackend('wasm');
  assertNoLeak(() => tf.dispose(tf.tidy(() => forwardAndGrads(CASES[0]))));
});
