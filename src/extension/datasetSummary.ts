// "Preview Dataset": what a dataset folder holds, as the panel shows it. Pure view-model (no Node,
// DOM or vscode import): the facts come from the engine's loader (datasetPreviewMain.ts), the
// webview draws the summary, the unit tests check it.
import type { ClassSplits, EpisodeSpec } from '../core/data/types';

export type SplitKey = keyof ClassSplits;
export const SPLIT_KEYS: SplitKey[] = ['train', 'val', 'test'];

/** What the loader found (a Dataset without its pixels). */
export interface DatasetFacts {
  name: string;
  source: string;
  kind: 'folder' | 'idx';
  /** Image files found (folder) or images in the IDX files. */
  files: number;
  height: number;
  width: number;
  channels: number;
  classes: string[];
  /** Images per class, by class index. */
  counts: number[];
  splits: ClassSplits;
  splitOrigin: 'folders' | 'split-file' | 'seeded' | 'builtin';
  warnings: string[];
}

export interface SplitSummary {
  split: SplitKey;
  classes: number;
  images: number;
  minPerClass: number;
  maxPerClass: number;
}

export interface TaskCheck extends EpisodeSpec {
  split: SplitKey;
  ok: boolean;
  /** Why it cannot be made, when it cannot. */
  why?: string;
}

export interface DatasetSummary {
  name: string;
  source: string;
  /** One line: the format, image size and colour. */
  format: string;
  splitOrigin: string;
  images: number;
  classes: { name: string; split?: SplitKey; count: number }[];
  splits: SplitSummary[];
  warnings: string[];
  tasks: TaskCheck[];
}

/** The tasks a preview checks: the paper's settings and a wider one. */
export const PREVIEW_TASKS: EpisodeSpec[] = [
  { ways: 5, shots: 1, queries: 15 },
  { ways: 5, shots: 5, queries: 15 },
  { ways: 10, shots: 1, queries: 15 },
];

const ORIGIN_TEXT: Record<DatasetFacts['splitOrigin'], string> = {
  folders: 'from the train/ val/ test/ folders',
  'split-file': 'from splits.json',
  seeded: "a seeded split of the classes (60 / 20 / 20 %; the run's seed decides which classes)",
  builtin: 'the fixed split of 10-class IDX data (train 0 1 2 5 8, test 3 4 6 7 9)',
};

function splitOf(splits: ClassSplits, c: number): SplitKey | undefined {
  return SPLIT_KEYS.find((k) => splits[k].includes(c));
}

export function splitSummary(facts: DatasetFacts, split: SplitKey): SplitSummary {
  const counts = facts.splits[split].map((c) => facts.counts[c] ?? 0);
  return {
    split,
    classes: counts.length,
    images: counts.reduce((a, b) => a + b, 0),
    minPerClass: counts.length ? Math.min(...counts) : 0,
    maxPerClass: counts.length ? Math.max(...counts) : 0,
  };
}

/** Whether a split can make a task: enough classes for the ways, and in every class of the split
 * enough images for shots + queries (episodes draw the ways from all the split's classes). */
export function checkTask(s: SplitSummary, t: EpisodeSpec): TaskCheck {
  const need = t.shots + t.queries;
  let why: string | undefined;
  if (s.classes < t.ways) why = `${s.split} has ${s.classes} class${s.classes === 1 ? '' : 'es'}, fewer than ${t.ways} ways`;
  else if (s.minPerClass < need) why = `a ${s.split} class has ${s.minPerClass} images, fewer than ${t.shots} shots + ${t.queries} queries`;
  return { ...t, split: s.split, ok: !why, why };
}

export function summarizeDataset(facts: DatasetFacts, tasks: EpisodeSpec[] = PREVIEW_TASKS): DatasetSummary {
  const colour = facts.channels === 1 ? 'grey' : facts.channels === 3 ? 'RGB' : `${facts.channels} channels`;
  const format = `${facts.kind === 'idx' ? 'IDX files' : 'image folder (one sub-folder per class)'}, ${facts.width}×${facts.height} ${colour}`;
  const splits = SPLIT_KEYS.map((k) => splitSummary(facts, k));
  const warnings = [...facts.warnings];
  for (const s of splits) {
    if (s.classes > 0 && s.maxPerClass > 2 * Math.max(1, s.minPerClass)) {
      warnings.push(`${s.split} classes are unbalanced: ${s.minPerClass} to ${s.maxPerClass} images per class`);
    }
  }
  if (splits.find((s) => s.split === 'test')!.classes === 0) warnings.push('no test classes in this split: meta-testing cannot draw episodes from it');
  return {
    name: facts.name,
    source: facts.source,
    format,
    splitOrigin: ORIGIN_TEXT[facts.splitOrigin],
    images: facts.counts.reduce((a, b) => a + b, 0),
    classes: facts.classes.map((name, c) => ({ name, split: splitOf(facts.splits, c), count: facts.counts[c] ?? 0 })),
    splits,
    warnings,
    tasks: splits.filter((s) => s.classes > 0).flatMap((s) => tasks.map((t) => checkTask(s, t))),
  };
}
