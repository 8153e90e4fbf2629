// Conv2DBackpropFilter for tfjs-backend-wasm, which has none (4.22).
//
// dW[kh*kw*Ci, Co] = PT[kh*kw*Ci, M] @ dy[M, Co], M = N*Ho*Wo, where PT is the transposed
// im2col matrix of x. PT is built from the wasm heap in chunks of ~kernelTuning.chunkColumns
// columns (output pixels), and each chunk goes through the wasm BatchMatMul kernel with no
// transposes (its XNNPACK path; any transpose takes a path ten times slower). XNNPACK packs b
// (the dy chunk) on every call, and packs a few thousand rows much faster per value than tens of
// thousands, so small chunks win; their products are summed.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterGemm } from './conv2dBackpropFilterGemm';
import { KernelArgs, TensorInfo, WasmBackend, callWasmKernel, f32, kernelTuning, lap, tick, backpropConvInfo, view } from './wasmUtil';

type Conv2DInfo = backend_util.Conv2DInfo;

export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  // Stride 1 with Co % 8 == 0 (Conv4): the implicit GEMM, faster; this file's path for the rest.
  const viaGemm = conv2DBackpropFilterGemm(args);
  if (viaGemm) return viaGemm;
  const backend = args.backend as WasmBackend;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const { filterShape } = attrs;
  const info = backpropConvInfo('Conv2DBackpropFilter (wasm)', [x, dy], dy, x.shape as [number, number, number, number], filterShape, attrs);
  if (typeof info === 'string') throw new Error(info);
  const { batchSize: N, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rowsTotal = N * Ho;
  if (rowsTotal * Wo === 0 || K * Co === 0) {
    const out = backend.makeOutput(filterShape.slice(), 'float32');
    f32(backend, out).fill(0);
    return out;
  }
  const rowsPerChunk = chunkRows(rowsTotal, Wo, K);
  const shift = kernelTuning.im2col !== 'general' && info.strideHeight === 1 && info.strideWidth === 1 && Ho === info.inHeight && Wo === info.inWidth;
  if (kernelTuning.im2col === 'shift' && !shift) {
    throw new Error('Conv2DBackpropFilter (wasm): the shift path needs stride 1 and same-size output');
  }
  // 'p' packs P (M*K values) instead of dy (M*Co) but must transpose dy in JS; measured, it did
  // not beat 'pt' once chunks are a few thousand columns, even for K = 27 < Co = 64.
  const orientation = kernelTuning.orientation === 'auto' ? 'pt' : kernelTuning.orientation;
  if (orientation === 'p') return viaP(backend, x, dy, info, rowsPerChunk, filterShape);
  const xt = shift ? new Float32Array(info.inChannels * (rowsPerChunk + info.filterHeight - 1) * Wo) : null;
  const pt = backend.makeOutput([1, K, rowsPerChunk * Wo], 'float32');
  let acc: TensorInfo | null = null;
  try {
    for (let g0 = 0; g0 < rowsTotal; g0 += rowsPerChunk) {
      const rows = Math.min(rowsPerChunk, rowsTotal - g0);
      const mc = rows * Wo;
      // A fresh dy chunk each time: BatchMatMul caches its packed weights (b) by tensor id.
      let t = tick();
      const dyc = backend.makeOutput([1, mc, Co], 'float32');
      let prod: TensorInfo;
      try {
        const xv = f32(backend, x);
        const ptv = f32(backend, pt);
        f32(backend, dyc).set(f32(backend, dy).subarray(g0 * Wo * Co, (g0 * Wo + mc) * Co));
        if (xt) fillShift(xv, ptv, xt, info, g0, rows);
        else fillGeneral(xv, ptv, info, g0, rows);
        t = lap('dW.im2col', t);
        prod = callWasmKernel(
          'BatchMatMul',
          backend,
          { a: view(pt, [1, K, mc]), b: dyc },
          {
            transposeA: false,
            transposeB: false,
          },
        );
      } finally {
        backend.disposeData(dyc.dataId);
      }
      t = lap('dW.matmul', t);
      if (acc === null) {
        acc = prod;
      } else {
        const a = f32(backend, acc);
        const p = f32(backend, prod);
        for (let i = 0; i < a.length; i++) a[i] += p[i];
        backend.disposeData(prod.dataId);
      }
    }
  } catch (e) {
    if (acc) backend.disposeData(acc.dataId);
    throw e;
  } finally {
    backend.disposeData(pt.dataId);
  }
  return view(acc!, filterShape.slice());
}

/**
 * Output rows (of Wo pixels) per chunk: about kernelTuning.chunkColumns columns, at most
 * chunkElements values of im2col, at least one row; chunks of equal size where that costs little.
 */
function chunkRows(rowsTotal: number, Wo: number, K: number): number {
  const cap = Math.max(1, Math.floor(kernelTuning.chunkElements / (K * Wo)));
  const target = Math.max(1, Math.min(cap, Math.round(kernelTuning.chunkColumns / Wo)));
  const chunks = Math.ceil(rowsTotal / target);
  return Math.min(cap, Math.ceil(rowsTotal / chunks));
}

/**
 * PT rows for output rows g0..g0+rows (g = n*Ho + oy), row stride mc = rows*Wo:
 * PT[(ky*kw + kx)*Ci + c, (g-g0)*Wo + ox] = x[n, oy*sh - padTop + ky, ox*sw - padLeft + kx, c], or 0.
 */
function fillGeneral(xv: Float32Array, pt: Float32Array, info: Conv2DInfo, g0: number, rows: number): void {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const mc = rows * Wo;
  const xStep = sw * Ci;
  for (let gi = 0; gi < rows; gi++) {
    const g = g0 + gi;
    const n = Math.floor(g / Ho);
    const oy = g - n * Ho;
    const col0 = gi * Wo;
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh - padTop + ky;
      const rowOk = iy >= 0 && iy < H;
      const xRow = (n * H + iy) * W * Ci;
      for (let kx = 0; kx < kw; kx++) {
        let lo = 0;
        let hi = 0;
        if (rowOk) {
          lo = Math.max(0, Math.ceil((padLeft - kx) / sw));
          hi = Math.min(Wo, Math.floor((W - 1 + padLeft - kx) / sw) + 1);
          if (hi < lo) hi = lo;
        }
        const xStart = xRow + (lo * sw - padLeft + kx) * Ci;
        const kBase = (ky * kw + kx) * Ci;
        for (let c = 0; c < Ci; c++) {
          const d = (kBase + c) * mc + col0;
          for (let ox = 0; ox < lo; ox++) pt[d + ox] = 0;
          let s = xStart + c;
          for (let ox = lo; ox < hi; ox++, s += xStep) pt[d + ox] = xv[s];
          for (let ox = hi; ox < Wo; ox++) pt[d + ox] = 0;
        }
      }
    }
  }
}

/**
 * The same PT for stride 1 with output size = input size: every PT row is a channel plane of x
 * shifted by (ky - padTop)*W + (kx - padLeft), with the positions that fall outside the image set
 * to 0. x is transposed once to channel planes (xt), then each row is one memcpy.
 */
function fillShift(xv: Float32Array, pt: Float32Array, xt: Float32Array, info: Conv2DInfo, g0: number, rows: number): void {
  const { inHeight: H, inWidth: W, inChannels: Ci, batchSize: N } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const mc = rows * W;
  // Input rows ga..gb (g = n*H + iy) cover every shift of the chunk's rows.
  const ga = Math.max(0, g0 - padTop);
  const gb = Math.min(N * H, g0 + rows + (kh - 1 - padTop));
  const L = (gb - ga) * W;
  // Transpose x[ga*W .. gb*W, Ci] to xt[Ci, L], in blocks of positions.
  const xOff = ga * W * Ci;
  const BLOCK = 64;
  for (let p0 = 0; p0 < L; p0 += BLOCK) {
    const p1 = Math.min(L, p0 + BLOCK);
    for (let c = 0; c < Ci; c++) {
      const dRow = c * L;
      let s = xOff + p0 * Ci + c;
      for (let p = p0; p < p1; p++, s += Ci) xt[dRow + p] = xv[s];
    }
  }
  const invalid = new Int32Array(mc);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const delta = (g0 - ga) * W + (ky - padTop) * W + (kx - padLeft);
      const jlo = Math.max(0, -delta);
      const jhi = Math.max(jlo, Math.min(mc, L - delta));
      // Positions whose source pixel is outside its image (rows above/below, columns left/right).
      let nInvalid = 0;
      const colLo = Math.max(0, padLeft - kx);
      const colHi = Math.min(W, W - kx + padLeft);
      for (let gi = 0; gi < rows; gi++) {
        const oy = (g0 + gi) % H;
        const iy = oy + ky - padTop;
        const base = gi * W;
        if (iy < 0 || iy >= H) {
          for (let ox = 0; ox < W; ox++) invalid[nInvalid++] = base + ox;
        } else {
          for (let ox = 0; ox < colLo; ox++) invalid[nInvalid++] = base + ox;
          for (let ox = colHi; ox < W; ox++) invalid[nInvalid++] = base + ox;
        }
      }
      const kBase = (ky * kw + kx) * Ci;
      for (let c = 0; c < Ci; c++) {
        const d = (kBase + c) * mc;
        const s = c * L + delta;
        if (jlo > 0) pt.fill(0, d, d + jlo);
        if (jhi > jlo) pt.set(xt.subarray(s + jlo, s + jhi), d + jlo);
        if (jhi < mc) pt.fill(0, d + jhi, d + mc);
        for (let i = 0; i < nInvalid; i++) pt[d + invalid[i]] = 0;
      }
    }
  }
}

/** dW^T[Co, K] = dyT[Co, M] @ P[M, K], chunked over M; dW = its transpose. */
function viaP(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo, rowsPerChunk: number, filterShape: number[]): TensorInfo {
  const { batchSize: N, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const rowsTotal = N * Ho;
  const accJs = new Float32Array(K * Co);
  for (let g0 = 0; g0 < rowsTotal; g0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, rowsTotal - g0);
    const mc = rows * Wo;
    let t = tick();
    // Both fresh each chunk: BatchMatMul caches its packed weights (b) by tensor id alone.
    const dyt = backend.makeOutput([1, Co, mc], 'float32');
    const p = backend.makeOutput([1, mc, K], 'float32');
    let prod: TensorInfo;
    try {
      const xv = f32(backend, x);
      const pv = f32(backend, p);
      const dyv = f32(backend, dy);
      const dytv = f32(backend, dyt);
      const off = g0 * Wo * Co;
      const BLOCK = 64;
      for (let m0 = 0; m0 < mc; m0 += BLOCK) {
        const m1 = Math.min(mc, m0 + BLOCK);
        for (let c = 0; c < Co; c++) {
          const d = c * mc;
          let s = off + m0 * Co + c;
          for (let m = m0; m < m1; m++, s += Co) dytv[d + m] = dyv[s];
        }
      }
      fillP(xv, pv, info, g0, rows);
      t = lap('dW.im2col', t);
      prod = callWasmKernel('BatchMatMul', backend, { a: dyt, b: p }, { transposeA: false, transposeB: false });
    } finally {
      backend.disposeData(dyt.dataId);
      backend.disposeData(p.dataId);
    }
    t = lap('dW.matmul', t);
    const pr = f32(backend, prod);
    for (let c = 0; c < Co; c++) for (let k = 0; k < K; k++) accJs[k * Co + c] += pr[c * K + k];
    backend.disposeData(prod.dataId);
  }
  const out = backend.makeOutput(filterShape.slice(), 'float32');
  f32(backend, out).set(accJs);
  return out;
}

/** P[(g-g0)*Wo + ox, (ky*kw + kx)*Ci + c] = x[n, oy*sh - padTop + ky, ox*sw - padLeft + kx, c], or 0. */
function fillP(xv: Float32Array, p: Float32Array, info: Conv2DInfo, g0: number, rows: number): void {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  let d = 0;
  for (let gi = 0; gi < rows; gi++) {
    const g = g0 + gi;
    const n = Math.floor(g / Ho);
    const oy = g - n * Ho;
    for (let ox = 0; ox < Wo; ox++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - padTop + ky;
        const rowOk = iy >= 0 && iy < H;
        for (let kx = 0; kx < kw; kx++, d += Ci) {
          const ix = ox * sw - padLeft + kx;
          if (rowOk && ix >= 0 && ix < W) {
            const s = ((n * H + iy) * W + ix) * Ci;
            for (let c = 0; c < Ci; c++) p[d + c] = xv[s + c];
          } else {
            for (let c = 0; c < Ci; c++) p[d + c] = 0;
          }
        }
      }
    }
  }
}
