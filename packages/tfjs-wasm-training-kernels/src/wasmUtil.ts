// Shared pieces for the kernels we add to tfjs-backend-wasm: the slice of its backend we use,
// and a way to call other wasm kernels directly (no engine, no tensors, no tape).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelPath } from './simd/paths';

export type TensorInfo = tf.TensorInfo;
export type KernelFunc = tf.KernelFunc;

/** The part of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): TensorInfo;
  /** A view on the wasm heap. Invalid after any allocation (the heap may grow): fetch again. */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** Tuning knobs, exported so tests and benchmarks can force a path. */
export const kernelTuning = {
  /** Largest temporary (im2col) matrix, in float32 elements (16 Mi = 64 MB). */
  chunkElements: 16 * 1024 * 1024,
  /**
   * Conv2DBackpropFilter: about this many im2col columns (output pixels) per chunk. XNNPACK
   * packs the matmul's b on every call, and packs a few thousand rows far faster per value
   * than tens of thousands (cache); the product runs near its peak from ~2000 on.
   */
  chunkColumns: 2048,
  /** Conv2DBackpropFilter im2col: 'auto' uses the shifted-copy path where it applies. */
  im2col: 'auto' as 'auto' | 'general' | 'shift',
  /** Conv2DBackpropFilter product: PT @ dy ('pt'), or dyT @ P ('p', packs P instead of dy). */
  orientation: 'auto' as 'auto' | 'pt' | 'p',
  /**
   * Conv2DBackpropInput: 'auto' takes the narrow implicit GEMM (conv2dBackpropInputNarrow.ts) for
   * stride 1 into <= 3 channels, conv for stride 1 and >= 16 input channels, else col2im.
   */
  backpropInput: 'auto' as 'auto' | 'conv' | 'col2im',
  /**
   * Conv2DBackpropFilter: 'auto' takes our implicit GEMM (conv2dBackpropFilterGemm.ts) where it
   * applies (and im2col, orientation are 'auto'); 'im2col' the im2col + BatchMatMul path.
   */
  backpropFilter: 'auto' as 'auto' | 'im2col',
  /** BatchMatMul: 'auto' takes our gemm (batchMatMul.ts) where it applies, 'original' wasm's own. */
  matmul: 'auto' as 'auto' | 'original',
  /** Conv2D: 'auto' takes our implicit GEMM (conv2dGemm.ts) where it applies, 'original' wasm's own. */
  conv2d: 'auto' as 'auto' | 'original',
  /**
   * What runs the GEMM loops (simd/index.ts): 'auto' takes the native addon where it is built and
   * the CPU runs it, else 'wasm-simd-fma' where the runtime has relaxed SIMD, else 'wasm-simd'.
   * Forcing one (tests, before/after benchmarks) fails where it does not run. The environment
   * variable ROBUST_META_KERNELS sets it in every thread.
   */
  kernels: kernelsFromEnv(),
  /** If set, kernels add the milliseconds spent per phase here (benchmarks). */
  profile: null as Record<string, number> | null,
  /** The clock for `profile` (a benchmark may use process CPU time). */
  clock: (): number => performance.now(),
};

/** ROBUST_META_KERNELS, unchecked here: kernelPath() says what is wrong with a bad value where it is used. */
function kernelsFromEnv(): 'auto' | KernelPath {
  return (process.env.ROBUST_META_KERNELS || 'auto') as 'auto' | KernelPath;
}

/** Now, on kernelTuning.clock (0 when not profiling). */
export function tick(): number {
  return kernelTuning.profile ? kernelTuning.clock() : 0;
}

/** Adds the time since `t0` to kernelTuning.profile[phase]; returns now. */
export function lap(phase: string, t0: number): number {
  if (!kernelTuning.profile) return 0;
  const now = kernelTuning.clock();
  const p = kernelTuning.profile;
  if (p) p[phase] = (p[phase] ?? 0) + now - t0;
  return now;
}

export function f32(backend: WasmBackend, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

export function i32(backend: WasmBackend, t: TensorInfo): Int32Array {
  return backend.typedArrayFromHeap(t) as Int32Array;
}

/** A TensorInfo on the same data with another shape (no refcount change). */
export function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}

/** Runs another kernel registered for wasm, on TensorInfos, without the engine. */
export function callWasmKernel(name: string, backend: unknown, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): TensorInfo {
  const cfg = tf.getKernel(name, 'wasm');
  if (!cfg) throw new Error(`wasm kernel ${name} is not registered`);
  const out = cfg.kernelFunc({ inputs, backend: backend as object, attrs });
  return Array.isArray(out) ? out[0] : out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

type Shape4 = [number, number, number, number];
type BackpropConvAttrs = Pick<tf.Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dataFormat' | 'dimRoundingMode'>;

/**
 * The geometry of a Conv2DBackpropInput or Conv2DBackpropFilter call on two float32 NHWC inputs
 * whose dy has the forward output's shape; else a sentence saying why not, which the fast paths
 * fall back on and the last resort throws. `xShape` and `filterShape` are the forward conv's.
 */
export function backpropConvInfo(
  kernel: string,
  inputs: readonly [TensorInfo, TensorInfo],
  dy: TensorInfo,
  xShape: Shape4,
  filterShape: Shape4,
  attrs: BackpropConvAttrs,
): backend_util.Conv2DInfo | string {
  const [a, b] = inputs;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return `${kernel} needs float32 inputs, got ${a.dtype} and ${b.dtype}`;
  const format = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (format !== 'channelsLast') return `${kernel} supports only NHWC, got ${attrs.dataFormat}`;
  const info = backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, format);
  if (!sameShape(dy.shape, info.outShape)) return `${kernel}: dy shape ${dy.shape} is not the output shape ${info.outShape}`;
  return info;
}
