// Small helpers for reading values out of tensors without leaking them, and for the few ops whose
// limits differ between backends.
import * as tf from '@tensorflow/tfjs-core';
import { throwGpuErrors } from './webgpu';

/**
 * A tensor's values. Asynchronous because the webgpu backend can read no other way in Node (its
 * dataSync needs a browser canvas); on wasm, cpu and tfjs-node data() resolves at once. A GPU
 * error since the last read (a kernel WebGPU rejected, a lost device) is thrown here.
 */
export async function readValues(t: tf.Tensor): Promise<tf.TypedArray> {
  let v: tf.TypedArray;
  try {
    v = (await t.data()) as tf.TypedArray;
  } catch (e) {
    // A lost GPU device fails the read with a bare AbortError: say what was lost, and after which kernel.
    await throwGpuErrors();
    throw e;
  }
  await throwGpuErrors();
  return v;
}

/** Computes a scalar in a tidy scope, reads it and frees it. */
export async function readScalar(f: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(f);
  try {
    return (await readValues(t))[0];
  } finally {
    t.dispose();
  }
}

/**
 * WebGPU's AddN binds one storage buffer per input, and a shader stage may have 8 (7 inputs and
 * the output) on many devices, SwiftShader included; wider sums fail validation there.
 */
const ADD_N_MAX_INPUTS = 7;

/** tf.addN over any number of tensors, in groups every backend accepts. */
export function sumAll(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length <= ADD_N_MAX_INPUTS) return tf.addN(ts);
  return tf.tidy(() => {
    const partial: tf.Tensor[] = [];
    for (let i = 0; i < ts.length; i += ADD_N_MAX_INPUTS) partial.push(tf.addN(ts.slice(i, i + ADD_N_MAX_INPUTS)));
    return sumAll(partial);
  });
}
