// Our SIMD wasm module (kernels.wat), instantiated on the heap of the tfjs wasm backend it serves:
// it imports that backend's WebAssembly.Memory, so it reads and writes tensors in place. One
// instance per memory (each worker thread has its own tfjs, backend and heap).
import { SIMD_MODULE_BASE64 } from './simdModule';

// The WebAssembly global of Node, typed here (the project's TypeScript libs do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (d: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: unknown };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The exports of kernels.wat; pointers are byte offsets into the backend's heap. */
export interface SimdExports {
  moments(x: number, M: number, C: number, shift: number, s1: number, s2: number, p1: number, p2: number): void;
  bnReluPool(x: number, N: number, H: number, W: number, C: number, mean: number, a: number, beta: number, y: number, arg: number): void;
  poolGradSums(
    x: number, dy: number, arg: number, N: number, H: number, W: number, C: number, mean: number,
    s1: number, s2: number, p1: number, p2: number,
  ): void;
  affine(x: number, dx: number, M: number, C: number, mean: number, cA: number, cB: number): void;
  poolGradDx(
    x: number, dy: number, arg: number, N: number, H: number, W: number, C: number,
    mean: number, c0: number, cA: number, cB: number, dx: number,
  ): void;
  /** C[M, N] = A[M, K] @ B[K, N] (+ C if acc = 1); row strides in floats. */
  convIndirection(
    ind: number, x: number, zero: number, N: number, H: number, W: number, Ci: number, Ho: number, Wo: number,
    kh: number, kw: number, padTop: number, padLeft: number, Mpad: number,
  ): void;
  convGemm(ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Ci: number, Co: number): void;
  convNarrow(ind: number, B: number, out: number, m0: number, m1: number, M: number, T: number, Cin: number, Cout: number): void;
  convFilterGemm(ind: number, dy: number, dW: number, m0: number, m1: number, T: number, Ci: number, Co: number): void;
  gemm(A: number, B: number, C: number, M: number, K: number, N: number, lda: number, ldb: number, ldc: number, acc: number): void;
}

/** The slice of tfjs-backend-wasm's backend that locates tensors and the heap. */
export interface HeapBackend {
  wasm: { asm?: { memory?: WasmMemory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

let compiled: object | undefined;
const instances = new WeakMap<WasmMemory, SimdExports>();

/** The backend's heap memory, or undefined where it is not reachable (another tfjs build). */
export function heapMemory(backend: unknown): WasmMemory | undefined {
  const m = (backend as Partial<HeapBackend>)?.wasm?.asm?.memory;
  return m instanceof WebAssembly.Memory ? m : undefined;
}

/** Whether this backend's heap can host the SIMD kernels. */
export function simdAvailable(backend: unknown): boolean {
  return heapMemory(backend) !== undefined;
}

export function simdFor(backend: unknown): { exports: SimdExports; memory: WasmMemory } {
  const memory = heapMemory(backend);
  if (!memory) throw new Error('SIMD kernels: the wasm backend does not expose its memory');
  let exp = instances.get(memory);
  if (!exp) {
    compiled ??= new WebAssembly.Module(Buffer.from(SIMD_MODULE_BASE64, 'base64'));
    exp = new WebAssembly.Instance(compiled!, { env: { memory } }).exports as unknown as SimdExports;
    instances.set(memory, exp);
  }
  return { exports: exp, memory };
}

/** Byte offset of a tensor's data in the heap. */
export function heapOffset(backend: unknown, dataId: object): number {
  const d = (backend as HeapBackend).dataIdMap.get(dataId);
  if (!d) throw new Error('SIMD kernels: tensor data not found on the wasm backend');
  return d.memoryOffset;
}
