// Sign for tfjs-backend-wasm. Its own is the generic unary kernel, a function call per element
// (about 7 ns an element: 1.6 ms for the 75x32x32x3 input gradient whose sign each PGD step takes,
// 1.6% of an evaluation episode). This one runs kernels.wat's `sign`, a SIMD pass on the heap in
// place, with cpu's values: -1, 0 or 1, and 0 for NaN (75x32x32x3, median of 300 calls with the
// op around it, AMD EPYC Zen 5: 0.35 ms for the plain loop below, 0.05 ms). Where the module
// cannot run, that plain loop, without a branch: a gradient's signs are random, and
// `v > 0 ? 1 : v < 0 ? -1 : 0` mispredicted half of them (1.66 against 0.51 ms for 75x32x32x3,
// Intel Xeon). Other dtypes go to the original.
import { util } from '@tensorflow/tfjs-core';
import { heapOffset, simdAvailable, simdFor } from './simd';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend } from './wasmUtil';

export function makeSignWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const x = (args as KernelArgs).inputs.x as TensorInfo;
    if (x.dtype !== 'float32') {
      if (!original) throw new Error(`Sign (wasm): ${x.dtype} input and no original kernel`);
      return original(args);
    }
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    if (simdAvailable(backend)) {
      simdFor(backend).exports.sign(heapOffset(backend, x.dataId), heapOffset(backend, out.dataId), util.sizeFromShape(x.shape));
      return out;
    }
    // Heap views after the allocation (the heap may have grown).
    const xv = backend.typedArrayFromHeap(x) as Float32Array;
    const ov = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = 0; i < xv.length; i++) {
      const v = xv[i];
      ov[i] = +(v > 0) - +(v < 0);
    }
    return out;
  };
}
