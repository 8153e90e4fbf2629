// Builds what the host sends to its panels from run folders: run headers, sample sets with
// webview URIs, evaluation results with their sample images. Pure (Node path only, no vscode):
// the URI conversion is passed in, and every image path is checked to stay inside its root.
import * as path from 'path';
import type { SampleSet } from '../runner/runFormat';
import { RUN_FILES } from '../runner/runStore';
import type { EvalResultFile } from '../core/evalResult';
import { isInside, isPlainFileName } from './paths';
import type { ResultEntry, RunEntry } from './runFolder';
import { readEvalResult } from './runFolder';
import type { ResultView, RunView, SampleSetView, SampleView } from './webviewProtocol';

/** Live figures a session knows before status.json says them. */
export interface LiveProgress {
  step: number;
  totalSteps: number;
  etaSeconds: number | null;
  msPerStep: number;
  backend?: string;
}

export function runView(run: RunEntry, ownedHere: boolean, live?: LiveProgress): RunView {
  const view: RunView = {
    id: run.id,
    method: run.method,
    state: ownedHere ? 'running' : run.state,
    interrupted: !ownedHere && run.interrupted,
    step: run.step,
    totalSteps: run.totalSteps,
    backend: run.backend,
    etaSeconds: run.state === 'running' ? (run.etaSeconds ?? null) : null,
    message: run.problem ?? run.message,
    ownedHere,
    resumable: !ownedHere && run.state !== 'running' && run.state !== 'done' && run.checkpoints.length > 0,
  };
  if (live && live.step >= view.step) {
    view.step = live.step;
    view.totalSteps = live.totalSteps;
    view.etaSeconds = live.etaSeconds;
    view.msPerStep = live.msPerStep;
    if (live.backend) view.backend = live.backend;
  }
  return view;
}

/**
 * A run's sample set with each image name turned into a URI; images with unsafe names are dropped,
 * and so are those whose real path leaves samples/ (a plain name may still be a symlink to
 * anywhere in a run folder someone sent).
 */
export function sampleSetView(set: SampleSet, samplesDir: string, toUri: (file: string) => string): SampleSetView {
  const images: SampleView[] = [];
  const safe = (name: string) => isPlainFileName(name) && isInside(samplesDir, path.join(samplesDir, name));
  for (const im of set.images) {
    if (![im.clean, im.perturbation, im.adversarial].every(safe)) continue;
    images.push({
      clean: toUri(path.join(samplesDir, im.clean)),
      perturbation: toUri(path.join(samplesDir, im.perturbation)),
      adversarial: toUri(path.join(samplesDir, im.adversarial)),
      trueLabel: im.trueLabel,
      cleanPred: im.cleanPred,
      adversarialPred: im.adversarialPred,
    });
  }
  return { step: set.step, eps: set.eps, amplification: set.amplification, images };
}

/**
 * The sample images of each model of a result. Their paths are relative to the result file and
 * must resolve inside `root` (the run folder, or the result's own folder); others are dropped.
 */
export function resultSamples(result: EvalResultFile, file: string, root: string, toUri: (file: string) => string): SampleView[][] {
  const base = path.dirname(file);
  const resolve = (rel: unknown): string | undefined => {
    if (typeof rel !== 'string' || !rel || path.isAbsolute(rel)) return undefined;
    const full = path.resolve(base, rel);
    return isInside(root, full) ? full : undefined;
  };
  return result.models.map((m) => {
    const out: SampleView[] = [];
    for (const s of m.samples ?? []) {
      const clean = resolve(s.clean);
      const perturbation = resolve(s.perturbation);
      const adversarial = resolve(s.adversarial);
      if (!clean || !perturbation || !adversarial) continue;
      out.push({
        clean: toUri(clean),
        perturbation: toUri(perturbation),
        adversarial: toUri(adversarial),
        trueLabel: String(s.trueLabel),
        cleanPred: String(s.cleanPred),
        adversarialPred: String(s.adversarialPred),
      });
    }
    return out;
  });
}

/** The folder whose files a result may show: its run folder when it lies in one's results/, else its own folder. */
export function resultRoot(file: string): string {
  const dir = path.dirname(file);
  return path.basename(dir) === RUN_FILES.results ? path.dirname(dir) : dir;
}

/** Reads a result file into a view; `problem` when it cannot be read. */
export function resultView(file: string, label: string, toUri: (file: string) => string): { view?: ResultView; problem?: string } {
  const { result, problem } = readEvalResult(file);
  if (!result) return { problem };
  return {
    view: {
      name: path.basename(file, '.json'),
      label,
      result,
      samples: resultSamples(result, file, resultRoot(file), toUri),
    },
  };
}

/** Every readable result of a run; unreadable ones are reported in `problems`. */
export function runResultViews(run: RunEntry, toUri: (file: string) => string): { views: ResultView[]; problems: string[] } {
  const views: ResultView[] = [];
  const problems: string[] = [];
  for (const r of run.results as ResultEntry[]) {
    const { view, problem } = resultView(r.path, `${run.id} / ${r.name}`, toUri);
    if (view) views.push(view);
    else if (problem) problems.push(problem);
  }
  return { views, problems };
}
