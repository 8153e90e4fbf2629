// Conv2D for tfjs-backend-wasm by implicit GEMM on our SIMD module (simd/kernels.wat): an
// indirection table points every (output pixel, filter tap) at its input pixel's Ci channels (or
// at a row of zeros outside the image), and a 4-pixel x 8-channel register tile sums over taps
// and channels with the filter read in place as B[kh*kw*Ci, Co]. No im2col copy, no packing.
// Measured against wasm's own (XNNPACK) Conv2D on Conv4's shapes (single thread): ~45 against
// ~35 GFLOP/s for 64 -> 64 channels; the same for 3 input channels. It also serves
// Conv2DBackpropInput, which runs as a Conv2D of dy with the flipped filter.
//
// Stride 1, dilation 1, NHWC float32, Co % 8 == 0, Ci >= 2 (>= 1 on the native loops); other
// cases go to wasm's own kernel.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { gemmLoopsBlockRows, gemmTakesAnyChannels, heapOffset, simdAvailable, simdFor } from './simd';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend, kernelTuning, lap, tick } from './wasmUtil';

/** Output pixels per call of the wasm convGemm: the input rows they touch stay in cache over all channel panels (the native loops block the rows themselves). */
const ROWS_PER_CALL = 128;

export function makeConv2DWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = conv2DGemm(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('Conv2D (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

/** The convolution, or null where this kernel does not apply. */
export function conv2DGemm(args: KernelArgs): TensorInfo | null {
  if (kernelTuning.conv2d === 'original') return null;
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || !simdAvailable(backend)) return null;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  // One input channel: XNNPACK's is as fast as the wasm loops (measured on 28x28x1 -> 32); the
  // native ones are faster.
  if (Co % 8 !== 0 || Ci < 1 || (Ci < 2 && !gemmTakesAnyChannels()) || kh < 1 || kw < 1) return null;
  const M = N * Ho * Wo;
  if (M === 0) return null;
  const T = kh * kw;
  const Mpad = Math.ceil(M / 4) * 4;
  let t0 = tick();
  const { exports: k, memory } = simdFor(backend);
  const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
  const out = backend.makeOutput(info.outShape.slice(), 'float32');
  if (k.convDirect && Ci <= 4 && T <= 25) {
    // Few input channels (a first layer) on the native loops: no indirection table, which costs
    // about as much as the sums there (75 x 32 x 32 x 3 -> 64: 56 against 37 GFLOP/s; 75 x 28 x
    // 28 x 1 -> 32: 26 against 14; AMD EPYC, one core, CPU time).
    try {
      k.convDirect(at(x), at(filter), at(out), 0, N, H, W, Ci, Ho, Wo, kh, kw, info.padInfo.top, info.padInfo.left, Co);
    } catch (e) {
      backend.disposeData(out.dataId);
      throw e;
    }
    lap('conv.direct', t0);
    return out;
  }
  const ind = backend.makeOutput([Mpad * T], 'int32');
  const zero = backend.makeOutput([Ci], 'float32');
  try {
    new Float32Array(memory.buffer, at(zero), Ci).fill(0);
    const indP = at(ind);
    t0 = lap('conv.alloc', t0);
    k.convIndirection(indP, at(x), at(zero), N, H, W, Ci, Ho, Wo, kh, kw, info.padInfo.top, info.padInfo.left, Mpad);
    t0 = lap('conv.indirection', t0);
    const fP = at(filter);
    const oP = at(out);
    const rows = gemmLoopsBlockRows() ? Mpad : ROWS_PER_CALL;
    for (let m0 = 0; m0 < Mpad; m0 += rows) k.convGemm(indP, fP, oP, m0, Math.min(Mpad, m0 + rows), M, T, Ci, Co);
    lap('conv.gemm', t0);
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    backend.disposeData(ind.dataId);
    backend.disposeData(zero.dataId);
  }
  return out;
}
