// Every setting of a run, declared once. From this table come the defaults, the validation of a
// config file, the published JSON Schema, the CLI flags (--kebab-case of the key) and the docs.
// One concept, one name: the key here is the config key, the flag and the extension's label.
import { UserError } from './errors';

type FieldSpec =
  | { type: 'number'; default: number; min?: number; max?: number; integer?: boolean; description: string }
  | { type: 'string'; default: string; enum?: readonly string[]; description: string }
  | { type: 'boolean'; default: boolean; description: string };

export const METHODS = ['mavrl', 'maml', 'aq', 'adml', 'rmaml', 'rocl'] as const;
export type MethodName = (typeof METHODS)[number];

export const CONFIG_FIELDS = {
  method: { type: 'string', default: 'mavrl', enum: METHODS, description: 'Meta-learning method: the seed method mavrl or a baseline.' },
  backbone: { type: 'string', default: 'conv4', enum: ['conv4', 'resnet12'], description: 'Encoder architecture.' },
  width: { type: 'number', default: 64, min: 1, max: 1024, integer: true, description: 'Filters per conv layer (Conv4) or base width (ResNet-12).' },
  projectionDim: {
    type: 'number',
    default: 128,
    min: 1,
    max: 4096,
    integer: true,
    description: 'Output size of the 2-layer projection head used by the agreement loss.',
  },
  imageSize: { type: 'number', default: 32, min: 16, max: 512, integer: true, description: 'Images are resized to imageSize x imageSize.' },
  channels: { type: 'number', default: 3, min: 1, max: 3, integer: true, description: 'Input channels: 1 (grey) or 3 (RGB); images are converted.' },
  ways: { type: 'number', default: 5, min: 2, max: 100, integer: true, description: 'Classes per task (N).' },
  shots: { type: 'number', default: 1, min: 1, max: 100, integer: true, description: 'Labelled support images per class (K).' },
  queries: { type: 'number', default: 15, min: 1, max: 100, integer: true, description: 'Query images per class (Q).' },
  metaBatch: { type: 'number', default: 4, min: 1, max: 64, integer: true, description: 'Tasks per meta-step (B).' },
  innerSteps: { type: 'number', default: 1, min: 0, max: 50, integer: true, description: 'SGD steps of the inner loop during meta-training.' },
  innerStepsTest: { type: 'number', default: 10, min: 0, max: 100, integer: true, description: 'SGD steps of the inner loop when adapting at evaluation.' },
  innerLr: {
    type: 'number',
    default: 0.4,
    min: 0,
    max: 10,
    description: 'Inner-loop SGD step size (alpha). Default per method (METHOD_DEFAULTS), chosen on validation classes.',
  },
  innerUpdate: {
    type: 'string',
    default: 'body',
    enum: ['all', 'body'],
    description: "Which parameters the inner loop adapts: 'all', or 'body' (encoder only, BOIL-style; the head stays). Default per method.",
  },
  headInit: {
    type: 'string',
    default: 'random',
    enum: ['random', 'zero'],
    description:
      "Initial classifier head: 'zero' (every task starts from uniform predictions, so the head cannot favour a label that the per-task permutation reassigns; for innerUpdate 'all') or 'random' (Glorot; needed with innerUpdate 'body', where a zero head would give the encoder no inner gradient). Default per method.",
  },
  order: { type: 'number', default: 1, min: 1, max: 2, integer: true, description: 'Meta-gradient order: 1 (first-order) or 2 (through the inner loop).' },
  outerLr: { type: 'number', default: 0.001, min: 0, max: 1, description: 'Adam learning rate of the meta-update.' },
  gradClip: { type: 'number', default: 0, min: 0, max: 1e6, description: 'Clip the global norm of the meta-gradient to this value (0: off).' },
  eps: { type: 'number', default: 8 / 255, min: 0, max: 1, description: 'Attack radius in [0,1] pixel space.' },
  attackNorm: { type: 'string', default: 'linf', enum: ['linf', 'l2'], description: 'Threat model norm.' },
  attackSteps: { type: 'number', default: 3, min: 1, max: 100, integer: true, description: 'PGD steps of the training attack.' },
  attackStepSize: { type: 'number', default: 0, min: 0, max: 1, description: 'PGD step size; 0 means 2.5 * eps / attackSteps.' },
  lambda: { type: 'number', default: 4, min: 0, max: 100, description: 'Weight of the adversarial-agreement loss (mavrl).' },
  agreement: { type: 'string', default: 'ntxent', enum: ['ntxent', 'cosine', 'kl'], description: 'Agreement loss between the two adversarial views (mavrl).' },
  tau: { type: 'number', default: 0.5, min: 0.01, max: 10, description: 'NT-Xent temperature.' },
  outerLoss: {
    type: 'string',
    default: 'trades',
    enum: ['trades', 'adversarial'],
    description:
      "mavrl's supervised outer term per view: 'trades' = CE(clean view) + beta * KL(clean || adversarial view), as the paper; 'adversarial' = CE(adversarial view), the earlier form, for ablation.",
  },
  mavrlAttack: {
    type: 'string',
    default: 'per-view',
    enum: ['per-view', 'joint'],
    description:
      "mavrl's label-free attack: 'per-view' (RoCL-style: each view's perturbation maximises its NT-Xent, through its own adapted encoder, to the other clean view through the other encoder) or 'joint' (both perturbations together maximise the NT-Xent between the two adversarial views).",
  },
  beta: {
    type: 'number',
    default: 1,
    min: 0,
    max: 100,
    description: 'Weight of the TRADES KL term (rmaml, and mavrl with outerLoss trades). Default per method.',
  },
  augment: { type: 'boolean', default: true, description: 'Random crop with padding, horizontal flip and brightness/colour jitter for the views.' },
  augFlip: { type: 'boolean', default: true, description: 'Views: horizontal flip (off for characters, whose mirror image is another shape). Needs augment.' },
  augResize: {
    type: 'number',
    default: 1,
    min: 0.05,
    max: 1,
    description: 'Views: random resized crop keeping an area fraction in [augResize, 1] (aspect 3/4 to 4/3); 1: off. Needs augment.',
  },
  augRotate: {
    type: 'number',
    default: 0,
    min: 0,
    max: 45,
    description: 'Views: small affine, rotation up to this many degrees and shear up to augRotate/100; 0: off. Needs augment.',
  },
  augStroke: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'Views, grey images: probability of thinning or thickening strokes by one pixel; 0: off. Needs augment.',
  },
  augContrast: {
    type: 'number',
    default: 0,
    min: 0,
    max: 0.9,
    description: 'Views: contrast and gamma jitter, each a factor in [1 - j, 1 + j]; 0: off. Needs augment.',
  },
  augNoise: { type: 'number', default: 0, min: 0, max: 0.5, description: 'Views: standard deviation of added Gaussian pixel noise; 0: off. Needs augment.' },
  augErase: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'Views: probability of erasing a random rectangle (2-20% of the image); 0: off. Needs augment.',
  },
  steps: { type: 'number', default: 1000, min: 1, max: 10_000_000, integer: true, description: 'Meta-steps to train.' },
  seed: {
    type: 'number',
    default: 0,
    min: 0,
    max: 2 ** 31 - 1,
    integer: true,
    description: 'Seed of every random choice (initialisation, tasks, augmentations, attacks).',
  },
  backend: {
    type: 'string',
    default: 'auto',
    enum: ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'],
    description: 'tfjs backend; auto picks the best present.',
  },
  workers: {
    type: 'number',
    default: 0,
    min: 0,
    max: 64,
    integer: true,
    description:
      "Parallel workers for a meta-batch (0: one per core), as many as it can use: one per task, or, with more workers than tasks, one per piece of a task where the method's step splits (mavrl: its two views).",
  },
  data: { type: 'string', default: '', description: 'Source dataset: an image folder or an IDX folder. Empty: the bundled Fashion-MNIST subset.' },
  checkpointEvery: {
    type: 'number',
    default: 50,
    min: 1,
    max: 1_000_000,
    integer: true,
    description: 'Write a checkpoint every this many steps (and at the end, and on stop).',
  },
} as const satisfies Record<string, FieldSpec>;

export type ConfigKey = keyof typeof CONFIG_FIELDS;

/**
 * Defaults that differ by method, applied over the table's defaults (which are mavrl's, the
 * default method) and under what a config file
 * or flag sets. Step sizes and mavrl's lambda were chosen on validation classes by one rule,
 * each method from the same grid (docs/method.md, "How the step sizes were chosen").
 *  - mavrl: BOIL-style inner loop (the encoder adapts, the head stays), as in the paper.
 *  - maml, aq, adml, rmaml: MAML's inner loop over every parameter from a zero head; aq adapts in
 *    5 steps as in its paper; rmaml weighs its KL term by 3, as its authors' code.
 */
export const METHOD_DEFAULTS: Record<MethodName, Partial<Config>> = {
  mavrl: { innerUpdate: 'body', headInit: 'random', innerLr: 0.4, beta: 1 },
  maml: { innerUpdate: 'all', headInit: 'zero', innerLr: 0.2 },
  aq: { innerUpdate: 'all', headInit: 'zero', innerLr: 0.4, innerSteps: 5 },
  adml: { innerUpdate: 'all', headInit: 'zero', innerLr: 0.4 },
  rmaml: { innerUpdate: 'all', headInit: 'zero', innerLr: 0.4, beta: 3 },
  rocl: {},
};

type ValueOf<F> = F extends { type: 'number' } ? number : F extends { type: 'boolean' } ? boolean : F extends { enum: readonly (infer E)[] } ? E : string;

export type Config = { -readonly [K in ConfigKey]: ValueOf<(typeof CONFIG_FIELDS)[K]> };

/** The defaults of a run of `method` (the table's, then the method's own). */
export function defaultConfig(method: MethodName = CONFIG_FIELDS.method.default): Config {
  const out: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(CONFIG_FIELDS)) out[k] = f.default;
  return { ...(out as Config), ...METHOD_DEFAULTS[method], method };
}

/**
 * Keys that earlier versions wrote into run configs and checkpoints and that mean nothing now;
 * dropped when read, so those runs still load and resume.
 */
const RETIRED_KEYS = new Set(['valEvery', 'trades']);

/**
 * A config written before `outerLoss` existed trained mavrl on adversarial CE (its `trades` flag
 * only added a KL on top): read it as outerLoss 'adversarial', so it resumes as it ran.
 */
function migrate(partial: Record<string, unknown>): Record<string, unknown> {
  if ('trades' in partial && !('outerLoss' in partial)) return { ...partial, outerLoss: 'adversarial' };
  return partial;
}

/** Checks one value against its field, returning a message for the user or undefined. */
export function checkField(key: string, value: unknown): string | undefined {
  const f = (CONFIG_FIELDS as Record<string, FieldSpec>)[key];
  if (!f) {
    return `unknown config key '${key}'. Known keys: ${Object.keys(CONFIG_FIELDS).join(', ')}`;
  }
  const show = JSON.stringify(value);
  if (f.type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return `'${key}' must be a number, got ${show}`;
    if (f.integer && !Number.isInteger(value)) return `'${key}' must be a whole number, got ${show}`;
    if (f.min !== undefined && value < f.min) return `'${key}' must be at least ${f.min}, got ${show}`;
    if (f.max !== undefined && value > f.max) return `'${key}' must be at most ${f.max}, got ${show}`;
  } else if (f.type === 'string') {
    if (typeof value !== 'string') return `'${key}' must be a string, got ${show}`;
    if (f.enum && !f.enum.includes(value)) return `'${key}' must be one of ${f.enum.join(', ')}; got ${show}`;
  } else if (typeof value !== 'boolean') {
    return `'${key}' must be true or false, got ${show}`;
  }
  return undefined;
}

/**
 * Merges a partial config over the defaults, checking every key and value. `origin` names where
 * the values came from (a file path, 'command line') for the error message.
 */
export function resolveConfig(partial: Record<string, unknown>, origin = 'config'): Config {
  const problems: string[] = [];
  partial = Object.fromEntries(Object.entries(migrate(partial)).filter(([k]) => !RETIRED_KEYS.has(k)));
  for (const [k, v] of Object.entries(partial)) {
    if (k === '$schema') continue;
    const why = checkField(k, v);
    if (why) problems.push(why);
  }
  const method = (METHODS as readonly unknown[]).includes(partial.method) ? (partial.method as MethodName) : CONFIG_FIELDS.method.default;
  const cfg = { ...defaultConfig(method), ...partial } as Config & { $schema?: string };
  // An inner loop chosen without a head initialisation gets the one that can adapt with it.
  if ('innerUpdate' in partial && !('headInit' in partial)) cfg.headInit = cfg.innerUpdate === 'body' ? 'random' : 'zero';
  delete cfg.$schema;
  if (cfg.order === 2 && cfg.method === 'rocl') problems.push("'order' 2 has no meaning for method 'rocl', which has no inner loop");
  if (cfg.innerUpdate === 'body' && cfg.headInit === 'zero' && cfg.method !== 'rocl') {
    problems.push(
      "innerUpdate 'body' with headInit 'zero' cannot adapt: the head stays at zero in the inner loop, so the encoder gets no gradient there; use headInit 'random' or innerUpdate 'all'",
    );
  }
  if (problems.length) throw new UserError(`${origin}: ${problems.join('; ')}`);
  return cfg;
}

/** PGD step size actually used: the configured one, or 2.5 * eps / steps. */
export function attackStepSize(cfg: Pick<Config, 'eps' | 'attackSteps' | 'attackStepSize'>): number {
  return cfg.attackStepSize > 0 ? cfg.attackStepSize : (2.5 * cfg.eps) / cfg.attackSteps;
}
