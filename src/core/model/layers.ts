// Functional layers shared by the backbones.
import * as tf from '@tensorflow/tfjs-core';
import { fusedBnReluPool, fusedBnReluPoolApplies, fusedConvBnReluPool, fusedConvBnReluPoolApplies } from 'tfjs-wasm-training-kernels';
import { Params } from './params';

const BN_EPS = 1e-5;

/**
 * Batch norm with the statistics of the batch it sees (transductive, as in MAML): a support set
 * and a query set are each normalised by their own statistics, so no running averages exist.
 */
export function batchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPS);
}

/**
 * Batch norm (batch statistics), ReLU and 2x2 max-pool: Conv4's block after its conv. On wasm one
 * fused kernel pair (tfjs-wasm-training-kernels) where it applies, else the composite ops.
 */
export function bnReluPool(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  if (fusedBnReluPoolApplies(x)) return fusedBnReluPool(x, gamma, beta, BN_EPS);
  return maxPool2(tf.relu(batchNorm(x, gamma, beta)));
}

export function conv(x: tf.Tensor4D, p: Params, name: string): tf.Tensor4D {
  return tf.conv2d(x, p[`${name}/w`] as tf.Tensor4D, 1, 'same');
}

/**
 * conv (3x3, 'same') then bnReluPool: Conv4's block. On an image's few channels with the native
 * kernels, one fused op that does not keep the conv's output for the gradient (convBnReluPool.ts).
 */
export function convBnReluPool(x: tf.Tensor4D, p: Params, convName: string, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  const w = p[`${convName}/w`] as tf.Tensor4D;
  if (fusedConvBnReluPoolApplies(x, w, 'same')) return fusedConvBnReluPool(x, w, gamma, beta, BN_EPS, 'same');
  return bnReluPool(conv(x, p, convName), gamma, beta);
}

export function dense(x: tf.Tensor2D, p: Params, name: string): tf.Tensor2D {
  return tf.add(tf.matMul(x, p[`${name}/w`] as tf.Tensor2D), p[`${name}/b`]);
}

/** 2x2 max-pool; floor semantics for odd sizes, so any input size >= 16 works. */
export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}
