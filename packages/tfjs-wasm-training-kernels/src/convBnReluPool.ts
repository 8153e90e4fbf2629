// Conv4's first block, conv (1-3 image channels) -> batch norm (batch statistics) -> ReLU -> 2x2
// max-pool, as one op on the native loops that does not keep the conv's output: the forward pass
// frees it on return, and the backward computes it again a few images at a time into a scratch
// that stays in L2.
//
// Why: the first block's conv output is the largest tensor of the step (75 x 28 x 28 x 32: 7.5 MB)
// and the cheapest to compute (9 multiply-adds per value from one channel). As conv + bnReluPool
// it was written once, read twice by the forward pass, saved for the gradient, read again by batch
// norm's backward, whose dx (as large) was written and read by both conv gradients: memory
// traffic, not arithmetic, and on two threads the cores share that memory.
//
// Forward: the whole conv into a scratch -> moments (the batch's sums) -> normalise, ReLU, pool
// (bnReluPool, which also keeps each window's maximal x, xmax). (Computing the conv twice, per
// chunk for the sums and again for the pooling, was slower than one pass over the whole scratch.)
// Saved: x, the filter, gamma, beta, mean, invStd, xmax (pooled size) instead of the conv output.
// Backward: poolGradSums over xmax and dy gives dgamma, dbeta and dx's coefficients; then each
// input's gradient that is asked for runs its own pass, per chunk: conv again -> batch norm's dx
// (poolGradDx, in place) -> the image's gradient (convNarrowDirect with the flipped filter) or the
// filter's (convFilterGemm). The gradient is registered lazily (engine.runKernelFunc, as
// tf.customGrad without computing every input's gradient up front): an attack asks for the
// image's only, the inner loop for the parameters' only; asking for both recomputes the conv
// twice, still correct.
//
// The same function as conv2d(x, filter, 1, pad) then bnReluPool (bnReluPool.ts), with the same
// loops: the forward output, dgamma, dbeta and the image's gradient are the same bits as the two
// ops'; the filter gradient sums its pixels chunk by chunk (float rounding).
//
// Used where the native loops run (convDirect), the image has 1-3 channels, the filter's output
// channels are a multiple of 8, stride 1, the conv output's sides even, and no gradient of this
// op's gradient can be asked for (as bnReluPool.ts). Elsewhere conv and bnReluPool run.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { batchMoments, fusion, gradientDepth, MOMENTS_SCRATCH, POOL_GRAD_SCRATCH, poolGradCoefficients, scaleOf } from './bnReluPool';
import { flippedNarrowFilter } from './conv2dBackpropInputNarrow';
import { heapOffset, simdAvailable, simdFor, SimdExports } from './simd';
import { KernelArgs, TensorInfo, WasmBackend } from './wasmUtil';

export const CONV_BN_RELU_POOL = 'RobustMetaConvBnReluPool';
export const CONV_BN_RELU_POOL_SUMS = 'RobustMetaConvBnReluPoolGradSums';
export const CONV_BN_RELU_POOL_DX = 'RobustMetaConvBnReluPoolGradInput';
export const CONV_BN_RELU_POOL_DW = 'RobustMetaConvBnReluPoolGradFilter';

/**
 * Bytes of conv output a chunk holds: whole images up to this (at least one). Half of the
 * smallest L2 here (512 KB, AMD EPYC Zen 3), leaving room for the chunk's input, dy and table.
 */
const CHUNK_BYTES = 256 * 1024;

interface Attrs {
  epsilon: number;
  pad: 'same' | 'valid' | number;
}

interface Geometry {
  N: number;
  H: number;
  W: number;
  Ci: number;
  Ho: number;
  Wo: number;
  C: number;
  kh: number;
  kw: number;
  padTop: number;
  padLeft: number;
  /** Images per chunk. */
  chunk: number;
}

function geometryOf(xShape: number[], filterShape: number[], pad: Attrs['pad']): Geometry {
  const info = backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], 1, 1, pad);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: C } = info;
  const chunk = Math.max(1, Math.min(N, Math.floor(CHUNK_BYTES / (Ho * Wo * C * 4))));
  return { N, H, W, Ci, Ho, Wo, C, kh: info.filterHeight, kw: info.filterWidth, padTop: info.padInfo.top, padLeft: info.padInfo.left, chunk };
}

/** Why the fused op cannot run on these shapes, or null where it can. */
function unsupported(xShape: readonly number[], filterShape: readonly number[], pad: Attrs['pad']): string | null {
  if (xShape.length !== 4 || filterShape.length !== 4) return 'needs NHWC input and a 4-D filter';
  const [, , , Ci] = xShape;
  const [kh, kw, fCi, C] = filterShape;
  if (Ci < 1 || Ci > 3 || fCi !== Ci) return `needs 1-3 input channels matching the filter's, got ${Ci} and ${fCi}`;
  if (C % 8 !== 0 || kh * kw > 25 || kh < 1 || kw < 1) return `unsupported filter ${filterShape}`;
  const g = geometryOf(xShape.slice(), filterShape.slice(), pad);
  if (g.N < 1 || g.Ho < 2 || g.Wo < 2 || g.Ho % 2 !== 0 || g.Wo % 2 !== 0) return `needs even conv output sides, got ${g.Ho}x${g.Wo}`;
  const backTop = kh - 1 - g.padTop;
  const backLeft = kw - 1 - g.padLeft;
  if (backTop < 0 || backLeft < 0 || backTop > kh - 1 || backLeft > kw - 1) return `unsupported padding ${pad}`;
  return null;
}

function checked(args: KernelArgs, what: string): { backend: WasmBackend; k: SimdExports; g: Geometry; attrs: Attrs } {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const attrs = args.attrs as unknown as Attrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') throw new Error(`${what}: needs float32 inputs`);
  const why = unsupported(x.shape, filter.shape, attrs.pad);
  if (why) throw new Error(`${what}: ${why}`);
  const { exports: k } = simdFor(backend);
  if (!k.convDirect || !k.convNarrowDirect) throw new Error(`${what}: needs the native loops (convDirect)`);
  return { backend, k, g: geometryOf(x.shape, filter.shape, attrs.pad), attrs };
}

/** Allocates the outputs and scratch buffers, runs `body` on their heap offsets, disposes the scratch (and the outputs if it throws). */
function withBuffers<T extends string>(
  backend: WasmBackend,
  outputs: Record<T, [number[], tf.DataType]>,
  scratch: [number[], tf.DataType][],
  body: (out: Record<T, number>, scratch: number[]) => void,
): TensorInfo[] {
  const names = Object.keys(outputs) as T[];
  const outs = names.map((n) => backend.makeOutput(outputs[n][0], outputs[n][1]));
  const tmp = scratch.map(([shape, dtype]) => backend.makeOutput(shape, dtype));
  try {
    // Offsets after every allocation (the heap may have moved its buffer, not its offsets).
    const at = Object.fromEntries(names.map((n, i) => [n, heapOffset(backend, outs[i].dataId)])) as Record<T, number>;
    body(
      at,
      tmp.map((t) => heapOffset(backend, t.dataId)),
    );
  } catch (e) {
    for (const t of outs) backend.disposeData(t.dataId);
    throw e;
  } finally {
    for (const t of tmp) backend.disposeData(t.dataId);
  }
  return outs;
}

/** Calls f(n0, n) for chunks of images [n0, n0 + n). */
function chunks(g: Geometry, f: (n0: number, n: number) => void): void {
  for (let n0 = 0; n0 < g.N; n0 += g.chunk) f(n0, Math.min(g.chunk, g.N - n0));
}

/** The conv of images [n0, n0 + n) into the chunk scratch `out`. */
function convChunk(k: SimdExports, g: Geometry, x: number, filter: number, out: number, n0: number, n: number): void {
  k.convDirect!(x + n0 * g.H * g.W * g.Ci * 4, filter, out, 0, n, g.H, g.W, g.Ci, g.Ho, g.Wo, g.kh, g.kw, g.padTop, g.padLeft, g.C);
}

/** Forward: [y (pooled), mean, invStd, xmax], as bnReluPool's kernel returns them. */
export function convBnReluPoolWasm(args: KernelArgs): TensorInfo[] {
  const { backend, k, g, attrs } = checked(args, 'ConvBnReluPool (wasm)');
  const { C } = g;
  const pooled = [g.N, g.Ho >> 1, g.Wo >> 1, C];
  const inp = args.inputs as Record<string, TensorInfo>;
  const M = g.N * g.Ho * g.Wo;
  return withBuffers(
    backend,
    { y: [pooled, 'float32'], mean: [[C], 'float32'], invStd: [[C], 'float32'], xmax: [pooled.slice(), 'float32'] },
    // batchMoments' scratch; the whole conv output, freed on return.
    [
      [[MOMENTS_SCRATCH * C], 'float32'],
      [[M * C], 'float32'],
    ],
    (o, [sp, conv]) => {
      const [x, filter, gamma, beta] = [inp.x, inp.filter, inp.gamma, inp.beta].map((t) => heapOffset(backend, t.dataId));
      k.convDirect!(x, filter, conv, 0, g.N, g.H, g.W, g.Ci, g.Ho, g.Wo, g.kh, g.kw, g.padTop, g.padLeft, C);
      const a = batchMoments(k, simdFor(backend).memory.buffer, sp, { x: conv, gamma, mean: o.mean, invStd: o.invStd }, M, C, attrs.epsilon);
      k.bnReluPool(conv, g.N, g.Ho, g.Wo, C, o.mean, a, beta, o.y, o.xmax);
    },
  );
}

/** The gradient's shared part: [dgamma, dbeta, cA, cB] from dy and the saved statistics. */
export function convBnReluPoolSumsWasm(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const { dy, gamma, beta, mean, invStd, xmax } = args.inputs as Record<string, TensorInfo>;
  const C = gamma.shape[0];
  const [N, Hp, Wp] = dy.shape;
  const { exports: k, memory } = simdFor(backend);
  return withBuffers(
    backend,
    { dgamma: [[C], 'float32'], dbeta: [[C], 'float32'], cA: [[C], 'float32'], cB: [[C], 'float32'] },
    [[[POOL_GRAD_SCRATCH * C], 'float32']],
    (o, [sp]) => {
      const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
      const offsets = { xmax: at(xmax), dy: at(dy), gamma: at(gamma), beta: at(beta), mean: at(mean), invStd: at(invStd), ...o };
      // Batch norm ran over the conv output's N * (2 Hp) * (2 Wp) pixels.
      poolGradCoefficients(k, memory.buffer, sp, offsets, N * Hp * Wp, N * Hp * Wp * 4, C);
    },
  );
}

/**
 * Per chunk: the conv again, then batch norm's dx over it in place, handed to `use(dx, n0, n)`.
 * Inputs: dy, x, filter, gamma, beta, mean, invStd, cA, cB.
 */
function backwardChunks(args: KernelArgs, k: SimdExports, g: Geometry, conv: number, a: number, use: (dx: number, n0: number, n: number) => void): void {
  const backend = args.backend as WasmBackend;
  const at = (name: string) => heapOffset(backend, (args.inputs[name] as TensorInfo).dataId);
  const { memory } = simdFor(backend);
  scaleOf(memory.buffer, at('gamma'), at('invStd'), a, g.C);
  const pooledImage = (g.Ho >> 1) * (g.Wo >> 1) * g.C * 4;
  chunks(g, (n0, n) => {
    convChunk(k, g, at('x'), at('filter'), conv, n0, n);
    k.poolGradDx(conv, at('dy') + n0 * pooledImage, n, g.Ho, g.Wo, g.C, at('mean'), a, at('beta'), at('cA'), at('cB'), conv);
    use(conv, n0, n);
  });
}

/** The image's gradient. */
export function convBnReluPoolGradInputWasm(args: KernelArgs): TensorInfo[] {
  const { backend, k, g } = checked(args, 'ConvBnReluPoolGradInput (wasm)');
  const T = g.kh * g.kw;
  return withBuffers(
    backend,
    { dx: [[g.N, g.H, g.W, g.Ci], 'float32'] },
    [
      [[g.chunk * g.Ho * g.Wo * g.C], 'float32'],
      [[g.C], 'float32'],
      [[T * 3 * g.C], 'float32'],
    ],
    (o, [conv, a, wt]) => {
      const { memory } = simdFor(backend);
      flippedNarrowFilter(memory.buffer, heapOffset(backend, (args.inputs.filter as TensorInfo).dataId), wt, g.kh, g.kw, g.Ci, g.C);
      // dx = conv(dy, flipped filter), stride 1, padding kh-1-padTop (top), kw-1-padLeft (left).
      const backTop = g.kh - 1 - g.padTop;
      const backLeft = g.kw - 1 - g.padLeft;
      const image = g.H * g.W * g.Ci * 4;
      backwardChunks(args, k, g, conv, a, (dconv, n0, n) =>
        k.convNarrowDirect!(dconv, wt, o.dx + n0 * image, 0, n, g.Ho, g.Wo, g.C, g.H, g.W, g.kh, g.kw, backTop, backLeft, g.Ci),
      );
    },
  );
}

/** The filter's gradient. */
export function convBnReluPoolGradFilterWasm(args: KernelArgs): TensorInfo[] {
  const { backend, k, g } = checked(args, 'ConvBnReluPoolGradFilter (wasm)');
  const T = g.kh * g.kw;
  const rows = g.chunk * g.Ho * g.Wo;
  return withBuffers(
    backend,
    { dw: [[g.kh, g.kw, g.Ci, g.C], 'float32'] },
    [
      [[rows * g.C], 'float32'],
      [[g.C], 'float32'],
      [[rows * T], 'int32'],
      [[g.Ci], 'float32'],
    ],
    (o, [conv, a, ind, zero]) => {
      const { memory } = simdFor(backend);
      new Float32Array(memory.buffer, o.dw, T * g.Ci * g.C).fill(0);
      new Float32Array(memory.buffer, zero, g.Ci).fill(0);
      const x = heapOffset(backend, (args.inputs.x as TensorInfo).dataId);
      const image = g.H * g.W * g.Ci * 4;
      backwardChunks(args, k, g, conv, a, (dconv, n0, n) => {
        const M = n * g.Ho * g.Wo;
        k.convIndirection(ind, x + n0 * image, zero, n, g.H, g.W, g.Ci, g.Ho, g.Wo, g.kh, g.kw, g.padTop, g.padLeft, M);
        k.convFilterGemm(ind, dconv, o.dw, 0, M, T, g.Ci, g.C);
      });
    },
  );
}

/** The slice of tfjs-core's Engine behind tf.customGrad, whose backward returns a gradient function per input. */
interface KernelFuncEngine {
  runKernelFunc(p: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor;
    backwardsFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: tf.NamedTensorMap;
  }): tf.Tensor;
}

/** Whether fusedConvBnReluPool below runs for these inputs now. */
export function fusedConvBnReluPoolApplies(x: tf.Tensor4D, filter: tf.Tensor4D, pad: Attrs['pad']): boolean {
  if (!fusion.convBnReluPool || tf.getBackend() !== 'wasm' || !tf.getKernel(CONV_BN_RELU_POOL, 'wasm')) return false;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || gradientDepth() >= 2 || !simdAvailable(tf.backend())) return false;
  if (unsupported(x.shape, filter.shape, pad) !== null) return false;
  const k = simdFor(tf.backend()).exports;
  return k.convDirect !== undefined && k.convNarrowDirect !== undefined;
}

/** The fused op (the caller checks fusedConvBnReluPoolApplies). */
export function fusedConvBnReluPool(x: tf.Tensor4D, filter: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number, pad: Attrs['pad']): tf.Tensor4D {
  const engine = tf.engine() as unknown as KernelFuncEngine;
  const attrs = { epsilon: eps, pad } as unknown as tf.NamedAttrMap;
  const run = (name: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => {
      const [y, mean, invStd, xmax] = run(CONV_BN_RELU_POOL, { x, filter, gamma, beta });
      save([x, filter, gamma, beta, mean, invStd, xmax]);
      return y;
    },
    backwardsFunc: (dy, saved) => {
      const [xs, fs, gs, bs, mean, invStd, xmax] = saved;
      const [dgamma, dbeta, cA, cB] = run(CONV_BN_RELU_POOL_SUMS, { dy, gamma: gs, beta: bs, mean, invStd, xmax });
      const inputs = { dy, x: xs, filter: fs, gamma: gs, beta: bs, mean, invStd, cA, cB };
      return {
        x: () => run(CONV_BN_RELU_POOL_DX, inputs)[0],
        filter: () => run(CONV_BN_RELU_POOL_DW, inputs)[0],
        gamma: () => dgamma,
        beta: () => dbeta,
      };
    },
    inputs: { x, filter, gamma, beta },
  }) as tf.Tensor4D;
}
