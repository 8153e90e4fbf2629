// The extension's view of run folders (src/runner/runFormat.ts), over the runner's runStore: the
// summaries the tree shows, metric lines read from a byte offset (to follow a live run), the newest
// sample set and evaluation results. Pure Node, no vscode import, unit-tested on temp folders.
// Readers never throw: a broken file becomes a `problem` that names it.
import * as fs from 'fs';
import * as path from 'path';
import { SampleSetSchema, type MetricRow, type RunState, type SampleSet } from '../formats/run';
import { EVAL_RESULT_FORMAT, EvalResultFileSchema, type EvalResultFile } from '../formats/evalResult';
import { check, checkWithDefaults } from '../formats/validate';
import { listRuns, listStepFiles, parseMetrics, readRun, RUN_FILES, type RunListEntry, type StepFile } from '../runner/runStore';
import { isPlainFileName } from './paths';

/** A checkpoint file of a run (runStore's step-N file listing). */
export type CheckpointEntry = StepFile;

export interface ResultEntry {
  /** File name without .json. */
  name: string;
  path: string;
}

export interface RunEntry {
  id: string;
  dir: string;
  method: string;
  /** State as the tree shows it: a 'running' status whose worker is gone reads as 'stopped'. */
  state: RunState;
  /** status.json said running, but its worker process no longer exists. */
  interrupted: boolean;
  step: number;
  totalSteps: number;
  createdAt?: string;
  updatedAt?: string;
  backend?: string;
  pid?: number;
  etaSeconds?: number;
  /** Why it failed or stopped, from status.json. */
  message?: string;
  /** What is wrong with the folder's files, when it could not be read. */
  problem?: string;
  /** Newest first. */
  checkpoints: CheckpointEntry[];
  results: ResultEntry[];
  /** The run's Slurm job, when it was submitted with --executor slurm (filled by the tree, extension/slurmJobs.ts). */
  slurm?: SlurmRunView;
}

/** A run's current Slurm job as the tree shows it. */
export interface SlurmRunView {
  /** "slurm 1234 pending (Priority)", "slurm 1234 failed: exit 2:0". */
  label: string;
  /** The scheduler's reason or robust-meta's error, for the tooltip. */
  detail?: string;
  /** Pending or running: Stop cancels it (scancel). */
  active: boolean;
}

/** How often views look again at a run said to be running elsewhere (a dead process changes no file). */
export const LIVENESS_POLL_MS = 4000;

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function readJson(file: string): { value?: unknown; problem?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { problem: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: `${file} is not valid JSON` };
  }
}

/** The checkpoints of a run, newest first. */
export function listCheckpoints(runDir: string): CheckpointEntry[] {
  return listStepFiles(runDir, 'checkpoint').reverse();
}

export function listResults(runDir: string): ResultEntry[] {
  const out: ResultEntry[] = [];
  for (const e of listDir(path.join(runDir, RUN_FILES.results))) {
    if (e.isFile() && e.name.endsWith('.json')) out.push({ name: e.name.slice(0, -5), path: path.join(runDir, RUN_FILES.results, e.name) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** A run of runStore's listing as the tree shows it. */
export function toRunEntry(e: RunListEntry): RunEntry {
  const entry: RunEntry = {
    id: e.id,
    dir: e.dir,
    method: '?',
    state: 'stopped',
    interrupted: false,
    step: 0,
    totalSteps: 0,
    checkpoints: listCheckpoints(e.dir),
    results: listResults(e.dir),
  };
  if (!e.run) {
    entry.problem = e.error ?? 'unreadable run folder';
    return entry;
  }
  const { config, status, stale } = e.run;
  entry.method = config.config.method;
  entry.createdAt = config.createdAt;
  entry.backend = config.backend;
  entry.state = stale ? 'stopped' : status.state;
  entry.interrupted = stale;
  entry.step = status.step;
  entry.totalSteps = status.totalSteps;
  entry.updatedAt = status.updatedAt;
  entry.pid = status.pid;
  entry.etaSeconds = status.etaSeconds;
  entry.message = stale ? 'its worker process ended without writing a final state; resume it from its last checkpoint' : status.message;
  return entry;
}

/** Reads one run folder. */
export function readRunEntry(dir: string): RunEntry {
  const id = path.basename(dir);
  try {
    return toRunEntry({ id, dir, run: readRun(dir) });
  } catch (e) {
    return toRunEntry({ id, dir, error: (e as Error).message });
  }
}

/** Every run folder directly under `runsDir`, newest first. A missing folder has no runs. */
export function readRunsFolder(runsDir: string): { runs: RunEntry[]; problem?: string } {
  let listed: RunListEntry[];
  try {
    listed = listRuns(runsDir);
  } catch (e) {
    return { runs: [], problem: (e as Error).message };
  }
  const runs = listed.map(toRunEntry);
  runs.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id));
  return { runs };
}

// ---------------------------------------------------------------------------------------------
// metrics.jsonl, followed from a byte offset

export interface MetricsChunk {
  lines: MetricRow[];
  /** Byte offset where the next read starts (after the last complete line). */
  next: number;
  /** The file was shorter than `offset` (rewritten, e.g. truncated on resume): lines are from its start. */
  restarted: boolean;
  problem?: string;
}

/**
 * Reads the complete lines of metrics.jsonl from byte `offset` on. A torn last line (no newline
 * yet) is left for the next read.
 */
export function readMetricsFrom(runDir: string, offset = 0): MetricsChunk {
  const file = path.join(runDir, RUN_FILES.metrics);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { lines: [], next: 0, restarted: offset > 0, problem: code === 'ENOENT' ? undefined : `cannot read ${file} (${code})` };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const restarted = size < offset;
    const from = restarted ? 0 : offset;
    const buf = Buffer.alloc(size - from);
    let read = 0;
    while (read < buf.length) {
      const n = fs.readSync(fd, buf, read, buf.length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    const end = buf.subarray(0, read).lastIndexOf(0x0a);
    if (end < 0) return { lines: [], next: from, restarted };
    try {
      return { lines: parseMetrics(buf.subarray(0, end + 1).toString('utf8'), file), next: from + end + 1, restarted };
    } catch (e) {
      return { lines: [], next: from + end + 1, restarted, problem: (e as Error).message };
    }
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// samples/ and results/

/** Checks a sample set (src/formats/run.ts); its image names must be plain file names (they are looked up in samples/). */
export function asSampleSet(v: unknown): SampleSet | undefined {
  let set: SampleSet;
  try {
    set = checkWithDefaults(SampleSetSchema, v, 'sample set');
  } catch {
    return undefined;
  }
  return set.images.every((im) => [im.clean, im.perturbation, im.adversarial].every(isPlainFileName)) ? set : undefined;
}

/** The newest readable samples/step-*.json of a run. */
export function readLatestSamples(runDir: string): SampleSet | undefined {
  for (const f of listStepFiles(runDir, 'samples').reverse()) {
    const set = asSampleSet(readJson(f.path).value);
    if (set) return set;
  }
  return undefined;
}

/** Validates an evaluation result (src/formats/evalResult.ts); the problem names the file and what is wrong. */
export function asEvalResult(v: unknown, file: string): { result?: EvalResultFile; problem?: string } {
  const format = typeof v === 'object' && v !== null ? (v as { format?: unknown }).format : undefined;
  if (typeof format !== 'number') return { problem: `${file} is not an evaluation result (no "format")` };
  if (format > EVAL_RESULT_FORMAT)
    return { problem: `${file} is result format ${format}; this version reads up to ${EVAL_RESULT_FORMAT}: update the extension` };
  try {
    return { result: check(EvalResultFileSchema, v, `${file} is corrupt`) };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

export function readEvalResult(file: string): { result?: EvalResultFile; problem?: string } {
  const { value, problem } = readJson(file);
  return problem ? { problem } : asEvalResult(value, file);
}
