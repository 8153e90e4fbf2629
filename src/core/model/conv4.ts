// Conv4: 4 x [conv3x3 (width filters), batch norm, ReLU, 2x2 max-pool], flattened.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng';
import { convBnReluPool } from './layers';
import { heNormal, Params } from './params';

export function conv4Init(rng: Rng, channels: number, width: number): Params {
  const p: Params = {};
  let cin = channels;
  for (let i = 1; i <= 4; i++) {
    p[`encoder/conv${i}/w`] = heNormal(rng, [3, 3, cin, width], 9 * cin);
    p[`encoder/bn${i}/gamma`] = tf.ones([width]);
    p[`encoder/bn${i}/beta`] = tf.zeros([width]);
    cin = width;
  }
  return p;
}

export function conv4Forward(p: Params, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  for (let i = 1; i <= 4; i++) {
    h = convBnReluPool(h, p, `encoder/conv${i}`, p[`encoder/bn${i}/gamma`], p[`encoder/bn${i}/beta`]);
  }
  return tf.reshape(h, [h.shape[0], -1]);
}

/** Side of the last feature map: four floor-halvings. */
export function conv4FeatureSize(imageSize: number, width: number): number {
  let s = imageSize;
  for (let i = 0; i < 4; i++) s = Math.floor(s / 2);
  return s * s * width;
}
