// Gradients tfjs-core (4.22) does not define, needed for second-order meta-gradients: the
// gradient of a conv layer's weight gradient, and of max pooling's input gradient; and faster
// ones for Tile, Sum and Mean.
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

/**
 * dW = Conv2DBackpropFilter(x, dy) is bilinear in x and dy. For an upstream gradient ddW
 * (filter-shaped):  d/dx = conv2DBackpropInput(x.shape, dy, ddW),  d/ddy = conv2d(x, ddW),
 * with the same strides, padding, data format and rounding.
 */
const conv2DBackpropFilterGrad: tf.GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const ddW = ddw as tf.Tensor4D;
    const { strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    return {
      x: () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: ddW }, {
          strides,
          pad,
          dataFormat,
          dimRoundingMode,
          inputShape: x.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor4D,
      dy: () => tf.conv2d(x, ddW, strides, pad as 'same', dataFormat, 1, dimRoundingMode),
    };
  },
};

/**
 * dx = MaxPoolGrad(dy, input, output) routes each dy element to the first maximum of its
 * window. It is linear in dy, so d/ddy gathers the upstream gradient at those positions
 * (MaxPoolWithArgmax, which picks the same first maximum); input and output only choose the
 * positions, so their gradient is 0 almost everywhere.
 */
const maxPoolGradGrad: tf.GradConfig = {
  kernelName: 'MaxPoolGrad',
  inputsToSave: ['dy', 'input', 'output'],
  gradFunc: (ddx, saved, attrs) => {
    const [dy, input, output] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    return {
      dy: () => {
        if (dimRoundingMode != null || typeof pad === 'object') {
          throw new Error('gradient of MaxPoolGrad: dimRoundingMode and explicit padding are not supported');
        }
        const { indexes } = tf.maxPoolWithArgmax(input, filterSize, strides, pad, true);
        if (!indexes.shape.every((d, i) => d === dy.shape[i])) {
          throw new Error(`gradient of MaxPoolGrad: argmax shape ${indexes.shape} is not dy's ${dy.shape}`);
        }
        // An index of -1 (a window with no pixel, or only NaN) routes nothing: its gradient is 0.
        const idx = tf.reshape(indexes, [-1]);
        const picked = tf.gather(tf.reshape(ddx as tf.Tensor, [-1]), tf.maximum(idx, tf.scalar(0, 'int32')));
        const routed = tf.mul(picked, tf.cast(tf.greaterEqual(idx, 0), picked.dtype));
        return tf.reshape(routed, dy.shape);
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};

/**
 * Comparisons and logical ops are piecewise constant: gradient 0. tfjs defines it for
 * GreaterEqual only; the others sit on second-order paths too (LeakyRelu's gradient is
 * where(greater(x, 0), ..), so the meta-gradient of a leaky-ReLU net reaches Greater).
 */
function zeroGradient(kernelName: string, inputs: string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: inputs,
    gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')])),
  };
}

const ZERO_GRADIENT_KERNELS: [string, string[]][] = [
  ['Greater', ['a', 'b']],
  ['Less', ['a', 'b']],
  ['LessEqual', ['a', 'b']],
  ['Equal', ['a', 'b']],
  ['NotEqual', ['a', 'b']],
  ['LogicalAnd', ['a', 'b']],
  ['LogicalOr', ['a', 'b']],
  ['LogicalNot', ['x']],
];

/**
 * Tile: dx sums dy over the repetitions, one reshape + sum per tiled axis. tfjs's own gradient
 * adds one slice per repetition, i.e. one kernel pair per tile: batch norm tiles its [C]
 * statistics to [N, H, W, C], so a second-order step through a batch-norm layer ran N*H*W slice
 * and add kernels (seconds at 5 images of 32x32, far longer at 150).
 */
const fastTileGrad: tf.GradConfig = {
  kernelName: 'Tile',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const reps = (attrs as unknown as tf.TileAttrs).reps;
    return {
      x: () => {
        let g = dy as tf.Tensor;
        for (let i = 0; i < reps.length; i++) {
          if (reps[i] === 1) continue;
          const shape = g.shape.slice();
          const before = shape.slice(0, i).reduce((a, b) => a * b, 1);
          const after = shape.slice(i + 1).reduce((a, b) => a * b, 1);
          g = tf.sum(tf.reshape(g, [before, reps[i], x.shape[i], after]), 1);
          shape[i] = x.shape[i];
          g = tf.reshape(g, shape);
        }
        return g;
      },
    };
  },
};

/** dy of a reduction over `axis` (keepDims or not) broadcast back to x's shape: one Tile. */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: number | number[]): tf.Tensor {
  const axes = util.parseAxisParam(axis, x.shape);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

/**
 * Sum and Mean: dx is dy (over the count, for Mean) spread back over the reduced axes. tfjs's own
 * multiply dy by a tensor of ones of x's shape, which they fill in a JavaScript array and upload
 * each time: 1.5-2.4% of a 28x28x1 meta-step's CPU (the NT-Xent loss sums 150 x 150 similarities, 28
 * times a step). The same values: dy * 1 / n is dy / n.
 */
const sumGrad: tf.GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, [x], attrs) => ({ x: () => spread(dy as tf.Tensor, x, (attrs as unknown as tf.SumAttrs).axis) }),
};

const meanGrad: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, [x], attrs) => {
    const { axis } = attrs as unknown as tf.MeanAttrs;
    const n = util.parseAxisParam(axis, x.shape).reduce((p, a) => p * x.shape[a], 1);
    return { x: () => spread(tf.div(dy as tf.Tensor, n), x, axis) };
  },
};

const OURS = Symbol.for('robust-meta.gradient');

/**
 * Registers the gradients above where none is registered yet, and replaces tfjs's Tile, Sum and
 * Mean gradients (run after tfjs's gradients are registered); idempotent.
 */
export function registerMissingGradients(): void {
  const configs = [conv2DBackpropFilterGrad, maxPoolGradGrad, ...ZERO_GRADIENT_KERNELS.map(([name, inputs]) => zeroGradient(name, inputs))];
  for (const config of configs) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
  for (const config of [fastTileGrad, sumGrad, meanGrad]) {
    const registered = tf.getGradient(config.kernelName) as (tf.GradConfig & { [OURS]?: boolean }) | undefined;
    if (!registered?.[OURS]) tf.registerGradient(Object.assign({ [OURS]: true }, config));
  }
}

/**
 * Everything training needs on tfjs-core's Node bundle: tfjs's own gradients, which that bundle
 * does not register (scripts/vendor-gradients.js bundles them), then ours; idempotent.
 */
export function registerTrainingGradients(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../vendor/tfjs-gradients');
  registerMissingGradients();
}
