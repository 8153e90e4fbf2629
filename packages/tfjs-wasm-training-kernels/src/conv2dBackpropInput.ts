// A faster Conv2DBackpropInput for tfjs-backend-wasm (its own runs a naive loop, ~2 GFLOP/s).
//
// Two ways, both on XNNPACK kernels of the wasm backend:
//  - conv: dx = conv2d(dy dilated by the strides, W flipped in space with in/out channels
//    swapped), stride 1, explicit padding (kh-1-padTop, ..), on the wasm Conv2D kernel. Best for
//    stride 1 and many input channels; cases padding cannot express (a forward padding larger
//    than the filter) go to the other way.
//  - col2im: dP[M, kh*kw*Ci] = dy[M, Co] @ W^T (the wasm BatchMatMul kernel), then each row of
//    dP is added into the input pixels it came from. Any stride and padding; no work on the
//    zeros of a dilated dy, and XNNPACK's conv is slow with few output channels (Ci = 3).
// Only NCHW or non-float32 input goes to wasm's own kernel.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { conv2DBackpropInputNarrow } from './conv2dBackpropInputNarrow';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend, backpropConvInfo, callWasmKernel, f32, kernelTuning, sameShape, view } from './wasmUtil';

type Conv2DInfo = backend_util.Conv2DInfo;

export function makeConv2DBackpropInputWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    // Into <= 3 channels (a first layer), stride 1: conv2dBackpropInputNarrow.ts, faster.
    const out = conv2DBackpropInputNarrow(args as KernelArgs) ?? conv2DBackpropInputFast(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('Conv2DBackpropInput (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

/** dx, or null for what only wasm's own kernel does (NCHW, non-float32). */
export function conv2DBackpropInputFast(args: KernelArgs): TensorInfo | null {
  const backend = args.backend as WasmBackend;
  const dy = args.inputs.dy as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = backpropConvInfo('Conv2DBackpropInput (wasm)', [dy, filter], dy, attrs.inputShape, filter.shape as [number, number, number, number], attrs);
  if (typeof info === 'string') return null;
  if (info.batchSize * info.inHeight * info.inWidth * info.inChannels === 0) return null;
  const mode = kernelTuning.backpropInput;
  const conv = mode === 'conv' || (mode === 'auto' && info.strideHeight * info.strideWidth === 1 && info.inChannels >= 16);
  return (conv && viaConv(backend, dy, filter, info)) || viaCol2im(backend, dy, filter, info);
}

/** dx via the wasm Conv2D kernel, or null where padding cannot express the case. */
function viaConv(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo | null {
  const inputShape = info.inShape;
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (N * Ho * Wo * Co === 0) return null;
  const hd = (Ho - 1) * sh + 1;
  const wd = (Wo - 1) * sw + 1;
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  const padBottom = H + kh - 1 - padTop - hd;
  const padRight = W + kw - 1 - padLeft - wd;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) return null;

  // Allocate everything first: heap views are invalid after any allocation.
  const flipped = backend.makeOutput([kh, kw, Co, Ci], 'float32');
  const dilate = sh !== 1 || sw !== 1;
  const dyd = dilate ? backend.makeOutput([N, hd, wd, Co], 'float32') : dy;
  try {
    const w = f32(backend, filter);
    const wf = f32(backend, flipped);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const src = ((kh - 1 - ky) * kw + (kw - 1 - kx)) * Ci * Co;
        const dst = (ky * kw + kx) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          let s = src + ci * Co;
          for (let co = 0; co < Co; co++, s++) wf[dst + co * Ci + ci] = w[s];
        }
      }
    }
    if (dilate) {
      const d = f32(backend, dyd);
      const v = f32(backend, dy);
      d.fill(0);
      for (let n = 0; n < N; n++) {
        for (let oy = 0; oy < Ho; oy++) {
          const srcRow = (n * Ho + oy) * Wo * Co;
          const dstRow = (n * hd + oy * sh) * wd * Co;
          for (let ox = 0; ox < Wo; ox++) {
            const s = srcRow + ox * Co;
            const t = dstRow + ox * sw * Co;
            for (let c = 0; c < Co; c++) d[t + c] = v[s + c];
          }
        }
      }
    }
    const out = callWasmKernel(
      'Conv2D',
      backend,
      { x: dyd, filter: flipped },
      {
        strides: [1, 1],
        pad: [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: [1, 1],
      },
    );
    if (!sameShape(out.shape, inputShape)) {
      backend.disposeData(out.dataId);
      throw new Error(`Conv2DBackpropInput (wasm): got shape ${out.shape}, expected ${inputShape}`);
    }
    return out;
  } finally {
    backend.disposeData(flipped.dataId);
    if (dilate) backend.disposeData(dyd.dataId);
  }
}

/** dx = col2im(dy[M, Co] @ W^T[Co, kh*kw*Ci]), in chunks of output rows. */
function viaCol2im(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const K = kh * kw * Ci;
  const rowsTotal = N * Ho;
  const dx = backend.makeOutput(info.inShape.slice(), 'float32');
  if (rowsTotal * Wo === 0 || Co === 0) {
    f32(backend, dx).fill(0);
    return dx;
  }
  // Weights W^T [Co, K], once for all chunks (BatchMatMul packs them once per tensor).
  const wt = backend.makeOutput([1, Co, K], 'float32');
  const cap = Math.max(1, Math.floor(kernelTuning.chunkElements / (Math.max(K, Co) * Wo)));
  const rowsPerChunk = Math.min(rowsTotal, cap);
  const single = rowsPerChunk === rowsTotal;
  const a = single ? null : backend.makeOutput([1, rowsPerChunk * Wo, Co], 'float32');
  try {
    const w = f32(backend, filter);
    const wtv = f32(backend, wt);
    for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) wtv[co * K + k] = w[k * Co + co];
    f32(backend, dx).fill(0);
    for (let g0 = 0; g0 < rowsTotal; g0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, rowsTotal - g0);
      const mc = rows * Wo;
      let lhs: TensorInfo;
      if (a) {
        const dyv = f32(backend, dy);
        f32(backend, a).set(dyv.subarray(g0 * Wo * Co, (g0 * Wo + mc) * Co));
        lhs = view(a, [1, mc, Co]);
      } else {
        lhs = view(dy, [1, mc, Co]);
      }
      const dp = callWasmKernel('BatchMatMul', backend, { a: lhs, b: wt }, { transposeA: false, transposeB: false });
      const dpv = f32(backend, dp);
      const dxv = f32(backend, dx);
      let src = 0;
      for (let gi = 0; gi < rows; gi++) {
        const g = g0 + gi;
        const n = Math.floor(g / Ho);
        const oy = g - n * Ho;
        for (let ox = 0; ox < Wo; ox++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - padTop + ky;
            if (iy < 0 || iy >= H) {
              src += kw * Ci;
              continue;
            }
            const rowBase = (n * H + iy) * W;
            for (let kx = 0; kx < kw; kx++, src += Ci) {
              const ix = ox * sw - padLeft + kx;
              if (ix < 0 || ix >= W) continue;
              const d = (rowBase + ix) * Ci;
              for (let c = 0; c < Ci; c++) dxv[d + c] += dpv[src + c];
            }
          }
        }
      }
      backend.disposeData(dp.dataId);
    }
  } catch (e) {
    backend.disposeData(dx.dataId);
    throw e;
  } finally {
    backend.disposeData(wt.dataId);
    if (a) backend.disposeData(a.dataId);
  }
  return dx;
}
