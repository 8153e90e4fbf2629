// Small helpers for reading values out of tensors without leaking them.
import * as tf from '@tensorflow/tfjs-core';

/** Computes a scalar in a tidy scope, reads it and frees it. */
export function readScalar(f: () => tf.Tensor): number {
  const t = tf.tidy(f);
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}
