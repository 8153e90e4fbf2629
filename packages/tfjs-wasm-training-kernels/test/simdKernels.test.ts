// The kernels on our SIMD wasm module (src: conv2dGemm, conv2dBackpropFilterGemm,
// batchMatMul) against the cpu backend, and that they take their own path where they should; each
// test runs on both builds of the module (multiply-add fused or not, simd/index.ts).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Worker } from 'node:worker_threads';
import { kernelTuning } from '../src/registerWasm';
import { KERNEL_PATHS, KernelPath, fmaFused, gemmTakesAnyChannels, kernelPath, kernelPathRuns } from '../src/simd';
import { conv2DGemm } from '../src/conv2dGemm';
import { conv2DBackpropFilterGemm } from '../src/conv2dBackpropFilterGemm';
import { batchMatMulGemm } from '../src/batchMatMul';
import { conv2DBackpropInputNarrow } from '../src/conv2dBackpropInputNarrow';
import { assertNoLeak, dataOn, values, startWasm } from './helpers/kernels';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function compare(label: string, f: () => tf.Tensor, tol = 1e-4): Promise<void> {
  const [cpu] = await dataOn('cpu', f);
  const [wasm] = await dataOn('wasm', f);
  const d = maxAbsDiff(wasm, cpu);
  assert.ok(d < tol, `${label}: max |wasm - cpu| = ${d}`);
}

/** Whether our kernel (not wasm's own) takes this call. */
function ours(kernel: (args: never) => tf.TensorInfo | null, inputs: tf.NamedTensorInfoMap, attrs: object): boolean {
  const backend = tf.backend() as unknown as { disposeData(id: object): void };
  const out = kernel({ inputs, backend, attrs } as never);
  if (out) backend.disposeData(out.dataId);
  return out !== null;
}

/** Every path that runs here: both wasm builds, and the native addon's where it is built and the CPU runs it. */
const PATHS = KERNEL_PATHS.filter(kernelPathRuns);

/** A test once per path of the GEMM loops. */
function pathTest(name: string, fn: () => Promise<void>): void {
  for (const p of PATHS) {
    test(`${name} [${p}]`, async () => {
      const saved = kernelTuning.kernels;
      kernelTuning.kernels = p;
      try {
        assert.equal(kernelPath(), p);
        await fn();
      } finally {
        kernelTuning.kernels = saved;
      }
    });
  }
}

before(async () => {
  await startWasm();
});

interface ConvCase {
  x: Shape4;
  f: Shape4;
  p: Pad;
  s?: number;
}

const CONV: ConvCase[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 64], p: 'same' },
  { x: [3, 7, 5, 2], f: [3, 3, 2, 8], p: 'same' },
  { x: [1, 9, 9, 5], f: [5, 5, 5, 16], p: 'valid' },
  { x: [2, 6, 7, 4], f: [1, 1, 4, 8], p: 'same' },
  {
    x: [2, 6, 6, 8],
    f: [3, 2, 8, 8],
    p: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 64], f: [3, 3, 64, 64], p: 'same' },
  { x: [5, 4, 4, 64], f: [3, 3, 64, 32], p: 1 },
  // Output pixels not a multiple of 4: the last tile is partial.
  { x: [1, 3, 3, 6], f: [3, 3, 6, 8], p: 'same' },
  { x: [1, 1, 1, 2], f: [1, 1, 2, 8], p: 'valid' },
  { x: [3, 7, 5, 1], f: [3, 3, 1, 8], p: 'same' },
];

pathTest('Conv2D: the implicit GEMM matches cpu, and applies to stride 1 with Co % 8 == 0 only', async () => {
  for (const c of CONV) {
    const x = () => tf.tensor4d(values(size(c.x), 1), c.x);
    const w = () => tf.tensor4d(values(size(c.f), 2), c.f);
    await compare(`conv2d x ${c.x} f ${c.f} p ${JSON.stringify(c.p)}`, () => tf.conv2d(x(), w(), 1, c.p as 'same'));
    await tf.setBackend('wasm');
    tf.tidy(() => {
      // One input channel stays with wasm's own kernel, except on the native loops.
      const expected = c.x[3] >= 2 || gemmTakesAnyChannels();
      assert.equal(ours(conv2DGemm, { x: x(), filter: w() }, { strides: 1, pad: c.p, dataFormat: 'NHWC', dilations: 1 }), expected, `ours for ${c.x}`);
    });
  }
  await tf.setBackend('wasm');
  tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 8 * 8 * 4, 3), [2, 8, 8, 4]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    assert.equal(ours(conv2DGemm, { x, filter: tf.zeros([3, 3, 4, 6]) }, attrs), false, 'Co % 8 != 0');
    assert.equal(ours(conv2DGemm, { x, filter: tf.zeros([3, 3, 4, 8]) }, { ...attrs, strides: 2 }), false, 'stride 2');
    assert.equal(ours(conv2DGemm, { x, filter: tf.zeros([3, 3, 4, 8]) }, { ...attrs, dilations: 2 }), false, 'dilation 2');
  });
  // Stride 2 and Co = 6 still right (wasm's own kernel).
  await compare('conv2d stride 2', () =>
    tf.conv2d(tf.tensor4d(values(2 * 9 * 9 * 3, 4), [2, 9, 9, 3]), tf.tensor4d(values(3 * 3 * 3 * 6, 5), [3, 3, 3, 6]), 2, 'same'),
  );
});

pathTest('Conv2D gradients (input and filter) through the new kernels match cpu', async () => {
  for (const c of CONV.slice(0, 7)) {
    const f = () => {
      const x = tf.tensor4d(values(size(c.x), 6), c.x);
      const w = tf.tensor4d(values(size(c.f), 7), c.f);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, c.p as 'same'))))([x, w]);
      return tf.concat([tf.reshape(g[0], [-1]), tf.reshape(g[1], [-1])]);
    };
    await compare(`conv2d grads x ${c.x} f ${c.f}`, f, 1e-3);
  }
});

pathTest('Conv2DBackpropFilter: the implicit GEMM matches cpu (Ci padded to 4 for the wasm loops, any Ci native)', async () => {
  for (const c of CONV) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.p as 'same');
    const attrs = { strides: 1, pad: c.p, dataFormat: 'NHWC', filterShape: c.f };
    const x = () => tf.tensor4d(values(size(c.x), 8), c.x);
    const dy = () => tf.tensor4d(values(size(info.outShape), 9), info.outShape);
    await compare(
      `dW x ${c.x} f ${c.f}`,
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x: x(), dy: dy() }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      1e-3,
    );
    await tf.setBackend('wasm');
    tf.tidy(() => assert.ok(ours(conv2DBackpropFilterGemm, { x: x(), dy: dy() }, attrs), `ours for ${c.x}`));
  }
  // A tuning knob off 'auto' keeps the im2col path (which the kernels test checks).
  await tf.setBackend('wasm');
  const saved = kernelTuning.backpropFilter;
  kernelTuning.backpropFilter = 'im2col';
  try {
    tf.tidy(() => {
      const c = CONV[0];
      const attrs = { strides: 1, pad: c.p, dataFormat: 'NHWC', filterShape: c.f };
      assert.equal(ours(conv2DBackpropFilterGemm, { x: tf.zeros(c.x), dy: tf.zeros([...c.x.slice(0, 3), c.f[3]]) }, attrs), false);
    });
  } finally {
    kernelTuning.backpropFilter = saved;
  }
});

pathTest('Conv2DBackpropInput into <= 3 channels: the narrow implicit GEMM matches cpu', async () => {
  const cases: ConvCase[] = [
    { x: [2, 8, 8, 3], f: [3, 3, 3, 64], p: 'same' },
    { x: [3, 7, 5, 1], f: [3, 3, 1, 8], p: 'same' },
    { x: [1, 9, 9, 2], f: [5, 5, 2, 4], p: 'valid' },
    { x: [2, 6, 7, 3], f: [1, 1, 3, 12], p: 'same' },
    {
      x: [2, 6, 6, 3],
      f: [3, 2, 3, 8],
      p: [
        [0, 0],
        [2, 0],
        [0, 1],
        [0, 0],
      ],
    },
    { x: [1, 3, 3, 3], f: [3, 3, 3, 4], p: 'same' },
  ];
  for (const c of cases) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.p as 'same');
    const attrs = { strides: 1, pad: c.p, dataFormat: 'NHWC', inputShape: c.x };
    const dy = () => tf.tensor4d(values(size(info.outShape), 15), info.outShape);
    const w = () => tf.tensor4d(values(size(c.f), 16), c.f);
    await compare(
      `dx x ${c.x} f ${c.f} p ${JSON.stringify(c.p)}`,
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy(), filter: w() }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      1e-4,
    );
    await tf.setBackend('wasm');
    tf.tidy(() => assert.ok(ours(conv2DBackpropInputNarrow, { dy: dy(), filter: w() }, attrs), `ours for ${c.x}`));
  }
  await tf.setBackend('wasm');
  tf.tidy(() => {
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 8, 8, 4] };
    assert.equal(ours(conv2DBackpropInputNarrow, { dy: tf.zeros([2, 8, 8, 8]), filter: tf.zeros([3, 3, 4, 8]) }, attrs), false, '4 channels');
  });
});

pathTest('BatchMatMul: every transpose, batch broadcast and column remainder matches cpu', async () => {
  const cases: [number[], number[]][] = [
    [
      [75, 256],
      [256, 256],
    ],
    [
      [7, 13],
      [13, 5],
    ],
    [
      [3, 4, 9],
      [3, 9, 12],
    ],
    [
      [1, 6, 10],
      [4, 10, 16],
    ],
    [
      [4, 6, 10],
      [1, 10, 3],
    ],
    // Many rows and n % 8 != 0: b and the output padded to n8.
    [
      [3000, 64],
      [64, 27],
    ],
    [
      [1, 1],
      [1, 1],
    ],
  ];
  for (const [sa, sb] of cases) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const shapeA = ta ? [...sa.slice(0, -2), sa[sa.length - 1], sa[sa.length - 2]] : sa;
        const shapeB = tb ? [...sb.slice(0, -2), sb[sb.length - 1], sb[sb.length - 2]] : sb;
        const f = () => tf.matMul(tf.tensor(values(size(shapeA), 10), shapeA), tf.tensor(values(size(shapeB), 11), shapeB), ta, tb);
        await compare(`matMul ${shapeA} ${shapeB} ${ta} ${tb}`, f, 1e-4);
        await tf.setBackend('wasm');
        tf.tidy(() => {
          const inputs = { a: tf.tensor(values(size(shapeA), 10), shapeA), b: tf.tensor(values(size(shapeB), 11), shapeB) };
          assert.ok(ours(batchMatMulGemm, inputs, { transposeA: ta, transposeB: tb }), `ours for ${shapeA} ${shapeB}`);
        });
      }
    }
  }
});

pathTest('no tensors or wasm buffers leak through the new kernels', async () => {
  await tf.setBackend('wasm');
  assertNoLeak(() =>
    tf.tidy(() => {
      const x = tf.tensor4d(values(2 * 8 * 8 * 3, 12), [2, 8, 8, 3]);
      const w = tf.tensor4d(values(3 * 3 * 3 * 8, 13), [3, 3, 3, 8]);
      const d = tf.tensor2d(values(6 * 10, 14), [6, 10]);
      tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, w]);
      tf.grads((a: tf.Tensor) => tf.sum(tf.matMul(a, a, false, true)))([d]);
    }),
  );
});

test('the widest path that runs is picked by default, in worker threads too, and the environment can force another', async () => {
  // Every Node this package supports (>= 20.9) compiles relaxed SIMD, Node 20 behind its flag;
  // the native addon runs where scripts/build-native.js built it and the CPU has AVX2 + FMA.
  assert.equal(kernelTuning.kernels, 'auto');
  assert.ok(PATHS.includes('wasm-simd-fma'));
  const widest = PATHS[0];
  assert.equal(kernelPath(), widest);
  const inWorker = (env: NodeJS.ProcessEnv) =>
    new Promise<string>((resolve, reject) => {
      const w = new Worker(
        `process.env.ROBUST_META_KERNELS = ${JSON.stringify(env.ROBUST_META_KERNELS ?? '')};
        const simd = require(${JSON.stringify(require.resolve('../src/simd'))});
        let answer;
        try { answer = simd.kernelPath(); } catch (e) { answer = e.message; }
        require('worker_threads').parentPort.postMessage(answer);`,
        { eval: true },
      );
      w.once('message', (m) => {
        resolve(m as string);
        void w.terminate();
      });
      w.once('error', reject);
    });
  assert.equal(await inWorker({}), widest);
  assert.equal(await inWorker({ ROBUST_META_KERNELS: 'wasm-simd' }), 'wasm-simd');
  assert.equal(await inWorker({ ROBUST_META_KERNELS: 'wasm-simd-fma' }), 'wasm-simd-fma');
  assert.match(await inWorker({ ROBUST_META_KERNELS: 'avx9' }), /kernels: avx9 \(ROBUST_META_KERNELS\?\) is none of auto, native-avx512/);
  const missing = KERNEL_PATHS.find((p) => !kernelPathRuns(p));
  if (missing)
    assert.match(await inWorker({ ROBUST_META_KERNELS: missing }), new RegExp(`${missing} asked for, but it does not run here; these do: ${PATHS.join(', ')}`));
});

test('the two builds differ only in rounding: fused where the CPU has FMA', async () => {
  await tf.setBackend('wasm');
  const x = () => tf.tensor4d(values(2 * 8 * 8 * 64, 17), [2, 8, 8, 64]);
  const w = () => tf.tensor4d(values(3 * 3 * 64 * 64, 18), [3, 3, 64, 64]);
  const run = async (p: KernelPath) => {
    const saved = kernelTuning.kernels;
    kernelTuning.kernels = p;
    try {
      return (await dataOn('wasm', () => tf.conv2d(x(), w(), 1, 'same')))[0];
    } finally {
      kernelTuning.kernels = saved;
    }
  };
  const plain = await run('wasm-simd');
  const fma = await run('wasm-simd-fma');
  assert.ok(maxAbsDiff(plain, fma) < 1e-4);
  // One rounding instead of two changes some of the 4 * 64 * 64 sums' last bits.
  assert.equal(
    plain.some((v, i) => v !== fma[i]),
    fmaFused(),
  );
});
