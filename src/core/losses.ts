// Losses. Each returns a scalar mean unless named perSample.
import * as tf from '@tensorflow/tfjs-core';

/** Per-sample cross-entropy of logits [n, k] against integer labels [n]. */
export function crossEntropyPerSample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  return tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
}

export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(crossEntropyPerSample(logits, labels)) as tf.Scalar;
}

function l2Normalize(z: tf.Tensor2D): tf.Tensor2D {
  return tf.div(z, tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), 1e-12))) as tf.Tensor2D;
}

/**
 * NT-Xent (SimCLR) per sample: for each i, row i of z1 and row i of z2 are a positive pair and all
 * other 2n - 2 rows are negatives. Returns [n]: the sum of the two anchors' losses of pair i / 2,
 * so the mean over samples equals the usual mean over 2n anchors.
 */
export function ntXentPerSample(z1: tf.Tensor2D, z2: tf.Tensor2D, tau: number): tf.Tensor1D {
  const n = z1.shape[0];
  const z = l2Normalize(tf.concat([z1, z2], 0));
  const sim = tf.div(tf.matMul(z, z, false, true), tau);
  // Remove self-similarity from each row's softmax.
  const logits = tf.sub(sim, tf.mul(tf.eye(2 * n), 1e9));
  const logProb = tf.logSoftmax(logits);
  const positive = tf.concat([tf.range(n, 2 * n, 1, 'int32'), tf.range(0, n, 1, 'int32')]);
  const anchor = tf.neg(tf.sum(tf.mul(tf.oneHot(positive, 2 * n), logProb), 1));
  const [a1, a2] = tf.split(anchor, 2);
  return tf.div(tf.add(a1, a2), 2) as tf.Tensor1D;
}

export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.mean(ntXentPerSample(z1, z2, tau)) as tf.Scalar;
}

/** 1 - cosine similarity of paired rows, per sample. */
export function cosineConsistencyPerSample(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Tensor1D {
  return tf.sub(1, tf.sum(tf.mul(l2Normalize(z1), l2Normalize(z2)), 1)) as tf.Tensor1D;
}

/** KL(p || q) per sample, from logits. */
export function klPerSample(pLogits: tf.Tensor2D, qLogits: tf.Tensor2D): tf.Tensor1D {
  const logP = tf.logSoftmax(pLogits);
  const logQ = tf.logSoftmax(qLogits);
  return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1) as tf.Tensor1D;
}

/** Symmetric KL, (KL(p||q) + KL(q||p)) / 2, per sample. */
export function symmetricKlPerSample(aLogits: tf.Tensor2D, bLogits: tf.Tensor2D): tf.Tensor1D {
  return tf.div(tf.add(klPerSample(aLogits, bLogits), klPerSample(bLogits, aLogits)), 2) as tf.Tensor1D;
}

/**
 * The CW margin per sample, max_{j != y} z_j - z_y: positive once the sample is misclassified.
 * An attack that maximises it does not stall where softmax saturates, as cross-entropy can.
 */
export function marginLossPerSample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const oneHot = tf.oneHot(labels, logits.shape[1]);
  const trueLogit = tf.sum(tf.mul(oneHot, logits), 1);
  const others = tf.max(tf.sub(logits, tf.mul(oneHot, 1e9)), 1);
  return tf.sub(others, trueLogit) as tf.Tensor1D;
}

/** Fraction of rows whose arg-max equals the label. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar;
}
