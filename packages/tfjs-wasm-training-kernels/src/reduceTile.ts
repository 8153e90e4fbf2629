// Tile, Sum and Mean for tfjs-backend-wasm, whose own (4.22) are slow where batch norm and its
// gradients use them. Measured on [150, 32, 32, 64] (9.8 M values), wasm single thread:
//   tile [1,1,1,64] -> [150,32,32,64]: ~600 ms (a generic per-element loop);
//   sum / mean over axes [0, 1, 2]: ~65 ms (it transposes the reduced axes to the end first);
// against a few ms for an elementwise op. A second-order meta step of Conv4 spent more time in
// these than in all its convolutions.
//
//   Tile: any rank and 4-byte or bool dtype, by block copies (copyWithin, doubling).
//   Sum, Mean: float32, reduced axes contiguous and not innermost ([A, R, B] summed over R,
//   B > 1), accumulated in float64 per output. Other cases go to wasm's own kernel.
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend } from './wasmUtil';

export function makeTileWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = tile(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('Tile (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

function tile(args: KernelArgs): TensorInfo | null {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const reps = (args.attrs as unknown as tf.TileAttrs).reps;
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length) return null;
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const size = util.sizeFromShape(outShape);
  if (size === 0) return out;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    ov[0] = xv[0];
    return out;
  }
  const outStrides = [...util.computeStrides(outShape), 1];
  const xShape = x.shape;
  // 1. x into the corner of out (repetition 0 on every axis), one innermost row at a time.
  const rowLen = xShape[rank - 1];
  const rows = util.sizeFromShape(xShape.slice(0, -1));
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let off = 0;
    for (let j = 0; j < rank - 1; j++) off += idx[j] * outStrides[j];
    ov.set(xv.subarray(r * rowLen, (r + 1) * rowLen), off);
    for (let j = rank - 2; j >= 0; j--) {
      if (++idx[j] < xShape[j]) break;
      idx[j] = 0;
    }
  }
  // 2. From the innermost axis out: repeat each filled block reps[k] times along axis k.
  for (let k = rank - 1; k >= 0; k--) {
    if (reps[k] === 1) continue;
    const block = xShape[k] * outStrides[k]; // the filled extent along k, with all inner axes done
    const outer = util.sizeFromShape(xShape.slice(0, k));
    const oidx = new Array<number>(k).fill(0);
    for (let o = 0; o < outer; o++) {
      let base = 0;
      for (let j = 0; j < k; j++) base += oidx[j] * outStrides[j];
      const total = block * reps[k];
      for (let len = block; len < total; len *= 2) {
        ov.copyWithin(base + len, base, base + Math.min(len, total - len));
      }
      for (let j = k - 1; j >= 0; j--) {
        if (++oidx[j] < xShape[j]) break;
        oidx[j] = 0;
      }
    }
  }
  return out;
}

export function makeReduceWasm(kind: 'Sum' | 'Mean', original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = reduceLeading(args as KernelArgs, kind === 'Mean');
    if (out) return out;
    if (!original) throw new Error(`${kind} (wasm): unsupported case and no original kernel`);
    return original(args);
  };
}

/** Sum or mean over contiguous, non-innermost axes of a float32 tensor; else null. */
function reduceLeading(args: KernelArgs, mean: boolean): TensorInfo | null {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  if (x.dtype !== 'float32') return null;
  const shape = x.shape;
  const axes = util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  const A = util.sizeFromShape(shape.slice(0, first));
  const R = util.sizeFromShape(shape.slice(first, last + 1));
  const B = util.sizeFromShape(shape.slice(last + 1));
  if (B <= 1) return null; // innermost: wasm's own kernel needs no transpose there
  const outShape = keepDims ? shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : shape.filter((_, i) => i < first || i > last);
  const out = backend.makeOutput(outShape, 'float32');
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const acc = new Float64Array(B);
  const scale = mean ? 1 / R : 1;
  for (let a = 0; a < A; a++) {
    acc.fill(0);
    let s = a * R * B;
    let r = 0;
    for (; r + 4 <= R; r += 4, s += 4 * B) {
      const s1 = s + B;
      const s2 = s1 + B;
      const s3 = s2 + B;
      for (let b = 0; b < B; b++) acc[b] += xv[s + b] + xv[s1 + b] + (xv[s2 + b] + xv[s3 + b]);
    }
    for (; r < R; r++, s += B) {
      for (let b = 0; b < B; b++) acc[b] += xv[s + b];
    }
    const o = a * B;
    if (R === 0 && mean) {
      ov.fill(NaN, o, o + B);
      continue;
    }
    for (let b = 0; b < B; b++) ov[o + b] = acc[b] * scale;
  }
  return out;
}
