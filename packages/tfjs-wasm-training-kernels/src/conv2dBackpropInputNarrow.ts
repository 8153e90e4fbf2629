// Conv2DBackpropInput into few input channels (a first layer's image channels, Ci <= 3) on our
// SIMD module (simd/kernels.wat, convNarrow): dx is dy convolved with the flipped filter, by
// implicit GEMM through an indirection table over dy, the sum over the Co channels of dy in the
// vector lanes (Co % 4 == 0) and 4 pixels x 3 channels of partial sums per tile. The col2im path
// of conv2dBackpropInput.ts and XNNPACK's conv both run such a 3-channel output at a fraction of
// their speed; measured on Conv4's first layer (75 x 32 x 32, 64 -> 3): ~6 against ~15 ms.
//
// Stride 1, NHWC float32, Ci <= 3, Co % 4 == 0, padding the flipped filter can express; else null.
import * as tf from '@tensorflow/tfjs-core';
import { heapOffset, simdAvailable, simdFor } from './simd';
import { KernelArgs, TensorInfo, WasmBackend, backpropConvInfo, kernelTuning } from './wasmUtil';

const PIXELS_PER_CALL = 256;

export function conv2DBackpropInputNarrow(args: KernelArgs): TensorInfo | null {
  if (kernelTuning.backpropInput !== 'auto') return null;
  const backend = args.backend as WasmBackend;
  const dy = args.inputs.dy as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (!simdAvailable(backend)) return null;
  const info = backpropConvInfo('Conv2DBackpropInput (wasm)', [dy, filter], dy, attrs.inputShape, filter.shape as [number, number, number, number], attrs);
  if (typeof info === 'string') return null;
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || Ci < 1 || Ci > 3 || Co % 4 !== 0) return null;
  // dx = conv(dy, flipped filter), stride 1, padding kh-1-padTop (top), kw-1-padLeft (left).
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  if (padTop < 0 || padLeft < 0 || padTop > kh - 1 || padLeft > kw - 1) return null;
  const M = N * H * W;
  if (M === 0) return null;
  const T = kh * kw;
  const Mpad = Math.ceil(M / 4) * 4;
  const dx = backend.makeOutput(info.inShape.slice(), 'float32');
  const { exports: k, memory } = simdFor(backend);
  // The native loops find the pixels from the geometry; the wasm loop needs the table (and a row
  // of zeros for the pixels outside dy).
  const direct = k.convNarrowDirect !== undefined;
  const ind = direct ? undefined : backend.makeOutput([Mpad * T], 'int32');
  const zero = direct ? undefined : backend.makeOutput([Co], 'float32');
  const wt = backend.makeOutput([T, 3, Co], 'float32');
  try {
    const at = (t: TensorInfo) => heapOffset(backend, t.dataId);
    const heap = new Float32Array(memory.buffer);
    const wP = at(wt);
    flippedNarrowFilter(memory.buffer, at(filter), wP, kh, kw, Ci, Co);
    const dxP = at(dx);
    if (k.convNarrowDirect) {
      k.convNarrowDirect(at(dy), wP, dxP, 0, N, Ho, Wo, Co, H, W, kh, kw, padTop, padLeft, Ci);
    } else {
      const indP = at(ind!);
      heap.fill(0, at(zero!) >> 2, (at(zero!) >> 2) + Co);
      k.convIndirection(indP, at(dy), at(zero!), N, Ho, Wo, Co, H, W, kh, kw, padTop, padLeft, Mpad);
      for (let m0 = 0; m0 < Mpad; m0 += PIXELS_PER_CALL) {
        k.convNarrow(indP, wP, dxP, m0, Math.min(Mpad, m0 + PIXELS_PER_CALL), M, T, Co, Ci);
      }
    }
  } catch (e) {
    backend.disposeData(dx.dataId);
    throw e;
  } finally {
    for (const t of [ind, zero, wt]) if (t) backend.disposeData(t.dataId);
  }
  return dx;
}

/**
 * The narrow loops' B for dx = conv(dy, flipped filter): wt[t'][c][co] = W[kh-1-ky'][kw-1-kx'][c][co]
 * ([T, 3, Co], zero rows for c >= Ci), from the filter [kh, kw, Ci, Co]; heap byte offsets.
 */
export function flippedNarrowFilter(buf: ArrayBuffer, filter: number, wt: number, kh: number, kw: number, Ci: number, Co: number): void {
  const heap = new Float32Array(buf);
  const w = filter >> 2;
  const o = wt >> 2;
  heap.fill(0, o, o + kh * kw * 3 * Co);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const src = w + ((kh - 1 - ky) * kw + (kw - 1 - kx)) * Ci * Co;
      heap.copyWithin(o + (ky * kw + kx) * 3 * Co, src, src + Ci * Co);
    }
  }
}
