// Our SIMD wasm module (kernels.wat), instantiated on the heap of the tfjs wasm backend it serves:
// it imports that backend's WebAssembly.Memory, so it reads and writes tensors in place. One
// instance per memory (each worker thread has its own tfjs, backend and heap).
//
// Two builds of that module (simdModule.ts): with fused multiply-add (relaxed SIMD) in the GEMM
// loops, and without. Where the optional native addon runs (native.ts: AVX2 or AVX-512), its
// loops replace the module's GEMM ones (convGemm, convFilterGemm, convNarrow, gemm) on the same heap.
//
// Node 20 has relaxed SIMD behind a V8 flag, which kernelPath() turns on before compiling
// anything of ours; V8 flags are per process, so worker threads started after it
// have it too, and each process (the CLI, a run's worker) finds it again on its own.
import * as v8 from 'v8';
import { kernelTuning } from '../wasmUtil';
import { nativeFmaPeak, nativeIsa, nativeRuns, withNativeGemm } from './native';
import { KERNEL_PATHS, KernelPath, NativeIsa } from './paths';
import { SIMD_FMA_MODULE_BASE64, SIMD_MODULE_BASE64 } from './simdModule';

// The WebAssembly global of Node, typed here (the project's TypeScript libs do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * A stride-1 convolution of images [n0, n1) of x [N, H, W, Cin] into out [N, Ho, Wo, Cout] that
 * finds its input pixels from the geometry (no indirection table); offsets into the heap.
 */
type DirectConv = (
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
) => void;

/** The exports of kernels.wat; pointers are byte offsets into the backend's heap. */
export interface SimdExports {
  moments(x: number, M: number, C: number, shift: number, s1: number, s2: number, p1: number, p2: number): void;
  bnReluPool(x: number, N: number, H: number, W: number, C: number, mean: number, a: number, beta: number, y: number, xmax: number): void;
  poolGradSums(xmax: number, dy: number, M: number, C: number, mean: number, a: number, beta: number, s1: number, s2: number, p1: number, p2: number): void;
  affine(x: number, dx: number, M: number, C: number, mean: number, cA: number, cB: number): void;
  sign(x: number, out: number, n: number): void;
  poolGradDx(
    x: number,
    dy: number,
    N: number,
    H: number,
    W: number,
    C: number,
    mean: number,
    a: number,
    beta: number,
    cA: number,
    cB: number,
    dx: number,
  ): void;
  convIndirection(
    ind: number,
    x: number,
    zero: number,
    N: number,
    H: number,
    W: number,
    Ci: number,
    Ho: number,
    Wo: number,
    kh: number,
    kw: number,
    padTop: number,
    padLeft: number,
    Mpad: number,
  ): void;
  convGemm(ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Ci: number, Co: number): void;
  convNarrow(ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Cin: number, Cout: number): void;
  convFilterGemm(ind: number, dy: number, dW: number, m0: number, m1: number, T: number, Ci: number, Co: number): void;
  /** C[M, N] = A[M, K] @ B[K, N] (+ C if acc = 1); row strides in floats. */
  gemm(A: number, B: number, C: number, M: number, K: number, N: number, lda: number, ldb: number, ldc: number, acc: number): void;
  /**
   * Native loops only: convGemm for 1-4 input channels without an indirection table (the
   * pointers found from the geometry), for images [n0, n1); B is the filter [kh*kw*Ci, Co].
   */
  convDirect?: DirectConv;
  /** Native loops only: convNarrow without an indirection table, for images [n0, n1) of x [N, H, W, Cin] into out [N, Ho, Wo, Cout]. */
  convNarrowDirect?: DirectConv;
  maddProbe(a: number, b: number, c: number): number;
}

/** The slice of tfjs-backend-wasm's backend that locates tensors and the heap. */
export interface HeapBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

export { KERNEL_PATHS, KernelPath } from './paths';
export { nativeUnavailable } from './native';

type WasmPath = Exclude<KernelPath, `native-${NativeIsa}`>;

const BYTES: Record<WasmPath, string> = { 'wasm-simd-fma': SIMD_FMA_MODULE_BASE64, 'wasm-simd': SIMD_MODULE_BASE64 };
const compiled: Partial<Record<WasmPath, object>> = {};
const instances = new Map<KernelPath, WeakMap<WasmMemory, SimdExports>>();
let relaxedSimd: boolean | undefined;

/** Whether this runtime compiles relaxed SIMD, turning on Node 20's flag for it the first time. */
function hasRelaxedSimd(): boolean {
  if (relaxedSimd === undefined) {
    const bytes = Buffer.from(SIMD_FMA_MODULE_BASE64, 'base64');
    if (!WebAssembly.validate(bytes)) {
      try {
        v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch {
        // Not a Node with this flag: the plain build runs.
      }
    }
    relaxedSimd = WebAssembly.validate(bytes);
  }
  return relaxedSimd;
}

function isNative(path: KernelPath): path is `native-${NativeIsa}` {
  return path.startsWith('native-');
}

/** One core's measured peak GFLOP/s on `path` (native paths; undefined for the wasm ones, or where it does not run). */
export function measuredPeakPerCore(path: KernelPath): number | undefined {
  return isNative(path) ? nativeFmaPeak(path.slice('native-'.length) as NativeIsa) : undefined;
}

/** Whether `path` runs here. */
export function kernelPathRuns(path: KernelPath): boolean {
  if (isNative(path)) return nativeRuns(path.slice('native-'.length) as NativeIsa);
  return path === 'wasm-simd' || hasRelaxedSimd();
}

/**
 * The path the kernels use now: kernelTuning.kernels, where 'auto' means the widest native one
 * that runs, else FMA if it compiles, else multiply then add. A forced path that does not run
 * here is an error that says which do.
 */
export function kernelPath(): KernelPath {
  const asked = kernelTuning.kernels;
  if (asked !== 'auto') {
    if (!KERNEL_PATHS.includes(asked)) throw new Error(`kernels: ${asked} (ROBUST_META_KERNELS?) is none of auto, ${KERNEL_PATHS.join(', ')}`);
    if (kernelPathRuns(asked)) return asked;
    throw new Error(`kernels: ${asked} asked for, but it does not run here; these do: ${KERNEL_PATHS.filter(kernelPathRuns).join(', ')}`);
  }
  const isa = nativeIsa();
  if (isa) return `native-${isa}`;
  return hasRelaxedSimd() ? 'wasm-simd-fma' : 'wasm-simd';
}

/**
 * Whether the FMA build's relaxed_madd is fused here (one rounding, the CPU's FMA instruction);
 * relaxed SIMD lets a runtime without FMA multiply then add instead. False without relaxed SIMD.
 */
export function fmaFused(): boolean {
  if (!hasRelaxedSimd()) return false;
  const e = 2 ** -12;
  return simdOn(new WebAssembly.Memory({ initial: 1 }), 'wasm-simd-fma').maddProbe(1 + e, 1 - e, -1) !== 0;
}

function simdOn(memory: WasmMemory, path: KernelPath): SimdExports {
  let perMemory = instances.get(path);
  if (!perMemory) instances.set(path, (perMemory = new WeakMap()));
  let exp = perMemory.get(memory);
  if (!exp) {
    if (isNative(path)) {
      // The loops the addon lacks (indirection tables, the probe) stay in the wasm module (FMA build where it compiles).
      exp = withNativeGemm(simdOn(memory, hasRelaxedSimd() ? 'wasm-simd-fma' : 'wasm-simd'), memory, path.slice('native-'.length) as NativeIsa);
    } else {
      compiled[path] ??= new WebAssembly.Module(Buffer.from(BYTES[path], 'base64'));
      exp = new WebAssembly.Instance(compiled[path]!, { env: { memory } }).exports as unknown as SimdExports;
    }
    perMemory.set(memory, exp);
  }
  return exp;
}

/** The backend's heap memory, or undefined where it is not reachable (another tfjs build). */
export function heapMemory(backend: unknown): WasmMemory | undefined {
  const m = (backend as Partial<HeapBackend>)?.wasm?.asm?.memory;
  return m instanceof WebAssembly.Memory ? m : undefined;
}

/** Whether this backend's heap can host the SIMD kernels. */
export function simdAvailable(backend: unknown): boolean {
  return heapMemory(backend) !== undefined;
}

/**
 * Whether the GEMM loops in use take one input channel in convGemm and any channel count in
 * convFilterGemm (the native ones); the wasm loops need Ci % 4 == 0 for the filter gradient, and
 * for one channel XNNPACK's Conv2D is as fast as theirs.
 */
export function gemmTakesAnyChannels(): boolean {
  return isNative(kernelPath());
}

/**
 * Whether convGemm and convFilterGemm block the rows (output pixels) themselves, and convGemm
 * aligns the filter once per call (the native loops): one call then takes the whole range.
 */
export function gemmLoopsBlockRows(): boolean {
  return isNative(kernelPath());
}

export function simdFor(backend: unknown): { exports: SimdExports; memory: WasmMemory } {
  const memory = heapMemory(backend);
  if (!memory) throw new Error('SIMD kernels: the wasm backend does not expose its memory');
  return { exports: simdOn(memory, kernelPath()), memory };
}

/** Byte offset of a tensor's data in the heap. */
export function heapOffset(backend: unknown, dataId: object): number {
  const d = (backend as HeapBackend).dataIdMap.get(dataId);
  if (!d) throw new Error('SIMD kernels: tensor data not found on the wasm backend');
  return d.memoryOffset;
}
