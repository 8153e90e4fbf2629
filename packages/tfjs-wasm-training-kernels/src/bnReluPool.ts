// Conv4's block tail, batch norm (batch statistics) -> ReLU -> 2x2 max-pool, as one op with one
// forward and one backward kernel on wasm (SIMD loops of simd/kernels.wat on the tensors in place).
//
// As tf.moments + tf.batchNorm4d + tf.relu + tf.maxPool it ran ~20 kernels forward and ~40
// backward per layer, each a pass over the [N, H, W, C] activations (several in plain JS, some
// allocating an all-ones tensor of that size for the gradient of a mean), and kept most of their
// outputs for the gradient: on the benchmark step more time than all the convolutions, and most
// of the memory. Fused: forward reads x twice (moments; normalise, ReLU and pool) and writes the
// pooled output and, per window, the x its maximum came from (xmax); backward reads xmax (not x)
// for the parameter gradients' sums and x once to write dx, finding each window's maximum again
// (the forward pass's arithmetic on the same values: the same position). Saved for the gradient:
// x, gamma, beta, the statistics and xmax. (Saving the window positions instead, the sums read all
// of x: 75x32x32x64, one core, AMD EPYC Zen 5, hot caches: backward 3.4 -> 2.6 ms.)
//
// The same function (to float rounding): mean and variance over N, H, W (biased, as tf.moments),
// y = relu((x - mean) / sqrt(var + eps) * gamma + beta), max over each 2x2 window (floor), the
// gradient routed to the first maximum of a window (as our MaxPoolGrad) and dropped where that
// maximum is <= 0 (ReLU), then batch norm's exact gradient, the statistics included.
//
// Used where the wasm backend runs, C % 4 == 0, and no gradient of this op's gradient can be
// asked for (fewer than two nested gradient tapes: a second-order meta-gradient records the
// inner loop's backward pass on the outer tape, so there the composite ops run). Elsewhere the
// composite ops run, with the same results.
import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, simdAvailable, simdFor, SimdExports } from './simd';
import { KernelArgs, TensorInfo } from './wasmUtil';

export const BN_RELU_POOL = 'RobustMetaBnReluPool';
export const BN_RELU_POOL_GRAD = 'RobustMetaBnReluPoolGrad';

/** Switches for tests and benchmarks. */
export const fusion = {
  /** Use the fused op where it applies (false: always the composite ops). */
  bnReluPool: true,
  /** The first block's conv with it (convBnReluPool.ts; false: conv, then bnReluPool). */
  convBnReluPool: true,
};

interface MakeOutput {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

function checkInput(x: TensorInfo, what: string): [number, number, number, number] {
  if (x.dtype !== 'float32' || x.shape.length !== 4) throw new Error(`${what}: needs float32 NHWC input, got ${x.dtype} ${x.shape}`);
  const [N, H, W, C] = x.shape;
  if (C % 4 !== 0 || H < 2 || W < 2 || N < 1) throw new Error(`${what}: unsupported shape ${x.shape}`);
  return [N, H, W, C];
}

/** Forward: [y (pooled), mean, invStd, xmax (per window and channel, the x of its maximum)]. */
export function bnReluPoolWasm(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as MakeOutput;
  const x = args.inputs.x as TensorInfo;
  const gamma = args.inputs.gamma as TensorInfo;
  const beta = args.inputs.beta as TensorInfo;
  const eps = (args.attrs as { epsilon: number }).epsilon;
  const [N, H, W, C] = checkInput(x, 'BnReluPool (wasm)');
  const M = N * H * W;
  const pooled = [N, H >> 1, W >> 1, C];
  const y = backend.makeOutput(pooled, 'float32');
  const xmax = backend.makeOutput(pooled.slice(), 'float32');
  const mean = backend.makeOutput([C], 'float32');
  const invStd = backend.makeOutput([C], 'float32');
  const scratch = backend.makeOutput([MOMENTS_SCRATCH * C], 'float32');
  try {
    const { exports: k, memory } = simdFor(backend);
    const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
    const xp = at(x);
    // Offsets after every allocation (the heap may have grown).
    const a = batchMoments(k, memory.buffer, at(scratch), { x: xp, gamma: at(gamma), mean: at(mean), invStd: at(invStd) }, M, C, eps);
    k.bnReluPool(xp, N, H, W, C, at(mean), a, at(beta), at(y), at(xmax));
  } catch (e) {
    for (const t of [y, xmax, mean, invStd]) backend.disposeData(t.dataId);
    throw e;
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return [y, mean, invStd, xmax];
}

/** Backward: [dx, dgamma, dbeta] from dy (the pooled output's gradient) and the saved tensors. */
export function bnReluPoolGradWasm(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as MakeOutput;
  const { dy, x, gamma, beta, mean, invStd, xmax } = args.inputs as Record<string, TensorInfo>;
  const [N, H, W, C] = checkInput(x, 'BnReluPoolGrad (wasm)');
  const M = N * H * W;
  const dx = backend.makeOutput(x.shape.slice(), 'float32');
  const dgamma = backend.makeOutput([C], 'float32');
  const dbeta = backend.makeOutput([C], 'float32');
  // Scratch: poolGradCoefficients', then cA, cB (float32).
  const scratch = backend.makeOutput([(POOL_GRAD_SCRATCH + 2) * C], 'float32');
  try {
    const { exports: k, memory } = simdFor(backend);
    const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
    const sp = at(scratch);
    const cA = sp + 4 * POOL_GRAD_SCRATCH * C;
    const cB = cA + 4 * C;
    const xp = at(x);
    const dyp = at(dy);
    const mp = at(mean);
    const bp = at(beta);
    const a = poolGradCoefficients(
      k,
      memory.buffer,
      sp,
      { xmax: at(xmax), dy: dyp, gamma: at(gamma), beta: bp, mean: mp, invStd: at(invStd), dgamma: at(dgamma), dbeta: at(dbeta), cA, cB },
      N * (H >> 1) * (W >> 1),
      M,
      C,
    );
    const dxp = at(dx);
    if (H % 2 !== 0 || W % 2 !== 0) k.affine(xp, dxp, M, C, mp, cA, cB);
    k.poolGradDx(xp, dyp, N, H, W, C, mp, a, bp, cA, cB, dxp);
  } catch (e) {
    for (const t of [dx, dgamma, dbeta]) backend.disposeData(t.dataId);
    throw e;
  } finally {
    backend.disposeData(scratch.dataId);
  }
  return [dx, dgamma, dbeta];
}

/** C floats at a heap byte offset. */
function channels(buf: ArrayBuffer, offset: number, C: number): Float32Array {
  return new Float32Array(buf, offset, C);
}

/**
 * a[c] = gamma[c] * invStd[c] rounded to float32 (heap byte offsets): batch norm's scale, from the
 * stored (float32) invStd, so that the backward pass computes the forward pass's scale bit for bit.
 */
export function scaleOf(buf: ArrayBuffer, gamma: number, invStd: number, a: number, C: number): void {
  const g = channels(buf, gamma, C);
  const is = channels(buf, invStd, C);
  const out = channels(buf, a, C);
  for (let c = 0; c < C; c++) out[c] = g[c] * is[c];
}

/**
 * After `moments` over M rows: mean, invStd and the scale a per channel (heap byte offsets; sums:
 * the float64 sums of x - shift and of its square, as moments leaves them).
 */
function finishMoments(
  buf: ArrayBuffer,
  p: { sums: number; shift: number; gamma: number; mean: number; invStd: number; a: number },
  M: number,
  C: number,
  eps: number,
): void {
  const sums = new Float64Array(buf, p.sums, 2 * C);
  const sh = channels(buf, p.shift, C);
  const mean = channels(buf, p.mean, C);
  const invStd = channels(buf, p.invStd, C);
  for (let c = 0; c < C; c++) {
    const m1 = sums[c] / M;
    const variance = Math.max(0, sums[C + c] / M - m1 * m1);
    mean[c] = sh[c] + m1;
    invStd[c] = 1 / Math.sqrt(variance + eps);
  }
  scaleOf(buf, p.gamma, p.invStd, p.a, C);
}

/**
 * After `poolGradSums` (sums: the float64 sums it leaves) for a batch norm over M rows: dgamma,
 * dbeta, and dx's coefficients cA, cB per channel (dx = (x - mean) * cA + cB, plus the routed dy).
 */
function gradCoefficients(
  buf: ArrayBuffer,
  p: { sums: number; gamma: number; invStd: number; dgamma: number; dbeta: number; cA: number; cB: number },
  M: number,
  C: number,
): void {
  const sums = new Float64Array(buf, p.sums, 2 * C);
  const g = channels(buf, p.gamma, C);
  const is = channels(buf, p.invStd, C);
  const dg = channels(buf, p.dgamma, C);
  const db = channels(buf, p.dbeta, C);
  const cA = channels(buf, p.cA, C);
  const cB = channels(buf, p.cB, C);
  for (let c = 0; c < C; c++) {
    const dbeta = sums[c];
    const dgam = sums[C + c] * is[c];
    db[c] = dbeta;
    dg[c] = dgam;
    const scale = g[c] * is[c];
    cA[c] = (-scale * is[c] * dgam) / M;
    cB[c] = (-scale * dbeta) / M;
  }
}

/** Floats per channel of batchMoments' scratch: s1, s2 (float64), p1, p2, shift, a. */
export const MOMENTS_SCRATCH = 8;

/**
 * Batch norm's statistics of x (M rows of C channels; heap byte offsets): mean and invStd, and the
 * scale a, which it returns (an offset in the scratch at sp, MOMENTS_SCRATCH * C floats).
 */
export function batchMoments(
  k: SimdExports,
  buf: ArrayBuffer,
  sp: number,
  p: { x: number; gamma: number; mean: number; invStd: number },
  M: number,
  C: number,
  eps: number,
): number {
  const [s1, s2, p1, p2, shift, a] = [sp, sp + 8 * C, sp + 16 * C, sp + 20 * C, sp + 24 * C, sp + 28 * C];
  new Uint8Array(buf, sp, 24 * C).fill(0);
  // moments' shift: x's first row.
  new Float32Array(buf).copyWithin(shift >> 2, p.x >> 2, (p.x >> 2) + C);
  k.moments(p.x, M, C, shift, s1, s2, p1, p2);
  finishMoments(buf, { sums: sp, shift, gamma: p.gamma, mean: p.mean, invStd: p.invStd, a }, M, C, eps);
  return a;
}

/** Floats per channel of poolGradCoefficients' scratch: s1, s2 (float64), p1, p2, a. */
export const POOL_GRAD_SCRATCH = 7;

/**
 * The backward's shared part over the pooled gradient dy (pooledRows rows) and the saved xmax, for
 * a batch norm over M rows: dgamma, dbeta, dx's coefficients cA, cB, and the forward pass's scale
 * a, which it returns (an offset in the scratch at sp, POOL_GRAD_SCRATCH * C floats).
 */
export function poolGradCoefficients(
  k: SimdExports,
  buf: ArrayBuffer,
  sp: number,
  p: { xmax: number; dy: number; gamma: number; beta: number; mean: number; invStd: number; dgamma: number; dbeta: number; cA: number; cB: number },
  pooledRows: number,
  M: number,
  C: number,
): number {
  const [s1, s2, p1, p2, a] = [sp, sp + 8 * C, sp + 16 * C, sp + 20 * C, sp + 24 * C];
  new Uint8Array(buf, sp, 24 * C).fill(0);
  // The forward pass's scale, bit for bit: the kernels find each window's maximum again with it.
  scaleOf(buf, p.gamma, p.invStd, a, C);
  k.poolGradSums(p.xmax, p.dy, pooledRows, C, p.mean, a, p.beta, s1, s2, p1, p2);
  gradCoefficients(buf, { sums: sp, gamma: p.gamma, invStd: p.invStd, dgamma: p.dgamma, dbeta: p.dbeta, cA: p.cA, cB: p.cB }, M, C);
  return a;
}

export function gradientDepth(): number {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth;
}

/** Whether bnReluPool below takes the fused kernels for this input now. */
export function fusedBnReluPoolApplies(x: tf.Tensor4D): boolean {
  if (!fusion.bnReluPool || tf.getBackend() !== 'wasm' || !tf.getKernel(BN_RELU_POOL, 'wasm')) return false;
  const [N, H, W, C] = x.shape;
  if (x.dtype !== 'float32' || C % 4 !== 0 || H < 2 || W < 2 || N < 1) return false;
  return gradientDepth() < 2 && simdAvailable(tf.backend());
}

/** The fused op (the caller checks fusedBnReluPoolApplies). */
export function fusedBnReluPool(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor4D {
  const op = tf.customGrad((...inputs: unknown[]) => {
    const [xi, g, b] = inputs as tf.Tensor[];
    const save = inputs[3] as tf.GradSaveFunc;
    const [y, mean, invStd, xmax] = tf.engine().runKernel(BN_RELU_POOL, { x: xi, gamma: g, beta: b }, { epsilon: eps }) as tf.Tensor[];
    save([xi, g, b, mean, invStd, xmax]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, gs, bs, ms, iss, xms] = saved;
        const inputs = { dy: dy as tf.Tensor, x: xs, gamma: gs, beta: bs, mean: ms, invStd: iss, xmax: xms };
        return tf.engine().runKernel(BN_RELU_POOL_GRAD, inputs, {}) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}
