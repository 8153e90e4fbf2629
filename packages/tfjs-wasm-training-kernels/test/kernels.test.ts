// The wasm kernels and gradients of this package, checked against the cpu backend.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWasmKernels, originalWasmKernel, kernelTuning } from '../src/registerWasm';
import { registerMissingGradients } from '../src/gradients';
import { assertNoLeak, dataOn, values, startWasm } from './helpers/kernels';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

interface ConvCase {
  x: Shape4;
  f: Shape4;
  s: number | [number, number];
  p: Pad;
}

const CONV_CASES: ConvCase[] = [
  { x: [2, 8, 8, 1], f: [3, 3, 1, 4], s: 1, p: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 8], s: 1, p: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 8], s: 2, p: 'same' },
  { x: [2, 9, 7, 3], f: [3, 2, 3, 5], s: [2, 1], p: 'valid' },
  {
    x: [2, 8, 8, 4],
    f: [3, 3, 4, 4],
    s: 1,
    p: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [2, 9, 9, 4],
    f: [3, 3, 4, 6],
    s: 2,
    p: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 64], f: [3, 3, 64, 64], s: 1, p: 'same' },
  { x: [2, 8, 8, 64], f: [3, 3, 64, 16], s: 2, p: 'valid' },
  { x: [3, 7, 7, 64], f: [3, 3, 64, 3], s: 2, p: 'same' },
  { x: [2, 6, 6, 3], f: [1, 1, 3, 64], s: 1, p: 'same' },
  { x: [2, 7, 7, 3], f: [5, 5, 3, 2], s: 2, p: 'same' },
  { x: [2, 11, 10, 2], f: [3, 3, 2, 3], s: 3, p: 'valid' },
  // Padding larger than the filter: Conv2DBackpropInput's conv way cannot express it.
  { x: [2, 6, 6, 2], f: [3, 3, 2, 3], s: 1, p: 4 },
  { x: [4, 16, 16, 64], f: [3, 3, 64, 64], s: 1, p: 'same' },
];

function describe(c: ConvCase): string {
  return `x ${c.x} f ${c.f} s ${c.s} p ${JSON.stringify(c.p)}`;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The same computation on cpu and wasm; asserts max |diff| < tol for every output. */
async function compare(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-3): Promise<void> {
  const cpu = await dataOn('cpu', f);
  const wsm = await dataOn('wasm', f);
  assert.equal(cpu.length, wsm.length);
  for (let i = 0; i < cpu.length; i++) {
    const d = maxAbsDiff(cpu[i], wsm[i]);
    assert.ok(d < tol, `${label}, output ${i}: max |wasm - cpu| = ${d}`);
  }
}

function convInputs(c: ConvCase): { x: tf.Tensor4D; w: tf.Tensor4D; dy: tf.Tensor4D } {
  const x = tf.tensor4d(values(size(c.x), 1), c.x);
  const w = tf.tensor4d(values(size(c.f), 2), c.f);
  const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p).outShape;
  const dy = tf.tensor4d(values(size(outShape), 3), outShape as Shape4);
  return { x, w, dy };
}

/** Plain-loop references (the cpu backend's Conv2DBackpropFilter takes seconds at 64 channels). */
function refBackpropFilter(c: ConvCase, x: Float32Array, dy: Float32Array): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const dw = new Float64Array(size(c.f));
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let ky = 0; ky < info.filterHeight; ky++) {
          const iy = oy * info.strideHeight - info.padInfo.top + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < info.filterWidth; kx++) {
            const ix = ox * info.strideWidth - info.padInfo.left + kx;
            if (ix < 0 || ix >= W) continue;
            for (let ci = 0; ci < Ci; ci++) {
              const xv = x[((n * H + iy) * W + ix) * Ci + ci];
              const d = ((ky * info.filterWidth + kx) * Ci + ci) * Co;
              const s = ((n * Ho + oy) * Wo + ox) * Co;
              for (let co = 0; co < Co; co++) dw[d + co] += xv * dy[s + co];
            }
          }
        }
  return Float32Array.from(dw);
}

function refBackpropInput(c: ConvCase, dy: Float32Array, w: Float32Array): Float32Array {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const dx = new Float64Array(size(c.x));
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let ky = 0; ky < info.filterHeight; ky++) {
          const iy = oy * info.strideHeight - info.padInfo.top + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < info.filterWidth; kx++) {
            const ix = ox * info.strideWidth - info.padInfo.left + kx;
            if (ix < 0 || ix >= W) continue;
            for (let ci = 0; ci < Ci; ci++) {
              const d = ((n * H + iy) * W + ix) * Ci + ci;
              const f = ((ky * info.filterWidth + kx) * Ci + ci) * Co;
              const s = ((n * Ho + oy) * Wo + ox) * Co;
              let acc = 0;
              for (let co = 0; co < Co; co++) acc += w[f + co] * dy[s + co];
              dx[d] += acc;
            }
          }
        }
  return Float32Array.from(dx);
}

/** Whether the cpu backend does this case in well under a second. */
function cheapOnCpu(c: ConvCase): boolean {
  return size(c.x) * c.f[3] * c.f[0] * c.f[1] < 200000;
}

/** Our kernel on wasm against the plain-loop reference, and that reference against cpu where cheap. */
async function checkKernel(
  label: string,
  c: ConvCase,
  kernel: (t: { x: tf.Tensor4D; w: tf.Tensor4D; dy: tf.Tensor4D }) => tf.Tensor,
  reference: (x: Float32Array, w: Float32Array, dy: Float32Array) => Float32Array,
): Promise<void> {
  const x = values(size(c.x), 1);
  const w = values(size(c.f), 2);
  const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p).outShape;
  const dy = values(size(outShape), 3);
  const ref = reference(x, w, dy);
  const backends = cheapOnCpu(c) ? ['wasm', 'cpu'] : ['wasm'];
  for (const b of backends) {
    const [got] = await dataOn(b, () => kernel(convInputs(c)));
    const d = maxAbsDiff(got, ref);
    assert.ok(d < 1e-3, `${label} ${describe(c)} on ${b}: max |diff| from the reference = ${d}`);
  }
}

function backpropFilter(c: ConvCase, x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: c.s,
    pad: c.p,
    dataFormat: 'NHWC',
    filterShape: c.f,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

function backpropInput(c: ConvCase, dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
    strides: c.s,
    pad: c.p,
    dataFormat: 'NHWC',
    inputShape: c.x,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

async function withTuning(t: Partial<typeof kernelTuning>, f: () => Promise<void>): Promise<void> {
  const saved = { ...kernelTuning };
  Object.assign(kernelTuning, t);
  try {
    await f();
  } finally {
    Object.assign(kernelTuning, saved);
  }
}

before(async () => {
  // The production path: tfjs's gradients, ours, our wasm kernels, then the wasm backend.
  await startWasm();
});

test('registration is idempotent and keeps the original kernels', () => {
  const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'MaxPoolWithArgmax', 'Tile', 'Sum', 'Mean', 'GatherV2', 'Identity', 'Sign'];
  const grads = ['Conv2DBackpropFilter', 'MaxPoolGrad', 'Greater', 'Tile', 'Sum', 'Mean'];
  const before = names.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
  const gradsBefore = grads.map((k) => tf.getGradient(k));
  registerWasmKernels();
  registerMissingGradients();
  assert.deepEqual(
    names.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc),
    before,
  );
  assert.deepEqual(
    grads.map((k) => tf.getGradient(k)),
    gradsBefore,
  );
  assert.ok(before.every((f) => typeof f === 'function'));
  for (const k of ['Conv2DBackpropInput', 'Tile', 'Sum', 'Mean', 'GatherV2', 'Identity', 'Sign']) {
    assert.equal(typeof originalWasmKernel(k), 'function', k);
  }
  assert.ok(gradsBefore.every((g) => g !== undefined));
});

test('Conv2DBackpropFilter matches cpu / the reference', async () => {
  for (const c of CONV_CASES) {
    await checkKernel(
      'dW',
      c,
      ({ x, dy }) => backpropFilter(c, x, dy),
      (x, _w, dy) => refBackpropFilter(c, x, dy),
    );
  }
});

test('Conv2DBackpropFilter: every im2col path, orientation and chunking matches the reference', async () => {
  const cases = CONV_CASES.filter((c) => size(c.x) < 20000);
  await tf.setBackend('wasm');
  const variants: Partial<typeof kernelTuning>[] = [
    { im2col: 'general', orientation: 'pt' },
    { im2col: 'auto', orientation: 'pt' },
    { im2col: 'auto', orientation: 'p' },
    { im2col: 'general', orientation: 'pt', chunkElements: 1000 },
    { im2col: 'auto', orientation: 'pt', chunkElements: 1000 },
    { im2col: 'auto', orientation: 'p', chunkElements: 1000 },
  ];
  for (const v of variants) {
    await withTuning(v, async () => {
      for (const c of cases) {
        const [got] = await dataOn('wasm', () => {
          const { x, dy } = convInputs(c);
          return backpropFilter(c, x, dy);
        });
        const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p).outShape;
        const ref = refBackpropFilter(c, values(size(c.x), 1), values(size(outShape), 3));
        const d = maxAbsDiff(got, ref);
        assert.ok(d < 1e-3, `dW ${JSON.stringify(v)} ${describe(c)}: ${d}`);
      }
    });
  }
});

test('Conv2DBackpropInput matches cpu / the reference and the original wasm kernel', async () => {
  for (const c of CONV_CASES) {
    await checkKernel(
      'dx',
      c,
      ({ w, dy }) => backpropInput(c, dy, w),
      (_x, w, dy) => refBackpropInput(c, dy, w),
    );
  }
  const variants: Partial<typeof kernelTuning>[] = [{ backpropInput: 'conv' }, { backpropInput: 'col2im' }, { backpropInput: 'col2im', chunkElements: 1000 }];
  for (const v of variants) {
    await withTuning(v, async () => {
      for (const c of CONV_CASES.filter((k) => size(k.x) < 20000)) {
        const [got] = await dataOn('wasm', () => {
          const { w, dy } = convInputs(c);
          return backpropInput(c, dy, w);
        });
        const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.p).outShape;
        const ref = refBackpropInput(c, values(size(outShape), 3), values(size(c.f), 2));
        const d = maxAbsDiff(got, ref);
        assert.ok(d < 1e-3, `dx ${JSON.stringify(v)} ${describe(c)}: ${d}`);
      }
    });
  }
  // The original kernel, called directly on the wasm backend.
  await tf.setBackend('wasm');
  const original = originalWasmKernel('Conv2DBackpropInput')!;
  for (const c of CONV_CASES.slice(0, 6)) {
    const [ours, theirs] = tf.tidy(() => {
      const { w, dy } = convInputs(c);
      const info = original({
        inputs: { dy, filter: w },
        backend: tf.backend(),
        attrs: { strides: c.s, pad: c.p, dataFormat: 'NHWC', inputShape: c.x } as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      const theirs = tf.engine().makeTensorFromTensorInfo(info);
      return [backpropInput(c, dy, w), theirs];
    });
    const d = maxAbsDiff(ours.dataSync(), theirs.dataSync());
    tf.dispose([ours, theirs]);
    assert.ok(d < 1e-3, `dx vs original ${describe(c)}: ${d}`);
  }
});

test('conv2d gradients (tf.grads) match cpu', async () => {
  for (const c of CONV_CASES.filter((k) => size(k.x) < 20000)) {
    await compare(`grads ${describe(c)}`, () => {
      const { x, w, dy } = convInputs(c);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.p as 'same'), dy));
      return tf.grads(f)([x, w]);
    });
  }
});

interface PoolCase {
  x: Shape4;
  k: number | [number, number];
  s: number | [number, number];
  p: 'same' | 'valid';
}

const POOL_CASES: PoolCase[] = [
  { x: [2, 8, 8, 3], k: 2, s: 2, p: 'valid' },
  { x: [2, 9, 9, 4], k: 2, s: 2, p: 'valid' },
  { x: [2, 7, 7, 2], k: 3, s: 2, p: 'same' },
  { x: [1, 6, 5, 3], k: 3, s: 1, p: 'same' },
  { x: [2, 8, 8, 64], k: [2, 3], s: [2, 1], p: 'valid' },
];

/** Values with many ties and windows that are all zero or all negative. */
function poolValues(n: number, seed: number): Float32Array {
  const v = values(n, seed, 1);
  for (let i = 0; i < n; i++) v[i] = i % 7 === 0 ? 0 : Math.round(v[i] * 3) / 3 - (i % 5 === 0 ? 2 : 0);
  return v;
}

test('MaxPoolGrad and MaxPoolWithArgmax match cpu (ties, all-negative windows)', async () => {
  for (const c of POOL_CASES) {
    for (const data of [poolValues, (n: number, s: number) => values(n, s, 1)]) {
      await compare(
        `maxPoolGrad ${JSON.stringify(c)}`,
        () => {
          const x = tf.tensor4d(data(size(c.x), 5), c.x);
          const y = tf.maxPool(x, c.k, c.s, c.p);
          const dy = tf.tensor4d(values(y.size, 6), y.shape);
          const dx = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, {
            filterSize: c.k,
            strides: c.s,
            pad: c.p,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const { result, indexes } = tf.maxPoolWithArgmax(x, c.k, c.s, c.p as 'same', true);
          const local = tf.maxPoolWithArgmax(x, c.k, c.s, c.p as 'same', false).indexes;
          return [dx, result, tf.cast(indexes, 'float32'), tf.cast(local, 'float32')];
        },
        1e-5,
      );
    }
  }
  // All-negative input: wasm's own MaxPoolGrad loses these gradients; ours must not.
  await tf.setBackend('wasm');
  const sum = tf.tidy(() => {
    const x = tf.neg(tf.add(tf.tensor4d(values(32, 9, 1), [1, 4, 4, 2]), 2));
    return tf.sum(tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid')))(x));
  });
  assert.equal(sum.dataSync()[0], 8);
  sum.dispose();
});

test('Tile matches cpu (ranks 1-5, float32, int32, bool)', async () => {
  const cases: [number[], number[]][] = [
    [
      [1, 1, 1, 5],
      [3, 4, 2, 1],
    ],
    [
      [1, 1, 1, 64],
      [2, 8, 8, 1],
    ],
    [
      [2, 3],
      [2, 3],
    ],
    [[3], [4]],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
    [
      [2, 3, 1, 2],
      [2, 1, 3, 1],
    ],
    [
      [2, 1, 2, 1, 2],
      [1, 2, 1, 3, 2],
    ],
    [
      [2, 2],
      [1, 1],
    ],
    [
      [2, 0],
      [2, 3],
    ],
  ];
  for (const [shape, reps] of cases) {
    await compare(
      `tile ${shape} x ${reps}`,
      () => {
        const x = tf.tensor(values(size(shape), 51), shape);
        const i = tf.tensor(
          Int32Array.from(values(size(shape), 52), (v) => Math.round(v * 100)),
          shape,
          'int32',
        );
        const b = tf.greater(x, 0);
        return [tf.tile(x, reps), tf.cast(tf.tile(i, reps), 'float32'), tf.cast(tf.tile(b, reps), 'float32')];
      },
      1e-9,
    );
  }
});

test('Sum and Mean match cpu (every axis pattern)', async () => {
  const shape = [6, 5, 4, 7];
  const axesList: (number | number[])[] = [[0, 1, 2], [0], [1, 2], [1], [2], [0, 1], [0, 1, 2, 3], [3], [-1], [0, 2], [1, 3]];
  for (const axes of axesList) {
    for (const keepDims of [false, true]) {
      await compare(
        `sum/mean ${JSON.stringify(axes)} keepDims ${keepDims}`,
        () => {
          const x = tf.tensor(values(size(shape), 53, 1), shape);
          return [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims)];
        },
        1e-5,
      );
    }
  }
  // Large and batch-norm shaped: float64 accumulation keeps it close.
  await compare(
    'moments over [0, 1, 2] of [64, 16, 16, 32]',
    () => {
      const x = tf.tensor(values(64 * 16 * 16 * 32, 54, 1), [64, 16, 16, 32]);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return [tf.mul(tf.sum(x, [0, 1, 2]), 1e-3), mean, variance];
    },
    1e-4,
  );
});

test('the Tile gradient sums over repetitions', async () => {
  await compare('d/dx sum(tile(x) * w)', () => {
    const x = tf.tensor(values(2 * 3, 61), [2, 1, 3]);
    const w = tf.tensor(values(4 * 2 * 6, 62), [4, 2, 6]);
    return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.tile(a, [2, 2, 2]), w)))(x);
  });
  // Exact: each x[i,0,k] collects w over its 2*2*2 copies.
  await tf.setBackend('wasm');
  const [got, wv] = tf.tidy(() => {
    const x = tf.tensor(values(2 * 3, 61), [2, 1, 3]);
    const w = tf.tensor(values(4 * 2 * 6, 62), [4, 2, 6]);
    return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.tile(a, [2, 2, 2]), w)))(x), w];
  });
  const g = got.dataSync();
  const wd = wv.dataSync();
  tf.dispose([got, wv]);
  for (let i = 0; i < 2; i++)
    for (let k = 0; k < 3; k++) {
      let e = 0;
      for (let ri = 0; ri < 2; ri++) for (let j = 0; j < 2; j++) for (let rk = 0; rk < 2; rk++) e += wd[((ri * 2 + i) * 2 + j) * 6 + rk * 3 + k];
      assert.ok(Math.abs(g[i * 3 + k] - e) < 1e-5, `tile gradient at ${i},${k}: ${g[i * 3 + k]} vs ${e}`);
    }
});

test('the Sum and Mean gradients spread dy over the reduced axes (any axes, keepDims, both backends)', async () => {
  const shape = [2, 3, 4];
  const reductions = { sum: tf.sum, mean: tf.mean };
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    for (const [name, reduce] of Object.entries(reductions)) {
      for (const axis of [[1], [0, 2], -1, [0, 1, 2], undefined]) {
        for (const keepDims of [false, true]) {
          const [got, wv] = tf.tidy(() => {
            const x = tf.tensor(values(24, 63), shape);
            const r = reduce(x, axis, keepDims);
            const w = tf.tensor(values(r.size, 64), r.shape);
            return [tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reduce(a, axis, keepDims), w)))(x), w];
          });
          const g = got.dataSync();
          const wd = wv.dataSync();
          tf.dispose([got, wv]);
          // x[i][j][k] collects the w of the reduction it went into (over the count, for a mean).
          const reduced = axis === undefined ? [0, 1, 2] : ([] as number[]).concat(axis).map((a) => (a < 0 ? a + 3 : a));
          const kept = shape.map((d, i) => (reduced.includes(i) ? 1 : d));
          const n = name === 'mean' ? reduced.reduce((p, a) => p * shape[a], 1) : 1;
          for (let i = 0; i < 2; i++)
            for (let j = 0; j < 3; j++)
              for (let k = 0; k < 4; k++) {
                const [a, b, c] = [i, j, k].map((v, d) => (reduced.includes(d) ? 0 : v));
                const e = Math.fround(wd[(a * kept[1] + b) * kept[2] + c] / n);
                assert.equal(g[(i * 3 + j) * 4 + k], e, `${backend} ${name} axis ${JSON.stringify(axis)} keepDims ${keepDims} at ${i},${j},${k}`);
              }
        }
      }
    }
  }
});

test('Sign matches cpu: -1, 0, 1, and 0 for NaN (float32; int32 through the original)', async () => {
  const data = [-2.5, -0, 0, 1e-30, -1e-30, 3, NaN, Infinity, -Infinity, ...values(997, 73)];
  await compare('sign float32', () => [tf.sign(tf.tensor(data, [data.length]))], 1e-9);
  await compare('sign int32', () => [tf.cast(tf.sign(tf.tensor([-3, 0, 4], [3], 'int32')), 'float32')], 1e-9);
});

test('GatherV2 and Identity match cpu', async () => {
  const cases: [number[], number[], number][] = [
    [[40], [7, 3], 0],
    [[6, 5, 4], [3], 1],
    [[6, 5, 4], [2, 2], 2],
    [[6, 5, 40], [4], 1],
    [[6, 5, 40], [5], 0],
    [[5, 3], [0], 0],
  ];
  for (const [shape, ishape, axis] of cases) {
    await compare(
      `gather ${shape} ${ishape} axis ${axis}`,
      () => {
        const x = tf.tensor(values(size(shape), 71), shape);
        const dim = shape[axis];
        const idx = tf.tensor(
          Int32Array.from({ length: size(ishape) }, (_, i) => (i * 7 + 3) % dim),
          ishape,
          'int32',
        );
        const xi = tf.cast(tf.mul(x, 100), 'int32');
        return [tf.gather(x, idx, axis), tf.cast(tf.gather(xi, idx, axis), 'float32'), tf.clone(x)];
      },
      1e-9,
    );
  }
  // batchDims (wasm's own kernel gets this wrong).
  await compare(
    'gather batchDims 1',
    () => {
      const x = tf.tensor(values(3 * 5 * 2, 72), [3, 5, 2]);
      const idx = tf.tensor2d(
        [
          [0, 4],
          [1, 1],
          [3, 2],
        ],
        [3, 2],
        'int32',
      );
      const y = tf.tensor(values(2 * 3 * 4 * 5, 73), [2, 3, 4, 5]);
      const idy = tf.tensor(
        Int32Array.from({ length: 2 * 3 * 2 }, (_, i) => (i * 5 + 1) % 4),
        [2, 3, 2],
        'int32',
      );
      return [tf.gather(x, idx, 1, 1), tf.gather(y, idy, 2, 2), tf.gather(y, tf.tensor2d([[1], [3]], [2, 1], 'int32'), 2, 1)];
    },
    1e-9,
  );
  await tf.setBackend('wasm');
  assert.throws(() => tf.tidy(() => tf.gather(tf.ones([4]), tf.tensor1d([4], 'int32'))), /index value 4/);
  // Identity shares data: disposing either side leaves the other intact, and frees it once.
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const buffers = backend.numDataIds();
  const a = tf.tensor1d([1, 2, 3]);
  const b = tf.clone(a);
  assert.equal(backend.numDataIds(), buffers + 1);
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  b.dispose();
  assert.equal(backend.numDataIds(), buffers);
});

/** A small conv net: conv - relu - maxpool - conv (stride 2) - leaky relu - maxpool - mean square. */
function netLoss(x: tf.Tensor4D, w1: tf.Tensor4D, w2: tf.Tensor4D, target: tf.Tensor): tf.Scalar {
  let h = tf.maxPool(tf.relu(tf.conv2d(x, w1, 1, 'same')), 2, 2, 'valid');
  h = tf.maxPool(tf.leakyRelu(tf.conv2d(h, w2, 2, 'same'), 0.1), 2, 2, 'same');
  return tf.mean(tf.square(tf.sub(h, target)));
}

test('second-order gradients through conv2d and max-pool match cpu', async () => {
  await compare('d/dw sum(grad_w conv)', () => {
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 11), [2, 8, 8, 3]);
    const w0 = tf.tensor4d(values(3 * 3 * 3 * 4, 12), [3, 3, 3, 4]);
    const inner = (w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, 1, 'same')));
    // grad of sum(grad_w(loss)) with respect to w and to x.
    const gw = tf.grad((w: tf.Tensor) => tf.sum(tf.grad(inner)(w)))(w0);
    const gx = tf.grad((xx: tf.Tensor) => tf.sum(tf.grad((w: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, 2, 'valid'))))(w0)))(
      x,
    );
    return [gw, gx];
  });
  await compare('MAML-style meta-gradient through a conv net', () => {
    const x = tf.tensor4d(values(3 * 16 * 16 * 3, 21), [3, 16, 16, 3]);
    const xq = tf.tensor4d(values(3 * 16 * 16 * 3, 22), [3, 16, 16, 3]);
    const w1 = tf.tensor4d(values(3 * 3 * 3 * 8, 23), [3, 3, 3, 8]);
    const w2 = tf.tensor4d(values(3 * 3 * 8 * 6, 24), [3, 3, 8, 6]);
    const target = tf.tensor4d(values(3 * 2 * 2 * 6, 25), [3, 2, 2, 6]);
    const outer = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const [g1, g2] = tf.grads((p: tf.Tensor, q: tf.Tensor) => netLoss(x, p as tf.Tensor4D, q as tf.Tensor4D, target))([a, b]);
      const a1 = tf.sub(a, tf.mul(0.5, g1)) as tf.Tensor4D;
      const b1 = tf.sub(b, tf.mul(0.5, g2)) as tf.Tensor4D;
      return netLoss(xq, a1, b1, target);
    };
    const [d1, d2] = tf.grads(outer)([w1, w2]);
    // Scale up: the loss is a mean, so its gradients are small.
    return [tf.mul(d1, 100), tf.mul(d2, 100)];
  });
  await compare('gradient w.r.t. the input of a weight gradient (adversarial meta-learning)', () => {
    const x = tf.tensor4d(values(2 * 12 * 12 * 3, 31), [2, 12, 12, 3]);
    const w1 = tf.tensor4d(values(3 * 3 * 3 * 8, 32), [3, 3, 3, 8]);
    const w2 = tf.tensor4d(values(3 * 3 * 8 * 6, 33), [3, 3, 8, 6]);
    const target = tf.zeros([2, 2, 2, 6]);
    return tf.grad((xx: tf.Tensor) => {
      const [g1, g2] = tf.grads((p: tf.Tensor, q: tf.Tensor) => netLoss(xx as tf.Tensor4D, p as tf.Tensor4D, q as tf.Tensor4D, target))([w1, w2]);
      return tf.add(tf.sum(tf.square(g1)), tf.sum(tf.square(g2)));
    })(x);
  });
});

test('second-order gradients agree with finite differences (wasm)', async () => {
  await tf.setBackend('wasm');
  const x0 = tf.tensor4d(values(2 * 8 * 8 * 3, 41), [2, 8, 8, 3]);
  const w0 = tf.tensor4d(values(3 * 3 * 3 * 4, 42), [3, 3, 3, 4]);
  const r = tf.tensor4d(values(3 * 3 * 3 * 4, 43), [3, 3, 3, 4]);
  const target = tf.tensor4d(values(2 * 4 * 4 * 4, 44, 0.1), [2, 4, 4, 4]);
  // S(x, w) = <grad_w L(x, w), r>: its gradients need those of Conv2DBackpropFilter (w.r.t. x
  // and dy) and, through the max-pool, of MaxPoolGrad.
  const losses: [string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Scalar][] = [
    ['conv', (x, w) => tf.sum(tf.square(tf.conv2d(x, w, 2, 'same')))],
    [
      'conv-batchnorm-relu',
      (x, w) => {
        const h = tf.conv2d(x, w, 1, 'same');
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        const beta = tf.tensor1d(values(4, 48, 0.1));
        const gamma = tf.add(tf.tensor1d(values(4, 49, 0.1)), 1) as tf.Tensor1D;
        const bn = tf.batchNorm4d(h, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, 1e-5);
        return tf.sum(tf.mul(tf.relu(bn), tf.tensor4d(values(2 * 8 * 8 * 4, 47), [2, 8, 8, 4])));
      },
    ],
    ['conv-leakyrelu-maxpool', (x, w) => tf.sum(tf.square(tf.sub(tf.maxPool(tf.leakyRelu(tf.conv2d(x, w, 1, 'same'), 0.2), 2, 2, 'valid'), target)))],
  ];
  for (const [name, loss] of losses) {
    const S = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.grad((ww: tf.Tensor) => loss(x as tf.Tensor4D, ww as tf.Tensor4D))(w), r));
    const [gx, gw] = tf.grads(S)([x0, w0]);
    for (const [which, v] of [
      ['x', tf.tensor4d(values(x0.size, 45), x0.shape)],
      ['w', tf.tensor4d(values(w0.size, 46), w0.shape)],
    ] as [string, tf.Tensor4D][]) {
      const eps = 1e-3;
      const at = (sign: number) =>
        which === 'x' ? S(tf.add(x0, tf.mul(v, sign * eps)), w0).dataSync()[0] : S(x0, tf.add(w0, tf.mul(v, sign * eps))).dataSync()[0];
      const numeric = (at(1) - at(-1)) / (2 * eps);
      const analytic = tf.sum(tf.mul(which === 'x' ? gx : gw, v)).dataSync()[0];
      const err = Math.abs(numeric - analytic) / Math.max(1, Math.abs(analytic));
      if (process.env.KERNELS_TEST_VERBOSE) console.log(name, which, numeric, analytic);
      assert.ok(err < 2e-2, `${name} d/d${which}: finite difference ${numeric}, gradient ${analytic}`);
    }
  }
});

test('no tensors or wasm buffers leak across repeated calls', async () => {
  await tf.setBackend('wasm');
  const c = CONV_CASES[2];
  const { x, w, dy } = convInputs(c);
  const w2 = tf.tensor4d(values(3 * 3 * 8 * 4, 7), [3, 3, 8, 4]);
  const target = tf.zeros([1]);
  const run = () => {
    tf.dispose([backpropFilter(c, x, dy), backpropInput(c, dy, w)]);
    const metaGrad = (a: tf.Tensor) => tf.sum(tf.grad((b: tf.Tensor) => netLoss(a as tf.Tensor4D, b as tf.Tensor4D, w2, target))(w));
    tf.dispose(tf.tidy(() => tf.grad(metaGrad)(x)));
    // Batch norm: Tile, Sum, Mean and their gradients, to second order.
    const bnLoss = (a: tf.Tensor) => {
      const h = tf.conv2d(x, a as tf.Tensor4D, 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const bn = tf.batchNorm4d(h, mean as tf.Tensor1D, variance as tf.Tensor1D, tf.zeros([8]) as tf.Tensor1D, tf.ones([8]) as tf.Tensor1D, 1e-5);
      return tf.sum(tf.square(tf.relu(bn)));
    };
    tf.dispose(tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.grad(bnLoss)(a))))(w)));
    const p = tf.tensor4d(poolValues(2 * 8 * 8 * 3, 3), [2, 8, 8, 3]);
    const r = tf.maxPoolWithArgmax(p, 2, 2, 'valid');
    tf.dispose([p, r.result, r.indexes]);
  };
  await withTuning({ chunkElements: 500 }, async () => assertNoLeak(run));
  tf.dispose([x, w, dy, w2, target]);
});
