// Evaluation as a job over files: checkpoints (or run folders) and a dataset folder in, a result
// file (EvalResultFile) with sample perturbation PNGs beside it out. The worker's 'eval' job (the
// CLI's eval, the extension's, the experiment's) runs this; the numbers come from core/evaluate.ts.
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../core/backend';
import { Config } from '../core/config';
import { Dataset, episodeAt, loadDataset, validateForEpisodes } from '../core/data';
import { UserError } from '../core/errors';
import { EvalResultFile } from '../core/evalResult';
import { EvalModel, EvalProgress, EvaluateOptions, evaluate, headFor, resolveEvalOptions, samplePerturbations } from '../core/evaluate';
import { readCheckpoint, resolveCheckpoint } from './checkpoint';
import { EvalJobArgs } from './protocol';
import { isRunDir, readRunConfig, writeJsonAtomic } from './runStore';
import { setupError } from './train';

export interface EvalJobHooks {
  onProgress?(p: EvalProgress): void;
  onLog?(level: 'info' | 'warn', message: string): void;
  /** Stops the evaluation between episodes. */
  signal?: AbortSignal;
}

export interface EvalJobOutput {
  path: string;
  result: EvalResultFile;
}

/** Options of an eval job (EvalJobArgs.options), by name: the same names as `eval`'s flags in camelCase. */
export function evaluateOptionsFrom(o: Record<string, string | number | boolean>): EvaluateOptions {
  const num = (k: string): number | undefined => {
    if (o[k] === undefined) return undefined;
    const v = typeof o[k] === 'number' ? (o[k] as number) : Number(o[k]);
    if (!Number.isFinite(v)) throw new UserError(`eval option '${k}' must be a number, got ${JSON.stringify(o[k])}`);
    return v;
  };
  const known = [
    'split',
    'ways',
    'shots',
    'queries',
    'episodes',
    'seed',
    'head',
    'innerSteps',
    'eps',
    'attackSteps',
    'attackStepSize',
    'norm',
    'restarts',
    'curve',
    'strongAttack',
    'strongSteps',
    'strongRestarts',
    'strongStepSize',
    'strongLoss',
    'samples',
    'backend',
    'name',
    'threads',
  ];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length) throw new UserError(`unknown eval option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return {
    split: o.split as EvaluateOptions['split'],
    ways: num('ways'),
    shots: num('shots'),
    queries: num('queries'),
    episodes: num('episodes'),
    seed: num('seed'),
    head: o.head as EvaluateOptions['head'],
    innerSteps: num('innerSteps'),
    attack: {
      eps: num('eps'),
      steps: num('attackSteps'),
      stepSize: num('attackStepSize'),
      norm: o.norm as 'linf' | 'l2' | undefined,
      restarts: num('restarts'),
    },
    curve:
      o.curve === undefined
        ? undefined
        : String(o.curve) === ''
          ? []
          : String(o.curve)
              .split(',')
              .map((s) => Number(s.trim()) / 255),
    strongAttack:
      o.strongAttack === true || o.strongAttack === 'true'
        ? { steps: num('strongSteps'), restarts: num('strongRestarts'), stepSize: num('strongStepSize'), loss: o.strongLoss as 'ce' | 'margin' | undefined }
        : o.strongAttack === undefined
          ? undefined
          : false,
    threads: o.threads === undefined || o.threads === 'auto' ? undefined : num('threads'),
  };
}

/** A model from a checkpoint file or a run folder, named after its run. */
export function loadEvalModel(ref: string): EvalModel {
  const file = resolveCheckpoint(ref);
  const ckpt = readCheckpoint(file);
  const runDir = path.dirname(path.dirname(file));
  const runName = isRunDir(runDir) ? readRunConfig(runDir).id : path.basename(file);
  return { name: `${ckpt.header.method} (${runName}, step ${ckpt.header.step})`, cfg: ckpt.header.config, params: ckpt.state.params, checkpoint: file };
}

/** The dataset at each image shape the models take, split as `load` says (default: the dataset's own split). */
export async function loadForModels(dataPath: string, cfgs: Config[], load: EvalJobArgs['load'] = {}): Promise<Dataset[]> {
  const shapes = [...new Map(cfgs.map((c) => [`${c.imageSize}x${c.channels}`, c])).values()];
  const out: Dataset[] = [];
  for (const c of shapes) out.push(await loadDataset(dataPath, { ...load, imageSize: c.imageSize, channels: c.channels as 1 | 3 }));
  return out;
}

/**
 * Evaluates the models on the dataset, writes the result to args.out (a .json path) and sample
 * perturbations of the first episode into '<out without .json>-samples/', listed in each model's
 * `samples` relative to the result file.
 */
export async function runEvalJob(args: EvalJobArgs, hooks: EvalJobHooks = {}): Promise<EvalJobOutput> {
  if (!args.checkpoints.length) throw new UserError('eval needs at least one checkpoint or run folder');
  const opts = evaluateOptionsFrom(args.options);
  await initBackend((args.options.backend as Config['backend']) ?? 'auto');
  const models = args.checkpoints.map(loadEvalModel);
  if (args.names) {
    if (args.names.length !== models.length) throw new UserError(`eval job: ${args.names.length} names for ${models.length} checkpoints`);
    models.forEach((m, i) => (m.name = args.names![i]));
  }
  // Two runs of the same method would get the same name otherwise.
  const seen = new Map<string, number>();
  for (const m of models) {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    if (n > 1) m.name = `${m.name} #${n}`;
  }
  // Data that cannot be read or cannot make the evaluation's tasks is the data's fault (exit 2,
  // as in train), found before any episode runs.
  let datasets: Dataset[];
  try {
    datasets = await loadForModels(
      args.data,
      models.map((m) => m.cfg),
      args.load,
    );
    const o = resolveEvalOptions(models, opts);
    for (const d of datasets) validateForEpisodes(d, o.split, { ways: o.ways, shots: o.shots, queries: o.queries });
  } catch (e) {
    throw setupError(e);
  }
  for (const d of datasets) for (const w of d.warnings ?? []) hooks.onLog?.('warn', `${d.name}: ${w}`);
  const { result } = await evaluate(models, datasets, { ...opts, signal: hooks.signal }, hooks.onProgress);
  const out = path.resolve(args.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  if (args.options.samples !== false && args.options.samples !== 'false') {
    await writeEvalSamples(out, result, models, datasets, opts);
  }
  writeJsonAtomic(out, result);
  return { path: out, result };
}

async function writeEvalSamples(out: string, result: EvalResultFile, models: EvalModel[], datasets: Dataset[], opts: EvaluateOptions): Promise<void> {
  const dir = out.replace(/\.json$/i, '') + '-samples';
  fs.mkdirSync(dir, { recursive: true });
  const o = resolveEvalOptions(models, opts);
  for (const [i, m] of models.entries()) {
    const ds = datasets.find((d) => d.data.height === m.cfg.imageSize && d.data.channels === m.cfg.channels)!;
    const episode = episodeAt(ds.data, ds.splits[o.split], { ways: o.ways, shots: o.shots, queries: o.queries }, o.seed, 0);
    const s = await samplePerturbations(m, episode, {
      eps: o.attack.eps,
      attack: { steps: o.attack.steps, stepSize: o.attack.stepSize, norm: o.attack.norm },
      head: headFor(m.cfg, o.head),
      innerSteps: o.innerSteps,
      seed: o.seed,
      classNames: ds.data.classes,
      scale: Math.max(1, Math.round(96 / m.cfg.imageSize)),
    });
    // The samples go with the model's own head (with head 'both' its prototype entry follows it).
    const entry = result.models.find((r) => r.model === m.name)!;
    entry.samples = s.samples.map((x, j) => {
      const base = `${i}-${j}`;
      const files = { clean: `${base}-clean.png`, perturbation: `${base}-perturbation.png`, adversarial: `${base}-adversarial.png` };
      fs.writeFileSync(path.join(dir, files.clean), x.clean);
      fs.writeFileSync(path.join(dir, files.perturbation), x.perturbation);
      fs.writeFileSync(path.join(dir, files.adversarial), x.adversarial);
      const rel = (f: string) => path.relative(path.dirname(out), path.join(dir, f)).split(path.sep).join('/');
      return {
        clean: rel(files.clean),
        perturbation: rel(files.perturbation),
        adversarial: rel(files.adversarial),
        trueLabel: x.trueName,
        cleanPred: x.cleanPredName,
        adversarialPred: x.adversarialPredName,
      };
    });
  }
}
