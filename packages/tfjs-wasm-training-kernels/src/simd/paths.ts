// The names of what can run the GEMM loops, in their own module so that the tuning knobs
// (wasmUtil.ts) and the modules that implement the paths (index.ts, native.ts) share them.

/** The instruction sets of the native kernels, widest first. */
export const NATIVE_ISAS = ['avx512', 'avx2'] as const;
export type NativeIsa = (typeof NATIVE_ISAS)[number];

/**
 * What runs the GEMM loops: the native addon ('native-avx512', 'native-avx2') or a build of the
 * wasm module ('wasm-simd-fma': f32x4.relaxed_madd, 'wasm-simd': multiply then add). The names are
 * what doctor, bench and a run's config.json show, and what ROBUST_META_KERNELS may force.
 */
export type KernelPath = `native-${NativeIsa}` | 'wasm-simd-fma' | 'wasm-simd';
export const KERNEL_PATHS: readonly KernelPath[] = [...NATIVE_ISAS.map((isa) => `native-${isa}` as const), 'wasm-simd-fma', 'wasm-simd'];
