// The model of every method: encoder f, classifier head h (ways outputs) and projection head g.
// Functional: forward(params, x) with params a named tensor map.
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors';
import { Rng } from '../rng';
import { conv4FeatureSize, conv4Forward, conv4Init } from './conv4';
import { dense } from './layers';
import { glorotUniform, Params } from './params';
import { resnet12Forward, resnet12Init, resnet12Widths } from './resnet12';
import type { ModelSpec } from '../../formats/checkpoint';

/** The architecture of a model, declared with the checkpoint header in src/formats/checkpoint.ts. */
export type { ModelSpec };

export function featureDim(spec: ModelSpec): number {
  return spec.backbone === 'conv4' ? conv4FeatureSize(spec.imageSize, spec.width) : resnet12Widths(spec.width)[3];
}

export function checkModelSpec(spec: ModelSpec): void {
  if (spec.imageSize < 16) throw new UserError(`imageSize must be at least 16 (four 2x2 poolings), got ${spec.imageSize}`);
  if (spec.channels !== 1 && spec.channels !== 3) throw new UserError(`channels must be 1 or 3, got ${spec.channels}`);
}

export function initModel(spec: ModelSpec, rng: Rng): Params {
  checkModelSpec(spec);
  const p = spec.backbone === 'conv4' ? conv4Init(rng, spec.channels, spec.width) : resnet12Init(rng, spec.channels, spec.width);
  const d = featureDim(spec);
  // Drawn even when zeroed, so the other parameters do not depend on the head's initialisation.
  const headW = glorotUniform(rng, [d, spec.ways]);
  p['head/w'] = spec.headInit === 'zero' ? tf.zerosLike(headW) : headW;
  if (p['head/w'] !== headW) headW.dispose();
  p['head/b'] = tf.zeros([spec.ways]);
  p['proj/fc1/w'] = glorotUniform(rng, [d, d]);
  p['proj/fc1/b'] = tf.zeros([d]);
  p['proj/fc2/w'] = glorotUniform(rng, [d, spec.projectionDim]);
  p['proj/fc2/b'] = tf.zeros([spec.projectionDim]);
  return p;
}

/** f: images [n, h, w, c] in [0,1] -> features [n, d]. */
export function encode(spec: ModelSpec, p: Params, x: tf.Tensor4D): tf.Tensor2D {
  return spec.backbone === 'conv4' ? conv4Forward(p, x) : resnet12Forward(p, x);
}

/** h: features -> class logits. */
export function classify(p: Params, feats: tf.Tensor2D): tf.Tensor2D {
  return dense(feats, p, 'head');
}

/** g: features -> projections for the instance-discrimination and agreement losses. */
export function project(p: Params, feats: tf.Tensor2D): tf.Tensor2D {
  return dense(tf.relu(dense(feats, p, 'proj/fc1')), p, 'proj/fc2');
}

/** Which parameter names the inner loop adapts. */
export function adaptedKeys(p: Params, innerUpdate: 'all' | 'body'): string[] {
  // The projection head takes no part in the supervised inner loss, so it is never adapted.
  return Object.keys(p)
    .filter((k) => k.startsWith('encoder/') || (innerUpdate === 'all' && k.startsWith('head/')))
    .sort();
}
