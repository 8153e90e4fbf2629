// The optional native build of the GEMM loops (../../native, built into out/native/kernels.node by
// scripts/build-native.js where a C++ compiler is present): convIndirection, and convGemm,
// convFilterGemm, convNarrow and gemm with AVX2 or AVX-512 vectors, plus convDirect and
// convNarrowDirect, and the batch norm + ReLU + pool loops (one AVX2 build, the wasm loops' bits),
// on the wasm backend's heap in place, behind the wasm module's interface (SimdExports). Where the
// addon is missing, fails to load or the CPU has neither instruction set, `nativeIsa()` is
// undefined and the wasm builds run; nothing else changes.
import * as path from 'path';
import type { SimdExports } from '.';
import { NATIVE_ISAS, NativeIsa } from './paths';

/** The loops the addon implements, each taking the heap (an ArrayBuffer) before the wasm module's own arguments. */
const NATIVE_LOOPS = [
  'convIndirection',
  'convGemm',
  'convFilterGemm',
  'convNarrow',
  'convDirect',
  'convNarrowDirect',
  'gemm',
  'moments',
  'bnReluPool',
  'poolGradSums',
  'affine',
  'poolGradDx',
] as const;
type WithHeap<F> = F extends (...args: infer A) => infer R ? (heap: ArrayBuffer, ...args: A) => R : never;
export type NativeGemm = { [K in (typeof NATIVE_LOOPS)[number]]: WithHeap<NonNullable<SimdExports[K]>> };

interface Addon {
  isa(): string;
  /** The GEMM functions on `isa`, or null where this CPU does not run it. */
  kernels(isa: NativeIsa): (NativeGemm & { fmaPeak(chunks: number): number }) | null;
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
 * One core's measured GFLOP/s on `isa`'s vectors: a register-only loop of fused multiply-adds, the
 * best of `chunks` runs of about 2 ms; undefined where `isa` does not run here.
 */
export function nativeFmaPeak(isa: NativeIsa, chunks = 8): number | undefined {
  return nativeRuns(isa) ? load()?.kernels(isa)?.fmaPeak(chunks) : undefined;
}

/**
 * The wasm module's exports with its loops (NATIVE_LOOPS: the GEMMs on `isa`, and batch norm +
 * ReLU + pool) replaced by the native ones, plus convDirect and convNarrowDirect (only the
 * indirection-table loops and the probe stay in wasm). The heap's ArrayBuffer is read at every
 * call: it is a new one whenever the wasm memory grows.
 */
export function withNativeGemm(wasm: SimdExports, memory: { readonly buffer: ArrayBuffer }, isa: NativeIsa): SimdExports {
  const a = load()?.kernels(isa);
  if (!a) throw new Error(`native kernels: ${isa} does not run here (${nativeUnavailable() ?? 'a narrower CPU'})`);
  const exp: SimdExports = { ...wasm };
  for (const name of NATIVE_LOOPS) {
    const f = a[name] as (heap: ArrayBuffer, ...args: number[]) => void;
    (exp as unknown as Record<string, (...args: number[]) => void>)[name] = (...args) => f(memory.buffer, ...args);
  }
  return exp;
}
