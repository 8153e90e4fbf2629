// Per-kernel CPU time and arithmetic of whatever runs on this thread's wasm backend, for the
// benchmarks (bench --json's GFLOP/s, bench/kernel_profile.ts). Every registered wasm kernel is
// wrapped for the duration of one call of profileKernels; nested kernel calls (a backprop that
// runs a Conv2D) count in their caller. CPU time is process.cpuUsage (the machines are shared, and
// the profiled work runs on this thread alone).
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { CONV_BN_RELU_POOL, CONV_BN_RELU_POOL_DW, CONV_BN_RELU_POOL_DX } from './convBnReluPool';

export interface KernelRow {
  calls: number;
  cpuMs: number;
  /** Floating-point operations of the GEMM kernels (2 per multiply-add of the unpadded product); 0 for others. */
  flops: number;
}

/**
 * The kernels that are a matrix product, and whose FLOPs are counted: the convolutions, and the
 * fused first block's ops (convBnReluPool.ts), counted as the convolution each stands for (its
 * forward pass, the image's or the filter's gradient; the conv it computes again and its batch
 * norm are not counted, but their time is: the block's GFLOP/s read lower than a bare conv's).
 */
export const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', CONV_BN_RELU_POOL, CONV_BN_RELU_POOL_DX, CONV_BN_RELU_POOL_DW] as const;
export const GEMM_KERNELS = [...CONV_KERNELS, 'BatchMatMul'] as const;

type Shape4 = [number, number, number, number];

/** 2 x the multiply-adds of one call of a GEMM kernel, from its shapes; 0 for any other kernel. */
export function kernelFlops(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): number {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const conv = (xShape: number[], filterShape: number[]) => {
    const info = backend_util.computeConv2DInfo(
      xShape as Shape4,
      filterShape as Shape4,
      (a.strides as number) ?? 1,
      (a.dilations as number) ?? 1,
      a.pad as 'same',
      a.dimRoundingMode as 'floor' | undefined,
      false,
      backend_util.convertConv2DDataFormat((a.dataFormat as 'NHWC') ?? 'NHWC'),
    );
    return 2 * info.batchSize * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  };
  switch (name) {
    case 'Conv2D':
      return conv(inputs.x!.shape, inputs.filter!.shape);
    case 'Conv2DBackpropInput':
      return conv(a.inputShape as number[], inputs.filter!.shape);
    case 'Conv2DBackpropFilter':
      return conv(inputs.x!.shape, a.filterShape as number[]);
    case CONV_BN_RELU_POOL:
    case CONV_BN_RELU_POOL_DX:
    case CONV_BN_RELU_POOL_DW:
      return conv(inputs.x!.shape, inputs.filter!.shape);
    case 'BatchMatMul': {
      const sa = inputs.a!.shape;
      const sb = inputs.b!.shape;
      const m = a.transposeA ? sa[sa.length - 1] : sa[sa.length - 2];
      const k = a.transposeA ? sa[sa.length - 2] : sa[sa.length - 1];
      const n = a.transposeB ? sb[sb.length - 2] : sb[sb.length - 1];
      const batch = Math.max(
        sa.slice(0, -2).reduce((p, v) => p * v, 1),
        sb.slice(0, -2).reduce((p, v) => p * v, 1),
      );
      return 2 * batch * m * k * n;
    }
    default:
      return 0;
  }
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs `work` with every wasm kernel timed, and returns a row per kernel name (or per name and
 * input shapes with `byShape`). The kernels are restored afterwards, also when `work` throws.
 */
export async function profileKernels(work: () => Promise<void>, byShape = false): Promise<Map<string, KernelRow>> {
  const table = new Map<string, KernelRow>();
  const configs = tf.getKernelsForBackend('wasm') as { kernelName: string; kernelFunc: tf.KernelFunc }[];
  const originals = configs.map((k) => k.kernelFunc);
  let depth = 0;
  configs.forEach((k, i) => {
    const f = originals[i];
    k.kernelFunc = (args) => {
      if (depth > 0) return f(args);
      depth++;
      const c0 = cpuMs();
      try {
        return f(args);
      } finally {
        depth--;
        const ms = cpuMs() - c0;
        const key = byShape
          ? `${k.kernelName} ${Object.values(args.inputs)
              .map((t) => (t ? t.shape.join('x') : '-'))
              .join(',')}`
          : k.kernelName;
        const row = table.get(key) ?? { calls: 0, cpuMs: 0, flops: 0 };
        row.calls++;
        row.cpuMs += ms;
        row.flops += kernelFlops(k.kernelName, args.inputs, args.attrs);
        table.set(key, row);
      }
    };
  });
  try {
    await work();
  } finally {
    configs.forEach((k, i) => (k.kernelFunc = originals[i]));
  }
  return table;
}
