// The optional native build of the GEMM loops (../../native, built into out/native/kernels.node by
// scripts/build-native.js where a C++ compiler is present): convGemm, convFilterGemm, convNarrow
// and gemm with AVX2 or AVX-512 vectors, on the wasm backend's heap in place, behind the same
// interface as the wasm module's exports. Where the addon is missing, fails to load or the CPU has neither
// instruction set, `nativeIsa()` is undefined and the wasm builds run; nothing else changes.
import * as path from 'path';
import type { SimdExports } from '.';
import { NATIVE_ISAS, NativeIsa } from './paths';

interface NativeGemm {
  convGemm(heap: ArrayBuffer, ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Ci: number, Co: number): void;
  convFilterGemm(heap: ArrayBuffer, ind: number, dy: number, dW: number, m0: number, m1: number, T: number, Ci: number, Co: number): void;
  convNarrow(heap: ArrayBuffer, ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Cin: number, Cout: number): void;
  convDirect(
    heap: ArrayBuffer,
    x: number,
    B: number,
    out: number,
    n0: number,
    n1: number,
    H: number,
    W: number,
    Ci: number,
    Ho: number,
    Wo: number,
    kh: number,
    kw: number,
    padTop: number,
    padLeft: number,
    Co: number,
  ): void;
  convNarrowDirect(
    heap: ArrayBuffer,
    x: number,
    B: number,
    out: number,
    n0: number,
    n1: number,
    H: number,
    W: number,
    Cin: number,
    Ho: number,
    Wo: number,
    kh: number,
    kw: number,
    padTop: number,
    padLeft: number,
    Cout: number,
  ): void;
  gemm(heap: ArrayBuffer, A: number, B: number, C: number, M: number, K: number, N: number, lda: number, ldb: number, ldc: number, acc: number): void;
}
interface Addon {
  isa(): string;
  /** The GEMM functions on `isa`, or null where this CPU does not run it. */
  kernels(isa: NativeIsa): NativeGemm | null;
}

/** Where scripts/build-native.js writes the addon (out/native beside out/src). */
export const ADDON_PATH = path.join(__dirname, '..', '..', 'native', 'kernels.node');

let addon: Addon | null | undefined;
/** Why the addon is not in use, for doctor; undefined when it is. */
let unavailable: string | undefined;

function load(): Addon | null {
  if (addon === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      addon = require(ADDON_PATH) as Addon;
    } catch (e) {
      addon = null;
      const code = (e as { code?: string }).code;
      unavailable = code === 'MODULE_NOT_FOUND' ? 'not built (no C++ compiler at install, or not linux-x64)' : `failed to load: ${(e as Error).message}`;
    }
  }
  return addon;
}

let widest: NativeIsa | null | undefined;

/** The widest instruction set the native kernels run on this CPU, or undefined (then the wasm builds run). */
export function nativeIsa(): NativeIsa | undefined {
  if (widest === undefined) {
    const isa = load()?.isa() ?? '';
    if (load() && isa === '') unavailable = 'this CPU has neither AVX2 with FMA nor AVX-512';
    widest = isa === '' ? null : (isa as NativeIsa);
  }
  return widest ?? undefined;
}

/** Why the native kernels do not run here (undefined when they do). */
export function nativeUnavailable(): string | undefined {
  nativeIsa();
  return unavailable;
}

/** Whether the native kernels can run `isa` on this CPU. */
export function nativeRuns(isa: NativeIsa): boolean {
  const widest = nativeIsa();
  return widest !== undefined && NATIVE_ISAS.indexOf(isa) >= NATIVE_ISAS.indexOf(widest);
}

/**
 * The wasm module's exports with its GEMM loops (convGemm, convFilterGemm, convNarrow, gemm)
 * replaced by the native ones on `isa`, plus convDirect and convNarrowDirect (the other loops,
 * memory-bound, stay in wasm). The heap's ArrayBuffer is read at every call: it is a new
 * one whenever the wasm memory grows.
 */
export function withNativeGemm(wasm: SimdExports, memory: { readonly buffer: ArrayBuffer }, isa: NativeIsa): SimdExports {
  const a = load()?.kernels(isa);
  if (!a) throw new Error(`native kernels: ${isa} does not run here (${nativeUnavailable() ?? 'a narrower CPU'})`);
  return {
    ...wasm,
    convGemm: (ind, B, out, m0, m1, M, T, Ci, Co) => a.convGemm(memory.buffer, ind, B, out, m0, m1, M, T, Ci, Co),
    convFilterGemm: (ind, dy, dW, m0, m1, T, Ci, Co) => a.convFilterGemm(memory.buffer, ind, dy, dW, m0, m1, T, Ci, Co),
    convNarrow: (ind, B, out, m0, m1, M, T, Cin, Cout) => a.convNarrow(memory.buffer, ind, B, out, m0, m1, M, T, Cin, Cout),
    convNarrowDirect: (x, B, out, n0, n1, H, W, Cin, Ho, Wo, kh, kw, pt, pl, Cout) =>
      a.convNarrowDirect(memory.buffer, x, B, out, n0, n1, H, W, Cin, Ho, Wo, kh, kw, pt, pl, Cout),
    convDirect: (x, B, out, n0, n1, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Co) =>
      a.convDirect(memory.buffer, x, B, out, n0, n1, H, W, Ci, Ho, Wo, kh, kw, pt, pl, Co),
    gemm: (A, B, C, M, K, N, lda, ldb, ldc, acc) => a.gemm(memory.buffer, A, B, C, M, K, N, lda, ldb, ldc, acc),
  };
}
