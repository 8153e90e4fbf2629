// RoCL-style self-supervised adversarial pretraining (Kim et al. 2020), no meta-learning: the
// task's images, labels unused, in two views; an instance-wise attack on view 1 maximises its
// NT-Xent to view 2, and the loss is NT-Xent(view 1, view 2) + NT-Xent(adversarial view 1, view 2).
// Its accuracies are those of the prototype head on the task, as it has no classifier.
import * as tf from '@tensorflow/tfjs-core';
import { augmentBatch, augmentOptionsOf } from '../../augment';
import { pgd } from '../../attacks';
import { accuracy, ntXent, ntXentPerSample } from '../../losses';
import { encode, project } from '../../model';
import { Params } from '../../model/params';
import { prototypeLogits, prototypes } from '../../model/prototype';
import { Rng } from '../../rng';
import { Episode } from '../../data/types';
import { readValues } from '../../tensorUtil';
import { disposeTask, keysOf, Method, MethodContext, metricsFrom, outerGradients, shapeOf, TaskOutcome, taskTensors, trainAttack } from '../common';

export const rocl: Method = {
  name: 'rocl',
  parts: () => ['encoder/', 'proj/'],

  async taskStep(params: Params, task: Episode, ctx: MethodContext, rng: Rng): Promise<TaskOutcome> {
    const { cfg, spec } = ctx;
    const shape = shapeOf(task);
    const all = new Float32Array(task.support.length + task.query.length);
    all.set(task.support);
    all.set(task.query, task.support.length);
    // rocl needs two different views even when augmentation is off: otherwise its positive
    // pairs would be identical images and the loss would teach nothing.
    const n = all.length / (shape.height * shape.width * shape.channels);
    const x1 = tf.tensor4d(augmentBatch(all, shape, rng.fork(1), augmentOptionsOf(ctx.cfg)), [n, shape.height, shape.width, shape.channels]);
    const x2 = tf.tensor4d(augmentBatch(all, shape, rng.fork(2), augmentOptionsOf(ctx.cfg)), [n, shape.height, shape.width, shape.channels]);
    const z2 = tf.tidy(() => project(params, encode(spec, params, x2)));
    const [adv] = pgd([x1], ([x]) => ntXentPerSample(project(params, encode(spec, params, x)), z2, cfg.tau), trainAttack(cfg), rng.fork(3));
    z2.dispose();
    const clean = taskTensors(task, undefined);
    const nq = task.query.length / (shape.height * shape.width * shape.channels);
    const { cleanAcc, robustAcc } = tf.tidy(() => {
      const protos = prototypes(encode(spec, params, clean.xs), clean.ys, task.ways);
      const advQuery = tf.slice(adv, [n - nq, 0, 0, 0], [nq, -1, -1, -1]);
      return {
        cleanAcc: accuracy(prototypeLogits(protos, encode(spec, params, clean.xq)), clean.yq),
        robustAcc: accuracy(prototypeLogits(protos, encode(spec, params, advQuery)), clean.yq),
      };
    });
    try {
      const { grads, loss, aux } = await outerGradients(params, keysOf(params, this.parts(cfg)), (p) => {
        const target = project(p, encode(spec, p, x2));
        const natural = ntXent(project(p, encode(spec, p, x1)), target, cfg.tau);
        const robust = ntXent(project(p, encode(spec, p, adv)), target, cfg.tau);
        return { loss: tf.add(natural, robust) as tf.Scalar, aux: { agreementLoss: robust } };
      });
      return { grads, metrics: metricsFrom(loss, aux, { cleanAcc: (await readValues(cleanAcc))[0], robustAcc: (await readValues(robustAcc))[0] }) };
    } finally {
      tf.dispose([x1, x2, adv, cleanAcc, robustAcc]);
      disposeTask(clean);
    }
  },
};
