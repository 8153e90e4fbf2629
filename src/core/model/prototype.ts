// The prototype head: a frozen encoder classifies by the nearest class mean of the support
// features (negative squared Euclidean distance as logits). Used for every model as an
// evaluation option, and for rocl, which has no meta-learned head.
import * as tf from '@tensorflow/tfjs-core';

export function prototypes(supportFeats: tf.Tensor2D, supportLabels: tf.Tensor1D, ways: number): tf.Tensor2D {
  const oneHot = tf.oneHot(supportLabels, ways); // [n, ways]
  const sums = tf.matMul(oneHot, supportFeats, true, false); // [ways, d]
  const counts = tf.reshape(tf.sum(oneHot, 0), [ways, 1]);
  return tf.div(sums, tf.maximum(counts, 1)) as tf.Tensor2D;
}

export function prototypeLogits(protos: tf.Tensor2D, queryFeats: tf.Tensor2D): tf.Tensor2D {
  const q2 = tf.sum(tf.square(queryFeats), 1, true);
  const p2 = tf.reshape(tf.sum(tf.square(protos), 1), [1, -1]);
  const cross = tf.matMul(queryFeats, protos, false, true);
  return tf.neg(tf.add(tf.sub(q2, tf.mul(cross, 2)), p2)) as tf.Tensor2D;
}
