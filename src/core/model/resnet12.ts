// ResNet-12 (as in MetaOptNet/TADAM): 4 residual blocks of three conv3x3+BN(+leaky ReLU) with a
// 1x1 conv+BN shortcut, each followed by 2x2 max-pool; widths w, 2.5w, 5w, 10w; global average pool.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../rng';
import { batchNorm, conv, maxPool2 } from './layers';
import { heNormal, Params } from './params';

export function resnet12Widths(width: number): number[] {
  return [width, Math.round(2.5 * width), 5 * width, 10 * width];
}

export function resnet12Init(rng: Rng, channels: number, width: number): Params {
  const p: Params = {};
  let cin = channels;
  resnet12Widths(width).forEach((w, b) => {
    const blk = `encoder/block${b + 1}`;
    let c = cin;
    for (let i = 1; i <= 3; i++) {
      p[`${blk}/conv${i}/w`] = heNormal(rng, [3, 3, c, w], 9 * c);
      p[`${blk}/bn${i}/gamma`] = tf.ones([w]);
      p[`${blk}/bn${i}/beta`] = tf.zeros([w]);
      c = w;
    }
    p[`${blk}/short/w`] = heNormal(rng, [1, 1, cin, w], cin);
    p[`${blk}/shortbn/gamma`] = tf.ones([w]);
    p[`${blk}/shortbn/beta`] = tf.zeros([w]);
    cin = w;
  });
  return p;
}

export function resnet12Forward(p: Params, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  for (let b = 1; b <= 4; b++) {
    const blk = `encoder/block${b}`;
    const shortcut = batchNorm(tf.conv2d(h, p[`${blk}/short/w`] as tf.Tensor4D, 1, 'same'), p[`${blk}/shortbn/gamma`], p[`${blk}/shortbn/beta`]);
    let y = h;
    for (let i = 1; i <= 3; i++) {
      y = batchNorm(conv(y, p, `${blk}/conv${i}`), p[`${blk}/bn${i}/gamma`], p[`${blk}/bn${i}/beta`]);
      if (i < 3) y = tf.leakyRelu(y, 0.1);
    }
    h = maxPool2(tf.leakyRelu(tf.add(y, shortcut) as tf.Tensor4D, 0.1));
  }
  return tf.mean(h, [1, 2]) as tf.Tensor2D;
}
