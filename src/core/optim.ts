// Adam over a named parameter map, with optional global-norm gradient clipping. Its state (the
// moment estimates and step count) is part of a checkpoint, so a resumed run continues exactly.
import * as tf from '@tensorflow/tfjs-core';
import { readScalar, sumAll } from './tensorUtil';
import { Params, ParamArrays, paramsFromArrays, paramsToArrays, disposeParams } from './model/params';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Clip the global L2 norm of the gradient to this value; 0 or undefined: off. */
  clipNorm?: number;
}

export interface AdamState {
  t: number;
  m: ParamArrays;
  v: ParamArrays;
}

export class Adam {
  private t = 0;
  private m: Params = {};
  private v: Params = {};

  constructor(private readonly opts: AdamOptions) {}

  /**
   * Applies one update to `params` in place (replacing and freeing its tensors) and returns the
   * gradient's global norm before clipping.
   */
  async apply(params: Params, grads: Params): Promise<number> {
    const { lr, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, clipNorm = 0 } = this.opts;
    const keys = Object.keys(grads).sort();
    const norm = await readScalar(() => tf.sqrt(sumAll(keys.map((k) => tf.sum(tf.square(grads[k]))))));
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.t += 1;
    const c1 = 1 - Math.pow(beta1, this.t);
    const c2 = 1 - Math.pow(beta2, this.t);
    for (const k of keys) {
      const [m, v, p] = tf.tidy(() => {
        const g = scale === 1 ? grads[k] : tf.mul(grads[k], scale);
        const m = this.m[k] ? tf.add(tf.mul(this.m[k], beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1);
        const v = this.v[k] ? tf.add(tf.mul(this.v[k], beta2), tf.mul(tf.square(g), 1 - beta2)) : tf.mul(tf.square(g), 1 - beta2);
        const step = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon));
        return [m, v, tf.sub(params[k], tf.mul(step, lr))];
      });
      this.m[k]?.dispose();
      this.v[k]?.dispose();
      params[k].dispose();
      this.m[k] = m;
      this.v[k] = v;
      params[k] = p;
    }
    return norm;
  }

  async getState(): Promise<AdamState> {
    return { t: this.t, m: await paramsToArrays(this.m), v: await paramsToArrays(this.v) };
  }

  setState(s: AdamState): void {
    this.dispose();
    this.t = s.t;
    this.m = paramsFromArrays(s.m);
    this.v = paramsFromArrays(s.v);
  }

  dispose(): void {
    disposeParams(this.m);
    disposeParams(this.v);
    this.m = {};
    this.v = {};
  }
}
