// Cache-line-aligned tensors on tfjs-backend-wasm. Its heap allocator (the module's malloc) gives
// 8-byte alignment, so most vector loads of the SIMD and native loops straddle two cache lines
// and cost two; a 64 -> 64 channel convolution ran at 135-147 GFLOP/s on misaligned data against
// 160 aligned (Intel Xeon, one core). The backend allocates every tensor through one call of
// `wasm._malloc` and frees it through `wasm._free` (backend_wasm.js: write, disposeData), so
// wrapping those two gives every tensor a 64-byte-aligned start: each allocation takes 60 bytes
// more and is remembered until freed. Pointers from anywhere else (memory the module allocated
// itself) are freed as they are.

/** The part of the wasm backend's emscripten module that allocates. */
interface Allocating {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

const LINE = 64;
const aligned = new WeakSet<Allocating>();

/**
 * Makes the backend's tensors start on cache lines (idempotent). `backend` is the tfjs wasm
 * backend; one without a module to wrap is left as it is.
 */
export function alignWasmTensors(backend: unknown): void {
  const wasm = (backend as { wasm?: Partial<Allocating> }).wasm;
  if (!wasm || typeof wasm._malloc !== 'function' || typeof wasm._free !== 'function') return;
  const module = wasm as Allocating;
  if (aligned.has(module)) return;
  aligned.add(module);
  const malloc = module._malloc;
  const free = module._free;
  // Aligned pointer -> the pointer malloc gave.
  const raw = new Map<number, number>();
  const alignedMalloc = (bytes: number): number => {
    const p = malloc.call(module, bytes + LINE - 4) >>> 0;
    // Emscripten's export stubs replace themselves with the module's function on first call.
    module._malloc = alignedMalloc;
    if (p === 0) return 0;
    const start = Math.ceil(p / LINE) * LINE;
    raw.set(start, p);
    return start;
  };
  const alignedFree = (pointer: number): void => {
    const p = raw.get(pointer >>> 0);
    if (p !== undefined) raw.delete(pointer >>> 0);
    free.call(module, p ?? pointer);
    module._free = alignedFree;
  };
  module._malloc = alignedMalloc;
  module._free = alignedFree;
}
