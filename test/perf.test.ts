// The arithmetic behind bench's GFLOP/s: FLOPs counted from kernel shapes, and the peak estimate.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { fmaFused, kernelFlops } from 'tfjs-wasm-training-kernels';
import { peakEstimate } from '../src/runner/bench';

const info = (shape: number[]) => ({ shape, dtype: 'float32', dataId: {} }) as unknown as tf.TensorInfo;

test('kernelFlops: 2 per multiply-add of each convolution, backprop, fused first block and batched product', () => {
  const conv = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
  // 2 images of 8x8 output pixels, a 3x3 filter from 4 to 8 channels.
  const macs = 2 * 8 * 8 * 3 * 3 * 4 * 8;
  assert.equal(kernelFlops('Conv2D', { x: info([2, 8, 8, 4]), filter: info([3, 3, 4, 8]) }, conv), 2 * macs);
  assert.equal(kernelFlops('Conv2DBackpropInput', { dy: info([2, 8, 8, 8]), filter: info([3, 3, 4, 8]) }, { ...conv, inputShape: [2, 8, 8, 4] }), 2 * macs);
  assert.equal(kernelFlops('Conv2DBackpropFilter', { x: info([2, 8, 8, 4]), dy: info([2, 8, 8, 8]) }, { ...conv, filterShape: [3, 3, 4, 8] }), 2 * macs);
  // The fused first block counts the convolution each of its ops stands for (its attrs: epsilon, pad).
  const fused = { x: info([2, 8, 8, 4]), filter: info([3, 3, 4, 8]) };
  for (const k of ['RobustMetaConvBnReluPool', 'RobustMetaConvBnReluPoolGradInput', 'RobustMetaConvBnReluPoolGradFilter'])
    assert.equal(kernelFlops(k, { ...fused, dy: info([2, 4, 4, 8]) }, { epsilon: 1e-5, pad: 'same' }), 2 * macs, k);
  assert.equal(kernelFlops('RobustMetaConvBnReluPoolGradSums', { dy: info([2, 4, 4, 8]) }, { epsilon: 1e-5, pad: 'same' }), 0);
  // Stride 2, 'valid': 3x3 output pixels of a 7x7 input.
  assert.equal(kernelFlops('Conv2D', { x: info([1, 7, 7, 2]), filter: info([3, 3, 2, 8]) }, { ...conv, strides: 2, pad: 'valid' }), 2 * 9 * 9 * 2 * 8);
  // A batch of 3 (b broadcast) of [5, 6] x [6, 7]; transposes change which dimensions are m, k, n.
  assert.equal(kernelFlops('BatchMatMul', { a: info([3, 5, 6]), b: info([1, 6, 7]) }, { transposeA: false, transposeB: false }), 2 * 3 * 5 * 6 * 7);
  assert.equal(kernelFlops('BatchMatMul', { a: info([6, 5]), b: info([7, 6]) }, { transposeA: true, transposeB: true }), 2 * 5 * 6 * 7);
  assert.equal(kernelFlops('Add', { a: info([100]), b: info([100]) }, {}), 0);
});

test('peakEstimate: cores x the cpuinfo clock x 16 flop/cycle with wasm FMA, 8 without on Intel, 16 on AMD; 32 and 64 native', () => {
  const cpuinfo = (vendor: string) => `vendor_id\t: ${vendor}\ncpu MHz\t\t: 2000.000\n\nvendor_id\t: ${vendor}\ncpu MHz\t\t: 3000.000\n`;
  const intel = peakEstimate('wasm-simd', cpuinfo('GenuineIntel'));
  assert.equal(intel.clock_mhz, 2500);
  assert.equal(intel.flops_per_cycle, 8);
  assert.equal(intel.gflops_per_core, 20);
  assert.equal(intel.gflops, 20 * intel.cores);
  assert.equal(peakEstimate('wasm-simd', cpuinfo('AuthenticAMD')).flops_per_cycle, 16);
  assert.equal(peakEstimate('wasm-simd-fma', cpuinfo('GenuineIntel')).flops_per_cycle, fmaFused() ? 16 : 8);
  assert.equal(peakEstimate('native-avx2', cpuinfo('AuthenticAMD')).flops_per_cycle, 32);
  assert.equal(peakEstimate('native-avx512', cpuinfo('GenuineIntel')).flops_per_cycle, 64);
});
