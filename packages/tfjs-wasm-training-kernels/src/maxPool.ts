// MaxPoolGrad and MaxPoolWithArgmax for tfjs-backend-wasm.
//
// Its own (4.22) start each window's maximum at FLT_MIN (the smallest positive float) instead of
// -inf, so a window whose values are all <= 0 gets position 0: MaxPoolGrad drops its gradient
// (or adds it to element 0) and MaxPoolWithArgmax returns index 0. Its ties also go to the last
// maximum where cpu (and TensorFlow) take the first. These versions take the first maximum over
// the window's in-image positions, as the cpu backend does, so the two kernels agree with each
// other (the gradient of MaxPoolGrad in gradients.ts relies on it) and with cpu.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { KernelArgs, TensorInfo, WasmBackend, f32, i32 } from './wasmUtil';

type PoolInfo = backend_util.Conv2DInfo;

/**
 * For every output element (NHWC order) the flat NHWC index in x of the first maximum of its
 * window, or -1 (an empty window, or only NaN). Also the maxima into `pooled` if given.
 */
function argmaxPositions(xv: Float32Array, info: PoolInfo, pos: Int32Array, pooled?: Float32Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const best = new Float32Array(C);
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = oy * sh - padTop;
      for (let ox = 0; ox < Wo; ox++, o += C) {
        const x0 = ox * sw - padLeft;
        best.fill(-Infinity);
        pos.fill(-1, o, o + C);
        for (let wy = 0; wy < fh; wy += dh) {
          const iy = y0 + wy;
          if (iy < 0 || iy >= H) continue;
          for (let wx = 0; wx < fw; wx += dw) {
            const ix = x0 + wx;
            if (ix < 0 || ix >= W) continue;
            const base = ((n * H + iy) * W + ix) * C;
            for (let c = 0; c < C; c++) {
              const v = xv[base + c];
              if (v > best[c]) {
                best[c] = v;
                pos[o + c] = base + c;
              }
            }
          }
        }
        if (pooled) {
          for (let c = 0; c < C; c++) pooled[o + c] = best[c];
        }
      }
    }
  }
}

function poolInfo(
  shape: number[],
  filterSize: [number, number] | number,
  strides: [number, number] | number,
  pad: tf.MaxPoolGradAttrs['pad'],
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): PoolInfo {
  return backend_util.computePool2DInfo(shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

export function maxPoolGradWasm(args: KernelArgs): TensorInfo {
  const backend = args.backend as WasmBackend;
  const dy = args.inputs.dy as TensorInfo;
  const input = args.inputs.input as TensorInfo;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`MaxPoolGrad (wasm) needs float32 inputs, got ${input.dtype} and ${dy.dtype}`);
  }
  const info = poolInfo(input.shape, filterSize, strides, pad, dimRoundingMode);
  const pos = new Int32Array(info.outShape.reduce((a, b) => a * b, 1));
  argmaxPositions(f32(backend, input), info, pos);
  const dx = backend.makeOutput(input.shape.slice(), 'float32');
  const dxv = f32(backend, dx);
  const dyv = f32(backend, dy);
  dxv.fill(0);
  for (let o = 0; o < pos.length; o++) {
    const p = pos[o];
    if (p >= 0) dxv[p] += dyv[o];
  }
  return dx;
}

export function maxPoolWithArgmaxWasm(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const { filterSize, strides, pad, includeBatchInIndex } = args.attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  if (x.dtype !== 'float32') throw new Error(`MaxPoolWithArgmax (wasm) needs float32, got ${x.dtype}`);
  const info = poolInfo(x.shape, filterSize, strides, pad);
  const pooled = backend.makeOutput(info.outShape.slice(), 'float32');
  const indexes = backend.makeOutput(info.outShape.slice(), 'int32');
  const idx = i32(backend, indexes);
  argmaxPositions(f32(backend, x), info, idx, f32(backend, pooled));
  if (!includeBatchInIndex) {
    const perImage = info.inHeight * info.inWidth * info.inChannels;
    for (let i = 0; i < idx.length; i++) if (idx[i] >= 0) idx[i] %= perImage;
  }
  return [pooled, indexes];
}
