// BatchMatMul for tfjs-backend-wasm on our SIMD module's gemm (simd/kernels.wat).
//
// wasm's own (4.22) takes XNNPACK only without transposes, and XNNPACK packs b on every call
// with a new b tensor (~20 ns a value: the packing, not the product, dominated a [27, 2048] @
// [2048, 64]); with a transpose it runs a plain loop, 5-10x slower. The dense layers' gradients
// are all transposed products (dx = dy @ W^T, dW = x^T @ dy), and NT-Xent's similarity is z @ z^T.
// Here a transposed operand is copied transposed first (small next to the product), and the
// product runs in 4 x 8 register tiles on the operands in place, rows in chunks that stay in
// cache. Measured (single thread) on the dense layers' shapes: 0.1-0.4 ms against 2-9 ms.
//
// float32, batch dims equal or one of them 1; anything else goes to wasm's own kernel.
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { heapOffset, simdAvailable, simdFor } from './simd';
import { KernelArgs, KernelFunc, TensorInfo, WasmBackend, kernelTuning } from './wasmUtil';

/** Rows of a per gemm call: about this many floats of a (stays in L2 over b's column panels). */
const A_CHUNK_FLOATS = 32 * 1024;

export function makeBatchMatMulWasm(original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const out = batchMatMulGemm(args as KernelArgs);
    if (out) return out;
    if (!original) throw new Error('BatchMatMul (wasm): unsupported case and no original kernel');
    return original(args);
  };
}

/** [batch, rows, cols] at src (float index) into [batch, cols, rows] at dst. */
function transposeInto(heap: Float32Array, src: number, dst: number, batch: number, rows: number, cols: number): void {
  const B = 32;
  for (let i = 0; i < batch; i++) {
    const s0 = src + i * rows * cols;
    const d0 = dst + i * rows * cols;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const r1 = Math.min(rows, r0 + B);
      for (let c0 = 0; c0 < cols; c0 += B) {
        const c1 = Math.min(cols, c0 + B);
        for (let r = r0; r < r1; r++) {
          const s = s0 + r * cols;
          for (let c = c0; c < c1; c++) heap[d0 + c * rows + r] = heap[s + c];
        }
      }
    }
  }
}

export function batchMatMulGemm(args: KernelArgs): TensorInfo | null {
  if (kernelTuning.matmul !== 'auto') return null;
  const backend = args.backend as WasmBackend;
  const a = args.inputs.a as TensorInfo;
  const b = args.inputs.b as TensorInfo;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  if (!simdAvailable(backend)) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb || m * n * k === 0) return null;
  const batchA = util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = util.sizeFromShape(b.shape.slice(0, -2));
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  } catch {
    return null;
  }
  const batch = Math.max(batchA, batchB);
  if (util.sizeFromShape(outer) !== batch) return null;
  // n % 8 columns run as scalar dot products; where those are many, pad b and the output to n8.
  const n8 = Math.ceil(n / 8) * 8;
  const pad = n % 8 !== 0 && m * k * (n % 8) > 256 * 1024;
  const nc = pad ? n8 : n;
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const at = transposeA ? backend.makeOutput([batchA, m, k], 'float32') : null;
  const bt = transposeB || pad ? backend.makeOutput([batchB, k, nc], 'float32') : null;
  const ot = pad ? backend.makeOutput([batch, m, nc], 'float32') : null;
  try {
    const { exports: g, memory } = simdFor(backend);
    const off = (t: TensorInfo) => heapOffset(backend, t.dataId);
    const heap = new Float32Array(memory.buffer);
    if (at) transposeInto(heap, off(a) >> 2, off(at) >> 2, batchA, k, m);
    if (bt) {
      if (transposeB && !pad) transposeInto(heap, off(b) >> 2, off(bt) >> 2, batchB, n, k);
      else {
        // b (or b^T) into [batchB, k, n8] with zero columns n..n8.
        const src = off(b) >> 2;
        const dst = off(bt) >> 2;
        heap.fill(0, dst, dst + batchB * k * nc);
        for (let i = 0; i < batchB; i++) {
          for (let r = 0; r < k; r++) {
            const d = dst + (i * k + r) * nc;
            if (transposeB) for (let c = 0; c < n; c++) heap[d + c] = heap[src + (i * n + c) * k + r];
            else heap.copyWithin(d, src + (i * k + r) * n, src + (i * k + r + 1) * n);
          }
        }
      }
    }
    const A = at ? off(at) : off(a);
    const Bp = bt ? off(bt) : off(b);
    const C = ot ? off(ot) : off(out);
    const rowsPerCall = Math.max(4, Math.floor(A_CHUNK_FLOATS / k) & ~3);
    for (let i = 0; i < batch; i++) {
      const ai = A + (batchA === 1 ? 0 : i) * m * k * 4;
      const bi = Bp + (batchB === 1 ? 0 : i) * k * nc * 4;
      const ci = C + i * m * nc * 4;
      for (let r0 = 0; r0 < m; r0 += rowsPerCall) {
        const rows = Math.min(rowsPerCall, m - r0);
        g.gemm(ai + r0 * k * 4, bi, ci + r0 * nc * 4, rows, k, nc, k, nc, nc, 0);
      }
    }
    if (ot) {
      const src = off(ot) >> 2;
      const dst = off(out) >> 2;
      for (let r = 0; r < batch * m; r++) heap.copyWithin(dst + r * n, src + r * nc, src + r * nc + n);
    }
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    for (const t of [at, bt, ot]) if (t) backend.disposeData(t.dataId);
  }
  return out;
}
