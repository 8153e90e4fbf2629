// Conv2DBackpropFilter by implicit GEMM on our SIMD module (simd/kernels.wat, convFilterGemm):
// dW[tap, ci, co] = sum over output pixels m of x[pixel of m at tap, ci] * dy[m, co], the pixels
// found through the same indirection table as conv2dGemm.ts, no im2col matrix, no packing, the
// sums kept in registers over 128 pixels at a time (their dy rows and x pixels stay in L1).
// Measured on Conv4's shapes (single thread): 64 -> 64 channels ~37 against ~26 GFLOP/s for the
// im2col + BatchMatMul path of conv2dBackpropFilter.ts; 3 input channels (padded to 4 for the
// wasm loops; the native ones take any count) ~24 against ~11.
//
// Stride 1, NHWC float32, Co % 8 == 0, the tuning knobs at 'auto'; else null (the im2col path).
import * as tf from '@tensorflow/tfjs-core';
import { gemmLoopsBlockRows, gemmTakesAnyChannels, heapOffset, simdAvailable, simdFor } from './simd';
import { KernelArgs, TensorInfo, WasmBackend, backpropConvInfo, kernelTuning } from './wasmUtil';

/** Output pixels per call of the wasm convFilterGemm (the native loops block the pixels themselves). */
const PIXELS_PER_CALL = 128;

export function conv2DBackpropFilterGemm(args: KernelArgs): TensorInfo | null {
  if (kernelTuning.backpropFilter !== 'auto' || kernelTuning.im2col !== 'auto' || kernelTuning.orientation !== 'auto') return null;
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { filterShape } = attrs;
  if (!simdAvailable(backend)) return null;
  const info = backpropConvInfo('Conv2DBackpropFilter (wasm)', [x, dy], dy, x.shape as [number, number, number, number], filterShape, attrs);
  if (typeof info === 'string') return null;
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || Co % 8 !== 0 || Ci < 1) return null;
  const M = N * Ho * Wo;
  if (M === 0) return null;
  const T = kh * kw;
  // The wasm loops take 4 channels at a time: pad x's channels to a multiple of 4 for them.
  const Ci4 = gemmTakesAnyChannels() ? Ci : Math.ceil(Ci / 4) * 4;
  const padded = Ci4 !== Ci;
  const out = backend.makeOutput(filterShape.slice(), 'float32');
  const dw4 = padded ? backend.makeOutput([T * Ci4, Co], 'float32') : out;
  const xs = padded ? backend.makeOutput([N, H, W, Ci4], 'float32') : x;
  const ind = backend.makeOutput([M * T], 'int32');
  const zero = backend.makeOutput([Ci4], 'float32');
  try {
    const { exports: k, memory } = simdFor(backend);
    const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
    const heap = new Float32Array(memory.buffer);
    heap.fill(0, at(zero) >> 2, (at(zero) >> 2) + Ci4);
    heap.fill(0, at(dw4) >> 2, (at(dw4) >> 2) + T * Ci4 * Co);
    if (padded) {
      // x with its channels padded to a multiple of 4 (zeros), so 4 channels load as one vector.
      const src = at(x) >> 2;
      const dst = at(xs) >> 2;
      const pixels = N * H * W;
      for (let p = 0; p < pixels; p++) {
        const s = src + p * Ci;
        const d = dst + p * Ci4;
        for (let c = 0; c < Ci; c++) heap[d + c] = heap[s + c];
        for (let c = Ci; c < Ci4; c++) heap[d + c] = 0;
      }
    }
    const indP = at(ind);
    k.convIndirection(indP, at(xs), at(zero), N, H, W, Ci4, Ho, Wo, kh, kw, info.padInfo.top, info.padInfo.left, M);
    const dyP = at(dy);
    const wP = at(dw4);
    const pixels = gemmLoopsBlockRows() ? M : PIXELS_PER_CALL;
    for (let m0 = 0; m0 < M; m0 += pixels) k.convFilterGemm(indP, dyP, wP, m0, Math.min(M, m0 + pixels), T, Ci4, Co);
    if (padded) {
      const o = at(out) >> 2;
      const w4 = at(dw4) >> 2;
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < Ci; c++) {
          const s = w4 + (t * Ci4 + c) * Co;
          heap.copyWithin(o + (t * Ci + c) * Co, s, s + Co);
        }
      }
    }
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    if (padded) {
      backend.disposeData(dw4.dataId);
      backend.disposeData(xs.dataId);
    }
    backend.disposeData(ind.dataId);
    backend.disposeData(zero.dataId);
  }
  return out;
}
