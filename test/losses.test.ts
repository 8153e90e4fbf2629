import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { testBackend } from './helpers/engine';
import { accuracy, cosineConsistencyPerSample, crossEntropy, klPerSample, ntXent, symmetricKlPerSample } from '../src/core/losses';
import { Rng } from '../src/core/rng';

const close = (a: number, b: number, tol = 1e-4) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);

function softmaxRow(r: number[]): number[] {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

test('cross-entropy matches a plain reference', async () => {
  await testBackend();
  const logits = [
    [2, 1, 0],
    [0.5, 0.5, 3],
  ];
  const labels = [0, 2];
  const ref = -(Math.log(softmaxRow(logits[0])[0]) + Math.log(softmaxRow(logits[1])[2])) / 2;
  close(crossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32')).dataSync()[0], ref);
});

test('NT-Xent matches a plain reference over 2n anchors', async () => {
  await testBackend();
  const rng = new Rng(3);
  const n = 4,
    d = 6,
    tau = 0.5;
  const z1 = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const z2 = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
  const norm = (v: number[]) => {
    const l = Math.hypot(...v);
    return v.map((x) => x / l);
  };
  const z = [...z1, ...z2].map(norm);
  let total = 0;
  for (let i = 0; i < 2 * n; i++) {
    const pos = (i + n) % (2 * n);
    const sims = z.map((zj, j) => (j === i ? -Infinity : zj.reduce((a, v, k) => a + v * z[i][k], 0) / tau));
    const m = Math.max(...sims);
    const lse = m + Math.log(sims.reduce((a, s) => a + Math.exp(s - m), 0));
    total += lse - sims[pos];
  }
  close(ntXent(tf.tensor2d(z1), tf.tensor2d(z2), tau).dataSync()[0], total / (2 * n));
});

test('NT-Xent is lower for agreeing views than for unrelated ones', async () => {
  await testBackend();
  const rng = new Rng(4);
  const a = tf.tensor2d(rng.normalArray(8 * 16), [8, 16]);
  const b = tf.tensor2d(rng.normalArray(8 * 16), [8, 16]);
  const same = ntXent(a, tf.add(a, tf.mul(b, 0.01)) as tf.Tensor2D, 0.5).dataSync()[0];
  const other = ntXent(a, b, 0.5).dataSync()[0];
  assert.ok(same < other, `agreeing ${same} should be below unrelated ${other}`);
});

test('cosine consistency is 0 for parallel rows and 2 for opposite rows', async () => {
  await testBackend();
  const a = tf.tensor2d([
    [1, 2, 3],
    [1, 0, 0],
  ]);
  const b = tf.tensor2d([
    [2, 4, 6],
    [-3, 0, 0],
  ]);
  const v = cosineConsistencyPerSample(a, b).dataSync();
  close(v[0], 0);
  close(v[1], 2);
});

test('KL and symmetric KL: zero on equal inputs, symmetric, and match a reference', async () => {
  await testBackend();
  const p = [[1, 0, -1]],
    q = [[0, 2, 0]];
  const sp = softmaxRow(p[0]),
    sq = softmaxRow(q[0]);
  const kl = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * Math.log(v / b[i]), 0);
  close(klPerSample(tf.tensor2d(p), tf.tensor2d(q)).dataSync()[0], kl(sp, sq));
  close(klPerSample(tf.tensor2d(p), tf.tensor2d(p)).dataSync()[0], 0);
  const s1 = symmetricKlPerSample(tf.tensor2d(p), tf.tensor2d(q)).dataSync()[0];
  const s2 = symmetricKlPerSample(tf.tensor2d(q), tf.tensor2d(p)).dataSync()[0];
  close(s1, s2);
  close(s1, (kl(sp, sq) + kl(sq, sp)) / 2);
});

test('accuracy counts arg-max hits', async () => {
  await testBackend();
  close(
    accuracy(
      tf.tensor2d([
        [1, 0],
        [0, 1],
        [1, 0],
      ]),
      tf.tensor1d([0, 1, 1], 'int32'),
    ).dataSync()[0],
    2 / 3,
  );
});
