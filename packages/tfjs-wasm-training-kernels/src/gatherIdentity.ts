// GatherV2 and Identity for tfjs-backend-wasm.
//
// GatherV2: wasm's own reads the indices back and checks each with a closure (~55 ns an index:
// 130 ms to gather 2.4 M values, as the gradient of MaxPoolGrad does on Conv4 shapes), and gets
// batchDims > 0 wrong (4.22: [3,5,2] gathered with [3,2] indices, batchDims 1, differs from cpu).
// This one checks and copies in plain loops.
// Identity: wasm's own copies the data; this one shares it (reference count), as the cpu
// backend does. Tensor data is never written in place, so sharing is safe.
import { backend_util, util } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend } from './wasmUtil';

export function makeGatherV2Wasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = gather(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('GatherV2 (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

function gather(args: KernelArgs): TensorInfo | null {
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const indices = args.inputs.indices as TensorInfo;
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  if (indices.dtype !== 'int32') return null;
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  const a = util.parseAxisParam(axis, x.shape)[0];
  // x as [batch, outer, dim, slice], indices as [batch, n]: out[b, o, i] = x[b, o, idx[b, i]].
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as tf.Tensor, indices as tf.Tensor, a, batchDims ?? 0);
  const { batchSize, outerSize, dimSize: dim, sliceSize: inner } = info;
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  const total = idx.length;
  for (let i = 0; i < total; i++) {
    const v = idx[i];
    if (!(v >= 0 && v < dim)) throw new Error(`GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
  }
  const out = backend.makeOutput(info.outputShape, x.dtype);
  if (util.sizeFromShape(info.outputShape) === 0) return out;
  const n = total / batchSize;
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const iv = backend.typedArrayFromHeap(indices) as Int32Array; // heap views: after the allocation
  let d = 0;
  for (let b = 0; b < batchSize; b++) {
    const ib = b * n;
    for (let o = 0; o < outerSize; o++) {
      const srcBase = (b * outerSize + o) * dim * inner;
      if (inner === 1) {
        for (let i = 0; i < n; i++) ov[d + i] = xv[srcBase + iv[ib + i]];
        d += n;
      } else if (inner < 16) {
        for (let i = 0; i < n; i++, d += inner) {
          const s = srcBase + iv[ib + i] * inner;
          for (let k = 0; k < inner; k++) ov[d + k] = xv[s + k];
        }
      } else {
        for (let i = 0; i < n; i++, d += inner) {
          const s = srcBase + iv[ib + i] * inner;
          ov.set(xv.subarray(s, s + inner), d);
        }
      }
    }
  }
  return out;
}

interface RefCounting {
  incRef(dataId: tf.DataId): void;
}

export function makeIdentityWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string' || x.dtype === 'complex64') {
      if (!original) throw new Error('Identity (wasm): unsupported dtype and no original kernel');
      return original(args);
    }
    (args.backend as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
}
