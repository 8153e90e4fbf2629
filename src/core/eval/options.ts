// The options of an evaluation: what a caller may set, the defaults (docs/method.md), their
// checks, and the attacks they plan for every episode.
import { Norm } from '../attacks';
import type { Config } from '../config';
import type { ClassSplits } from '../data/types';
import { UserError } from '../errors';
import type { AttackLossName, AttackPlan, Head } from './episode';

export type HeadChoice = Head | 'auto' | 'both';

export interface EvalAttackOptions {
  /** Radius in [0,1] pixel units (L-inf) or L2 units. Default 8/255. */
  eps?: number;
  /** PGD steps. Default 20. */
  steps?: number;
  /** Step size at eps. Default eps / 4 (2/255 at 8/255); curve points scale it with their eps. */
  stepSize?: number;
  norm?: Norm;
  /** Extra random restarts (the worst case per image is kept). Default 0. */
  restarts?: number;
}

/**
 * The stronger attack: `restarts + 1` separate PGD runs from different random starts; an image
 * counts as robust only if it is classified correctly under every run. (Keeping each image's
 * worst perturbation across runs and attacking as one batch would not do: batch norm normalises
 * by the batch, so a spliced batch is no run's optimum.)
 */
export interface StrongAttackOptions {
  /** Default 100. */
  steps?: number;
  /** Extra runs. Default 5 (six runs). */
  restarts?: number;
  /** Default eps / 10 (between eps/10 and eps/4 is sensible: 100 steps then travel 10-25 eps). */
  stepSize?: number;
  /** 'ce' (default) or 'margin' (CW). */
  loss?: AttackLossName;
}

export interface EvaluateOptions {
  split?: keyof ClassSplits;
  ways?: number;
  shots?: number;
  queries?: number;
  episodes?: number;
  seed?: number;
  /**
   * 'both' (default): each model's own adaptation ('auto') and, beside it, the frozen-encoder
   * prototype head. 'auto': the prototype head for rocl, which has no meta-learned head; the
   * inner loop for the others.
   */
  head?: HeadChoice;
  /** Inner-loop steps at test time for every finetuned model; default: each model's innerStepsTest. */
  innerSteps?: number;
  attack?: EvalAttackOptions;
  /**
   * Radii of the robustness curve. Default {0,1,2,4,8,16}/255 for L-inf, and eps times
   * {0, 1/8, 1/4, 1/2, 1, 2} for L2. [] for no curve.
   */
  curve?: number[];
  /** Also run a stronger PGD at eps (more steps, restarts) and compare: true for the defaults. */
  strongAttack?: boolean | StrongAttackOptions;
  /**
   * Worker threads that share the episodes (this thread then only hands them out); 1: every
   * episode on this thread. 'auto' (default): one per core on the wasm and cpu backends, with at
   * least 4 episodes each; 1 on native backends. The numbers do not depend on it.
   */
  threads?: number | 'auto';
  /** Stops the evaluation between episodes (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

export const DEFAULT_EPISODES = 400;
export const DEFAULT_QUERIES = 15;
export const DEFAULT_EPS = 8 / 255;
export const DEFAULT_ATTACK_STEPS = 20;
export const DEFAULT_CURVE_255 = [0, 1, 2, 4, 8, 16];
const L2_CURVE_FACTORS = [0, 1 / 8, 1 / 4, 1 / 2, 1, 2];

/** The options with every default filled in and checked. */
export interface ResolvedEvalOptions {
  split: keyof ClassSplits;
  ways: number;
  shots: number;
  queries: number;
  episodes: number;
  seed: number;
  head: HeadChoice;
  innerSteps?: number;
  attack: Required<EvalAttackOptions>;
  curve: number[];
  strong?: Required<StrongAttackOptions>;
}

export function wholeAtLeast(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UserError(`${name} must be a whole number >= ${min}, got ${v}`);
}

/**
 * Fills in defaults and checks the options. Ways and shots default to the models' training
 * values when they all agree, else 5 and 1.
 */
export function resolveEvalOptions(models: readonly { cfg: Config }[], opts: EvaluateOptions = {}): ResolvedEvalOptions {
  const common = (k: 'ways' | 'shots', fallback: number) => {
    const vals = new Set(models.map((m) => m.cfg[k]));
    return vals.size === 1 ? [...vals][0] : fallback;
  };
  const split = opts.split ?? 'test';
  if (!['train', 'val', 'test'].includes(split)) throw new UserError(`split must be train, val or test, got '${split}'`);
  const ways = opts.ways ?? common('ways', 5);
  const shots = opts.shots ?? common('shots', 1);
  const queries = opts.queries ?? DEFAULT_QUERIES;
  const episodes = opts.episodes ?? DEFAULT_EPISODES;
  const seed = opts.seed ?? 0;
  wholeAtLeast('ways', ways, 2);
  wholeAtLeast('shots', shots, 1);
  wholeAtLeast('queries', queries, 1);
  wholeAtLeast('episodes', episodes, 1);
  wholeAtLeast('seed', seed, 0);
  const head = opts.head ?? 'both';
  if (!['both', 'auto', 'finetune', 'prototype'].includes(head)) throw new UserError(`head must be both, auto, finetune or prototype, got '${head}'`);
  if (opts.innerSteps !== undefined) wholeAtLeast('inner steps', opts.innerSteps, 0);
  const a = opts.attack ?? {};
  const eps = a.eps ?? DEFAULT_EPS;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new UserError(`eps must be a number >= 0, got ${eps}`);
  const norm = a.norm ?? 'linf';
  if (norm !== 'linf' && norm !== 'l2') throw new UserError(`norm must be linf or l2, got '${norm}'`);
  if (norm === 'linf' && eps > 1)
    throw new UserError(`an L-inf eps above 1 covers the whole pixel range; eps is in [0,1] pixel units (8/255 = ${(8 / 255).toFixed(4)}), got ${eps}`);
  const steps = a.steps ?? DEFAULT_ATTACK_STEPS;
  wholeAtLeast('attack steps', steps, 1);
  const restarts = a.restarts ?? 0;
  wholeAtLeast('restarts', restarts, 0);
  const stepSize = a.stepSize ?? eps / 4;
  if (!(stepSize >= 0) || !Number.isFinite(stepSize)) throw new UserError(`attack step size must be a number >= 0, got ${stepSize}`);
  const curve = opts.curve ?? (norm === 'linf' ? DEFAULT_CURVE_255.map((e) => e / 255) : L2_CURVE_FACTORS.map((f) => f * eps));
  for (const e of curve) {
    if (!(e >= 0) || !Number.isFinite(e)) throw new UserError(`curve radii must be numbers >= 0, got ${e}`);
    if (norm === 'linf' && e > 1) throw new UserError(`curve radius ${e} is above 1; radii are in [0,1] pixel units (like 8/255)`);
  }
  let strong: Required<StrongAttackOptions> | undefined;
  if (opts.strongAttack) {
    const s = opts.strongAttack === true ? {} : opts.strongAttack;
    const sSteps = s.steps ?? 100;
    wholeAtLeast('strong attack steps', sSteps, 1);
    const sRestarts = s.restarts ?? 5;
    wholeAtLeast('strong attack restarts', sRestarts, 0);
    const sStep = s.stepSize ?? eps / 10;
    if (!(sStep >= 0)) throw new UserError(`strong attack step size must be >= 0, got ${sStep}`);
    const loss = s.loss ?? 'ce';
    if (loss !== 'ce' && loss !== 'margin') throw new UserError(`strong attack loss must be ce or margin, got '${loss}'`);
    strong = { steps: sSteps, restarts: sRestarts, stepSize: sStep, loss };
  }
  return {
    split,
    ways,
    shots,
    queries,
    episodes,
    seed,
    head,
    innerSteps: opts.innerSteps,
    attack: { eps, steps, stepSize, norm, restarts },
    curve: [...new Set(curve)].sort((x, y) => x - y),
    strong,
  };
}

/** The head a model is evaluated with ('both' gives its own first). */
export function headFor(cfg: Pick<Config, 'method'>, choice: HeadChoice): Head {
  if (choice !== 'auto' && choice !== 'both') return choice;
  return cfg.method === 'rocl' ? 'prototype' : 'finetune';
}

/**
 * One attack per distinct radius above 0 (the point at eps is the robust figure), then the
 * stronger attack's runs, each separate (kind 1 + run).
 */
export function attackPlans(o: ResolvedEvalOptions): AttackPlan[] {
  const radii = [...new Set([...o.curve, o.attack.eps])].filter((e) => e > 0).sort((x, y) => x - y);
  const ratio = o.attack.eps > 0 ? o.attack.stepSize / o.attack.eps : 0.25;
  const plans: AttackPlan[] = radii.map((eps) => ({
    kind: 0,
    opts: { eps, steps: o.attack.steps, stepSize: eps === o.attack.eps ? o.attack.stepSize : ratio * eps, norm: o.attack.norm, restarts: o.attack.restarts },
  }));
  if (o.strong && o.attack.eps > 0) {
    for (let r = 0; r <= o.strong.restarts; r++) {
      plans.push({
        kind: 1 + r,
        loss: o.strong.loss,
        opts: { eps: o.attack.eps, steps: o.strong.steps, stepSize: o.strong.stepSize, norm: o.attack.norm, restarts: 0 },
      });
    }
  }
  return plans;
}
