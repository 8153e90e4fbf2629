// Sample perturbations for the dashboard, written at each checkpoint: a few query images of one
// fixed held-out episode, their perturbation under the evaluation attack through the model
// adapted on its support set, and the adversarial image, as PNGs with a SampleSet beside them.
// The same episode every time, so the panel shows how the model's weak spots change.
import * as fs from 'fs';
import * as path from 'path';
import { Config } from '../core/config';
import { Dataset, episodeAt } from '../core/data';
import { samplePerturbations } from '../core/evaluate';
import { MetaLearner } from '../core/meta/learner';
import { RUN_FORMAT_VERSION, stepFileBase, type SampleImage, type SampleSet } from '../formats/run';
import { listStepFiles, namesIn, RUN_FILES, writeJsonAtomic } from './runStore';

/** Sample sets a run keeps; older ones are deleted. */
export const KEEP_SAMPLE_SETS = 20;
export const SAMPLE_COUNT = 4;

/** The classes the sample episode comes from: held-out test classes when they can make a task. */
function samplePool(ds: Dataset, cfg: Config): number[] {
  for (const split of ['test', 'val', 'train'] as const) {
    if (ds.splits[split].length >= cfg.ways) return ds.splits[split];
  }
  return ds.splits.train;
}

/**
 * Writes samples/step-N.json and its PNGs for the learner's current parameters; returns what it
 * wrote, or undefined when the dataset cannot make the episode.
 */
export async function writeSamples(runDir: string, step: number, learner: MetaLearner, ds: Dataset): Promise<{ dir: string; samples: SampleSet } | undefined> {
  const cfg = learner.cfg;
  const pool = samplePool(ds, cfg);
  let episode;
  try {
    episode = episodeAt(ds.data, pool, { ways: cfg.ways, shots: cfg.shots, queries: cfg.queries }, cfg.seed, 0x5a3b1e);
  } catch {
    return undefined;
  }
  const out = await samplePerturbations({ name: cfg.method, cfg, params: learner.params }, episode, {
    eps: cfg.eps,
    count: SAMPLE_COUNT,
    classNames: ds.data.classes,
    seed: cfg.seed,
    scale: Math.max(1, Math.round(96 / cfg.imageSize)),
    attack: { norm: cfg.attackNorm },
  });
  const dir = path.join(runDir, RUN_FILES.samples);
  fs.mkdirSync(dir, { recursive: true });
  const base = stepFileBase(step);
  const images: SampleImage[] = out.samples.map((s, i) => {
    const names = { clean: `${base}-${i}-clean.png`, perturbation: `${base}-${i}-perturbation.png`, adversarial: `${base}-${i}-adversarial.png` };
    fs.writeFileSync(path.join(dir, names.clean), s.clean);
    fs.writeFileSync(path.join(dir, names.perturbation), s.perturbation);
    fs.writeFileSync(path.join(dir, names.adversarial), s.adversarial);
    return { ...names, trueLabel: s.trueName, cleanPred: s.cleanPredName, adversarialPred: s.adversarialPredName };
  });
  const samples: SampleSet = { format: RUN_FORMAT_VERSION, step, eps: out.eps, amplification: out.amplification, images };
  // The JSON last: a reader that sees it finds its PNGs.
  writeJsonAtomic(path.join(dir, `${base}.json`), samples);
  prune(runDir);
  return { dir, samples };
}

function prune(runDir: string): void {
  const sets = listStepFiles(runDir, 'samples');
  for (const old of sets.slice(0, Math.max(0, sets.length - KEEP_SAMPLE_SETS))) {
    const base = old.name.slice(0, -'.json'.length);
    const dir = path.dirname(old.path);
    for (const n of namesIn(dir)) if (n === old.name || n.startsWith(`${base}-`)) fs.rmSync(path.join(dir, n), { force: true });
  }
}

/** The sample sets of a run, oldest first. */
export function listSampleSets(runDir: string): { step: number; file: string }[] {
  return listStepFiles(runDir, 'samples').map((f) => ({ step: f.step, file: f.path }));
}

/**
 * Deletes sample PNGs whose step-N.json is missing: the PNGs of a set are written before its JSON,
 * so a writer killed in between leaves them behind, and nothing would ever list them. Returns the
 * names removed. Only for the run's lock holder (no other writer is between the two writes).
 */
export function sweepOrphanSamples(runDir: string): string[] {
  const dir = path.join(runDir, RUN_FILES.samples);
  const names = namesIn(dir);
  const sets = new Set(listStepFiles(runDir, 'samples').map((f) => f.name.slice(0, -'.json'.length)));
  const orphans = names.filter((n) => {
    const m = /^(step-\d+)-\d+-[a-z]+\.png$/.exec(n);
    return m !== null && !sets.has(m[1]);
  });
  for (const n of orphans) fs.rmSync(path.join(dir, n), { force: true });
  return orphans;
}
