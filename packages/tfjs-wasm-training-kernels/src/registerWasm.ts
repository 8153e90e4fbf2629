// Kernels that training needs and tfjs-backend-wasm 4.22 lacks or runs slowly or wrongly.
// Registered before the wasm backend initialises (and harmless after: none needs a setup).
//
//   Conv2DBackpropFilter  missing: added (im2col + the wasm BatchMatMul kernel).
//   Conv2DBackpropInput   slow (naive loop): replaced by a conv2d of dy with the flipped filter
//                         on the wasm Conv2D kernel (stride 1, >= 16 input channels), else by
//                         dy @ W^T on BatchMatMul + col2im; the original only for NCHW.
//   MaxPoolGrad,          wrong for windows whose values are all <= 0 (gradient dropped) and
//   MaxPoolWithArgmax     ties go to the last maximum: replaced by first-maximum versions (= cpu).
//   Tile, Sum, Mean       slow where batch norm uses them (tile to [N,H,W,C], reduce over
//                         N,H,W): replaced for those cases, the original kept for the rest.
//   GatherV2              slow index checks (closure per index), wrong for batchDims > 0.
//   Identity              copies: replaced by a shared reference, as on cpu.
//   Sign                  a function call per element: replaced by a loop (float32).
//   Conv2D                replaced by an implicit GEMM on our SIMD module (stride 1, Co % 8 == 0;
//                         ~25% faster than XNNPACK's on Conv4), the original for the rest.
//   Conv2DBackpropFilter  (stride 1, Co % 8 == 0) by implicit GEMM too: conv2dBackpropFilterGemm.ts.
//   BatchMatMul           XNNPACK only without transposes, packing b on each new b; a plain loop
//                         with them: replaced by our SIMD gemm (batchMatMul.ts).
//   RobustMetaBnReluPool  ours (no tfjs op): batch norm + ReLU + 2x2 max-pool and its gradient
//   (+Grad)               in SIMD wasm on the backend's heap, for Conv4 (see bnReluPool.ts).
//   RobustMetaConvBnReluPool  ours: Conv4's first block with its conv, on the native loops; the
//   (+GradSums, GradInput,    conv output is not kept for the gradient, which computes it again a
//   GradFilter)               few images at a time (see convBnReluPool.ts).
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterWasm } from './conv2dBackpropFilter';
import { makeConv2DBackpropInputWasm } from './conv2dBackpropInput';
import { maxPoolGradWasm, maxPoolWithArgmaxWasm } from './maxPool';
import { makeReduceWasm, makeTileWasm } from './reduceTile';
import { makeGatherV2Wasm, makeIdentityWasm } from './gatherIdentity';
import { makeSignWasm } from './sign';
import { makeConv2DWasm } from './conv2dGemm';
import { makeBatchMatMulWasm } from './batchMatMul';
import { BN_RELU_POOL, BN_RELU_POOL_GRAD, bnReluPoolGradWasm, bnReluPoolWasm } from './bnReluPool';
import {
  CONV_BN_RELU_POOL,
  CONV_BN_RELU_POOL_DW,
  CONV_BN_RELU_POOL_DX,
  CONV_BN_RELU_POOL_SUMS,
  convBnReluPoolGradFilterWasm,
  convBnReluPoolGradInputWasm,
  convBnReluPoolSumsWasm,
  convBnReluPoolWasm,
} from './convBnReluPool';
import { KernelFunc } from './wasmUtil';

export { kernelTuning } from './wasmUtil';

const OURS = Symbol.for('robust-meta.wasmKernel');
const ORIGINAL = Symbol.for('robust-meta.wasmKernel.original');
type Marked = KernelFunc & { [OURS]?: boolean; [ORIGINAL]?: KernelFunc };

function mark(fn: KernelFunc, original?: KernelFunc): KernelFunc {
  (fn as Marked)[OURS] = true;
  if (original) (fn as Marked)[ORIGINAL] = original;
  return fn;
}

function isOurs(cfg: tf.KernelConfig | undefined): boolean {
  return cfg !== undefined && (cfg.kernelFunc as Marked)[OURS] === true;
}

/** Adds a kernel wasm lacks; leaves one already there (its own, or ours) alone. */
function addIfMissing(kernelName: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(kernelName, 'wasm')) return;
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: mark(kernelFunc) });
}

/** Replaces wasm's kernel, keeping its kernelFunc (for fallbacks) and its setupFunc. */
function replace(kernelName: string, make: (original: KernelFunc | undefined) => KernelFunc): void {
  const cfg = tf.getKernel(kernelName, 'wasm');
  if (isOurs(cfg)) return;
  if (cfg) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: mark(make(cfg?.kernelFunc), cfg?.kernelFunc),
    setupFunc: cfg?.setupFunc,
    disposeFunc: cfg?.disposeFunc,
  });
}

/** Registers our wasm kernels; idempotent. A no-op where tfjs-backend-wasm is not installed. */
export function registerWasmKernels(): void {
  try {
    // Its import registers its kernels; ours must come after to replace them.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-backend-wasm');
  } catch {
    return;
  }
  addIfMissing('Conv2DBackpropFilter', conv2DBackpropFilterWasm as KernelFunc);
  replace('Conv2D', makeConv2DWasm);
  replace('BatchMatMul', makeBatchMatMulWasm);
  replace('Conv2DBackpropInput', makeConv2DBackpropInputWasm);
  replace('MaxPoolGrad', () => maxPoolGradWasm as KernelFunc);
  replace('MaxPoolWithArgmax', () => maxPoolWithArgmaxWasm as unknown as KernelFunc);
  replace('Tile', makeTileWasm);
  replace('Sum', (original) => makeReduceWasm('Sum', original));
  replace('Mean', (original) => makeReduceWasm('Mean', original));
  replace('GatherV2', makeGatherV2Wasm);
  replace('Identity', makeIdentityWasm);
  replace('Sign', makeSignWasm);
  addIfMissing(BN_RELU_POOL, bnReluPoolWasm as unknown as KernelFunc);
  addIfMissing(BN_RELU_POOL_GRAD, bnReluPoolGradWasm as unknown as KernelFunc);
  addIfMissing(CONV_BN_RELU_POOL, convBnReluPoolWasm as unknown as KernelFunc);
  addIfMissing(CONV_BN_RELU_POOL_SUMS, convBnReluPoolSumsWasm as unknown as KernelFunc);
  addIfMissing(CONV_BN_RELU_POOL_DX, convBnReluPoolGradInputWasm as unknown as KernelFunc);
  addIfMissing(CONV_BN_RELU_POOL_DW, convBnReluPoolGradFilterWasm as unknown as KernelFunc);
}

/** wasm's own kernelFunc for a kernel we replaced (for benchmarks and tests). */
export function originalWasmKernel(kernelName: string): KernelFunc | undefined {
  const cfg = tf.getKernel(kernelName, 'wasm');
  return cfg ? ((cfg.kernelFunc as Marked)[ORIGINAL] ?? (isOurs(cfg) ? undefined : cfg.kernelFunc)) : undefined;
}
