// Reads an experiment's folder (experiments/out/<name>/ beside its spec, as `robust-meta
// experiment` writes it) into the facts experimentModel.ts turns into views. A file that cannot be
// read counts as not written yet: the runner writes atomically, so that is the only way to see one.
import * as fs from 'fs';
import * as path from 'path';
import type { Static, TSchema } from '@sinclair/typebox';
import { EvalResultFileSchema, type EvalResultFile } from '../formats/evalResult';
import { ExperimentOutcomeSchema, ExperimentSpecSchema, TrainDoneSchema } from '../formats/experiment';
import { parseJsonIfValid } from '../formats/validate';
import { readExperimentSpec } from '../runner/experiment';
import { experimentProgress, type ExperimentFacts, type JobState, type TrainFacts } from './experimentModel';
import type { ExperimentEntry } from './experimentTreeModel';
import { readRunEntry } from './runFolder';

/** The experiment's output folder: experiments/out/<spec name> beside the spec (the name inside
 * the spec when it can be read, else the file's). */
export function experimentOutDir(spec: string): string {
  let name = path.basename(spec, '.experiment.json');
  const n = readAs(ExperimentSpecSchema, spec)?.name;
  if (n) name = n;
  return path.join(path.dirname(spec), 'experiments', 'out', name);
}

/** The file as its declared format, or undefined when it is missing, being written or not of the format. */
function readAs<T extends TSchema>(schema: T, file: string): Static<T> | undefined {
  try {
    return parseJsonIfValid(schema, fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function trainFacts(runsDir: string, name: string): TrainFacts | undefined {
  const done = readAs(TrainDoneSchema, path.join(runsDir, `${name}.done.json`));
  if (done) return { done: true, runDir: done.runDir };
  const ids = list(path.join(runsDir, name)).filter((id) => fs.existsSync(path.join(runsDir, name, id, 'status.json')));
  if (!ids.length) return fs.existsSync(path.join(runsDir, `${name}.config.json`)) ? { done: false, state: 'running' } : undefined;
  const run = readRunEntry(path.join(runsDir, name, ids[ids.length - 1]));
  const state: JobState = run.state === 'running' || run.state === 'done' || run.state === 'stopped' || run.state === 'failed' ? run.state : 'pending';
  return { done: false, state, step: run.step, totalSteps: run.totalSteps, runDir: run.dir };
}

/** The facts of the experiment whose spec is `specFile`, its folder `outDir`. Throws (a UserError
 * or FormatError naming the file) when the spec cannot be read. */
export function readExperimentFacts(specFile: string, outDir: string, now = Date.now()): ExperimentFacts {
  const spec = readExperimentSpec(specFile);
  const runsDir = path.join(outDir, 'runs');
  const train: Record<string, TrainFacts> = {};
  let startedAt: number | undefined;
  for (const f of list(runsDir)) {
    const m = /^(.*)\.config\.json$/.exec(f);
    if (!m) continue;
    const facts = trainFacts(runsDir, m[1]);
    if (facts) train[m[1]] = facts;
    try {
      const t = fs.statSync(path.join(runsDir, f)).mtimeMs;
      startedAt = startedAt === undefined ? t : Math.min(startedAt, t);
    } catch {
      /* gone */
    }
  }
  const resultsDir = path.join(outDir, 'results');
  const results: Record<string, EvalResultFile> = {};
  const evalFilesDone: string[] = [];
  for (const f of list(resultsDir)) {
    if (!f.endsWith('.json') || f.endsWith('.job.json')) continue;
    const r = readAs(EvalResultFileSchema, path.join(resultsDir, f));
    if (!r) continue;
    const label = f.slice(0, -'.json'.length);
    evalFilesDone.push(label);
    const merged = label.replace(/-part\d+$/, '');
    const prev = results[merged];
    if (prev) prev.models.push(...r.models);
    else results[merged] = { ...r, models: [...r.models] };
  }
  // outcome.json has the paired comparisons over the merged parts: prefer its results.
  const outcome = readAs(ExperimentOutcomeSchema, path.join(outDir, 'outcome.json'));
  const specTime = fs.statSync(specFile).mtimeMs;
  const outcomeDone = !!outcome?.results && fs.statSync(path.join(outDir, 'outcome.json')).mtimeMs >= specTime;
  if (outcomeDone) Object.assign(results, outcome!.results);
  return { name: spec.name, specFile, outDir, spec, train, results, evalFilesDone, outcomeDone, startedAt, now };
}

/** The tree's entry of an experiment: progress, runs per method, result files. */
export function readExperimentEntry(spec: string, now = Date.now()): ExperimentEntry {
  const outDir = experimentOutDir(spec);
  let facts: ExperimentFacts;
  try {
    facts = readExperimentFacts(spec, outDir, now);
  } catch (e) {
    return {
      spec,
      name: path.basename(spec, '.experiment.json'),
      outDir,
      progress: { state: 'not started', done: 0, total: 0, etaSeconds: null },
      methods: [],
      results: [],
      problem: (e as Error).message,
    };
  }
  const runsDir = path.join(outDir, 'runs');
  const runs = list(runsDir)
    .filter((name) => fs.existsSync(path.join(runsDir, `${name}.config.json`)))
    .flatMap((name) => list(path.join(runsDir, name)).map((id) => path.join(runsDir, name, id)))
    .filter((dir) => fs.existsSync(path.join(dir, 'status.json')))
    .map((dir) => readRunEntry(dir));
  const methods = facts.spec.methods.map((method) => ({ method, runs: runs.filter((r) => path.basename(path.dirname(r.dir)).startsWith(`${method}-seed`)) }));
  const results = list(path.join(outDir, 'results'))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.job.json'))
    .map((f) => ({ label: f.slice(0, -'.json'.length), path: path.join(outDir, 'results', f) }));
  return { spec, name: facts.name, outDir, progress: experimentProgress(facts), methods, results };
}
