// Reading and writing run folders (runs/<id>/, declared in runFormat.ts). Writers replace JSON
// files atomically (a temp file renamed over the old one) and append one whole line per metric,
// so a reader that watches the folder (the extension, `robust-meta show`) never sees half a file;
// a crash can at worst leave a torn last metrics line, which readers ignore.
import * as fs from 'fs';
import * as path from 'path';
import { resolveConfig } from '../core/config';
import { TEMP_SUFFIX, writeError, writeFileAtomic } from '../core/atomicFile';
import { UserError } from '../core/errors';
import { runLocked } from './runLock';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  MetricLineOnDisk,
  RunConfigFileOnDisk,
  STEP_FILE,
  stepFileBase,
  RunStatusFileSchema,
  RUN_FORMAT_VERSION,
  type MetricLine,
  type MetricRow,
  type RunConfigFile,
  type RunStatusFile,
} from '../formats/run';
import { check } from '../formats/validate';

export const RUN_FILES = {
  config: 'config.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  checkpoints: 'checkpoints',
  samples: 'samples',
  results: 'results',
} as const;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A readable, sortable run id: local time and method, e.g. 20261126-181500-mavrl. */
export function runIdFor(method: string, date = new Date()): string {
  const day = `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`;
  const time = `${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  const tag = method.replace(/[^A-Za-z0-9_-]+/g, '-') || 'run';
  return `${day}-${time}-${tag}`;
}

/**
 * Creates a new, empty run folder under runsDir and returns its id and path. mkdir without
 * `recursive` fails when the folder exists, which makes the id unique even when two processes
 * start a run in the same second (the second gets a -2 suffix).
 */
export function allocateRunDir(runsDir: string, method: string, date = new Date()): { id: string; dir: string } {
  const root = path.resolve(runsDir);
  try {
    fs.mkdirSync(root, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create the runs folder ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose another with --runs-dir`);
  }
  const base = runIdFor(method, date);
  for (let n = 1; n < 10_000; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    const dir = path.join(root, id);
    try {
      fs.mkdirSync(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error(`could not find a free run id under ${root} for ${base}`);
}

/** The one atomic writer (core/atomicFile.ts), re-exported for the runner's callers. */
export { writeFileAtomic };

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file} is missing: this is not a run folder, or its ${what} was deleted`);
    throw new UserError(`cannot read ${file} (${code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file} is corrupt: it is not valid JSON (${(e as Error).message}); restore it or delete the run folder`);
  }
}

/**
 * A run file read and checked against its declaration (src/formats/run.ts): first its format
 * version, so a file of a newer robust-meta says to update rather than list what it lacks.
 */
function readRunFile<T extends TSchema>(file: string, schema: T, what: string): Static<T> {
  const value = readJson(file, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${file} is corrupt: expected a JSON object`);
  const format = (value as { format?: unknown }).format;
  if (typeof format !== 'number') throw new UserError(`${file} is not a robust-meta ${what} (it has no format number)`);
  if (format > RUN_FORMAT_VERSION) {
    throw new UserError(
      `${file} was written by a newer robust-meta (run format ${format}; this version reads up to ${RUN_FORMAT_VERSION}): update robust-meta to read it`,
    );
  }
  if (format < 1 || !Number.isInteger(format)) throw new UserError(`${file} has an unknown run format ${format}`);
  return check(schema, value, `${file} is corrupt`);
}

function corrupt(file: string, why: string): UserError {
  return new UserError(`${file} is corrupt: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// config.json

export function writeRunConfig(runDir: string, file: RunConfigFile): void {
  writeJsonAtomic(path.join(runDir, RUN_FILES.config), file);
}

/** Reads and validates config.json; the config inside is checked like a user's config file. */
export function readRunConfig(runDir: string): RunConfigFile {
  const file = path.join(runDir, RUN_FILES.config);
  const raw = readRunFile(file, RunConfigFileOnDisk, 'run config');
  // Keys added since the run was written take their defaults: that is the migration.
  const config = resolveConfig(raw.config, `${file} (config)`);
  return { ...raw, config, backend: raw.backend ?? 'unknown', versions: raw.versions ?? { robustMeta: 'unknown', tfjs: 'unknown', node: 'unknown' } };
}

// ---------------------------------------------------------------------------------------------
// status.json

export function writeStatus(runDir: string, status: Omit<RunStatusFile, 'format' | 'updatedAt'>): RunStatusFile {
  const full: RunStatusFile = { format: RUN_FORMAT_VERSION, ...status, updatedAt: new Date().toISOString() };
  writeJsonAtomic(path.join(runDir, RUN_FILES.status), full);
  return full;
}

export function readStatus(runDir: string): RunStatusFile {
  return readRunFile(path.join(runDir, RUN_FILES.status), RunStatusFileSchema, 'run status');
}

// ---------------------------------------------------------------------------------------------
// metrics.jsonl

export function appendMetric(runDir: string, line: MetricLine): void {
  // One write() of a whole line: concurrent readers see it entirely or not at all, except after a
  // crash in the middle of the write, which leaves a torn last line.
  const file = path.join(runDir, RUN_FILES.metrics);
  try {
    fs.appendFileSync(file, JSON.stringify(line) + '\n');
  } catch (e) {
    // A full disk may leave part of the line: a torn line, which a resume drops with a warning.
    throw writeError(file, e);
  }
}

function checkMetric(file: string, lineNo: number, v: unknown): MetricRow {
  if (typeof v !== 'object' || v === null) throw corrupt(file, `line ${lineNo} is not a JSON object`);
  // Only step and loss are required: the other figures are as the run's version wrote them.
  return check(MetricLineOnDisk, v, `${file} is corrupt: line ${lineNo}`);
}

/**
 * Reads metrics.jsonl. A last line without its newline (a write cut short by a crash, or one in
 * progress) is ignored; a damaged line before it is an error naming the file and line.
 */
export function readMetrics(runDir: string): MetricRow[] {
  const file = path.join(runDir, RUN_FILES.metrics);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseMetrics(text, file);
}

/** Parses metric lines; `skipDamaged` drops damaged lines instead of failing (for repairs). */
export function parseMetrics(text: string, file: string = RUN_FILES.metrics, skipDamaged = false): MetricRow[] {
  return scanMetrics(text, file, !skipDamaged).rows;
}

export interface MetricsScan {
  rows: MetricRow[];
  /** 1-based numbers of damaged lines (not a metric row), dropped. */
  damaged: number[];
  /** 1-based numbers of damaged lines from which a whole row was still recovered. */
  recovered: number[];
}

const ROW_START = '{"step":';

/**
 * A damaged line may still end with a whole row: a write torn by a crash, and the next run's
 * append that continued on the same line (`{"step":5,"lo{"step":6,...}`). Returns that row.
 */
function rowInside(raw: string, file: string, lineNo: number): MetricRow | undefined {
  for (let i = raw.indexOf(ROW_START, 1); i > 0; i = raw.indexOf(ROW_START, i + 1)) {
    try {
      return checkMetric(file, lineNo, JSON.parse(raw.slice(i)));
    } catch {
      // Not a whole row from here: try the next start.
    }
  }
  return undefined;
}

function scanMetrics(text: string, file: string, strict: boolean): MetricsScan {
  const lines = text.split('\n');
  // Whatever follows the last newline is incomplete: a write in progress, or cut by a kill.
  lines.pop();
  const out: MetricsScan = { rows: [], damaged: [], recovered: [] };
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let row: MetricRow;
    try {
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch {
        throw corrupt(file, `line ${i + 1} is not valid JSON; delete that line to read the rest`);
      }
      row = checkMetric(file, i + 1, v);
    } catch (e) {
      if (strict) throw e;
      out.damaged.push(i + 1);
      const inside = rowInside(raw, file, i + 1);
      if (!inside) return;
      out.recovered.push(i + 1);
      row = inside;
    }
    out.rows.push(row);
  });
  return out;
}

/** "lines 3, 7, 9" (the first few of many). */
function lineList(nums: number[]): string {
  const shown = nums.slice(0, 10).join(', ');
  return `line${nums.length > 1 ? 's' : ''} ${shown}${nums.length > 10 ? ` and ${nums.length - 10} more` : ''}`;
}

/**
 * Keeps the metric lines of steps 1..step, one per step, dropping a torn last line and the lines
 * written after the checkpoint a run resumes from. Rewritten atomically. Damaged lines are
 * dropped, keeping any whole row inside them; the returned warning names them (undefined when
 * there were none), so a resume never loses rows without a word.
 */
export function truncateMetrics(runDir: string, step: number): string | undefined {
  const file = path.join(runDir, RUN_FILES.metrics);
  if (!fs.existsSync(file)) return undefined;
  const byStep = new Map<number, MetricRow>();
  const scan = scanMetrics(fs.readFileSync(file, 'utf8'), file, false);
  for (const m of scan.rows) if (m.step >= 1 && m.step <= step) byStep.set(m.step, m);
  const kept = [...byStep.values()].sort((a, b) => a.step - b.step);
  writeFileAtomic(file, kept.map((m) => JSON.stringify(m) + '\n').join(''));
  if (!scan.damaged.length) return undefined;
  const lost = scan.damaged.filter((n) => !scan.recovered.includes(n));
  return (
    `${file}: ${lineList(scan.damaged)} ${scan.damaged.length > 1 ? 'were' : 'was'} damaged (not a whole metric row: a torn write or garbage)` +
    (scan.recovered.length ? `; the row at the end of ${lineList(scan.recovered)} was kept` : '') +
    (lost.length ? `; ${lineList(lost)} could not be read and ${lost.length > 1 ? 'were' : 'was'} dropped` : '') +
    `; ${kept.length} rows up to step ${step} are kept`
  );
}

// ---------------------------------------------------------------------------------------------
// Whole runs

export interface RunInfo {
  id: string;
  dir: string;
  config: RunConfigFile;
  status: RunStatusFile;
  /** status says 'running' but no live process holds the run's lock: it was killed or crashed. */
  stale: boolean;
  /** Checkpoint files, oldest first. */
  checkpoints: StepFile[];
  /** Result files under results/. */
  results: string[];
}

/** The names in a run's sub-folder; none when it does not exist (yet) or cannot be read. */
export function namesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

export function checkpointFileName(step: number): string {
  return stepFileBase(step) + STEP_FILE.checkpoint.ext;
}

export interface StepFile {
  step: number;
  /** File name, e.g. step-00000042.ckpt. */
  name: string;
  path: string;
}

/**
 * The step-N files of a run's sub-folder, oldest first: checkpoints/step-N.ckpt or
 * samples/step-N.json (names declared in src/formats/run.ts). Temp files of an unfinished write
 * are not listed; a folder that does not exist (yet) has none.
 */
export function listStepFiles(runDir: string, kind: keyof typeof STEP_FILE): StepFile[] {
  const dir = path.join(runDir, kind === 'checkpoint' ? RUN_FILES.checkpoints : RUN_FILES.samples);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: StepFile[] = [];
  for (const e of entries) {
    const m = STEP_FILE[kind].re.exec(e.name);
    if (m && !e.isDirectory()) out.push({ step: Number(m[1]), name: e.name, path: path.join(dir, e.name) });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** The checkpoint files of a run, oldest first. */
export function listCheckpointFiles(runDir: string): StepFile[] {
  return listStepFiles(runDir, 'checkpoint');
}

/**
 * Removes the temp files of writers that were killed mid-write (the atomic writer's `*.tmp`) from
 * the run folder, checkpoints/ and samples/. Returns the paths removed. Only for the run's lock
 * holder: another live writer's temp file would otherwise be pulled from under it.
 */
export function sweepTempFiles(runDir: string): string[] {
  const removed: string[] = [];
  for (const dir of [runDir, path.join(runDir, RUN_FILES.checkpoints), path.join(runDir, RUN_FILES.samples)]) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!n.endsWith(TEMP_SUFFIX)) continue;
      fs.rmSync(path.join(dir, n), { force: true });
      removed.push(path.join(dir, n));
    }
  }
  return removed;
}

export function isRunDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, RUN_FILES.config));
}

/** Reads a run folder, validated; a UserError names the file that is missing or corrupt. */
export function readRun(runDir: string): RunInfo {
  const dir = path.resolve(runDir);
  if (!fs.existsSync(dir)) throw new UserError(`run folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new UserError(`${dir} is not a run folder (it is a file)`);
  const config = readRunConfig(dir);
  const status = readStatus(dir);
  let results: string[] = [];
  try {
    results = fs
      .readdirSync(path.join(dir, RUN_FILES.results))
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => path.join(dir, RUN_FILES.results, n));
  } catch {
    results = [];
  }
  return {
    id: path.basename(dir),
    dir,
    config,
    status,
    // The lock, not status.json's pid, says whether a process still trains the run: a pid in a
    // file may have been reused by another process, or crafted.
    stale: status.state === 'running' && !runLocked(dir),
    checkpoints: listCheckpointFiles(dir),
    results,
  };
}

export interface RunListEntry {
  id: string;
  dir: string;
  run?: RunInfo;
  /** Why the folder could not be read (the others are still listed). */
  error?: string;
}

/**
 * The runs under runsDir, oldest first (ids sort by time). Folders without config.json (one being
 * created, or not a run) are skipped; unreadable runs are listed with their error.
 */
export function listRuns(runsDir: string): RunListEntry[] {
  const root = path.resolve(runsDir);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(`cannot read the runs folder ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: RunListEntry[] = [];
  for (const id of names.sort()) {
    if (id.startsWith('.')) continue;
    const dir = path.join(root, id);
    if (!isRunDir(dir)) continue;
    try {
      out.push({ id, dir, run: readRun(dir) });
    } catch (e) {
      out.push({ id, dir, error: (e as Error).message });
    }
  }
  return out;
}

/** A run given as a folder path, or as an id under runsDir. */
export function resolveRunDir(ref: string, runsDir: string): string {
  const direct = path.resolve(ref);
  if (fs.existsSync(direct)) return direct;
  const underRuns = path.resolve(runsDir, ref);
  if (fs.existsSync(underRuns)) return underRuns;
  throw new UserError(`no run '${ref}': neither ${direct} nor ${underRuns} exists (robust-meta list shows the runs)`);
}

/** The newest complete metric line, read from the end of the file (cheap for long runs). */
export function lastMetric(runDir: string): MetricRow | undefined {
  const file = path.join(runDir, RUN_FILES.metrics);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    for (let span = 4096; ; span *= 4) {
      const from = Math.max(0, size - span);
      const buf = Buffer.alloc(size - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n');
      const start = text.lastIndexOf('\n', end - 1);
      if (end >= 0 && (start >= 0 || from === 0)) {
        try {
          return checkMetric(file, 0, JSON.parse(text.slice(start + 1, end)));
        } catch {
          return undefined;
        }
      }
      if (from === 0) return undefined;
    }
  } finally {
    fs.closeSync(fd);
  }
}
