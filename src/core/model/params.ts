// Parameters are plain maps from names to tensors, so an adapted copy (fast weights) is just
// another map. Names are '<part>/<layer>/<kind>'; the part ('encoder', 'head', 'proj') decides
// what the inner loop adapts.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng';
import { readValues } from '../tensorUtil';

export type Params = Record<string, tf.Tensor>;

/** Parameters as plain arrays: what crosses threads, processes and files. */
export interface ParamArray {
  shape: number[];
  data: Float32Array;
}
export type ParamArrays = Record<string, ParamArray>;

export async function paramsToArrays(p: Params): Promise<ParamArrays> {
  const out: ParamArrays = {};
  for (const k of Object.keys(p).sort()) out[k] = { shape: p[k].shape.slice(), data: (await readValues(p[k])) as Float32Array };
  return out;
}

export function paramsFromArrays(a: ParamArrays): Params {
  const out: Params = {};
  for (const k of Object.keys(a).sort()) out[k] = tf.tensor(a[k].data, a[k].shape, 'float32');
  return out;
}

export function disposeParams(p: Params | undefined): void {
  if (p) for (const t of Object.values(p)) t.dispose();
}

export function countParams(p: Params | ParamArrays): number {
  let n = 0;
  for (const v of Object.values(p)) n += (v.shape as number[]).reduce((a: number, b: number) => a * b, 1);
  return n;
}

/** He-normal initialisation (fan-in), suited to ReLU networks. */
export function heNormal(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.normalArray(n, Math.sqrt(2 / fanIn)), shape, 'float32');
}

/** Glorot-uniform initialisation, for linear layers. */
export function glorotUniform(rng: Rng, shape: [number, number]): tf.Tensor {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return tf.tensor(rng.uniformArray(shape[0] * shape[1], -limit, limit), shape, 'float32');
}
