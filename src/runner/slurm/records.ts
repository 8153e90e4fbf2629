// What a folder (a run folder, or an experiment folder for its job arrays) keeps of its Slurm
// jobs, under <folder>/slurm/: jobs.json (every submission), the batch scripts, the jobs' output,
// and one exit-<job>.json per finished task, written by the batch script itself. With these,
// `robust-meta jobs` tells a job's state even after the scheduler has forgotten it.
import * as fs from 'fs';
import * as path from 'path';
import { SlurmExit, SlurmExitSchema, SlurmJobRecord, SlurmJobRecordSchema, SlurmSubmission } from '../../formats/slurm';
import { parseJson } from '../../formats/validate';
import { writeJsonAtomic } from '../runStore';

export const SLURM_DIR = 'slurm';
const RECORD = 'jobs.json';

export function slurmDir(folder: string): string {
  return path.join(folder, SLURM_DIR);
}

export function readJobRecord(folder: string): SlurmJobRecord | undefined {
  const file = path.join(slurmDir(folder), RECORD);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseJson(SlurmJobRecordSchema, text, file);
}

export function recordSubmission(folder: string, kind: SlurmJobRecord['kind'], sub: SlurmSubmission): void {
  const prev = readJobRecord(folder);
  const record: SlurmJobRecord = { format: 1, kind, submissions: [...(prev?.submissions ?? []), sub] };
  writeJsonAtomic(path.join(slurmDir(folder), RECORD), record);
}

/** The exit records of a job's tasks (one for a plain job), by task id ("12" or "12_3"). */
export function readExits(folder: string, jobId: string): Map<string, SlurmExit> {
  const dir = slurmDir(folder);
  const out = new Map<string, SlurmExit>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = /^exit-(\d+(?:_\d+)?)\.json$/.exec(n);
    if (!m || m[1].split('_')[0] !== jobId) continue;
    try {
      out.set(m[1], parseJson(SlurmExitSchema, fs.readFileSync(path.join(dir, n), 'utf8'), path.join(dir, n)));
    } catch {
      // A record torn by a node that died while writing it: the scheduler's state stands.
    }
  }
  return out;
}

/**
 * Folders directly under each root (and the roots themselves) that hold a job record, with it.
 * Unreadable records are returned with their error, so that one bad file hides no other job.
 */
export function findJobFolders(roots: string[]): { folder: string; record?: SlurmJobRecord; error?: string }[] {
  const out: { folder: string; record?: SlurmJobRecord; error?: string }[] = [];
  const seen = new Set<string>();
  const visit = (folder: string) => {
    if (seen.has(folder) || !fs.existsSync(path.join(slurmDir(folder), RECORD))) return;
    seen.add(folder);
    try {
      out.push({ folder, record: readJobRecord(folder) });
    } catch (e) {
      out.push({ folder, error: (e as Error).message });
    }
  };
  for (const root of roots.map((r) => path.resolve(r))) {
    visit(root);
    let names: string[] = [];
    try {
      names = fs.readdirSync(root).sort();
    } catch {
      continue;
    }
    for (const n of names) if (!n.startsWith('.')) visit(path.join(root, n));
  }
  return out;
}
