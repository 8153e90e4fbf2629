// The native GEMM loops (native/, built by scripts/build-native.js) against the wasm module's on
// the same heap: every table this CPU runs, and the AVX-512 loops built for AVX2, so their panel
// and remainder logic is checked on machines without AVX-512. The wasm loops themselves are
// checked against the cpu backend in simdKernels.test.ts (where the native path runs too).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ADDON_PATH, NativeGemm, nativeFmaPeak, nativeIsa, nativeUnavailable, withNativeGemm } from '../src/simd/native';
import { kernelTuning } from '../src/wasmUtil';
import { fmaFused, SimdExports, simdFor } from '../src/simd';
import { values } from './helpers/kernels';

const built = nativeIsa() !== undefined;
const skip = built ? false : `native kernels not running here: ${nativeUnavailable()}`;

function tables(): [string, NativeGemm][] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(ADDON_PATH) as { kernels(isa: string): NativeGemm | null };
  return ['avx512', 'avx2', 'avx512-on-avx2'].flatMap((isa) => {
    const k = addon.kernels(isa);
    return k ? [[isa, k] as [string, NativeGemm]] : [];
  });
}

/** A heap with a bump allocator (`fill`: the seed of values() to fill with; without it, zeros: the heap is fresh), and the wasm module's exports on it. */
function heap() {
  const memory = new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory({
    initial: 512,
  });
  const saved = kernelTuning.kernels;
  kernelTuning.kernels = 'wasm-simd-fma';
  const wasm = simdFor({ wasm: { asm: { memory } } }).exports;
  kernelTuning.kernels = saved;
  let top = 64;
  const alloc = (floats: number, fill?: number) => {
    const at = top;
    top += floats * 4 + 64 + 4; // 4-byte aligned only, as tensors on the heap may be
    const f = new Float32Array(memory.buffer, at, floats);
    if (fill !== undefined) f.set(values(floats, fill));
    return at;
  };
  const read = (at: number, floats: number) => Float32Array.from(new Float32Array(memory.buffer, at, floats));
  return { memory, wasm, alloc, read };
}

/** Whether two results are equal bit for bit. */
function same(a: Float32Array, b: Float32Array): boolean {
  return a.every((v, i) => Object.is(v, b[i]));
}

function close(a: Float32Array, b: Float32Array, label: string): void {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  assert.ok(m < 1e-5, `${label}: max relative difference ${m}`);
}

test("convIndirection: every native table writes the wasm loop's table (inside and edge pixels, pads, padding rows)", { skip }, () => {
  for (const [isa, k] of tables()) {
    for (const [N, H, W, Ci, Ho, Wo, kh, kw, pt, pl, extra] of [
      [2, 6, 5, 3, 6, 5, 3, 3, 1, 1, 2],
      [1, 7, 7, 1, 5, 5, 3, 3, 0, 0, 0],
      [2, 4, 6, 8, 6, 8, 3, 3, 2, 2, 4],
      [1, 5, 4, 2, 4, 3, 2, 2, 0, 0, 1],
      [3, 3, 3, 64, 3, 3, 3, 3, 1, 1, 3],
    ]) {
      const h = heap();
      const M = N * Ho * Wo;
      const Mpad = M + extra;
      const T = kh * kw;
      const x = h.alloc(N * H * W * Ci, 1);
      const zero = h.alloc(Ci);
      const indW = h.alloc(Mpad * T);
      const indN = h.alloc(Mpad * T, 2); // filled with junk: every entry must be written
      h.wasm.convIndirection(indW, x, zero, N, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Mpad);
      k.convIndirection(h.memory.buffer, indN, x, zero, N, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Mpad);
      const table = (at: number) => Array.from(new Int32Array(h.memory.buffer, at, Mpad * T));
      assert.deepEqual(table(indN), table(indW), `convIndirection ${isa} ${N}x${H}x${W}x${Ci} -> ${Ho}x${Wo}, ${kh}x${kw}, pads ${pt},${pl}, +${extra} rows`);
    }
  }
});

test('convGemm and convFilterGemm: every native table matches the wasm loops, every column panel and row remainder', { skip }, () => {
  for (const [isa, k] of tables()) {
    for (const [N, H, Ci, Co] of [
      [2, 5, 3, 8],
      [1, 7, 4, 24],
      [3, 6, 8, 40],
      [2, 9, 64, 64],
      [1, 5, 16, 72],
      [2, 3, 12, 136],
      [1, 3, 64, 64],
      [1, 3, 16, 32],
      [2, 5, 8, 56],
    ]) {
      const h = heap();
      const T = 9;
      const M = N * H * H;
      const Mpad = Math.ceil(M / 4) * 4;
      const x = h.alloc(M * Ci, 1);
      const B = h.alloc(T * Ci * Co, 2);
      const zero = h.alloc(Ci); // fresh heap: zeros
      const ind = h.alloc(Mpad * T);
      h.wasm.convIndirection(ind, x, zero, N, H, H, Ci, H, H, 3, 3, 1, 1, Mpad);
      const label = `${isa} ${N}x${H}x${H}x${Ci}->${Co}`;
      const outW = h.alloc(M * Co);
      const outN = h.alloc(M * Co);
      for (let m0 = 0; m0 < Mpad; m0 += 8) {
        h.wasm.convGemm(ind, B, outW, m0, Math.min(Mpad, m0 + 8), M, T, Ci, Co);
        k.convGemm(h.memory.buffer, ind, B, outN, m0, Math.min(Mpad, m0 + 8), M, T, Ci, Co);
      }
      close(h.read(outN, M * Co), h.read(outW, M * Co), `convGemm ${label}`);
      // The whole range in one call: other row tiles (AVX-512: 6-row tiles, some past M) sum alike.
      const outWhole = h.alloc(M * Co);
      k.convGemm(h.memory.buffer, ind, B, outWhole, 0, Mpad, M, T, Ci, Co);
      assert.ok(same(h.read(outWhole, M * Co), h.read(outN, M * Co)), `convGemm ${label}: one call differs from 8-row calls`);
      // The same products summed in the same order, fused as the wasm FMA build's: the same bits.
      if (fmaFused()) assert.ok(same(h.read(outN, M * Co), h.read(outW, M * Co)), `convGemm ${label}: not bit for bit`);
      if (Ci % 4 !== 0) continue; // the wasm loops' filter gradient needs it (simdKernels.test.ts checks the native one against cpu)
      const dW = h.alloc(T * Ci * Co, 3);
      const dN = h.alloc(T * Ci * Co, 3);
      for (let m0 = 0; m0 < M; m0 += 7) {
        h.wasm.convFilterGemm(ind, outW, dW, m0, Math.min(M, m0 + 7), T, Ci, Co);
        k.convFilterGemm(h.memory.buffer, ind, outW, dN, m0, Math.min(M, m0 + 7), T, Ci, Co);
      }
      close(h.read(dN, T * Ci * Co), h.read(dW, T * Ci * Co), `convFilterGemm ${label}`);
      if (fmaFused()) assert.ok(same(h.read(dN, T * Ci * Co), h.read(dW, T * Ci * Co)), `convFilterGemm ${label}: not bit for bit`);
    }
  }
});

test('convDirect (no indirection table) gives the bits of convGemm, for 1-4 channels, padded or not, partial tiles', { skip }, () => {
  for (const [isa, k] of tables()) {
    for (const [N, H, W, Ci, Co, pad] of [
      [2, 5, 5, 1, 8, 1],
      [1, 7, 6, 3, 24, 1],
      [2, 6, 9, 4, 16, 0],
      [1, 9, 3, 2, 64, 1],
      // Tiles inside the image (no pointer table) and at its edges.
      [1, 12, 14, 1, 32, 1],
      [2, 10, 13, 3, 24, 0],
    ]) {
      const h = heap();
      const [Ho, Wo] = [H + 2 * pad - 2, W + 2 * pad - 2];
      const M = N * Ho * Wo;
      const Mpad = Math.ceil(M / 4) * 4;
      const x = h.alloc(N * H * W * Ci, 12);
      const B = h.alloc(9 * Ci * Co, 13);
      const zero = h.alloc(Ci); // fresh heap: zeros
      const ind = h.alloc(Mpad * 9);
      h.wasm.convIndirection(ind, x, zero, N, H, W, Ci, Ho, Wo, 3, 3, pad, pad, Mpad);
      const viaTable = h.alloc(M * Co);
      const direct = h.alloc(M * Co);
      k.convGemm(h.memory.buffer, ind, B, viaTable, 0, Mpad, M, 9, Ci, Co);
      k.convDirect(h.memory.buffer, x, B, direct, 0, N, H, W, Ci, Ho, Wo, 3, 3, pad, pad, Co);
      assert.ok(same(h.read(direct, M * Co), h.read(viaTable, M * Co)), `convDirect ${isa} ${N}x${H}x${W}x${Ci}->${Co} pad ${pad}`);
    }
  }
});

test(
  'convNarrow and convNarrowDirect: every native table matches the wasm loop, for 1-3 output channels and channel counts with a 4-float tail',
  { skip },
  () => {
    for (const [isa, k] of tables()) {
      for (const [N, H, Cin, Cout] of [
        [2, 5, 8, 3],
        [1, 7, 4, 1],
        [3, 6, 12, 2],
        [2, 9, 64, 3],
        [1, 3, 36, 1],
        [2, 5, 32, 1],
        [1, 10, 32, 1],
        [1, 10, 64, 2],
        [1, 9, 64, 1],
      ]) {
        const h = heap();
        const T = 9;
        const M = N * H * H;
        const Mpad = Math.ceil(M / 4) * 4;
        const dy = h.alloc(M * Cin, 10);
        const B = h.alloc(T * 3 * Cin, 11);
        const zero = h.alloc(Cin); // fresh heap: zeros
        const ind = h.alloc(Mpad * T);
        h.wasm.convIndirection(ind, dy, zero, N, H, H, Cin, H, H, 3, 3, 1, 1, Mpad);
        const outW = h.alloc(M * Cout);
        const outN = h.alloc(M * Cout);
        for (let m0 = 0; m0 < Mpad; m0 += 6) {
          h.wasm.convNarrow(ind, B, outW, m0, Math.min(Mpad, m0 + 6), M, T, Cin, Cout);
          k.convNarrow(h.memory.buffer, ind, B, outN, m0, Math.min(Mpad, m0 + 6), M, T, Cin, Cout);
        }
        close(h.read(outN, M * Cout), h.read(outW, M * Cout), `convNarrow ${isa} ${N}x${H}x${H}x${Cin}->${Cout}`);
        const outD = h.alloc(M * Cout);
        k.convNarrowDirect(h.memory.buffer, dy, B, outD, 0, N, H, H, Cin, H, H, 3, 3, 1, 1, Cout);
        close(h.read(outD, M * Cout), h.read(outW, M * Cout), `convNarrowDirect ${isa} ${N}x${H}x${H}x${Cin}->${Cout}`);
      }
    }
  },
);

test('gemm: every native table matches the wasm loops, with strides, accumulation and column remainders', { skip }, () => {
  for (const [isa, k] of tables()) {
    for (const [M, K, N] of [
      [1, 1, 1],
      [3, 5, 7],
      [4, 8, 8],
      [5, 9, 9],
      [9, 17, 24],
      [6, 31, 33],
      [13, 64, 64],
      [2, 3, 100],
    ]) {
      for (const acc of [0, 1]) {
        const h = heap();
        const [lda, ldb, ldc] = [K + 3, N + 1, N + 5];
        const A = h.alloc(M * lda, 4);
        const B = h.alloc(K * ldb, 5);
        const Cw = h.alloc(M * ldc, 6);
        const Cn = h.alloc(M * ldc, 6);
        h.wasm.gemm(A, B, Cw, M, K, N, lda, ldb, ldc, acc);
        k.gemm(h.memory.buffer, A, B, Cn, M, K, N, lda, ldb, ldc, acc);
        close(h.read(Cn, M * ldc), h.read(Cw, M * ldc), `gemm ${isa} ${M}x${K}x${N} acc ${acc}`);
      }
    }
  }
});

test('a native call with offsets outside the heap is an error, not a crash', { skip }, () => {
  const [, k] = tables()[0];
  const h = heap();
  const bytes = h.memory.buffer.byteLength;
  assert.throws(() => k.convGemm(h.memory.buffer, bytes - 16, 64, 64, 0, 4, 4, 9, 4, 8), /native convGemm: arguments out of range/);
  assert.throws(() => k.convFilterGemm(h.memory.buffer, 64, 64, bytes, 0, 4, 9, 4, 8), /native convFilterGemm: arguments out of range/);
  assert.throws(() => k.convNarrow(h.memory.buffer, 64, 64, 64, 0, 4, 4, 9, 6, 3), /native convNarrow: arguments out of range/);
  assert.throws(() => k.convNarrowDirect(h.memory.buffer, 64, 64, 64, 0, 1, 4, 4, 6, 4, 4, 3, 3, 1, 1, 3), /native convNarrowDirect: arguments out of range/);
  assert.throws(() => k.convDirect(h.memory.buffer, bytes - 8, 64, 64, 0, 1, 4, 4, 1, 4, 4, 3, 3, 1, 1, 8), /native convDirect: arguments out of range/);
  assert.throws(() => k.gemm(h.memory.buffer, 64, 64, bytes - 4, 2, 2, 2, 2, 2, 2, 0), /native gemm: arguments out of range/);
  assert.throws(() => k.gemm(new ArrayBuffer(8), 0, 0, 0, 1, 4, 1, 4, 1, 1, 0), /native gemm: arguments out of range/);
  assert.throws(() => k.bnReluPool(h.memory.buffer, bytes - 64, 1, 4, 4, 4, 64, 64, 64, 64, 64), /native bnReluPool: arguments out of range/);
  assert.throws(() => k.poolGradSums(h.memory.buffer, bytes - 16, 64, 4, 4, 64, 64, 64, 64, 64, 64, 64), /native poolGradSums: arguments out of range/);
  assert.throws(() => k.poolGradDx(h.memory.buffer, 64, 64, 1, 4, 4, 6, 64, 64, 64, 64, 64, 64), /native poolGradDx: arguments out of range/);
});

test('fmaPeak: every native table measures a positive GFLOP/s; a bad chunk count is an error', { skip }, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(ADDON_PATH) as { kernels(isa: string): { fmaPeak(chunks: number): number } | null };
  for (const isa of ['avx512', 'avx2'] as const) {
    const k = addon.kernels(isa);
    if (!k) continue;
    const peak = nativeFmaPeak(isa, 1)!;
    assert.ok(Number.isFinite(peak) && peak > 0, `fmaPeak ${isa}: ${peak}`);
    for (const bad of [0, 101, 1.5]) assert.throws(() => k.fmaPeak(bad), /native fmaPeak: chunks must be an integer from 1 to 100/);
  }
});

test("batch norm + ReLU + pool loops: native gives the wasm loops' bits, for 4, 8, 32-channel blocks, odd sizes, partial flush blocks", { skip }, () => {
  for (const [N, H, W, C] of [
    [3, 6, 6, 4],
    [2, 6, 6, 64],
    [3, 5, 4, 44],
    [2, 7, 5, 12],
    [5, 8, 8, 8],
    [4, 9, 10, 24],
    [33, 4, 4, 4],
  ]) {
    const label = `${N}x${H}x${W}x${C}`;
    const h = heap();
    // The wasm exports with the addon's loops in place, as the native kernel path runs them.
    const native = withNativeGemm(h.wasm, h.memory, nativeIsa()!);
    for (const loop of ['moments', 'bnReluPool', 'poolGradSums', 'affine', 'poolGradDx'] as const)
      assert.notEqual(native[loop], h.wasm[loop], `${loop} is native`);
    const M = N * H * W;
    const P = N * (H >> 1) * (W >> 1) * C;
    const x = h.alloc(M * C, 21);
    const [mean, a, beta, cA, cB] = [22, 23, 24, 26, 27].map((seed) => h.alloc(C, seed));
    const dy = h.alloc(P, 28);
    const sums = () => [h.alloc(2 * C), h.alloc(2 * C), h.alloc(C), h.alloc(C)];
    const doubles = (at: number) => Float64Array.from(new Float64Array(h.memory.buffer.slice(at, at + 8 * C)));
    const bothRun = (name: string, run: (k: SimdExports, out: number[]) => void, outs: () => number[], read: (out: number[]) => ArrayLike<number>[]) => {
      const [wOut, nOut] = [outs(), outs()];
      run(h.wasm, wOut);
      run(native, nOut);
      const [fromWasm, fromNative] = [read(wOut), read(nOut)];
      fromWasm.forEach((w, i) =>
        assert.ok(
          Array.from(w).every((v, j) => Object.is(v, fromNative[i][j])),
          `${name} ${label}: output ${i}`,
        ),
      );
    };
    bothRun(
      'moments',
      (k, [s1, s2, p1, p2]) => k.moments(x, M, C, x, s1, s2, p1, p2),
      sums,
      ([s1, s2]) => [doubles(s1), doubles(s2)],
    );
    const pooled = () => [h.alloc(P), h.alloc(P)];
    bothRun(
      'bnReluPool',
      (k, [y, xm]) => k.bnReluPool(x, N, H, W, C, mean, a, beta, y, xm),
      pooled,
      ([y, xm]) => [h.read(y, P), h.read(xm, P)],
    );
    // The forward pass's xmax for the backward sums (windows whose maximum is <= 0 among them).
    const xmax = h.alloc(P);
    h.wasm.bnReluPool(x, N, H, W, C, mean, a, beta, h.alloc(P), xmax);
    bothRun(
      'poolGradSums',
      (k, [s1, s2, p1, p2]) => k.poolGradSums(xmax, dy, P / C, C, mean, a, beta, s1, s2, p1, p2),
      sums,
      ([s1, s2]) => [doubles(s1), doubles(s2)],
    );
    bothRun(
      'affine',
      (k, [dx]) => k.affine(x, dx, M, C, mean, cA, cB),
      () => [h.alloc(M * C)],
      ([dx]) => [h.read(dx, M * C)],
    );
    bothRun(
      'poolGradDx',
      (k, [dx]) => k.poolGradDx(x, dy, N, H, W, C, mean, a, beta, cA, cB, dx),
      () => [h.alloc(M * C)],
      ([dx]) => [h.read(dx, M * C)],
    );
  }
});
