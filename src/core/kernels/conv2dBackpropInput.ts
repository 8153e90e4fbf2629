// A faster Conv2DBackpropInput for tfjs-backend-wasm (its own runs a naive loop, ~1.6 GFLOP/s).
//
// dx = conv2d(dy dilated by the strides, W flipped in space with in/out channels swapped),
// stride 1, explicit padding (kh-1-padTop, ..), on the wasm Conv2D kernel (XNNPACK). Cases that
// padding cannot express (a forward padding larger than the filter) go to the original kernel.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend, callWasmKernel, f32, sameShape } from './wasmUtil';

export function makeConv2DBackpropInputWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = conv2DBackpropInputViaConv(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('Conv2DBackpropInput (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

/** dx via the wasm Conv2D kernel, or null where that cannot express the case. */
export function conv2DBackpropInputViaConv(args: KernelArgs): TensorInfo | null {
  const backend = args.backend as WasmBackend;
  const dy = args.inputs.dy as TensorInfo;
  const filter = args.inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
    args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const format = backend_util.convertConv2DDataFormat(dataFormat);
  if (format !== 'channelsLast') return null;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    format,
  );
  if (!sameShape(dy.shape, info.outShape)) return null;
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci } = info;
  const { outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (N * H * W * Ci === 0 || N * Ho * Wo * Co === 0) return null;
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
          const srcRow = ((n * Ho + oy) * Wo) * Co;
          const dstRow = ((n * hd + oy * sh) * wd) * Co;
          for (let ox = 0; ox < Wo; ox++) {
            const s = srcRow + ox * Co;
            const t = dstRow + ox * sw * Co;
            for (let c = 0; c < Co; c++) d[t + c] = v[s + c];
          }
        }
      }
    }
    const out = callWasmKernel('Conv2D', backend, { x: dyd, filter: flipped }, {
      strides: [1, 1],
      pad: [
        [0, 0],
        [padTop, padBottom],
        [padLeft, padRight],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    });
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
