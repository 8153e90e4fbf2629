// A single training run as a Slurm job: the run folder is made here (on the shared filesystem),
// the job trains into it on a compute node with the same `robust-meta train`, and a resubmission
// of the same script resumes it from its newest checkpoint (the script resumes whenever the run's
// config.json exists). Requeued jobs (preemption, time limit) resume the same way.
import * as fs from 'fs';
import * as path from 'path';
import type { Config } from '../../core/config';
import { UserError } from '../../core/errors';
import { SlurmOptions, SlurmOptionsSchema } from '../../formats/slurm';
import { parseJson } from '../../formats/validate';
import { packageRoot } from '../packageInfo';
import type { Job } from '../protocol';
import { RUN_FILES, writeFileAtomic, writeJsonAtomic } from '../runStore';
import { readJobRecord, recordSubmission, slurmDir } from './records';
import { batchScript } from './script';
import { isFinished, queryJobs, submit } from './scheduler';

/** How often a job stopped near its time limit requeues itself before it stays stopped. */
const MAX_REQUEUES = 20;
/** The options of the last script, reused when a resubmission rewrites it without new ones. */
const OPTIONS_FILE = 'options.json';

export interface TrainSubmission {
  jobId: string;
  runDir: string;
  script: string;
  log: string;
}

/** The robust-meta command line on a compute node: this Node.js and this package (shared filesystem). */
export function robustMetaArgv(): string[] {
  return [process.execPath, path.join(packageRoot(), 'bin', 'robust-meta.js')];
}

/** The job files of a run: a fresh start, and the resume that runs once config.json exists. */
function jobFiles(runDir: string): { train: string; resume: string } {
  return { train: path.join(slurmDir(runDir), 'train.json'), resume: path.join(slurmDir(runDir), 'resume.json') };
}

function writeScript(runDir: string, options: SlurmOptions, overrides: Partial<Config>): string {
  const dir = slurmDir(runDir);
  const files = jobFiles(runDir);
  const resume: Job = {
    kind: 'train',
    runDir,
    resume: true,
    ...(Object.keys(overrides).length ? { overrides } : {}),
    cacheDir: path.join(path.dirname(runDir), '.cache'),
  };
  writeJsonAtomic(files.resume, resume);
  const script = batchScript({
    jobName: `rm-${path.basename(runDir)}`,
    description: `robust-meta: trains the run ${runDir} (${path.relative(runDir, files.train)}), or resumes it (${path.relative(runDir, files.resume)}) once it has started.`,
    options,
    output: path.join(dir, 'job-%j.log'),
    workDir: process.cwd(),
    tasks: [
      {
        argv: [...robustMetaArgv(), 'job', files.train],
        resume: { ifExists: path.join(runDir, RUN_FILES.config), argv: [...robustMetaArgv(), 'job', files.resume] },
        exitDir: dir,
      },
    ],
    maxRequeues: MAX_REQUEUES,
  });
  const file = path.join(dir, 'job.sh');
  writeFileAtomic(file, script);
  writeJsonAtomic(path.join(dir, OPTIONS_FILE), options);
  fs.chmodSync(file, 0o755);
  return file;
}

function submitScript(runDir: string, script: string): TrainSubmission {
  const jobId = submit(script, { cwd: process.cwd() });
  recordSubmission(runDir, 'train', { jobId, submittedAt: new Date().toISOString(), script: path.relative(runDir, script) });
  return { jobId, runDir, script, log: path.join(slurmDir(runDir), `job-${jobId}.log`) };
}

/** Submits a fresh run into `runDir` (new and empty, from allocateRunDir). */
export function submitNewRun(runDir: string, config: Config, options: SlurmOptions): TrainSubmission {
  fs.mkdirSync(slurmDir(runDir), { recursive: true });
  // The job resolves relative paths (config.data) from the submit directory: the script cd's there.
  const job: Job = { kind: 'train', runDir, config, resume: false, cacheDir: path.join(path.dirname(runDir), '.cache') };
  writeJsonAtomic(jobFiles(runDir).train, job);
  return submitScript(runDir, writeScript(runDir, options, {}));
}

/**
 * Submits a run again (after a stop, a cancel or a failure): it resumes from its newest
 * checkpoint. New options or resume flags (--steps, ...) rewrite the script; without them the
 * script of the last submission runs as it is.
 */
export function resubmitRun(runDir: string, options: SlurmOptions | undefined, overrides: Partial<Config>): TrainSubmission {
  const record = readJobRecord(runDir);
  const script = path.join(slurmDir(runDir), 'job.sh');
  if (!record && !fs.existsSync(path.join(runDir, RUN_FILES.config))) throw new UserError(`${runDir} is not a run folder nor a submitted run`);
  const last = record?.submissions[record.submissions.length - 1];
  if (last) {
    const states = queryJobs([last.jobId]).get(last.jobId) ?? [];
    const active = states.find((s) => !isFinished(s.state));
    if (active)
      throw new UserError(`job ${last.jobId} of ${runDir} is still ${active.state.toLowerCase()}; cancel it first (scancel ${last.jobId}) or wait for it`);
  }
  const regenerate = options !== undefined || Object.keys(overrides).length > 0 || !fs.existsSync(script);
  if (regenerate && !fs.existsSync(jobFiles(runDir).train) && !fs.existsSync(path.join(runDir, RUN_FILES.config))) {
    throw new UserError(`${runDir} has neither a config.json nor a submitted job (slurm/train.json)`);
  }
  const optionsFile = path.join(slurmDir(runDir), OPTIONS_FILE);
  const previous = fs.existsSync(optionsFile) ? parseJson(SlurmOptionsSchema, fs.readFileSync(optionsFile, 'utf8'), optionsFile) : {};
  return submitScript(runDir, regenerate ? writeScript(runDir, options ?? previous, overrides) : script);
}
